"""Faults in the middle of a job, with real processes on PostgreSQL.

The database restarting or failing a commit, a provider's process dying and the broadcast
connections being killed: in each case every execution ends exactly once, nothing is
recorded twice, and the counts a user sees add up.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis import asyncio as aioredis
from sqlalchemy.engine import make_url

from beacon_gql.config import Settings
from beacon_gql.db.models import Execution, ExecutionAttempt
from beacon_gql.execution.worker import running_worker
from beacon_gql.jobs.progress_stream import ProgressStreams, ProgressUpdate
from beacon_gql.providers.config import providers_to_toml
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from beacon_gql.services import running_services
from tests.conftest import make_settings
from tests.support.commit_cutting_proxy import CommitCuttingProxy
from tests.support.databases import fresh_postgres_database, postgres_wanted
from tests.support.graphql import GraphQLClient
from tests.support.jobs import (
    assert_counters_match_rows,
    attempts_of,
    executions_of,
    submit_spec,
    wait_until_finished,
)
from tests.support.private_postgres import (
    PrivatePostgres,
    ShutdownMode,
    running_private_postgres,
)
from tests.support.private_redis import private_redis
from tests.support.processes import beacon_process
from tests.support.simulator_process import simulator_process
from tests.support.specs import EVERY_QUESTION, Signer, make_spec
from tests.support.ws import PROGRESS, subscribe

SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) {
  job { id progress { expected } } } }"""
JOB = """query($id: ID!) { job(id: $id) { status progress { expected completed failed } } }"""
SIMULATED = ("sim-us-east", "sim-eu-west", "sim-asia-pacific")


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    if not postgres_wanted():
        pytest.skip("BEACON_TEST_POSTGRES=skip: PostgreSQL tests not run")
    with running_private_postgres() as cluster:
        yield cluster


@pytest.fixture
async def private_settings(
    private_postgres: PrivatePostgres, trust_file: Path
) -> AsyncIterator[Settings]:
    """A fresh database on the private cluster, which also carries the broadcast."""
    async with fresh_postgres_database(private_postgres.admin_url) as url:
        plain = url.replace("postgresql+asyncpg://", "postgresql://")
        yield replace(make_settings(url, trust_file), broadcast_url=plain)


async def submit(base_url: str, signer: Signer, spec: dict[str, Any]) -> tuple[str, int]:
    client = GraphQLClient(base_url)
    try:
        data = await client.data(SUBMIT, {"spec": signer.sign(spec)})
    finally:
        await client.aclose()
    job = data["submitBiasJob"]["job"]
    return job["id"], job["progress"]["expected"]


async def stored(settings: Settings, job_id: str) -> tuple[list[Execution], list[ExecutionAttempt]]:
    """The job's rows as the processes left them; also checks the job's counters against them."""
    quiet = replace(settings, broadcast_url="memory://", providers_file=None)
    async with running_services(quiet, run_worker=False) as services:
        await assert_counters_match_rows(services, job_id)
        return await executions_of(services, job_id), await attempts_of(services, job_id)


def assert_nothing_recorded_twice(attempts: list[ExecutionAttempt]) -> None:
    per_attempt = Counter((a.execution_id, a.attempt) for a in attempts)
    assert set(per_attempt.values()) == {1}, "an attempt was recorded twice"
    completed = Counter(a.execution_id for a in attempts if a.outcome == "COMPLETED")
    assert set(completed.values()) <= {1}, "an execution completed twice"


def assert_each_completed_once(rows: list[Execution], attempts: list[ExecutionAttempt]) -> None:
    assert {r.status for r in rows} == {"COMPLETED"}
    completed = Counter(a.execution_id for a in attempts if a.outcome == "COMPLETED")
    assert set(completed) == {r.id for r in rows}, "a completed execution has no attempt on record"
    assert_nothing_recorded_twice(attempts)


# ---- the database ----------------------------------------------------------------------


