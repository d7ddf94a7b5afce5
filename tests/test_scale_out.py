"""The deployment as several hosts: PostgreSQL, two API hosts, two worker hosts, clients.

Each host is a network namespace of its own on this machine (`tests/support/netns.py`,
which makes them with veth pairs and a bridge, and deletes them afterwards), so every
connection between the parts crosses a real network interface, by address: PostgreSQL (a
private cluster, started inside its namespace) listens on the database host's address only;
the API processes and workers reach it there, and the PostgreSQL broadcast carries events
between hosts. Every worker host has its own SIMULATED providers (400 ms a call) and runs one
worker of concurrency 4, so a host does at most 10 executions a second: the providers, not
this machine's two shared cores, bound a host, as they would on real machines.

From the client host: 1,000 `jobProgress` subscribers, 500 on each API host, and signed
submissions sent alternately to both API hosts; every job is followed on both. First both
worker hosts run, then one is stopped and the same number of jobs runs on one. Passes only
with no error anywhere, every job COMPLETED with its counters equal to its rows, and every
subscriber's last event final with those counts. Prints executions/s with one worker host
against two.

Needs root (namespaces) and PostgreSQL's server programs; about a minute.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from beacon_gql.events.hub import job_channel
from tests.support import netns
from tests.support.netns import Host, HostLoop
from tests.support.private_postgres import PrivatePostgres, running_private_postgres
from tests.support.specs import Signer, make_spec
from tests.test_load import logged_problems

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
ROLES = ["db", "api1", "api2", "worker1", "worker2", "client"]
API_PORT = 8000
JOBS_PER_PHASE = 20
EXPECTED = 6  # 2 questions x 1 model x 3 regions
SUBSCRIBERS_PER_API = 500
PER_JOB = math.ceil(SUBSCRIBERS_PER_API / (2 * JOBS_PER_PHASE))  # every subscriber follows one
LATENCY_MS = 400
WORKER_CONCURRENCY = 4
PHASE_SECONDS = 60.0
SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) {
  job { id progress { expected } } } }"""


@pytest.fixture
def network() -> Iterator[dict[str, Host]]:
    why = netns.available()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the scale-out test cannot run: {why}")
        pytest.skip(why)
    with netns.hosts(ROLES) as hosts:
        yield hosts


@pytest.fixture
def cluster(network: dict[str, Host]) -> Iterator[PrivatePostgres]:
    database_host = network["db"]
    with running_private_postgres(listen=database_host.address, prefix=database_host.exec) as pg:
        yield pg


@pytest.fixture
async def client(network: dict[str, Host]) -> AsyncIterator[HostLoop]:
    loop = HostLoop(network["client"])
    try:
        yield loop
    finally:
        loop.close()


