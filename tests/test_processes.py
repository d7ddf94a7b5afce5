"""Two API processes and a worker process on one PostgreSQL, as deployed to scale out."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from beacon_gql.config import Settings
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from beacon_gql.services import running_services
from tests.support.graphql import GraphQLClient
from tests.support.jobs import executions_of
from tests.support.processes import beacon_process
from tests.support.specs import Signer, make_spec
from tests.support.ws import PROGRESS, subscribe

SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) { job { id } } }"""


async def test_a_subscriber_on_an_api_process_without_worker_sees_every_change(
    postgres_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    slow = FaultProfile(latency_ms=50)
    faults = {"sim-us-east": slow, "sim-eu-west": slow, "sim-asia-pacific": slow}
    async with SimulatorFleet(seed=9, faults=faults) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(postgres_settings, providers_file=providers, worker_concurrency=6)
        async with (
            beacon_process(settings, "serve", "--no-worker", log=tmp_path / "api-1.log") as api_one,
            beacon_process(settings, "serve", "--no-worker", log=tmp_path / "api-2.log") as api_two,
        ):
            client = GraphQLClient(api_one)
            data = await client.data(SUBMIT, {"spec": signer.sign(make_spec())})
            await client.aclose()
            job_id = data["submitBiasJob"]["job"]["id"]
            events = []
            async with beacon_process(settings, "worker", log=tmp_path / "worker.log"):
                async with asyncio.timeout(90):
                    async for event in subscribe(api_two, PROGRESS, {"jobId": job_id}):
                        events.append(event["jobProgress"])

        async with running_services(settings, run_worker=False) as services:
            rows = await executions_of(services, job_id)

    sequences = [e["sequence"] for e in events]
    assert sequences == list(range(sequences[0], sequences[0] + len(events)))
    assert sequences[-1] == 72  # one claim and one completion per execution, none missed
    final = events[-1]
    assert final["job"]["status"] == "COMPLETED"
    for status in ("completed", "failed", "cancelled"):
        assert final["progress"][status] == sum(r.status == status.upper() for r in rows)
    assert final["progress"]["completed"] == 36