@pytest.mark.parametrize("shutdown", ["fast", "immediate"])
async def test_a_database_restart_mid_job_loses_and_duplicates_nothing(
    private_settings: Settings,
    private_postgres: PrivatePostgres,
    signer: Signer,
    tmp_path: Path,
    shutdown: ShutdownMode,
) -> None:
    slow = FaultProfile(latency_ms=150)
    async with SimulatorFleet(
        seed=11, faults=dict.fromkeys(SIMULATED, slow), include_hybrid_router=False
    ) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(
            private_settings,
            providers_file=providers,
            worker_concurrency=8,
            # Short enough that an execution stranded by the restart would be retaken within
            # the test, long enough that the restart alone never expires a lease.
            lease_seconds=5.0,
        )
        spec = make_spec(questions=EVERY_QUESTION)
        events: list[dict[str, Any]] = []
        restarted = False
        # The API without a worker, so that only the worker process runs the job.
        async with (
            beacon_process(settings, "serve", "--no-worker", log=tmp_path / "api.log") as api,
            beacon_process(settings, "worker", log=tmp_path / "worker.log"),
        ):
            job_id, expected = await submit(api, signer, spec)
            async with asyncio.timeout(60):
                async for data in subscribe(api, PROGRESS, {"jobId": job_id}):
                    event = data["jobProgress"]
                    events.append(event)
                    if not restarted and event["progress"]["completed"] >= 20:
                        restarted = True
                        await private_postgres.restart(shutdown)
            client = GraphQLClient(api)
            try:
                answered = await client.data(JOB, {"id": job_id})
            finally:
                await client.aclose()
            async with httpx.AsyncClient() as http:
                ready = await http.get(f"{api}/ready")
        rows, attempts = await stored(settings, job_id)

    assert restarted and expected == len(rows) == 72
    # The same subscription, kept open through the restart, saw the job end.
    final = events[-1]
    assert final["job"]["status"] == "COMPLETED"
    assert final["progress"]["completed"] == expected
    assert answered["job"] == {
        "status": "COMPLETED",
        "progress": {"expected": expected, "completed": expected, "failed": 0},
    }
    assert ready.status_code == 200, ready.text
    assert_each_completed_once(rows, attempts)
    # The worker process outlived the restart and recorded what it had in hand: nothing was
    # left for a lease to expire.
    assert {r.attempts for r in rows} == {1}


