"""Abuse: repeated refused signatures, admin token guessing, leaking internals, leaking keys."""

from __future__ import annotations

import asyncio
import copy
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

import beacon_gql.schema.context
from beacon_gql.config import ConfigError, Settings, load_settings
from beacon_gql.db.models import Job
from beacon_gql.errors import RateLimited
from beacon_gql.jobs.abuse import REDACTED, AuthFailureLimiter, is_secret_name, redact_secrets
from beacon_gql.jobs.signing import verify_spec_signature
from tests.conftest import ADMIN_TOKEN
from tests.support.graphql import error_code
from tests.support.server import ServedApp, serving
from tests.support.specs import Signer, make_spec
from tests.test_submission import row_counts

SUBMIT = """mutation($input: SubmitBiasJobInput!) {
  submitBiasJob(input: $input) { job { id status spec } } }"""


@pytest.fixture
async def app(sqlite_settings: Settings) -> AsyncIterator[ServedApp]:
    async with serving(sqlite_settings) as served:
        yield served


async def submit(client: httpx.AsyncClient, spec: object) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": SUBMIT, "variables": {"input": {"jobspec": spec}}}
    )
    body: dict[str, Any] = response.json()
    return body


def tampered(signer: Signer) -> dict[str, Any]:
    signed = signer.sign(make_spec())
    signed["questions"] = ["math_basic"]
    return signed


# --- repeated signature failures ------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_refuses_after_n_failures_until_the_window_passes() -> None:
    clock = FakeClock()
    limiter = AuthFailureLimiter(3, 60, clock=clock)
    for _ in range(3):
        limiter.check("10.0.0.1")
        limiter.record_failure("10.0.0.1")
        clock.now += 1
    with pytest.raises(RateLimited, match="try again in 57 s"):
        limiter.check("10.0.0.1")
    limiter.check("10.0.0.2")  # another address is not affected
    limiter.check(None)  # nor an in-process caller

    clock.now = 1000.0 + 59.9
    with pytest.raises(RateLimited):
        limiter.check("10.0.0.1")
    clock.now = 1000.0 + 60  # the first failure has left the window
    limiter.check("10.0.0.1")
    limiter.record_failure("10.0.0.1")  # a new failure fills the window again
    with pytest.raises(RateLimited):
        limiter.check("10.0.0.1")


def test_a_limit_of_zero_turns_the_limiter_off_and_memory_stays_bounded() -> None:
    off = AuthFailureLimiter(0, 60)
    for _ in range(100):
        off.record_failure("10.0.0.1")
    off.check("10.0.0.1")

    small = AuthFailureLimiter(1, 60, max_clients=10)
    for i in range(1000):
        small.record_failure(f"10.0.{i // 256}.{i % 256}")
    assert len(small._failures) == 10
    with pytest.raises(RateLimited):
        small.check("10.0.3.231")  # the most recent address is still remembered
    small.check("10.0.0.0")  # the oldest was forgotten


def test_auth_failure_settings() -> None:
    defaults = load_settings({})
    assert (defaults.auth_failure_limit, defaults.auth_failure_window_seconds) == (20, 60.0)
    custom = load_settings({"BEACON_AUTH_FAILURE_LIMIT": "5", "BEACON_AUTH_FAILURE_WINDOW": "2.5"})
    assert (custom.auth_failure_limit, custom.auth_failure_window_seconds) == (5, 2.5)
    with pytest.raises(ConfigError, match="BEACON_AUTH_FAILURE_WINDOW"):
        load_settings({"BEACON_AUTH_FAILURE_WINDOW": "0"})


async def test_repeated_signature_failures_from_one_address_are_rate_limited(
    sqlite_settings: Settings, signer: Signer
) -> None:
    stranger = Signer.generate("stranger")
    async with serving(
        sqlite_settings, auth_failure_limit=3, auth_failure_window_seconds=1.5
    ) as app:
        limiter = app.services.submission.auth_failures
        assert (limiter.limit, limiter.window_seconds) == (3, 1.5)
        client = app.client.http
        assert error_code(await submit(client, tampered(signer))) == "UNAUTHENTICATED"
        assert error_code(await submit(client, stranger.sign(make_spec()))) == "FORBIDDEN"
        assert error_code(await submit(client, tampered(signer))) == "UNAUTHENTICATED"
        before = await row_counts(app)

        # Even a valid spec is refused now, and writes nothing.
        limited = await submit(client, signer.sign(make_spec()))
        assert error_code(limited) == "RATE_LIMITED"
        assert "too many refused signatures" in limited["errors"][0]["message"]
        assert await row_counts(app) == before

        # Another address is not affected.
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(base_url=app.base_url, transport=transport) as other:
            assert "errors" not in await submit(other, signer.sign(make_spec()))

        # Once the window has passed, the address is served again.
        await asyncio.sleep(1.6)
        assert "errors" not in await submit(client, signer.sign(make_spec()))


