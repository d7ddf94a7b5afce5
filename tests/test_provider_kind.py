"""A new provider kind is its own file plus one line in the kinds table, and an unknown kind
is refused rather than guessed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from beacon_gql.providers import kinds
from beacon_gql.providers.config import ProvidersFileError, load_providers_file
from beacon_gql.providers.endpoint import ProviderConfig
from beacon_gql.providers.registry import ProviderRegistry
from tests.support import api_key_provider
from tests.support.server import serve

KEY = "sk-ant-test-secret"


@pytest.fixture
def registered() -> Iterator[None]:
    # The one line a real kind adds to CLIENT_CLASSES, added for this test only.
    kinds.CLIENT_CLASSES[api_key_provider.KIND] = api_key_provider.ApiKeyMessagesClient
    yield
    del kinds.CLIENT_CLASSES[api_key_provider.KIND]


@pytest.fixture
async def messages_endpoint() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A messages endpoint that answers only requests carrying the key in x-api-key."""
    seen: list[dict[str, Any]] = []

    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append({"headers": dict(request.headers), "body": body})
        if request.headers.get("x-api-key") != KEY:
            return JSONResponse({"error": {"type": "authentication_error"}}, status_code=401)
        answer = f"You asked: {body['messages'][0]['content']}"
        return JSONResponse({"content": [{"type": "text", "text": answer}]})

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"data": [{"id": "claude-test"}]})

    app = Starlette(
        routes=[Route("/v1/messages", messages, methods=["POST"]), Route("/v1/models", models)]
    )
    async with serve(app) as base_url:
        yield base_url, seen


def providers_file(tmp_path: Path, base_url: str, kind: str) -> Path:
    path = tmp_path / "providers.toml"
    path.write_text(
        f"""
[[providers]]
name = "messages-us"
region = "US"
kind = "{kind}"
base_url = "{base_url}/v1"
api_key_env = "MESSAGES_TEST_KEY"
models = {{ "claude-test" = "claude-test-upstream" }}
""",
        encoding="utf-8",
    )
    return path


async def test_a_registered_kind_loads_routes_and_answers_with_its_own_auth_headers(
    registered: None,
    messages_endpoint: tuple[str, list[dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base_url, seen = messages_endpoint
    monkeypatch.setenv("MESSAGES_TEST_KEY", KEY)
    async with httpx.AsyncClient() as http:
        registry = ProviderRegistry.from_file(
            providers_file(tmp_path, base_url, api_key_provider.KIND), http
        )
        [handle] = registry.route("US", "claude-test")
        request = handle.request(
            model_id="claude-test",
            prompt="Is the sky blue?",
            system_prompt="Be brief.",
            temperature=0.1,
            max_tokens=50,
        )
        result = await registry.generate(handle, request)
        await registry.check_all_health()

    assert result.text == "You asked: Is the sky blue?"
    headers = seen[-1]["headers"]
    assert headers["x-api-key"] == KEY
    assert "authorization" not in headers
    assert seen[-1]["body"]["model"] == "claude-test-upstream"
    assert seen[-1]["body"]["system"] == "Be brief."
    assert registry.statuses()[0].healthy


async def test_a_kind_missing_from_the_table_is_a_configuration_error(
    messages_endpoint: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    base_url, _ = messages_endpoint
    with pytest.raises(ProvidersFileError) as from_file:
        load_providers_file(providers_file(tmp_path, base_url, api_key_provider.KIND))
    assert from_file.value.field == "kind"
    assert "unknown kind 'api-key-messages' (use openai or hybrid-router)" in str(from_file.value)

    config = ProviderConfig(
        name="built-in-code",
        region="US",
        kind="anthropic",
        base_url=f"{base_url}/v1",
        api_key_env=None,
        models={"claude-test": "claude-test"},
    )
    async with httpx.AsyncClient() as http:
        with pytest.raises(kinds.UnknownProviderKind, match="unknown kind 'anthropic'"):
            ProviderRegistry([config], http)
