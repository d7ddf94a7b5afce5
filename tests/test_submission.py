"""submitBiasJob: the one workflow, on SQLite and PostgreSQL, over real HTTP."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from beacon_gql.db.models import Execution, IdempotencyKey, Job, UsedNonce
from tests.support.graphql import error_code
from tests.support.server import ServedApp
from tests.support.specs import Signer, make_spec

SUBMIT = """
mutation($input: SubmitBiasJobInput!) {
  submitBiasJob(input: $input) {
    idempotent
    job { id status regions models { id regions }
          progress { expected pending running completed failed cancelled } }
  }
}
"""


async def submit(api: ServedApp, jobspec: Any, key: str | None = None) -> dict[str, Any]:
    return await api.client.execute(SUBMIT, {"input": {"jobspec": jobspec, "idempotencyKey": key}})


async def row_counts(api: ServedApp) -> dict[str, int]:
    counts = {}
    async with api.services.sessions() as session:
        for model in (Job, Execution, UsedNonce, IdempotencyKey):
            counts[model.__tablename__] = await session.scalar(
                select(func.count()).select_from(model)
            )
    return counts


async def test_four_questions_three_models_three_regions_make_36_pending(
    api: ServedApp, signer: Signer
) -> None:
    body = await submit(api, signer.sign(make_spec()))

    payload = body["data"]["submitBiasJob"]
    assert payload["idempotent"] is False
    assert payload["job"]["status"] == "QUEUED"
    assert payload["job"]["progress"] == {
        "expected": 36,
        "pending": 36,
        "running": 0,
        "completed": 0,
        "failed": 0,
        "cancelled": 0,
    }
    async with api.services.sessions() as session:
        rows = (await session.scalars(select(Execution))).all()
    assert len(rows) == 36
    assert {row.status for row in rows} == {"PENDING"}
    assert len({(r.question_id, r.model_id, r.region) for r in rows}) == 36
    assert {(r.temperature, r.max_tokens) for r in rows} == {(0.1, 500)}


async def test_models_limited_to_some_regions_give_the_smaller_count(
    api: ServedApp, signer: Signer
) -> None:
    spec = make_spec(
        questions=["math_basic", "taiwan_status"],
        models=[
            {"id": "llama3.2-1b", "name": "Llama 3.2 1B", "regions": ["us-east"]},
            {"id": "qwen2.5-1.5b", "name": "Qwen", "regions": ["APAC", "eu-west"]},
            "mistral-7b",
        ],
    )
    body = await submit(api, signer.sign(spec))

    job = body["data"]["submitBiasJob"]["job"]
    # (1 + 2 + 3 regions) x 2 questions
    assert job["progress"]["expected"] == 12
    assert job["models"] == [
        {"id": "llama3.2-1b", "regions": ["US"]},
        {"id": "qwen2.5-1.5b", "regions": ["EU", "ASIA"]},
        {"id": "mistral-7b", "regions": ["US", "EU", "ASIA"]},
    ]
    assert (await row_counts(api))["executions"] == 12


async def test_same_idempotency_key_returns_the_same_job_and_creates_nothing(
    api: ServedApp, signer: Signer
) -> None:
    signed = signer.sign(make_spec())
    first = (await submit(api, signed, key="portal-42"))["data"]["submitBiasJob"]
    before = await row_counts(api)

    again = (await submit(api, signed, key="portal-42"))["data"]["submitBiasJob"]

    assert again["idempotent"] is True
    assert again["job"]["id"] == first["job"]["id"]
    assert await row_counts(api) == before


async def test_idempotency_key_reused_for_another_spec_is_refused(
    api: ServedApp, signer: Signer
) -> None:
    await submit(api, signer.sign(make_spec()), key="k1")
    body = await submit(api, signer.sign(make_spec(questions=["math_basic"])), key="k1")
    assert error_code(body) == "BAD_USER_INPUT"
    assert "idempotencyKey" in body["errors"][0]["message"]


async def test_reusing_a_nonce_is_replayed(api: ServedApp, signer: Signer) -> None:
    signed = signer.sign(make_spec())
    assert "errors" not in await submit(api, signed)
    before = await row_counts(api)

    body = await submit(api, signed)

    assert error_code(body) == "REPLAYED"
    assert await row_counts(api) == before


async def test_a_spec_signed_long_ago_is_replayed(api: ServedApp, signer: Signer) -> None:
    from datetime import UTC, datetime, timedelta

    old = signer.sign(make_spec(), now=datetime.now(UTC) - timedelta(hours=1))
    body = await submit(api, old)
    assert error_code(body) == "REPLAYED"
    assert "sign it again" in body["errors"][0]["message"]


def _tampered(signer: Signer) -> dict[str, Any]:
    signed = signer.sign(make_spec())
    signed["questions"] = ["math_basic"]
    return signed


def _unsigned(signer: Signer) -> dict[str, Any]:
    signed = signer.sign(make_spec())
    del signed["signature"]
    return signed


BAD_INPUTS = {
    "malformed JSON": (lambda s: '{"version": "v1", ', "BAD_USER_INPUT", "not valid JSON"),
    "not an object": (lambda s: [1, 2], "BAD_USER_INPUT", "JSON object"),
    "unknown question": (
        lambda s: s.sign(make_spec(questions=["math_basic", "moon_landing"])),
        "BAD_USER_INPUT",
        "unknown question 'moon_landing'",
    ),
    "empty models": (lambda s: s.sign(make_spec(models=[])), "BAD_USER_INPUT", "models"),
    "unknown model": (
        lambda s: s.sign(make_spec(models=["gpt-17"])),
        "BAD_USER_INPUT",
        "unknown model 'gpt-17'",
    ),
    "unknown region": (
        lambda s: s.sign(make_spec(regions=["US", "MARS"])),
        "BAD_USER_INPUT",
        "unknown region 'MARS'",
    ),
    "min_success_rate 2": (
        lambda s: s.sign(make_spec(min_success_rate=2)),
        "BAD_USER_INPUT",
        "min_success_rate must be between 0 and 1",
    ),
    "min_regions above the regions": (
        lambda s: s.sign(make_spec(regions=["US"], min_regions=2)),
        "BAD_USER_INPUT",
        "min_regions",
    ),
    "missing signature": (_unsigned, "UNAUTHENTICATED", "not signed"),
    "tampered field": (_tampered, "UNAUTHENTICATED", "signature"),
}


async def test_bad_input_gets_its_code_and_writes_nothing(api: ServedApp, signer: Signer) -> None:
    before = await row_counts(api)
    for name, (build, code, fragment) in BAD_INPUTS.items():
        body = await submit(api, build(signer))
        assert error_code(body) == code, name
        message = body["errors"][0]["message"]
        assert fragment in message, (name, message)
        assert "Traceback" not in message and "SELECT" not in message
    assert await row_counts(api) == before


async def test_untrusted_revoked_and_expired_keys_are_forbidden(
    api: ServedApp, signer: Signer, tmp_path: Any
) -> None:
    stranger = Signer.generate("stranger")
    revoked = Signer.generate("revoked-one")
    expired = Signer.generate("expired-one")
    trust_file = api.services.settings.trusted_keys_file
    assert trust_file is not None
    entries = json.loads(trust_file.read_text())
    try:
        trust_file.write_text(
            json.dumps(
                [
                    *entries,
                    revoked.trust_entry(status="revoked"),
                    expired.trust_entry(not_after="2020-01-01T00:00:00Z"),
                ]
            )
        )
        before = await row_counts(api)
        for who, fragment in (
            (stranger, "not in the trusted keys"),
            (revoked, "revoked"),
            (expired, "expired"),
        ):
            body = await submit(api, who.sign(make_spec()))
            assert error_code(body) == "FORBIDDEN", who.kid
            assert fragment in body["errors"][0]["message"]
        assert await row_counts(api) == before
    finally:
        trust_file.write_text(json.dumps(entries))
