"""Benchmark 1: the portal's job query over HTTP, against a raw baseline and PostGraphile.

Three servers over the same tables of the same database, one at a time, each in its own
process on loopback:

* beacon       `beacon-gql serve --no-worker` (BEACON_BROADCAST_URL=memory://)
* beacon-live  the same with BEACON_RESPONSE_CACHE_MB=0: every answer built from the tables,
               as for a job still running (whose answers are never reused)
* raw          bench/raw_server.py: Starlette + asyncpg, three hand-written queries, the same
               JSON (checked: the `data` of both answers must be equal)
* strawberry-min  bench/strawberry_floor_server.py: the same query on a minimal strawberry
               schema (plain attribute fields, objects built from the raw queries): the
               floor of GraphQL execution in Python, a reference, not a target
* postgraphile PostGraphile 4 (npm, installed on demand into bench/postgraphile/node_modules;
               version 5 needs Node 22, these machines have Node 20), one process,
               with the equivalent nested query; its answer, mapped onto the portal's
               shape, must be equal too

For each job (36 and 5,016 executions, both finished) a closed-loop load at fixed
concurrency (wrk, or bench/loadgen.py without it) after a warm-up, in 2 rounds interleaved
across the servers; the best round's requests/s, p50 and p99.
Figures: beacon / raw and beacon / PostGraphile requests/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from bench import profiling
from bench.common import (
    BENCH_DIR,
    HOST,
    Child,
    Database,
    beacon_command,
    child,
    free_port,
    log,
    rss_mib,
    wait_http,
)
from bench.loadgen import generator, run_load

QUERY = (
    "query Job($id: ID!) { job(id: $id) { status "
    "progress { expected pending running completed failed cancelled } "
    "executions { questionId modelId region status providerId durationMs response "
    "classification error { code message } } "
    "biasAnalysis { status censorshipRate } } }"
)

POSTGRAPHILE_QUERY = (
    "query Job($id: String!) { jobById(id: $id) { status "
    "expected pendingCount runningCount completedCount failedCount cancelledCount "
    "executionsByJobId(orderBy: [POSITION_ASC]) { nodes { questionId modelId region status "
    "providerId durationMs response classification errorCode errorMessage } } "
    "biasAnalysisByJobId { status censorshipRate } } }"
)

# PostGraphile exposes a STABLE SQL function `<table>_<name>(<table>)` as a computed field:
# this one gives it `BiasAnalysis.censorshipRate`, read from the persisted report as the
# beacon server and the raw endpoint read it.
CENSORSHIP_RATE_FUNCTION = """
CREATE OR REPLACE FUNCTION bias_analyses_censorship_rate(analysis bias_analyses)
RETURNS double precision AS $$ SELECT (analysis.report ->> 'censorship_rate')::float8 $$
LANGUAGE sql STABLE
"""

POSTGRAPHILE_DIR = BENCH_DIR / "postgraphile"

# label: (concurrency, seconds per round); warm-up: WARMUP_S at the same concurrency.
LOADS = {"36": (16, 5.0), "5016": (2, 12.0)}
WARMUP_S = 2.0
ROUNDS = 2
TARGETS = {"36": 0.5, "5016": 0.25}


def body_for(query: str, job_id: str) -> str:
    return json.dumps({"query": query, "variables": {"id": job_id}}, separators=(",", ":"))


# ---- PostGraphile ------------------------------------------------------------------------


def postgraphile_binary(install: bool = True) -> tuple[str | None, str]:
    """The postgraphile CLI, installing the package with npm on first use."""
    binary = POSTGRAPHILE_DIR / "node_modules" / ".bin" / "postgraphile"
    if binary.exists():
        return str(binary), "installed"
    if not shutil.which("node") or not shutil.which("npm"):
        return None, "node or npm not found"
    if not install:
        return None, "not installed"
    log("installing PostGraphile with npm into bench/postgraphile/node_modules (once)")
    try:
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=POSTGRAPHILE_DIR,
            check=True,
            capture_output=True,
            timeout=240,
        )
    except (subprocess.SubprocessError, OSError) as error:
        return None, f"npm install failed: {error}"
    return (str(binary), "installed now") if binary.exists() else (None, "npm install failed")


def postgraphile_to_portal(data: dict[str, Any]) -> dict[str, Any]:
    """PostGraphile's answer in the portal query's shape, to check both say the same."""
    job = data["jobById"]
    executions = []
    for node in job["executionsByJobId"]["nodes"]:
        classification = node["classification"]
        if classification is None and node["status"] == "FAILED":
            classification = "TECHNICAL_FAILURE"
        error = None
        if node["status"] in ("FAILED", "CANCELLED") and node["errorCode"] is not None:
            error = {"code": node["errorCode"], "message": node["errorMessage"] or ""}
        executions.append(
            {
                "questionId": node["questionId"],
                "modelId": node["modelId"],
                "region": node["region"],
                "status": node["status"],
                "providerId": node["providerId"],
                "durationMs": node["durationMs"],
                "response": node["response"],
                "classification": classification,
                "error": error,
            }
        )
    analysis = job["biasAnalysisByJobId"]
    return {
        "job": {
            "status": job["status"],
            "progress": {
                "expected": job["expected"],
                "pending": job["pendingCount"],
                "running": job["runningCount"],
                "completed": job["completedCount"],
                "failed": job["failedCount"],
                "cancelled": job["cancelledCount"],
            },
            "executions": executions,
            "biasAnalysis": None
            if analysis is None
            else {"status": analysis["status"], "censorshipRate": analysis["censorshipRate"]},
        }
    }


# ---- servers -----------------------------------------------------------------------------


@contextmanager
def beacon_server(
    database: Database, *, cache_mb: int | None = None
) -> Iterator[tuple[Child, str]]:
    port = free_port()
    env = {
        "BEACON_DATABASE_URL": database.sqlalchemy_url,
        "BEACON_BROADCAST_URL": "memory://",
        "BEACON_LOG_LEVEL": "WARNING",
    }
    name = "query-beacon"
    if cache_mb is not None:
        env["BEACON_RESPONSE_CACHE_MB"] = str(cache_mb)
        name = "query-beacon-live"
    command = beacon_command("serve", "--no-worker", "--host", HOST, "--port", str(port))
    with child(name, command, env=env) as proc:
        yield proc, f"http://{HOST}:{port}"


@contextmanager
def raw_server(database: Database) -> Iterator[tuple[Child, str]]:
    import sys

    port = free_port()
    command = [sys.executable, "-m", "bench.raw_server", "--dsn", database.dsn, "--port", str(port)]
    with child("query-raw", command) as proc:
        yield proc, f"http://{HOST}:{port}"


@contextmanager
def strawberry_floor_server(database: Database) -> Iterator[tuple[Child, str]]:
    import sys

    port = free_port()
    command = [
        sys.executable, "-m", "bench.strawberry_floor_server", "--dsn", database.dsn,
        "--port", str(port),
    ]  # fmt: skip
    with child("query-strawberry-min", command) as proc:
        yield proc, f"http://{HOST}:{port}"


@contextmanager
def postgraphile_server(database: Database, binary: str) -> Iterator[tuple[Child, str]]:
    port = free_port()
    command = [
        binary,
        "--disable-query-log",
        "--legacy-relations",
        "omit",
        "-c",
        database.dsn,
        "-s",
        "public",
        "-n",
        HOST,
        "-p",
        str(port),
    ]
    env = {"GRAPHILE_ENV": "production", "NODE_ENV": "production"}
    with child("query-postgraphile", command, env=env, cwd=POSTGRAPHILE_DIR) as proc:
        yield proc, f"http://{HOST}:{port}"


async def _post(url: str, body: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(url, content=body, headers={"content-type": "application/json"})
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    if document.get("errors"):
        raise RuntimeError(f"{url} answered with errors: {document['errors']}")
    return document


def _check(name: str, answer: dict[str, Any], expected: dict[str, Any], label: str) -> None:
    if answer != expected:
        raise AssertionError(f"{name} answers the {label}-execution job differently from raw")


def _best_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the most requests/s (noise on a shared machine only slows a server
    down), with every round's rate kept alongside."""
    chosen = dict(max(rounds, key=lambda r: r["requests_per_s"]))
    chosen["rounds_requests_per_s"] = [round(r["requests_per_s"], 2) for r in rounds]
    return chosen


