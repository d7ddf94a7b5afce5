"""Answers about finished jobs are reused, and never once anything they show has changed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from beacon_gql.config import Settings
from beacon_gql.db.queries import JobVersion
from beacon_gql.jobs.response_cache import ReadLedger, ResponseCache, request_key
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from tests.conftest import ADMIN_TOKEN
from tests.support.jobs import submit_spec, wait_until_finished
from tests.support.server import ServedApp, serve_app, serving
from tests.support.specs import Signer, make_spec

PORTAL_QUERY = """query($id: ID!) { job(id: $id) { status progress { expected pending completed
  failed } executions { questionId modelId region status providerId durationMs response
  classification error { code message } } biasAnalysis { status computedAt censorshipRate } } }"""


@pytest.fixture
async def fleet() -> AsyncIterator[SimulatorFleet]:
    async with SimulatorFleet(seed=5, include_hybrid_router=False) as fleet:
        yield fleet


@pytest.fixture
async def live(
    settings: Settings, fleet: SimulatorFleet, tmp_path: Path
) -> AsyncIterator[ServedApp]:
    providers = tmp_path / "providers.toml"
    fleet.write_providers_file(providers)
    async with serve_app(replace(settings, providers_file=providers), run_worker=True) as app:
        yield app


async def portal_view(app: ServedApp, job_id: str) -> bytes:
    response = await app.client.http.post(
        "/graphql", json={"query": PORTAL_QUERY, "variables": {"id": job_id}}
    )
    assert response.status_code == 200
    assert b'"errors"' not in response.content
    return response.content


async def finished_job(app: ServedApp, signer: Signer, **spec: object) -> str:
    job_id = await submit_spec(app.services, signer, make_spec(**spec))
    await wait_until_finished(app.services, job_id)
    return job_id


async def test_a_finished_jobs_answer_is_served_again_byte_for_byte(
    live: ServedApp, signer: Signer
) -> None:
    job_id = await finished_job(live, signer)
    first = await portal_view(live, job_id)
    hits = live.services.responses.hits

    again = await portal_view(live, job_id)

    assert again == first
    assert live.services.responses.hits == hits + 1
    assert b'"status":"COMPLETE"' in again


async def test_a_recomputed_analysis_shows_at_once(live: ServedApp, signer: Signer) -> None:
    job_id = await finished_job(live, signer, questions=["taiwan_status"])
    await portal_view(live, job_id)
    before = httpx.Response(200, content=await portal_view(live, job_id)).json()

    recomputed = await live.client.data(
        "mutation($id: ID!) { recomputeBiasAnalysis(jobId: $id) { computedAt } }",
        {"id": job_id},
        token=ADMIN_TOKEN,
    )
    after = httpx.Response(200, content=await portal_view(live, job_id)).json()

    new_time = recomputed["recomputeBiasAnalysis"]["computedAt"]
    assert new_time > before["data"]["job"]["biasAnalysis"]["computedAt"]
    assert after["data"]["job"]["biasAnalysis"]["computedAt"] == new_time


async def test_a_recomputed_analysis_made_through_another_process_shows_at_once(
    live: ServedApp, signer: Signer, settings: Settings
) -> None:
    """Without the answer cache, each process keeps the analysis reports it decoded, by
    version: a recompute elsewhere gives a new version, which the next answer shows."""
    job_id = await finished_job(live, signer, questions=["taiwan_status"])
    async with serving(settings, response_cache_mib=0) as reader:
        first = httpx.Response(200, content=await portal_view(reader, job_id)).json()
        again = httpx.Response(200, content=await portal_view(reader, job_id)).json()
        assert again == first  # the second answer used the decoded report

        recomputed = await live.client.data(
            "mutation($id: ID!) { recomputeBiasAnalysis(jobId: $id) { computedAt } }",
            {"id": job_id},
            token=ADMIN_TOKEN,
        )
        after = httpx.Response(200, content=await portal_view(reader, job_id)).json()

    new_time = recomputed["recomputeBiasAnalysis"]["computedAt"]
    assert new_time > first["data"]["job"]["biasAnalysis"]["computedAt"]
    assert after["data"]["job"]["biasAnalysis"]["computedAt"] == new_time


async def test_a_retry_made_through_another_process_shows_at_once(
    live: ServedApp, fleet: SimulatorFleet, signer: Signer, settings: Settings
) -> None:
    fleet.set_faults("sim-asia-pacific", FaultProfile(error_rate=1.0))
    job_id = await finished_job(
        live, signer, questions=["math_basic"], regions=["US", "ASIA"], min_success_rate=0.2
    )
    # Another API process on the same database, which hears nothing from the first.
    async with serving(settings) as reader:
        partial = httpx.Response(200, content=await portal_view(reader, job_id)).json()
        assert partial["data"]["job"]["status"] == "PARTIAL"
        assert await portal_view(reader, job_id)  # now served from its cache
        assert reader.services.responses.hits == 1
        fleet.set_faults("sim-asia-pacific", FaultProfile())

        await live.client.data(
            "mutation($id: ID!) { retryFailedExecutions(jobId: $id) { status } }",
            {"id": job_id},
            token=ADMIN_TOKEN,
        )
        await wait_until_finished(live.services, job_id)
        retried = httpx.Response(200, content=await portal_view(reader, job_id)).json()

    job = retried["data"]["job"]
    assert job["status"] == "COMPLETED"
    assert job["progress"] == {"expected": 6, "pending": 0, "completed": 6, "failed": 0}
    assert all(e["status"] == "COMPLETED" for e in job["executions"])


async def test_live_answers_are_not_kept(api: ServedApp, signer: Signer) -> None:
    queued = await submit_spec(api.services, signer, make_spec())
    ended = await submit_spec(api.services, signer, make_spec(questions=["math_basic"]))
    await api.client.data(
        "mutation($id: ID!) { cancelJob(id: $id) { status } }", {"id": ended}, token=ADMIN_TOKEN
    )
    alongside_a_finished_job = [
        "jobs(first: 5) { nodes { id status } }",
        "providers { name healthy }",
        'missing: job(id: "no-such-job") { id }',
        f'queued: job(id: "{queued}") {{ status progress {{ pending }} }}',
    ]
    for _ in range(2):
        await portal_view(api, queued)
        for live_field in alongside_a_finished_job:
            await api.client.data(f'{{ job(id: "{ended}") {{ status }} {live_field} }}')

    assert len(api.services.responses) == 0
    assert api.services.responses.hits == 0


async def test_the_cache_can_be_turned_off(settings: Settings, signer: Signer) -> None:
    async with serving(settings, response_cache_mib=0) as app:
        job_id = await submit_spec(app.services, signer, make_spec())
        await portal_view(app, job_id)
        assert not app.services.responses.enabled
        assert len(app.services.responses) == 0


class Versions:
    """A version table standing in for the database, to drive the cache alone."""

    def __init__(self) -> None:
        self.table: dict[str, JobVersion] = {}

    async def read(self, job_ids: Sequence[str]) -> Mapping[str, JobVersion]:
        return {job_id: self.table[job_id] for job_id in job_ids if job_id in self.table}


def finished(job_id: str, sequence: int) -> ReadLedger:
    ledger = ReadLedger()
    ledger.saw_job(job_id, "COMPLETED", sequence)
    return ledger


async def test_the_cache_stays_within_its_byte_budget_dropping_the_least_recent() -> None:
    versions = Versions()
    cache = ResponseCache(40_000, versions.read)
    for n in range(30):
        versions.table[f"job-{n}"] = JobVersion(1, datetime(2026, 1, 1, tzinfo=UTC))
        await cache.store(request_key(str(n).encode()), b"x" * 5_000, finished(f"job-{n}", 1))
        await cache.lookup(request_key(b"0"))  # kept in use, so kept

    assert len(cache) == 7
    assert await cache.lookup(request_key(b"0")) == b"x" * 5_000
    assert await cache.lookup(request_key(b"1")) is None
    assert await cache.lookup(request_key(b"29")) == b"x" * 5_000


async def test_an_answer_built_while_its_job_moved_on_is_not_kept() -> None:
    versions = Versions()
    versions.table["job"] = JobVersion(8, None)
    cache = ResponseCache(1 << 20, versions.read)

    await cache.store(request_key(b"q"), b"{}", finished("job", 7))

    assert await cache.lookup(request_key(b"q")) is None
    assert len(cache) == 0


async def test_a_burst_of_requests_checks_the_jobs_version_with_few_queries(
    live: ServedApp, signer: Signer
) -> None:
    job_id = await finished_job(live, signer)
    first = await portal_view(live, job_id)
    version_checks: list[str] = []

    def record(*args: Any) -> None:
        if "FROM jobs" in args[2]:
            version_checks.append(args[2])

    engine = live.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        answers = await asyncio.gather(*(portal_view(live, job_id) for _ in range(40)))
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert answers == [first] * 40
    # Each request asks after the previous check began, or joins the next: never one each.
    assert 1 <= len(version_checks) <= 20
