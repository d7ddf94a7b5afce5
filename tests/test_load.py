"""A load test on loopback: 50 submitters and 500 subscribers against real processes.

An API process and a worker process on a fresh PostgreSQL database (LISTEN/NOTIFY broadcast)
with SIMULATED providers. 50 concurrent submitters send signed `submitBiasJob` over HTTP for
`BEACON_LOAD_SECONDS` (default 60), together at most `BEACON_LOAD_RATE` jobs a second (default
5, i.e. 30 executions a second: about what one worker gets through on 2 shared cores, so the
queue drains within about a minute of the last submission); 500 WebSocket subscribers, in a
process of their own, follow every job (3 subscribers each) to its end. Then: no
error anywhere, every job COMPLETED with its counters equal to its rows, and every subscriber's
last event final with those same counts. The figures go to the terminal summary.

Run it alone: `.venv/bin/pytest tests/test_load.py` (`BEACON_LOAD_SECONDS=10` for a short run;
`BEACON_LOAD_RATE=1000` to let the submitters go as fast as the server answers).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from beacon_gql.config import Settings
from beacon_gql.db.models import Job
from beacon_gql.providers.simulator import SimulatorFleet
from beacon_gql.services import running_services
from tests.support.databases import fresh_postgres_database
from tests.support.jobs import assert_counters_match_rows
from tests.support.processes import beacon_process
from tests.support.specs import Signer, make_spec

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LOAD_SECONDS = float(os.environ.get("BEACON_LOAD_SECONDS", "60"))
LOAD_RATE = float(os.environ.get("BEACON_LOAD_RATE", "5"))
MAX_JOBS = max(1, math.ceil(LOAD_SECONDS * LOAD_RATE))
SUBMITTERS = 50
SUBSCRIBERS = 500
SUBSCRIBERS_PER_JOB = 3
# 2 questions x 1 model x 3 regions: small jobs, every region's provider in use.
QUESTIONS = ["math_basic", "geography_basic"]
MODELS = ["llama3.2-1b"]
EXPECTED = 6
# The hard bound on waiting for the queue to drain after the last submission.
DRAIN_SECONDS = 240.0
REPO = Path(__file__).resolve().parent.parent

SUBMIT = """mutation($spec: JSON!, $key: String!) {
  submitBiasJob(input: {jobspec: $spec, idempotencyKey: $key}) {
    idempotent job { id progress { expected } } } }"""


def percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share / 100 * len(ordered)) - 1)]


@dataclass
class Submissions:
    job_ids: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


class SubscriberProcess:
    """`tests.support.load_subscribers` running, fed job ids on its stdin."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    def follow(self, job_id: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{job_id}\n".encode())

    async def report(self) -> dict[str, Any]:
        """Ends the input, then waits until every subscriber followed its jobs to the end."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        output = await self.process.stdout.read()
        await self.process.wait()
        report: dict[str, Any] = json.loads(output.splitlines()[-1])
        return report


@asynccontextmanager
async def subscriber_process(base_url: str, log: Path) -> AsyncIterator[SubscriberProcess]:
    with log.open("wb") as errors:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.load_subscribers",
            "--url",
            base_url.replace("http://", "ws://") + "/graphql",
            "--subscribers",
            str(SUBSCRIBERS),
            "--per-job",
            str(SUBSCRIBERS_PER_JOB),
            "--deadline",
            str(LOAD_SECONDS + DRAIN_SECONDS + 60),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
            cwd=REPO,
        )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):
            ready = await process.stdout.readline()
        assert ready.strip() == b"READY", f"subscribers did not start: {ready!r} (see {log})"
        yield SubscriberProcess(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def submit_for(base_url: str, signer: Signer, subscribers: SubscriberProcess) -> Submissions:
    """SUBMITTERS closed loops of signed submissions, for LOAD_SECONDS: submission n starts no
    sooner than n / LOAD_RATE seconds in, so all of them are in flight only while the server
    is slower than that."""
    result = Submissions()
    spec = make_spec(questions=QUESTIONS, models=MODELS)
    limits = httpx.Limits(max_connections=SUBMITTERS, max_keepalive_connections=SUBMITTERS)
    began = time.monotonic()
    stop_at = began + LOAD_SECONDS
    taken = 0

    async def submitter(number: int, http: httpx.AsyncClient) -> None:
        nonlocal taken
        while taken < MAX_JOBS and time.monotonic() < stop_at:
            slot = taken
            taken += 1
            await asyncio.sleep(max(0.0, began + slot / LOAD_RATE - time.monotonic()))
            variables = {"spec": signer.sign(spec), "key": f"load-{slot}"}
            started = time.perf_counter()
            try:
                response = await http.post(
                    "/graphql", json={"query": SUBMIT, "variables": variables}
                )
            except httpx.HTTPError as error:
                result.errors.append(f"submitter {number}: {type(error).__name__}: {error}")
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            body = response.json() if response.status_code == 200 else None
            if body is None or body.get("errors") or body["data"]["submitBiasJob"]["idempotent"]:
                result.errors.append(f"submitter {number}: {response.status_code} {response.text}")
                continue
            job = body["data"]["submitBiasJob"]["job"]
            if job["progress"]["expected"] != EXPECTED:
                result.errors.append(f"job {job['id']} expects {job['progress']['expected']}")
            result.job_ids.append(job["id"])
            subscribers.follow(job["id"])

    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        await asyncio.gather(*(submitter(n, http) for n in range(SUBMITTERS)))
    result.seconds = time.monotonic() - began
    return result


def logged_problems(log: Path) -> tuple[list[str], int]:
    """A server log's error lines (and anything not in its JSON format), and its warnings."""
    errors: list[str] = []
    warnings = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            level = json.loads(line)["level"]
        except (ValueError, KeyError, TypeError):
            # Not from the JSON logger: the start-up banner is fine, anything else is not.
            level = "info" if line.startswith("beacon-gql serving on ") else "unstructured"
        if level == "warning":
            warnings += 1
        elif level not in ("debug", "info"):
            errors.append(line[:500])
    return errors, warnings