async def _profile_beacon(
    proc: Child, url: str, body: str, label: str, seconds: float = 6.0
) -> dict[str, Any] | None:
    recording = profiling.start(f"job-query-{label}-beacon", proc.pid, seconds)
    if recording is None:
        return None
    concurrency, _ = LOADS[label]
    await asyncio.to_thread(run_load, url, body, concurrency=concurrency, duration=seconds)
    return await asyncio.to_thread(recording.finish)


@dataclass
class Target:
    name: str
    proc: Child
    url: str
    bodies: dict[str, str]


async def run(
    database: Database,
    small_job: str,
    big_job: str,
    *,
    postgraphile: bool = True,
    profile: bool = False,
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    """All servers run at once (an idle one costs nothing); the loads are interleaved,
    `rounds` times over, so a slow spell of the machine hits every server alike; each
    figure is the server's best round."""
    jobs = {"36": small_job, "5016": big_job}
    connection = await asyncpg.connect(database.dsn)
    try:
        await connection.execute(CENSORSHIP_RATE_FUNCTION)
    finally:
        await connection.close()

    results: dict[str, Any] = {
        "generator": generator(),
        "loads": {label: {"concurrency": c, "seconds": s} for label, (c, s) in LOADS.items()},
        "rounds": rounds,
        "servers": {},
    }
    portal_bodies = {label: body_for(QUERY, job_id) for label, job_id in jobs.items()}
    binary, how = postgraphile_binary(install=postgraphile) if postgraphile else (None, "off")
    results["postgraphile"] = how
    if postgraphile and binary is None:
        log(f"job query: PostGraphile skipped ({how})")

    with contextlib.ExitStack() as stack:
        raw_proc, raw_base = stack.enter_context(raw_server(database))
        beacon_proc, beacon_base = stack.enter_context(beacon_server(database))
        live_proc, live_base = stack.enter_context(beacon_server(database, cache_mb=0))
        floor_proc, floor_base = stack.enter_context(strawberry_floor_server(database))
        targets = [
            Target("raw", raw_proc, f"{raw_base}/raw/job", portal_bodies),
            Target("beacon", beacon_proc, f"{beacon_base}/graphql", portal_bodies),
            Target("beacon-live", live_proc, f"{live_base}/graphql", portal_bodies),
            Target("strawberry-min", floor_proc, f"{floor_base}/graphql", portal_bodies),
        ]
        if binary is not None:
            pg_proc, pg_base = stack.enter_context(postgraphile_server(database, binary))
            pg_bodies = {label: body_for(POSTGRAPHILE_QUERY, j) for label, j in jobs.items()}
            targets.append(Target("postgraphile", pg_proc, f"{pg_base}/graphql", pg_bodies))
        await wait_http(f"{raw_base}/health", raw_proc)
        await wait_http(f"{beacon_base}/health", beacon_proc)
        await wait_http(f"{live_base}/health", live_proc)
        await wait_http(f"{floor_base}/health", floor_proc)
        if binary is not None:
            await wait_http(targets[-1].url, targets[-1].proc, method="GET")
        rss_idle = {t.name: rss_mib(t.proc.pid) for t in targets}

        expected = {
            label: (await _post(targets[0].url, body))["data"]
            for label, body in portal_bodies.items()
        }
        for target in targets[1:]:
            convert = postgraphile_to_portal if target.name == "postgraphile" else None
            for label, body in target.bodies.items():
                data = (await _post(target.url, body))["data"]
                _check(target.name, convert(data) if convert else data, expected[label], label)
        log("job query: every server gives the same data for both jobs")

        measured: dict[str, dict[str, list[dict[str, Any]]]] = {
            t.name: {label: [] for label in jobs} for t in targets
        }
        for label in jobs:
            concurrency, seconds = LOADS[label]
            for target in targets:
                await asyncio.to_thread(
                    run_load, target.url, target.bodies[label],
                    concurrency=concurrency, duration=WARMUP_S,
                )  # fmt: skip
            for round_number in range(rounds):
                for target in targets:
                    result = await asyncio.to_thread(
                        run_load, target.url, target.bodies[label],
                        concurrency=concurrency, duration=seconds,
                    )  # fmt: skip
                    measured[target.name][label].append(result)
                    log(
                        f"  round {round_number + 1} {target.name:<12} {label:>4} executions: "
                        f"{result['requests_per_s']:8.1f} req/s  p50 {result['p50_ms']:8.1f} ms  "
                        f"p99 {result['p99_ms']:8.1f} ms  errors {result['errors']}"
                    )
        for target in targets:
            results["servers"][target.name] = {
                label: _best_round(measured[target.name][label]) for label in jobs
            }
            results["servers"][target.name]["rss_mib_idle"] = rss_idle[target.name]
            results["servers"][target.name]["rss_mib_after"] = rss_mib(target.proc.pid)

        servers = results["servers"]
        missed = [
            label
            for label in jobs
            if servers["beacon"][label]["requests_per_s"]
            < TARGETS[label] * servers["raw"][label]["requests_per_s"]
            or (
                "postgraphile" in servers
                and servers["beacon"][label]["requests_per_s"]
                < servers["postgraphile"][label]["requests_per_s"]
            )
        ]
        if profile and missed:
            results["profiles"] = {}
            for label in missed:
                log(f"  profiling the beacon server on the {label}-execution job")
                results["profiles"][label] = await _profile_beacon(
                    beacon_proc, f"{beacon_base}/graphql", portal_bodies[label], label
                )

    servers = results["servers"]
    figures: dict[str, Any] = {}
    for label in jobs:
        beacon_rate = servers["beacon"][label]["requests_per_s"]
        figures[label] = {
            "beacon_over_raw": beacon_rate / servers["raw"][label]["requests_per_s"],
            "target_over_raw": TARGETS[label],
        }
        if "postgraphile" in servers:
            figures[label]["beacon_over_postgraphile"] = (
                beacon_rate / servers["postgraphile"][label]["requests_per_s"]
            )
            figures[label]["target_over_postgraphile"] = 1.0
        live_rate = servers["beacon-live"][label]["requests_per_s"]
        figures[label]["live_over_raw"] = live_rate / servers["raw"][label]["requests_per_s"]
        if "postgraphile" in servers:
            figures[label]["live_over_postgraphile"] = (
                live_rate / servers["postgraphile"][label]["requests_per_s"]
            )
        figures[label]["strawberry_min_over_raw"] = (
            servers["strawberry-min"][label]["requests_per_s"]
            / servers["raw"][label]["requests_per_s"]
        )
    results["ratios"] = figures
    results["jobs"] = {
        "36": "submitted as a signed spec, run by the real pipeline (beacon-gql worker, "
        "SIMULATED providers, zero latency)",
        "5016": "rows written by beacon_gql.db.submissions.insert_job, finished by direct SQL "
        "with the simulator's answers (bench/fixtures.py finish_by_sql), analysis persisted "
        "by AnalysisService",
    }
    results["node"] = _node_version()
    return results


def _node_version() -> str | None:
    if not shutil.which("node"):
        return None
    try:
        return subprocess.run(
            ["node", "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return None
