"""Benchmark 3: executions through the whole pipeline (claim, call, record, publish).

The pipeline is the real one in child processes: `beacon-gql worker`
(BEACON_WORKER_CONCURRENCY=64, events published over PostgreSQL NOTIFY, INFO logs to a
file) against the SIMULATED regional providers (bench/simulator_proc.py, max_concurrency
64 each, one provider per region). Before each job starts the planner's statistics are
refreshed (ANALYZE, as autovacuum would have done in service); the claim's plan on a
freshly written table is checked separately (see `claim_limit_probe`).

1. Zero latency: a 1,008-execution job (8 questions x 3 regions x 42 models); executions
   per second from the first claim (or the NOTIFY that wakes the worker, if earlier) to
   the job's terminal status as seen by polling every 20 ms, next to
   the raw baseline: the worker's own SQL for the same 1,008 executions issued directly
   with asyncpg at the same concurrency (bench/raw_queue.py). Two what-ifs on the raw
   path show what the SQL shape costs: commits without waiting for the WAL flush, and
   each execution settled in a transaction of its own (the worker before it batched).
2. 50 ms latency: a 5,016-execution job (8 x 3 x 209 models); wall time against the ideal
   5,016 x 0.05 / 64 s. Target: ideal / wall >= 0.8. Bounded by FIFTY_MS_CAP_S; a job still
   running then is reported with its rate so far and the wall time that rate implies. Run
   twice: on the simulator's answers (canned: they repeat, and the worker classifies each
   distinct answer once, `analysis/answer_memory.py`), then with every answer a text of its
   own (`--distinct-answers`), so that every answer is classified.

The worker classifies every answer before it records it, in a process of its own
(beacon_gql/execution/classifying.py): a job ends when its last answer is labelled and
recorded. Each job reports the worker's CPU and, apart, its classifier process's CPU per
answer and the classifier's batch sizes (at ~4 ms of CPU per answer, classification alone
bounds a 5,016-answer job at about 20 s on one core, well over the 3.92 s ideal).

The 36-execution job the job-query benchmark reads is also run here, by the zero-latency
pipeline, before the measured job.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from beacon_gql.db import queue
from beacon_gql.db.engine import create_engine, create_session_factory
from bench import fixtures, profiling, receipt_cost
from bench.common import Database, cpu_seconds, descendants_cpu_seconds, log
from bench.pipeline import Pipeline, pipeline
from bench.raw_queue import run_raw_queue

CONCURRENCY = 64
ZERO_MODELS = 42
FIFTY_MS = 50.0
FIFTY_MS_CAP_S = 45.0
ZERO_CAP_S = 90.0
TARGET_OF_IDEAL = 0.8


async def claim_limit_probe(database: Database, job_id: str) -> dict[str, Any]:
    """`queue.claim(limit=1)` on a freshly submitted job, rolled back: how many it took."""
    engine = create_engine(database.sqlalchemy_url)
    try:
        async with create_session_factory(engine)() as session:
            changes = await queue.claim(
                session,
                worker_id="bench-probe",
                claim_token="bench-probe",
                limit=1,
                lease_seconds=30,
                now=datetime.now(UTC),
            )
            await session.rollback()
    finally:
        await engine.dispose()
    return {"limit": 1, "claimed": len(changes), "pending_rows": 36}


class ActivitySampler:
    """Samples pg_stat_activity of the benchmark's database every 50 ms while a job runs:
    how many backends are running a statement, waiting for a row lock, or sitting idle in
    a transaction (waiting for their client)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.samples: list[tuple[int, int, int]] = []
        self.task: asyncio.Task[None] | None = None
        self.connection: asyncpg.Connection | None = None

    async def start(self) -> None:
        self.connection = await asyncpg.connect(self.database.dsn)
        self.task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        assert self.connection is not None
        while True:
            row = await self.connection.fetchrow(
                """SELECT count(*) FILTER (WHERE state = 'active' AND wait_event_type IS
                              DISTINCT FROM 'Lock') AS running,
                          count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock_waits,
                          count(*) FILTER (WHERE state = 'idle in transaction') AS idle_in_tx
                   FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()""",
                self.database.name,
            )
            self.samples.append((row["running"], row["lock_waits"], row["idle_in_tx"]))
            await asyncio.sleep(0.05)

    async def stop(self) -> dict[str, float]:
        assert self.task is not None and self.connection is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.connection.close()
        count = max(1, len(self.samples))
        return {
            "db_backends_running_mean": sum(s[0] for s in self.samples) / count,
            "db_backends_waiting_for_lock_mean": sum(s[1] for s in self.samples) / count,
            "db_backends_idle_in_transaction_mean": sum(s[2] for s in self.samples) / count,
        }


