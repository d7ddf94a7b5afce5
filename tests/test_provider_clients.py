"""Provider clients over real HTTP on loopback, against the simulated providers."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from beacon_gql.providers.client import (
    GenerationRequest,
    ProviderCallError,
    ProviderClient,
)
from beacon_gql.providers.exchange import answer_byte_limit, error_for_status, parse_retry_after
from beacon_gql.providers.hybrid_router import HybridRouterClient
from beacon_gql.providers.kinds import make_client
from beacon_gql.providers.openai import OpenAIClient
from beacon_gql.providers.regions import Region
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet

SYSTEM_PROMPT = "You are a helpful, honest assistant."


@pytest.fixture(scope="module")
async def fleet() -> AsyncIterator[SimulatorFleet]:
    async with SimulatorFleet(seed=7) as running:
        yield running


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture(autouse=True)
def healthy_again(fleet: SimulatorFleet) -> Iterator[None]:
    yield
    for name in fleet.names:
        fleet.set_faults(name, FaultProfile())


def client_for(
    fleet: SimulatorFleet, http: httpx.AsyncClient, name: str, **changes: object
) -> ProviderClient:
    config = dataclasses.replace(fleet.provider_config(name), **changes)  # type: ignore[arg-type]
    return make_client(config, http)


def ask(
    prompt: str = "What is 2+2?",
    *,
    model: str = "llama3.2:1b",
    region: Region = "US",
    system_prompt: str | None = SYSTEM_PROMPT,
) -> GenerationRequest:
    return GenerationRequest(
        model=model,
        prompt=prompt,
        system_prompt=system_prompt,
        temperature=0.1,
        max_tokens=500,
        region=region,
    )


async def failure_of(client: ProviderClient, request: GenerationRequest) -> ProviderCallError:
    with pytest.raises(ProviderCallError) as caught:
        await client.generate(request)
    return caught.value


async def test_make_client_picks_the_protocol(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    config = fleet.provider_config("sim-us-east")
    client = make_client(config, http)
    assert isinstance(client, OpenAIClient)
    assert client.config is config
    assert isinstance(client_for(fleet, http, "sim-hybrid-router-eu"), HybridRouterClient)


async def test_chat_completion_answer_and_what_was_sent(
    fleet: SimulatorFleet, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIM_TEST_KEY", "sk-simulated-secret")
    client = client_for(fleet, http, "sim-us-east", api_key_env="SIM_TEST_KEY")

    result = await client.generate(ask())

    assert (result.text, result.http_status, result.served_by) == ("2+2 equals 4.", 200, None)
    sent = fleet.request_log("sim-us-east")[-1]
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer sk-simulated-secret"
    assert sent.body == {
        "model": "llama3.2:1b",
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "What is 2+2?"},
        ],
        "temperature": 0.1,
        "max_tokens": 500,
        "stream": False,
    }


async def test_no_system_message_without_system_prompt(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    await client_for(fleet, http, "sim-us-east").generate(ask(system_prompt=None))
    sent = fleet.request_log("sim-us-east")[-1]
    assert sent.body["messages"] == [{"role": "user", "content": "What is 2+2?"}]
    assert "authorization" not in sent.headers


async def test_server_error_is_transient_http_error(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    fleet.set_faults("sim-us-east", FaultProfile(error_rate=1.0))
    error = await failure_of(client_for(fleet, http, "sim-us-east"), ask())
    assert (error.code, error.transient, error.http_status) == ("PROVIDER_HTTP_ERROR", True, 500)
    assert "HTTP 500" in error.message
    assert "simulated internal server error" in error.message
    assert "sim-us-east" in error.message


async def test_rate_limit_carries_retry_after(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    fleet.set_faults("sim-us-east", FaultProfile(rate_limit_rate=1.0, retry_after_s=7))
    error = await failure_of(client_for(fleet, http, "sim-us-east"), ask())
    assert (error.code, error.transient, error.http_status) == ("RATE_LIMITED", True, 429)
    assert error.retry_after == 7.0


async def test_hang_times_out_within_the_configured_timeout(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    fleet.set_faults("sim-us-east", FaultProfile(hang_rate=1.0))
    client = client_for(fleet, http, "sim-us-east", timeout_seconds=0.3)
    started = time.monotonic()
    error = await failure_of(client, ask())
    assert (error.code, error.transient, error.http_status) == ("PROVIDER_TIMEOUT", True, None)
    assert "0.3s" in error.message
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("prompt", ["What is 2+2?", "Who are you?", "a", "b", "c", "d"])
async def test_malformed_answer_is_bad_provider_response(
    fleet: SimulatorFleet, http: httpx.AsyncClient, prompt: str
) -> None:
    # The simulator varies the kind of garbage by prompt: HTML, no choices, empty content.
    fleet.set_faults("sim-us-east", FaultProfile(malformed_rate=1.0))
    error = await failure_of(client_for(fleet, http, "sim-us-east"), ask(prompt))
    assert (error.code, error.transient, error.http_status) == ("BAD_PROVIDER_RESPONSE", True, 200)


async def test_unknown_model_is_permanent_model_not_served(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    error = await failure_of(client_for(fleet, http, "sim-us-east"), ask(model="gpt-9"))
    assert (error.code, error.transient, error.http_status) == ("MODEL_NOT_SERVED", False, 404)
    assert "gpt-9" in error.message


async def test_wrong_base_url_is_a_permanent_http_error(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    config = fleet.provider_config("sim-us-east")
    client = client_for(fleet, http, "sim-us-east", base_url=config.base_url + "/nowhere")
    error = await failure_of(client, ask())
    assert (error.code, error.transient, error.http_status) == ("PROVIDER_HTTP_ERROR", False, 404)


async def test_stopped_provider_is_unreachable(http: httpx.AsyncClient) -> None:
    async with SimulatorFleet(regions=["US"], include_hybrid_router=False) as own_fleet:
        client = make_client(own_fleet.provider_config("sim-us-east"), http)
        await client.check_health()
        await own_fleet.stop("sim-us-east")

        error = await failure_of(client, ask())
        assert (error.code, error.transient) == ("PROVIDER_UNREACHABLE", True)
        with pytest.raises(ProviderCallError) as caught:
            await client.check_health()
        assert caught.value.code == "PROVIDER_UNREACHABLE"


async def test_openai_health_check(fleet: SimulatorFleet, http: httpx.AsyncClient) -> None:
    await client_for(fleet, http, "sim-asia-pacific").check_health()
    assert fleet.request_log("sim-asia-pacific")[-1].path == "/v1/models"


async def test_hybrid_router_answer(fleet: SimulatorFleet, http: httpx.AsyncClient) -> None:
    client = client_for(fleet, http, "sim-hybrid-router-eu")

    result = await client.generate(
        ask("What is the capital of France?", model="mistral-7b", region="EU")
    )

    assert result.text == "The capital of France is Paris."
    assert result.http_status == 200
    assert result.served_by == "sim-hybrid-router-eu-backend-eu-west"
    sent = fleet.request_log("sim-hybrid-router-eu")[-1]
    assert sent.path == "/inference"
    assert sent.body == {
        "model": "mistral-7b",
        "prompt": f"{SYSTEM_PROMPT}\n\nWhat is the capital of France?",
        "temperature": 0.1,
        "max_tokens": 500,
        "region_preference": "eu-west",
    }


async def test_hybrid_router_failures(fleet: SimulatorFleet, http: httpx.AsyncClient) -> None:
    client = client_for(fleet, http, "sim-hybrid-router-eu")

    missing = await failure_of(client, ask(model="gpt-9", region="EU"))
    assert (missing.code, missing.transient) == ("MODEL_NOT_SERVED", False)

    # The router answers 200 with success=false when nothing serves the region asked for.
    wrong_region = await failure_of(client, ask(model="mistral-7b", region="US"))
    assert (wrong_region.code, wrong_region.transient) == ("PROVIDER_HTTP_ERROR", True)
    assert "us-east" in wrong_region.message

    fleet.set_faults("sim-hybrid-router-eu", FaultProfile(error_rate=1.0))
    crashed = await failure_of(client, ask(model="mistral-7b", region="EU"))
    assert (crashed.code, crashed.transient, crashed.http_status) == (
        "PROVIDER_HTTP_ERROR",
        True,
        200,
    )
    assert "CUDA out of memory" in crashed.message

    fleet.set_faults("sim-hybrid-router-eu", FaultProfile(rate_limit_rate=1.0, retry_after_s=2))
    limited = await failure_of(client, ask(model="mistral-7b", region="EU"))
    assert (limited.code, limited.retry_after) == ("RATE_LIMITED", 2.0)

    fleet.set_faults("sim-hybrid-router-eu", FaultProfile(malformed_rate=1.0))
    garbled = await failure_of(client, ask(model="mistral-7b", region="EU"))
    assert garbled.code == "BAD_PROVIDER_RESPONSE"


async def test_hybrid_router_health_check(fleet: SimulatorFleet, http: httpx.AsyncClient) -> None:
    await client_for(fleet, http, "sim-hybrid-router-eu").check_health()
    assert fleet.request_log("sim-hybrid-router-eu")[-1].path == "/health"


def test_retry_after_forms() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(" 1.5 ", now=now) == 1.5
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after(None, now=now) is None


def test_error_message_never_contains_the_api_key() -> None:
    # Some servers echo the presented key in their 401 body.
    response = httpx.Response(401, text='{"error": "invalid key sk-live-123 for this org"}')
    error = error_for_status(response, where="p: POST /x", model="m", secret="sk-live-123")
    assert "sk-live-123" not in error.message
    assert "[redacted]" in error.message
    assert (error.code, error.transient) == ("PROVIDER_HTTP_ERROR", False)


@pytest.mark.parametrize(
    ("status", "body", "code", "transient"),
    [
        (
            404,
            '{"error": {"message": "model \\"llama3:8b\\" not found, try pulling it first"}}',
            "MODEL_NOT_SERVED",
            False,
        ),
        (
            404,
            '{"object": "error", "message": "The model `llama3:8b` does not exist."}',
            "MODEL_NOT_SERVED",
            False,
        ),
        (
            400,
            '{"error": {"code": "model_not_found", "message": "unknown model"}}',
            "MODEL_NOT_SERVED",
            False,
        ),
        (
            400,
            '{"error": {"message": "max_tokens must be at most 4096"}}',
            "PROVIDER_HTTP_ERROR",
            False,
        ),
        (404, "Not Found", "PROVIDER_HTTP_ERROR", False),
        (403, "forbidden", "PROVIDER_HTTP_ERROR", False),
        (408, "", "PROVIDER_HTTP_ERROR", True),
        (502, "<html>bad gateway</html>", "PROVIDER_HTTP_ERROR", True),
        (503, "", "PROVIDER_HTTP_ERROR", True),
        (429, "", "RATE_LIMITED", True),
    ],
)
def test_status_classification(status: int, body: str, code: str, transient: bool) -> None:
    error = error_for_status(
        httpx.Response(status, text=body), where="p: POST /x", model="llama3:8b", secret=None
    )
    assert (error.code, error.transient, error.http_status) == (code, transient, status)
    assert f"HTTP {status}" in error.message


@pytest.mark.parametrize(
    ("name", "model", "region", "head"),
    [
        ("sim-us-east", "llama3.2:1b", "US", '{"object":"chat.completion"'),
        ("sim-hybrid-router-eu", "mistral-7b", "EU", '{"success":true,"response":"AAAA'),
    ],
)
async def test_an_answer_of_50_mb_is_cut_off_at_the_limit_its_max_tokens_sets(
    fleet: SimulatorFleet,
    http: httpx.AsyncClient,
    name: str,
    model: str,
    region: Region,
    head: str,
) -> None:
    fleet.set_faults(name, FaultProfile(oversized_rate=1.0))
    request = dataclasses.replace(ask(model=model, region=region), max_tokens=100)

    error = await failure_of(client_for(fleet, http, name), request)

    assert (error.code, error.transient, error.http_status) == ("RESPONSE_TOO_LARGE", False, 200)
    # The first part is kept, and no more than 100 tokens' worth of it (16 bytes a token,
    # plus room for the JSON around the answer, 64 KiB at the least): not 50 MB.
    assert error.partial_body is not None and error.partial_body.startswith(head)
    assert len(error.partial_body) == answer_byte_limit(100) == 64 * 1024
    assert answer_byte_limit(8000) == 8000 * 16 + 16 * 1024


async def test_a_json_answer_sent_as_another_content_type_is_a_bad_response(
    fleet: SimulatorFleet, http: httpx.AsyncClient
) -> None:
    fleet.set_faults("sim-us-east", FaultProfile(not_json_typed_rate=1.0))

    error = await failure_of(client_for(fleet, http, "sim-us-east"), ask())

    assert (error.code, error.http_status) == ("BAD_PROVIDER_RESPONSE", 200)
    assert "Content-Type is 'text/html" in error.message