@asynccontextmanager
async def on_host(
    host: Host, arguments: list[str], env: dict[str, str], log: Path, **pipes: Any
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python ARGUMENTS` on the host; stopped (SIGTERM, then SIGKILL) on exit."""
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *host.exec,
            sys.executable,
            *arguments,
            env={**os.environ, **env},
            cwd=REPO,
            stdout=pipes.pop("stdout", output),
            stderr=output,
            **pipes,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


@asynccontextmanager
async def simulated_providers(host: Host, path: Path, log: Path) -> AsyncIterator[None]:
    arguments = ["-m", "tests.support.simulator_process", str(path), "--latency-ms"]
    arguments += [str(LATENCY_MS), "--region", "US", "--region", "EU", "--region", "ASIA"]
    async with on_host(host, arguments, {}, log, stdout=asyncio.subprocess.PIPE) as process:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            assert await process.stdout.readline() == b"ready\n"
        # It prints a line per request: read them, so its pipe never fills and blocks it.
        drain = asyncio.create_task(process.stdout.read())
        try:
            yield
        finally:
            drain.cancel()


class Subscribers:
    """`tests.support.load_subscribers` on the client host, fed job ids on its stdin."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    def follow(self, job_id: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{job_id}\n".encode())

    async def report(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        output = await self.process.stdout.read()
        await self.process.wait()
        report: dict[str, Any] = json.loads(output.splitlines()[-1])
        return report


@asynccontextmanager
async def subscribers_on(client: Host, api: Host, log: Path) -> AsyncIterator[Subscribers]:
    arguments = [
        "-m", "tests.support.load_subscribers",
        "--url", f"ws://{api.address}:{API_PORT}/graphql",
        "--subscribers", str(SUBSCRIBERS_PER_API), "--per-job", str(PER_JOB),
        "--deadline", "150",
    ]  # fmt: skip
    pipes = {"stdin": asyncio.subprocess.PIPE, "stdout": asyncio.subprocess.PIPE}
    async with on_host(client, arguments, {}, log, **pipes) as process:
        assert process.stdout is not None
        async with asyncio.timeout(90):
            ready = await process.stdout.readline()
        assert ready.strip() == b"READY", f"subscribers did not start: {ready!r} (see {log})"
        yield Subscribers(process)


async def wait_healthy(urls: list[str]) -> None:
    async with httpx.AsyncClient() as http, asyncio.timeout(60):
        for url in urls:
            while True:
                try:
                    if (await http.get(f"{url}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)  # connection refused until uvicorn binds


async def submit_jobs(apis: list[str], signer: Signer, count: int) -> tuple[list[str], list[str]]:
    """`count` signed submissions at once, alternately to each API host: (job ids, errors)."""
    spec = make_spec(questions=["math_basic", "geography_basic"], models=["llama3.2-1b"])
    errors: list[str] = []

    async def submit(number: int, http: httpx.AsyncClient) -> str | None:
        url = f"{apis[number % len(apis)]}/graphql"
        body = {"query": SUBMIT, "variables": {"spec": signer.sign(spec)}}
        response = await http.post(url, json=body)
        document = response.json() if response.status_code == 200 else {}
        if not document.get("data") or document.get("errors"):
            errors.append(f"{url}: {response.status_code} {response.text[:300]}")
            return None
        job = document["data"]["submitBiasJob"]["job"]
        if job["progress"]["expected"] != EXPECTED:
            errors.append(f"job {job['id']} expects {job['progress']['expected']}")
        return str(job["id"])

    async with httpx.AsyncClient(timeout=60) as http:
        found = await asyncio.gather(*(submit(n, http) for n in range(count)))
    return [job_id for job_id in found if job_id is not None], errors


async def wait_all_ended(database: asyncpg.Connection, job_ids: list[str]) -> None:
    """Until every job has ended: its state is read again after each of its notifications."""
    changed = asyncio.Event()

    def wake(*_: object) -> None:
        changed.set()

    for job_id in job_ids:
        await database.add_listener(job_channel(job_id), wake)
    try:
        async with asyncio.timeout(PHASE_SECONDS):
            while await database.fetchval(
                "SELECT count(*) FROM jobs WHERE id = ANY($1) AND finished_at IS NULL", job_ids
            ):
                await changed.wait()
                changed.clear()
    finally:
        for job_id in job_ids:
            await database.remove_listener(job_channel(job_id), wake)


async def executions_per_second(database: asyncpg.Connection, job_ids: list[str]) -> float:
    """The workers' rate on these jobs: executions over the time from the first one started
    to the last one completed (the submissions' own time left out)."""
    row = await database.fetchrow(
        "SELECT count(*) AS n, extract(epoch FROM max(completed_at) - min(started_at)) AS s "
        "FROM executions WHERE job_id = ANY($1)",
        job_ids,
    )
    assert row is not None
    return float(row["n"]) / float(row["s"])


async def test_two_api_hosts_and_two_worker_hosts_share_one_database(
    network: dict[str, Host],
    cluster: PrivatePostgres,
    client: HostLoop,
    signer: Signer,
    trust_file: Path,
    tmp_path: Path,
    figures: list[str],
) -> None:
    began = time.monotonic()
    admin = await asyncpg.connect(host=str(cluster.directory), port=cluster.port, user="postgres")
    try:
        await admin.execute("CREATE DATABASE beacon")
    finally:
        await admin.close()
    database_at = f"postgres@{network['db'].address}:{cluster.port}/beacon"
    env = {
        "BEACON_DATABASE_URL": f"postgresql+asyncpg://{database_at}",
        "BEACON_BROADCAST_URL": f"postgresql://{database_at}",
        "BEACON_TRUSTED_KEYS_FILE": str(trust_file),
        "BEACON_WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
        "BEACON_LOG_LEVEL": "INFO",
    }
    migrate = await asyncio.create_subprocess_exec(
        *network["client"].exec, sys.executable, "-m", "beacon_gql.cli", "migrate",
        env={**os.environ, **env}, cwd=REPO,
    )  # fmt: skip
    assert await asyncio.wait_for(migrate.wait(), 60) == 0

    apis = [network["api1"], network["api2"]]
    workers = [network["worker1"], network["worker2"]]
    urls = [f"http://{api.address}:{API_PORT}" for api in apis]
    logs = {role: tmp_path / f"{role}.log" for role in ROLES}
    database = await asyncpg.connect(
        host=str(cluster.directory), port=cluster.port, user="postgres", database="beacon"
    )
    try:
        async with (
            on_host(apis[0], serve(apis[0]), env, logs["api1"]),
            on_host(apis[1], serve(apis[1]), env, logs["api2"]),
        ):
            await client.run(wait_healthy(urls))
            rates: dict[int, float] = {}
            walls: dict[int, float] = {}
            job_ids: list[str] = []
            errors: list[str] = []
            async with (
                subscribers_on(network["client"], apis[0], tmp_path / "subs1.log") as first,
                subscribers_on(network["client"], apis[1], tmp_path / "subs2.log") as second,
            ):
                async with (
                    simulated_providers(workers[0], tmp_path / "p1.toml", tmp_path / "s1.log"),
                    simulated_providers(workers[1], tmp_path / "p2.toml", tmp_path / "s2.log"),
                    on_host(
                        workers[0], WORK, worker_env(env, tmp_path / "p1.toml"), logs["worker1"]
                    ),
                    on_host(
                        workers[1], WORK, worker_env(env, tmp_path / "p2.toml"), logs["worker2"]
                    ) as second_worker,
                ):
                    # Warm-up, not measured: each process's first requests, statements, calls.
                    warm, refused = await client.run(submit_jobs(urls, signer, 4))
                    await wait_all_ended(database, warm)
                    errors += refused
                    for hosts in (2, 1):
                        if hosts == 1:
                            await stop(second_worker)
                        started = time.monotonic()
                        ids, refused = await client.run(submit_jobs(urls, signer, JOBS_PER_PHASE))
                        for job_id in ids:
                            first.follow(job_id)
                            second.follow(job_id)
                        await wait_all_ended(database, ids)
                        rates[hosts] = await executions_per_second(database, ids)
                        walls[hosts] = time.monotonic() - started
                        job_ids += ids
                        errors += refused
                async with asyncio.timeout(120):
                    reports = [await first.report(), await second.report()]
        jobs = {
            row["id"]: row
            for row in await database.fetch("SELECT * FROM jobs WHERE id = ANY($1)", job_ids)
        }
        counts = await database.fetch(
            "SELECT job_id, status, count(*) AS n FROM executions GROUP BY job_id, status"
        )
    finally:
        await database.close()

    lines = [
        f"scale-out: {len(job_ids)} jobs of {EXPECTED} executions, {LATENCY_MS} ms providers, "
        f"worker concurrency {WORKER_CONCURRENCY}: one worker host {rates[1]:.1f} executions/s, "
        f"two {rates[2]:.1f} executions/s ({rates[2] / rates[1]:.2f}x; at most "
        f"{WORKER_CONCURRENCY * 1000 / LATENCY_MS:g} a second per host); submission to last "
        f"job ended {walls[1]:.1f} s on one, {walls[2]:.1f} s on two",
        f"scale-out: {2 * SUBSCRIBERS_PER_API} subscribers on 2 API hosts, "
        f"{sum(len(r['followed']) for r in reports)} subscriptions followed to the end, "
        f"{time.monotonic() - began:.0f} s in all",
    ]
    figures.extend(lines)
    print("\n".join(lines))

    assert errors == [], errors[:5]
    assert len(job_ids) == 2 * JOBS_PER_PHASE
    server_errors = [
        line for log in logs.values() if log.exists() for line in logged_problems(log)[0]
    ]
    assert server_errors == [], server_errors[:5]
    by_status: dict[str, dict[str, int]] = {}
    for row in counts:
        by_status.setdefault(row["job_id"], {})[row["status"]] = row["n"]
    for job_id in job_ids:
        job = jobs[job_id]
        assert (job["status"], job["completed_count"], job["expected"]) == (
            "COMPLETED", EXPECTED, EXPECTED,
        ), job_id  # fmt: skip
        assert by_status[job_id] == {"COMPLETED": EXPECTED}, job_id
        assert (job["pending_count"], job["running_count"], job["failed_count"]) == (0, 0, 0)
    for report in reports:
        assert report["errors"] == [], report["errors"][:5]
        followed = report["followed"]
        assert {seen["subscriber"] for seen in followed} == set(range(SUBSCRIBERS_PER_API))
        assert {seen["job_id"] for seen in followed} == set(job_ids)
        for seen in followed:
            job = jobs[seen["job_id"]]
            assert seen["completed"], seen
            assert all(a < b for a, b in pairwise(seen["sequences"])), seen
            last = seen["last"]
            assert last["job"]["status"] == "COMPLETED", seen
            assert last["sequence"] == job["event_sequence"], seen
            assert last["progress"]["completed"] == EXPECTED, seen
            assert last["progress"]["pending"] == last["progress"]["running"] == 0, seen


def serve(api: Host) -> list[str]:
    return [
        "-m", "beacon_gql.cli", "serve", "--no-worker", "--host", api.address,
        "--port", str(API_PORT),
    ]  # fmt: skip


WORK = ["-m", "beacon_gql.cli", "worker"]


def worker_env(env: dict[str, str], providers: Path) -> dict[str, str]:
    return {**env, "BEACON_PROVIDERS_FILE": str(providers)}


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, and wait: a worker stops claiming and finishes what it holds."""
    process.terminate()
    await asyncio.wait_for(process.wait(), 30)