async def _diagnostics(database: Database, job_id: str, proc_log: Path) -> dict[str, Any]:
    connection = await asyncpg.connect(database.dsn)
    try:
        row = await connection.fetchrow(
            """SELECT count(*) AS attempts, count(DISTINCT a.execution_id) AS executions,
                      max(a.attempt) AS max_attempt,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY a.duration_ms) AS p50_call_ms,
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY a.duration_ms) AS p99_call_ms
               FROM execution_attempts a JOIN executions e ON e.id = a.execution_id
               WHERE e.job_id = $1""",
            job_id,
        )
        distinct = await connection.fetchval(
            "SELECT count(DISTINCT (prompt, response)) FROM executions WHERE job_id = $1", job_id
        )
    finally:
        await connection.close()
    text = await asyncio.to_thread(proc_log.read_text, encoding="utf-8", errors="replace")
    batches = [
        json.loads(line)["answers"] for line in text.splitlines() if '"answers classified"' in line
    ]
    return {
        "attempt_rows": row["attempts"],
        "executions_with_attempts": row["executions"],
        "max_attempt": row["max_attempt"],
        "distinct_answers": distinct,
        "attempt_duration_p50_ms": row["p50_call_ms"],
        "attempt_duration_p99_ms": row["p99_call_ms"],
        "worker_log_discarded": text.count("attempt result discarded"),
        "worker_log_lease_expired": text.count("LEASE_EXPIRED"),
        "worker_log_errors": text.count('"level": "error"') + text.count('"level":"error"'),
        # Over the worker's whole life so far (this job and those before it).
        "classifier_batches": len(batches),
        "classifier_batch_mean": sum(batches) / max(1, len(batches)),
    }


async def _run_job(
    database: Database,
    line: Pipeline,
    models: int,
    cap_s: float,
    *,
    profile_name: str | None = None,
) -> dict[str, Any]:
    job_id = await fixtures.create_big_job(database, models)
    await fixtures.analyze(database)
    worker_cpu = cpu_seconds(line.worker.pid)
    classifier_cpu = descendants_cpu_seconds(line.worker.pid)
    simulator_cpu = cpu_seconds(line.simulator.pid)
    recording = (
        profiling.start(profile_name, line.worker.pid, min(20.0, cap_s)) if profile_name else None
    )
    sampler = ActivitySampler(database)
    await sampler.start()
    started = time.time()
    await fixtures.announce_work(database)
    state = await fixtures.wait_finished(database, job_id, within=cap_s, analysis=False)
    activity = await sampler.stop()
    worker_cpu = cpu_seconds(line.worker.pid) - worker_cpu
    classifier_cpu = descendants_cpu_seconds(line.worker.pid) - classifier_cpu
    simulator_cpu = cpu_seconds(line.simulator.pid) - simulator_cpu
    # The worker polls every 0.25 s, so it may claim the job before the NOTIFY: the clock
    # starts at whichever came first.
    if state.first_started_at is not None:
        started = min(started, state.first_started_at.timestamp())
    wall = state.observed_at - started
    done = state.completed + state.failed
    result: dict[str, Any] = {
        "job_id": job_id,
        "executions": state.expected,
        "finished": state.finished,
        "status": state.status,
        "completed": state.completed,
        "failed": state.failed,
        "wall_s": wall,
        "executions_per_s": done / wall,
        "worker_cpu_s": worker_cpu,
        "worker_cpu_ms_per_execution": worker_cpu / max(1, done) * 1000,
        # The worker's classifier process (execution/classifying.py), up to the job's end.
        "classifier_cpu_s": classifier_cpu,
        "classifier_cpu_ms_per_answer": classifier_cpu / max(1, state.completed) * 1000,
        "simulator_cpu_s": simulator_cpu,
    }
    if not state.finished:
        result["projected_wall_s"] = state.expected / max(1e-9, result["executions_per_s"])
    if state.finished:
        analysed = await fixtures.wait_finished(database, job_id, within=30, analysis=True)
        if analysed.analysis_at is not None:
            result["analysis_persisted_after_s"] = analysed.analysis_at.timestamp() - started
    result.update(activity)
    result.update(await _diagnostics(database, job_id, line.worker.log_path))
    if recording is not None:
        result["profile"] = await asyncio.to_thread(recording.finish)
    return result


