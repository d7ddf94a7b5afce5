"""Specs signed by the predecessor portal itself are accepted when its key is trusted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from beacon_gql.config import Settings
from beacon_gql.db.engine import create_engine
from tests.support.databases import empty_tables
from tests.support.graphql import error_code
from tests.support.server import ServedApp, serve_app
from tests.support.specs import write_trust_file

VECTORS = Path(__file__).resolve().parent / "vectors" / "portal_signed_jobspecs.json"
SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) {
  job { id progress { expected } } } }"""


def vector(name: str) -> dict[str, Any]:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    spec: dict[str, Any] = next(c["jobspec"] for c in cases if c["name"] == name)
    return spec


def portal_settings(settings: Settings, tmp_path: Path) -> Settings:
    real_portal_key = vector("real_portal_capture_2025_10_12")["public_key"]
    main_key = vector("portal_single_model_wallet_auth")["public_key"]
    trust = write_trust_file(
        tmp_path / "portal-keys.json",
        [
            {"kid": "portal-user", "public_key": real_portal_key, "status": "active"},
            {"kid": "portal-main", "public_key": main_key, "status": "active"},
        ],
    )
    # The vectors were signed in 2025: the age check must be off to verify them.
    return replace(settings, trusted_keys_file=trust, max_spec_age_seconds=0)


@pytest.fixture
async def portal_api(settings: Settings, tmp_path: Path) -> AsyncIterator[ServedApp]:
    async with serve_app(portal_settings(settings, tmp_path), run_worker=False) as served:
        yield served


async def test_real_portal_capture_is_accepted_when_its_key_is_trusted(
    portal_api: ServedApp,
) -> None:
    body = await portal_api.client.execute(
        SUBMIT, {"spec": vector("real_portal_capture_2025_10_12")}
    )
    # 3 questions x 3 models x 2 regions; the portal itself claimed 18 here.
    assert body["data"]["submitBiasJob"]["job"]["progress"]["expected"] == 18


async def test_portal_spec_is_forbidden_when_its_key_is_not_trusted(api: ServedApp) -> None:
    body = await api.client.execute(SUBMIT, {"spec": vector("real_portal_capture_2025_10_12")})
    assert error_code(body) == "FORBIDDEN"


async def test_a_key_caught_reusing_its_ed25519_nonce_is_refused_from_then_on(
    portal_api: ServedApp,
) -> None:
    first = await portal_api.client.execute(
        SUBMIT, {"spec": vector("portal_single_model_wallet_auth")}
    )
    assert "errors" not in first

    # Another spec by the same key: same R, different signature, so the key is exposed.
    second = await portal_api.client.execute(
        SUBMIT, {"spec": vector("portal_multi_model_three_regions_wallet_auth")}
    )

    assert error_code(second) == "FORBIDDEN"
    assert "compromised" in second["errors"][0]["message"]


async def test_two_specs_sharing_one_r_sent_at_the_same_moment_are_not_both_accepted(
    postgres_settings: Settings, tmp_path: Path
) -> None:
    """Both pass a look-up made before either is written: only the database's unique key on
    (key, R) can refuse the second. Several rounds, since one might be serialised by luck."""
    one, other = (
        vector("portal_single_model_wallet_auth"),
        vector("portal_multi_model_three_regions_wallet_auth"),
    )
    settings = portal_settings(postgres_settings, tmp_path)
    engine = create_engine(settings.database_url)
    try:
        async with serve_app(settings, run_worker=False) as served:
            for _ in range(5):
                await empty_tables(engine)
                bodies = await asyncio.gather(
                    served.client.execute(SUBMIT, {"spec": one}),
                    served.client.execute(SUBMIT, {"spec": other}),
                )

                refused = [body for body in bodies if "errors" in body]
                assert len(refused) == 1, bodies
                assert error_code(refused[0]) == "FORBIDDEN"
                assert "compromised" in refused[0]["errors"][0]["message"]
                # The key stays refused, for the spec that got in as well.
                again = await served.client.execute(SUBMIT, {"spec": one})
                assert error_code(again) == "FORBIDDEN"
    finally:
        await engine.dispose()