async def test_a_claim_committed_without_its_answer_is_run_not_left_to_expire(
    private_settings: Settings, private_postgres: PrivatePostgres, signer: Signer, tmp_path: Path
) -> None:
    """The window of a restart that the test above hits now and then: the worker's claim is
    committed, then its connection dies before the answer arrives. The worker runs what the
    claim took as soon as it can read them back, instead of leaving the executions RUNNING
    for their lease to expire and calling the provider again as a second attempt."""
    async with SimulatorFleet(seed=18, include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        # A lease short enough that an execution stranded by the lost claim would be retaken
        # within the test.
        settings = replace(private_settings, providers_file=providers, lease_seconds=2.0)
        async with (
            CommitCuttingProxy("127.0.0.1", private_postgres.port).running() as proxy,
            running_services(settings, run_worker=False) as api,
        ):
            job_id = await submit_spec(api, signer, make_spec(questions=["math_basic"]))
            # The worker's first claim: the one statement only a claim runs.
            proxy.cut_commit_after(b"INSERT INTO execution_attempts")
            proxied = make_url(settings.database_url).set(port=proxy.port)
            worker_settings = replace(
                settings, database_url=proxied.render_as_string(hide_password=False)
            )
            async with beacon_process(worker_settings, "worker", log=tmp_path / "worker.log"):
                final = await wait_until_finished(api, job_id, within=30)
    rows, attempts = await stored(settings, job_id)

    assert proxy.cut.is_set()
    assert final.job_status == "COMPLETED" and final.progress.completed == len(rows) == 9
    assert_each_completed_once(rows, attempts)
    assert {r.attempts for r in rows} == {1}
    assert {a.outcome for a in attempts} == {"COMPLETED"}


class RecheckFailures(logging.Handler):
    """Sets `seen` when a progress stream logs that it could not re-read its job."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("progress recheck failed"):
            self.seen.set()


async def test_a_subscriber_keeps_its_stream_through_a_database_outage(
    private_settings: Settings, private_postgres: PrivatePostgres, signer: Signer, tmp_path: Path
) -> None:
    """Longer than a restart: the stream's quiet-time re-read of the job runs into it."""
    failures = RecheckFailures()
    logging.getLogger("beacon_gql.progress").addHandler(failures)
    async with SimulatorFleet(seed=17, include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(private_settings, broadcast_url="memory://", providers_file=providers)
        async with running_services(settings, run_worker=False) as services:
            job_id = await submit_spec(services, signer, make_spec(questions=["math_basic"]))
            streams = ProgressStreams(services.hub, services.reader, recheck_seconds=0.1)
            updates: list[ProgressUpdate] = []
            snapshot = asyncio.Event()

            async def follow() -> None:
                async for update in streams.stream(job_id):
                    updates.append(update)
                    snapshot.set()

            following = asyncio.create_task(follow())
            try:
                async with asyncio.timeout(10):
                    await snapshot.wait()
                await asyncio.to_thread(private_postgres.stop, "fast")
                try:
                    noticed = asyncio.create_task(failures.seen.wait())
                    await asyncio.wait(
                        {following, noticed}, timeout=10, return_when=asyncio.FIRST_COMPLETED
                    )
                    noticed.cancel()
                    assert not following.done(), "the stream ended with the database away"
                    assert failures.seen.is_set()
                finally:
                    await asyncio.to_thread(private_postgres.start)
                async with running_worker(services.new_worker()):
                    await asyncio.wait_for(following, 30)
            finally:
                following.cancel()
                logging.getLogger("beacon_gql.progress").removeHandler(failures)

    assert updates[0].job_status == "QUEUED"
    assert updates[-1].job_status == "COMPLETED" and updates[-1].progress.completed == 9


async def execute_sql(settings: Settings, sql: str) -> None:
    connection = await asyncpg.connect(settings.broadcast_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


# The connection recording the first outcome dies at COMMIT, after its UPDATE closing the
# attempt row (opened by the claim) went through: exactly what a restart does to a worker
# caught in the middle, on purpose and every time.
DROP_CONNECTION_AT_FIRST_COMMIT = """
CREATE SEQUENCE injected_commit_faults;
CREATE FUNCTION drop_connection_at_first_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('injected_commit_faults') = 1 THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER drop_connection_at_first_commit AFTER UPDATE ON execution_attempts
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.outcome = 'COMPLETED')
  EXECUTE FUNCTION drop_connection_at_first_commit();
"""


async def test_an_outcome_whose_commit_failed_is_recorded_on_the_retry(
    private_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    await execute_sql(private_settings, DROP_CONNECTION_AT_FIRST_COMMIT)
    async with SimulatorFleet(seed=12, include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(private_settings, providers_file=providers)
        async with running_services(settings, run_worker=False) as api:
            job_id = await submit_spec(api, signer, make_spec(questions=["math_basic"]))
            async with beacon_process(settings, "worker", log=tmp_path / "worker.log"):
                final = await wait_until_finished(api, job_id, within=30)
    rows, attempts = await stored(settings, job_id)

    assert final.job_status == "COMPLETED" and final.progress.completed == len(rows) == 9
    assert_each_completed_once(rows, attempts)
    assert {r.attempts for r in rows} == {1}


# Every first attempt's connection dies at COMMIT: the worker retries recording it until its
# lease runs out, as it would through a database outage longer than the lease, then drops it.
NEVER_COMMIT_A_FIRST_ATTEMPT = """
CREATE FUNCTION drop_connection_at_commit_of_first_attempts() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.attempt = 1 THEN
    PERFORM pg_terminate_backend(pg_backend_pid());
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER drop_connection_at_commit_of_first_attempts
  AFTER UPDATE ON execution_attempts DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.outcome = 'COMPLETED')
  EXECUTE FUNCTION drop_connection_at_commit_of_first_attempts();
"""


async def test_an_outcome_the_worker_could_not_record_is_retaken_not_stuck(
    private_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    await execute_sql(private_settings, NEVER_COMMIT_A_FIRST_ATTEMPT)
    async with SimulatorFleet(seed=16, include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(private_settings, providers_file=providers, lease_seconds=2.0)
        spec = make_spec(questions=["math_basic"], regions=["US"])
        async with running_services(settings, run_worker=False) as api:
            job_id = await submit_spec(api, signer, spec)
            # The worker process stays up all along, renewing the leases it still holds.
            async with beacon_process(settings, "worker", log=tmp_path / "worker.log"):
                final = await wait_until_finished(api, job_id, within=30)
    rows, attempts = await stored(settings, job_id)

    assert final.job_status == "COMPLETED" and final.progress.completed == len(rows) == 3
    assert_each_completed_once(rows, attempts)
    assert {r.attempts for r in rows} == {2}
    # The first attempts' calls were made: on record, as lost with their lease.
    assert (
        sorted((a.attempt, a.outcome) for a in attempts)
        == [(1, "LEASE_EXPIRED")] * 3 + [(2, "COMPLETED")] * 3
    )


# ---- providers ---------------------------------------------------------------------------


async def test_a_provider_process_killed_mid_job_fails_over_or_fails_with_a_code(
    postgres_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    """EU has a second provider to fail over to; ASIA has none once its only one is gone."""
    # The hybrid router is the slower of the two in EU, so sim-eu-west carries EU's traffic
    # (and has calls in flight) until it dies.
    router = {"sim-hybrid-router-eu": FaultProfile(latency_ms=300)}
    async with (
        SimulatorFleet(seed=13, faults=router, regions=["US", "EU"]) as survivors,
        simulator_process(
            tmp_path / "victim.toml", ["EU", "ASIA"], latency_ms=150, seed=13
        ) as victim,
    ):
        kept = [
            c
            for c in survivors.provider_configs()
            if c.name in ("sim-us-east", "sim-hybrid-router-eu")
        ]
        providers = tmp_path / "providers.toml"
        providers.write_text(providers_to_toml([*kept, *victim.providers]))
        settings = replace(postgres_settings, providers_file=providers, worker_concurrency=16)
        async with running_services(settings, run_worker=False) as api:
            job_id = await submit_spec(api, signer, make_spec(questions=EVERY_QUESTION))
            async with beacon_process(settings, "worker", log=tmp_path / "worker.log"):
                # With 4 calls at a time per provider, the 5th arrives once one was answered,
                # and is itself under way for 150 ms when the process dies.
                async with asyncio.timeout(30):
                    await victim.wait_for_requests("sim-eu-west", 5)
                killed_at = datetime.now(UTC)
                victim.kill()
                final = await wait_until_finished(api, job_id, within=60)
        rows, attempts = await stored(settings, job_id)

    by_region = {region: [r for r in rows if r.region == region] for region in ("US", "EU", "ASIA")}
    assert {r.status for r in by_region["US"]} == {"COMPLETED"}
    # EU: every execution completed; those whose call was cut off by the kill, on the other
    # provider (an in-flight call that fails is transient: it fails over like a refused one).
    assert {r.status for r in by_region["EU"]} == {"COMPLETED"}
    cut_off = {
        a.execution_id
        for a in attempts
        if a.provider_id == "sim-eu-west"
        and a.started_at < killed_at
        and a.outcome == "PROVIDER_UNREACHABLE"
    }
    assert cut_off
    assert {r.provider_id for r in by_region["EU"] if r.id in cut_off} == {"sim-hybrid-router-eu"}
    # ASIA: what finished before the kill stays; the rest failed, saying why and where.
    asia = Counter((r.status, r.error_code, r.error_provider_id) for r in by_region["ASIA"])
    unreachable = ("FAILED", "PROVIDER_UNREACHABLE", "sim-asia-pacific")
    assert unreachable in asia and set(asia) <= {("COMPLETED", None, None), unreachable}
    assert final.job_status == "PARTIAL"
    progress = final.progress
    assert progress.pending == progress.running == 0
    assert progress.completed == sum(r.status == "COMPLETED" for r in rows)
    assert progress.failed == asia[unreachable]
    assert progress.completed + progress.failed == progress.expected == len(rows) == 72
    assert_nothing_recorded_twice(attempts)
    assert len(attempts) == sum(r.attempts for r in rows), "an attempt went unrecorded"


# ---- the broadcast -----------------------------------------------------------------------


async def broadcast_connections(
    admin: asyncpg.Connection[asyncpg.Record], application: str, *, notify: bool
) -> list[int]:
    """The pids of a process's NOTIFY connection (the one running pg_notify) or LISTEN one."""
    rows = await admin.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
        " AND (query LIKE '%pg_notify%') = $2",
        application,
        notify,
    )
    return [row["pid"] for row in rows]


async def kill_broadcast_connection(
    admin: asyncpg.Connection[asyncpg.Record], application: str, *, notify: bool
) -> int:
    [pid] = await broadcast_connections(admin, application, notify=notify)
    assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    return pid


def sequences(events: list[dict[str, Any]]) -> list[int]:
    return [e["sequence"] for e in events]


def contiguous(numbers: list[int]) -> bool:
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


async def test_killed_broadcast_connections_of_api_and_worker_processes_heal(
    postgres_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    """The worker's NOTIFY connection, then the API's LISTEN one, killed mid-job."""
    slow = FaultProfile(latency_ms=100)
    tag = uuid.uuid4().hex[:8]
    api_name, worker_name = f"beacon-api-{tag}", f"beacon-worker-{tag}"
    async with SimulatorFleet(
        seed=14, faults=dict.fromkeys(SIMULATED, slow), include_hybrid_router=False
    ) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(postgres_settings, providers_file=providers, worker_concurrency=4)
        # Named connections, so that the test can tell whose is whose in pg_stat_activity.
        api_settings = replace(
            settings, broadcast_url=f"{settings.broadcast_url}?application_name={api_name}"
        )
        worker_settings = replace(
            settings, broadcast_url=f"{settings.broadcast_url}?application_name={worker_name}"
        )
        admin = await asyncpg.connect(settings.broadcast_url)
        events: list[dict[str, Any]] = []
        notify_killed = listen_killed = 0
        try:
            async with (
                beacon_process(
                    api_settings, "serve", "--no-worker", log=tmp_path / "api.log"
                ) as api,
                beacon_process(worker_settings, "worker", log=tmp_path / "worker.log"),
            ):
                job_id, expected = await submit(api, signer, make_spec(questions=EVERY_QUESTION))
                async with asyncio.timeout(60):
                    async for data in subscribe(api, PROGRESS, {"jobId": job_id}):
                        event = data["jobProgress"]
                        events.append(event)
                        completed = event["progress"]["completed"]
                        if not notify_killed and completed >= 5:
                            notify_pid = await kill_broadcast_connection(
                                admin, worker_name, notify=True
                            )
                            notify_killed = len(events)
                        elif not listen_killed and completed >= 25:
                            listen_pid = await kill_broadcast_connection(
                                admin, api_name, notify=False
                            )
                            listen_killed = len(events)
                new_notify = await broadcast_connections(admin, worker_name, notify=True)
                new_listen = await broadcast_connections(admin, api_name, notify=False)
        finally:
            await admin.close()
    rows, attempts = await stored(settings, job_id)

    assert 0 < notify_killed < listen_killed
    # Across the NOTIFY kill no event went missing: every change, one after the other.
    assert contiguous(sequences(events[:listen_killed]))
    # Both processes replaced the connection they lost.
    assert len(new_notify) == len(new_listen) == 1
    assert new_notify != [notify_pid] and new_listen != [listen_pid]
    # Events published while the API was reconnecting its LISTEN are gone, but the stream
    # went live again: the job's end came as an event, not from a re-read.
    assert sequences(events) == sorted(set(sequences(events)))
    final = events[-1]
    assert final["execution"] is not None and final["job"]["status"] == "COMPLETED"
    assert final["progress"]["completed"] == expected == len(rows) == 72
    assert_each_completed_once(rows, attempts)


async def test_killed_redis_connections_of_api_and_worker_processes_heal(
    postgres_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    slow = FaultProfile(latency_ms=100)
    async with (
        private_redis() as redis_url,
        SimulatorFleet(
            seed=15, faults=dict.fromkeys(SIMULATED, slow), include_hybrid_router=False
        ) as fleet,
    ):
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(
            postgres_settings,
            providers_file=providers,
            broadcast_url=redis_url,
            worker_concurrency=4,
        )
        admin = aioredis.Redis.from_url(redis_url)
        events: list[dict[str, Any]] = []
        killed = (0, 0)
        try:
            async with (
                beacon_process(settings, "serve", "--no-worker", log=tmp_path / "api.log") as api,
                beacon_process(settings, "worker", log=tmp_path / "worker.log"),
            ):
                job_id, expected = await submit(api, signer, make_spec(questions=EVERY_QUESTION))
                async with asyncio.timeout(60):
                    async for data in subscribe(api, PROGRESS, {"jobId": job_id}):
                        events.append(data["jobProgress"])
                        if killed == (0, 0) and events[-1]["progress"]["completed"] >= 10:
                            # Every connection either process has: listeners and publishers.
                            killed = (
                                await admin.client_kill_filter(_type="pubsub"),
                                await admin.client_kill_filter(_type="normal", skipme=True),
                            )
        finally:
            await admin.aclose()
    rows, attempts = await stored(settings, job_id)

    listeners, publishers = killed
    assert listeners == 2 and publishers >= 2
    assert sequences(events) == sorted(set(sequences(events)))
    final = events[-1]
    assert final["execution"] is not None and final["job"]["status"] == "COMPLETED"
    assert final["progress"]["completed"] == expected == len(rows) == 72
    assert_each_completed_once(rows, attempts)
