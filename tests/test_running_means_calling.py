"""RUNNING means a provider call under way: a worker claims a region's executions only while
that region's providers have a free slot, so `watch` and the dashboard's "running" is what
the providers are doing, not rows waiting for a slot."""

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
SLOTS = 4  # every simulated provider's max_concurrency


async def test_running_never_exceeds_the_calls_the_providers_can_take(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # One provider in one region, slow enough that claims would pile up behind its slots.
    slow = {"sim-us-east": FaultProfile(latency_ms=150)}
    async with SimulatorFleet(seed=4, regions=("US",), faults=slow) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
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
    # 16 could be claimed at once; only 4 calls can be under way.
    assert max(running) == SLOTS, running
