"""RUNNING means a provider call under way: a worker claims a region's executions only while
that region's providers have a free slot, so `watch` and the dashboard's "running" is what
the providers are doing (and answers about to be written), not rows waiting for a slot."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from beacon_gql.config import Settings
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from tests.support.server import serve_app
from tests.support.specs import Signer, make_spec
from tests.support.ws import PROGRESS, subscribe

SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) { job { id } } }"""
SLOTS = 2  # the provider's max_concurrency, as the providers file below says


async def test_running_never_exceeds_the_calls_the_providers_can_take(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # One provider in one region, slow enough that claims would pile up behind its slots.
    slow = {"sim-us-east": FaultProfile(latency_ms=150)}
    async with SimulatorFleet(seed=4, regions=("US",), faults=slow) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        text = providers.read_text()
        assert "max_concurrency = 4" in text
        providers.write_text(text.replace("max_concurrency = 4", f"max_concurrency = {SLOTS}"))
        settings = replace(sqlite_settings, providers_file=providers, worker_concurrency=16)
        async with serve_app(settings, run_worker=True) as app:
            data = await app.client.data(SUBMIT, {"spec": signer.sign(make_spec(regions=["US"]))})
            job_id = data["submitBiasJob"]["job"]["id"]
            running: list[int] = []
            async with asyncio.timeout(60):
                async for event in subscribe(app.base_url, PROGRESS, {"jobId": job_id}):
                    progress = event["jobProgress"]["progress"]
                    running.append(progress["running"])
                    final = event["jobProgress"]

    assert final["job"]["status"] == "COMPLETED"
    assert final["progress"]["completed"] == 12
    # All 12 could be claimed at once (the worker takes 16); only 2 calls can be under way,
    # and as many answers may be waiting for their write (the slot is given back as the
    # call returns, so the provider stays busy).
    assert SLOTS <= max(running) <= 2 * SLOTS, running