def figures_of(
    submissions: Submissions, report: dict[str, Any], drain_seconds: float, warnings: int
) -> list[str]:
    followed: list[dict[str, Any]] = report["followed"]
    count = len(submissions.job_ids)
    latency = submissions.latencies_ms
    snapshot_ms = [f["snapshot_ms"] for f in followed if f["snapshot_ms"] is not None]
    return [
        f"{SUBMITTERS} submitters, {submissions.seconds:.1f} s, at most {LOAD_RATE:g}/s: "
        f"{count} jobs ({count * EXPECTED} executions), {count / submissions.seconds:.1f} "
        f"submissions/s, latency p50 {percentile(latency, 50):.0f} ms, "
        f"p99 {percentile(latency, 99):.0f} ms, max {max(latency, default=math.nan):.0f} ms, "
        f"{len(submissions.errors)} errors",
        f"{SUBSCRIBERS} subscribers: {len(followed)} jobs followed, "
        f"{sum(len(f['sequences']) for f in followed)} events, first event (snapshot) "
        f"p50 {percentile(snapshot_ms, 50):.0f} ms, p99 {percentile(snapshot_ms, 99):.0f} ms, "
        f"{len(report['errors'])} errors",
        f"last job finished {drain_seconds:.1f} s after the last submission; "
        f"server warnings logged: {warnings}",
    ]


@pytest.fixture
async def load_settings(trust_file: Path) -> AsyncIterator[Settings]:
    async with fresh_postgres_database() as url:
        yield Settings(
            database_url=url,
            broadcast_url=url.replace("postgresql+asyncpg://", "postgresql://"),
            trusted_keys_file=trust_file,
        )


async def test_50_submitters_and_500_subscribers_for_a_minute(
    load_settings: Settings, signer: Signer, tmp_path: Path, figures: list[str]
) -> None:
    began = time.monotonic()
    logs = [tmp_path / "api.log", tmp_path / "worker.log"]
    async with SimulatorFleet(seed=11) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(load_settings, providers_file=providers)
        async with (
            beacon_process(settings, "serve", "--no-worker", log=logs[0]) as api,
            beacon_process(settings, "worker", log=logs[1]),
            subscriber_process(api, tmp_path / "subscribers.log") as subscribers,
        ):
            submissions = await submit_for(api, signer, subscribers)
            drain_began = time.monotonic()
            # Every job has subscribers, so this returns once the last job has finished.
            async with asyncio.timeout(DRAIN_SECONDS):
                report = await subscribers.report()
            drain_seconds = time.monotonic() - drain_began

    logged = [logged_problems(log) for log in logs]
    server_errors = [line for errors, _ in logged for line in errors]
    lines = figures_of(submissions, report, drain_seconds, sum(w for _, w in logged))
    lines.append(f"{time.monotonic() - began:.0f} s in all")
    figures.extend(lines)
    print("\n".join(lines))

    assert submissions.errors == [], submissions.errors[:5]
    assert report["errors"] == [], report["errors"][:5]
    assert server_errors == [], server_errors[:5]
    assert submissions.job_ids
    async with running_services(settings, run_worker=False) as services:
        async with services.sessions() as session:
            jobs = {job.id: job for job in await session.scalars(select(Job))}
        assert sorted(jobs) == sorted(submissions.job_ids)
        for job in jobs.values():
            assert (job.status, job.completed_count, job.expected) == (
                "COMPLETED",
                EXPECTED,
                EXPECTED,
            ), job.id
            await assert_counters_match_rows(services, job.id)

    followed: list[dict[str, Any]] = report["followed"]
    assert len(followed) == len(jobs) * SUBSCRIBERS_PER_JOB
    assert {seen["job_id"] for seen in followed} == set(jobs)
    for seen in followed:
        job = jobs[seen["job_id"]]
        assert seen["completed"], seen
        sequences = seen["sequences"]
        assert all(a < b for a, b in pairwise(sequences)), seen
        last = seen["last"]
        assert last["job"]["status"] == "COMPLETED", seen
        assert last["sequence"] == job.event_sequence, seen
        assert last["progress"] == {
            "expected": job.expected,
            "pending": 0,
            "running": 0,
            "completed": job.completed_count,
            "failed": 0,
            "cancelled": 0,
            "successRate": 1.0,
        }, seen