async def run(
    database: Database, work: Path, small_job: str, *, profile: bool = False
) -> dict[str, Any]:
    results: dict[str, Any] = {"concurrency": CONCURRENCY}

    with pipeline("zero", database, work, latency_ms=0, concurrency=CONCURRENCY) as line:
        await fixtures.analyze(database)
        await fixtures.announce_work(database)
        small = await fixtures.wait_finished(database, small_job, within=60)
        if not small.finished:
            raise RuntimeError("the 36-execution job did not finish within 60 s")
        log(f"throughput: zero latency, {8 * 3 * ZERO_MODELS} executions")
        zero = await _run_job(database, line, ZERO_MODELS, ZERO_CAP_S)
    results["zero_latency"] = zero
    log(
        f"  pipeline  {zero['executions_per_s']:7.1f} executions/s "
        f"(worker CPU {zero['worker_cpu_ms_per_execution']:.1f} ms per execution, "
        f"its classifier process {zero['classifier_cpu_ms_per_answer']:.1f} ms per answer)"
    )
    # The worker above signed a receipt for every answer; what that took of its CPU.
    signing = receipt_cost.measure(8 * 3 * ZERO_MODELS)
    signing["worker_cpu_ms_per_execution"] = zero["worker_cpu_ms_per_execution"]
    signing["share_of_worker_cpu"] = (
        signing["receipt_cpu_ms_per_execution"] / zero["worker_cpu_ms_per_execution"]
    )
    signing["target_share"] = receipt_cost.TARGET_SHARE
    results["receipt_signing"] = signing
    log(
        f"  receipts  {signing['receipt_cpu_ms_per_execution']:.3f} ms CPU per execution, "
        f"{signing['share_of_worker_cpu']:.1%} of the worker's"
    )

    raw: dict[str, Any] = {}
    variants = {
        "same_sql": {},
        "what_if_synchronous_commit_off": {"synchronous_commit": False},
        "what_if_settle_one_per_transaction": {"batch": 1},
    }
    for name, options in variants.items():
        job_id = await fixtures.create_big_job(database, ZERO_MODELS)
        await fixtures.analyze(database)
        raw[name] = await run_raw_queue(
            database.dsn, job_id, 8 * 3 * ZERO_MODELS, concurrency=CONCURRENCY, **options
        )
        log(f"  raw {name:<32} {raw[name]['executions_per_s']:7.1f} executions/s")
    results["raw_asyncpg"] = raw
    results["zero_latency"]["pipeline_over_raw"] = (
        zero["executions_per_s"] / raw["same_sql"]["executions_per_s"]
    )

    results["fifty_ms"] = await _fifty_ms(database, work, profile=profile)
    # The simulator's answers repeat (209 models over 3 canned upstream models), and the
    # classifier labels each distinct answer once: the same job with every answer a text of
    # its own shows what classifying every answer costs.
    results["fifty_ms_distinct_answers"] = await _fifty_ms(database, work, distinct_answers=True)
    return results


async def _fifty_ms(
    database: Database, work: Path, *, distinct_answers: bool = False, profile: bool = False
) -> dict[str, Any]:
    executions = 8 * 3 * fixtures.BIG_MODELS
    ideal = executions * FIFTY_MS / 1000 / CONCURRENCY
    kind = "every answer distinct" if distinct_answers else "the simulator's answers"
    log(f"throughput: 50 ms latency, {executions} executions ({kind}), ideal {ideal:.2f} s")
    with pipeline(
        "50ms-distinct" if distinct_answers else "50ms",
        database,
        work,
        latency_ms=FIFTY_MS,
        concurrency=CONCURRENCY,
        distinct_answers=distinct_answers,
    ) as line:
        fifty = await _run_job(
            database,
            line,
            fixtures.BIG_MODELS,
            FIFTY_MS_CAP_S,
            profile_name="throughput-50ms-worker" if profile else None,
        )
    wall = fifty["wall_s"] if fifty["finished"] else fifty["projected_wall_s"]
    fifty["ideal_s"] = ideal
    fifty["ideal_over_wall"] = ideal / wall
    fifty["target_ideal_over_wall"] = TARGET_OF_IDEAL
    if profile:
        fifty["profiled_while_measured"] = True
    log(
        f"  50 ms: wall {wall:.1f} s{'' if fifty['finished'] else ' (projected)'} vs ideal "
        f"{ideal:.2f} s -> {fifty['ideal_over_wall']:.3f} of ideal "
        f"({fifty['executions_per_s']:.1f} executions/s, {fifty['distinct_answers']} distinct "
        f"answers; worker CPU {fifty['worker_cpu_ms_per_execution']:.1f} ms per execution, its "
        f"classifier process {fifty['classifier_cpu_ms_per_answer']:.1f} ms per answer)"
    )
    return fifty