async def test_other_refusals_do_not_count_as_signature_failures(
    sqlite_settings: Settings, signer: Signer
) -> None:
    async with serving(sqlite_settings, auth_failure_limit=2) as app:
        client = app.client.http
        replayed = signer.sign(make_spec())
        assert "errors" not in await submit(client, replayed)
        for _ in range(3):
            assert error_code(await submit(client, replayed)) == "REPLAYED"
            unknown = signer.sign(make_spec(questions=["moon_landing"]))
            assert error_code(await submit(client, unknown)) == "BAD_USER_INPUT"
        assert "errors" not in await submit(client, signer.sign(make_spec()))


# --- the admin token ------------------------------------------------------------------------

CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status } }"


async def test_wrong_admin_tokens_of_any_length_are_refused_in_constant_time(
    app: ServedApp, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(beacon_gql.schema.context.hmac, "compare_digest", spy)
    job_id = (await submit(app.client.http, signer.sign(make_spec())))["data"]["submitBiasJob"][
        "job"
    ]["id"]
    same_length = ADMIN_TOKEN[:-1] + ("X" if ADMIN_TOKEN[-1] != "X" else "Y")
    assert len(same_length) == len(ADMIN_TOKEN)

    for wrong in (same_length, ADMIN_TOKEN + "x", ADMIN_TOKEN[:4], "x"):
        body = await app.client.execute(CANCEL, {"id": job_id}, token=wrong)
        assert error_code(body) == "UNAUTHENTICATED", wrong
        assert ADMIN_TOKEN not in json.dumps(body)
    assert error_code(await app.client.execute(CANCEL, {"id": job_id})) == "UNAUTHENTICATED"
    # Every guess went through the constant-time comparison.
    assert (same_length.encode(), ADMIN_TOKEN.encode()) in compared
    assert (b"x", ADMIN_TOKEN.encode()) in compared

    job = await app.client.data("query($id: ID!) { job(id: $id) { status } }", {"id": job_id})
    assert job["job"]["status"] == "QUEUED"
    cancelled = await app.client.data(CANCEL, {"id": job_id}, token=ADMIN_TOKEN)
    assert cancelled["cancelJob"]["status"] == "CANCELLED"


# --- no internals in error messages ---------------------------------------------------------

INTERNAL = re.compile(r"^internal server error \(reference ([0-9a-f]{12})\)$")
LEAKS = ("Traceback", "SELECT", "INSERT", "sqlite", "no such table", ".py", "/", "used_nonces")


def assert_masked(body: dict[str, Any]) -> str:
    assert error_code(body) == "INTERNAL_SERVER_ERROR"
    error = body["errors"][0]
    match = INTERNAL.match(error["message"])
    assert match, error["message"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "reference": match[1]}
    shown = json.dumps(body["errors"])
    for leak in LEAKS:
        assert leak not in shown, (leak, shown)
    return match[1]


async def test_an_internal_error_shows_a_reference_and_nothing_else(
    app: ServedApp, signer: Signer, caplog: pytest.LogCaptureFixture
) -> None:
    assert "errors" not in await submit(app.client.http, signer.sign(make_spec()))
    async with app.services.engine.begin() as connection:
        await connection.execute(text("DROP TABLE used_nonces"))
    before = (await row_counts_without_nonces(app))["jobs"]

    with caplog.at_level(logging.ERROR, logger="beacon_gql.graphql"):
        body = await submit(app.client.http, signer.sign(make_spec()))

    reference = assert_masked(body)
    # The log line has the whole story, under the reference the client was given.
    logged = [r for r in caplog.records if getattr(r, "reference", None) == reference]
    assert logged and logged[0].exc_info is not None
    assert (await row_counts_without_nonces(app))["jobs"] == before

    async with app.services.engine.begin() as connection:
        await connection.execute(text("DROP TABLE executions"))
    listing = await app.client.execute("{ jobs(first: 5) { nodes { id executions { id } } } }")
    assert_masked(listing)


async def row_counts_without_nonces(app: ServedApp) -> dict[str, int]:
    async with app.services.sessions() as session:
        jobs = await session.scalar(text("SELECT count(*) FROM jobs"))
    return {"jobs": int(jobs or 0)}


# --- private keys never shown back ----------------------------------------------------------

SECRET_NAMES = [
    "private_key",
    "privateKey",
    "PRIVATE_KEY",
    "private-key",
    "privatekey",
    "secret",
    "client_secret",
    "secretKey",
    "seed",
    "seed_phrase",
    "password",
    "db_password",
    "passphrase",
    "api_key",
    "apiKey",
    "APIKey",
    "x-api-key",
    "mnemonic",
    "token",
    "access_token",
    "authToken",
    "signing_key",
    "credentials",
    "Authorization",
]
PUBLIC_NAMES = [
    "public_key",
    "publicKey",
    "signature",
    "nonce",
    "kid",
    "key",
    "keys",
    "id",
    "max_tokens",
    "tokens",
    "models",
    "key_id",
    "timestamp",
    "description",
    "seeds_planted",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_looking_names_are_recognised(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_ordinary_names_are_not_secrets(name: str) -> None:
    assert not is_secret_name(name)


def test_redaction_reaches_every_depth_and_leaves_the_original_alone() -> None:
    original = {
        "public_key": "pub",
        "a": [{"b": {"privateKey": {"nested": "x"}, "ok": [1, {"password": "p"}]}}],
        "seed": 42,
        "parameters": {"max_tokens": 500},
    }
    snapshot = copy.deepcopy(original)

    shown = redact_secrets(original)

    assert shown == {
        "public_key": "pub",
        "a": [{"b": {"privateKey": REDACTED, "ok": [1, {"password": REDACTED}]}}],
        "seed": REDACTED,
        "parameters": {"max_tokens": 500},
    }
    assert original == snapshot
    deep: object = {"secret": "s"}
    for _ in range(5000):
        deep = [deep]
    redacted = redact_secrets(deep)
    for _ in range(5000):
        assert isinstance(redacted, list)
        redacted = redacted[0]
    assert redacted == {"secret": REDACTED}


async def test_job_spec_never_shows_a_private_key_but_stores_the_spec_verbatim(
    api: ServedApp, signer: Signer
) -> None:
    spec = make_spec()
    spec["metadata"]["private_key"] = signer.private_key
    spec["metadata"]["wallet"] = {"privateKey": signer.private_key, "mnemonic": "abandon " * 12}
    spec["metadata"]["signers"] = [{"kid": "k", "seed": signer.private_key}]
    spec["benchmark"]["input"]["data"]["api_key"] = "sk-live-123"
    signed = signer.sign(spec)

    body = await submit(api.client.http, signed)
    job = body["data"]["submitBiasJob"]["job"]
    again = await api.client.data(
        "query($id: ID!) { job(id: $id) { spec } jobs { nodes { spec } } }", {"id": job["id"]}
    )

    for shown in (job["spec"], again["job"]["spec"], again["jobs"]["nodes"][0]["spec"]):
        assert shown["metadata"]["private_key"] == REDACTED
        assert shown["metadata"]["wallet"] == {"privateKey": REDACTED, "mnemonic": REDACTED}
        assert shown["metadata"]["signers"] == [{"kid": "k", "seed": REDACTED}]
        assert shown["benchmark"]["input"]["data"]["api_key"] == REDACTED
        assert shown["public_key"] == signed["public_key"]
        assert shown["signature"] == signed["signature"]
        assert shown["metadata"]["nonce"] == signed["metadata"]["nonce"]
    for text_shown in (json.dumps(body), json.dumps(again)):
        assert signer.private_key not in text_shown
        assert "sk-live-123" not in text_shown

    async with api.services.sessions() as session:
        stored = (await session.scalars(select(Job.spec).where(Job.id == job["id"]))).one()
    assert stored == signed
    verify_spec_signature(stored)  # the signature still covers what is stored
