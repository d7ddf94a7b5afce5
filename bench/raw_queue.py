"""The raw baseline of the execution pipeline: the worker's own SQL, issued with asyncpg.

Per claimed batch, one transaction: the claim's SELECT ... FOR UPDATE SKIP LOCKED LIMIT n,
its UPDATE of the ids it locked, the job counters UPDATE (returning only the counters), the
execution_attempts INSERT opening each claimed execution's attempt row, as one executemany.
Per settled batch (whatever finished while the previous batch was being written, up to
the concurrency: the worker's settler), one transaction: one UPDATE ... FROM unnest(...)
matched on id and claim token, the job counters UPDATE, the execution_attempts UPDATE
closing the claim's rows as one executemany; when the job has nothing left to run, the
terminal status.
The statements, their RETURNING lists and their parameters are those `beacon-gql worker`
sends through SQLAlchemy (captured from it: bench/README.md says how); no provider call,
no classification, no NOTIFY, no ORM. Concurrency: the worker's (64 executions in flight)
over as many connections as the worker's SQLAlchemy pool may open (pool_size 10 +
max_overflow 10 = 20).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

EXECUTION_COLUMNS = (
    "executions.id, executions.job_id, executions.question_id, executions.model_id, "
    "executions.region, executions.position, executions.status, executions.attempts, "
    "executions.provider_id, executions.prompt, executions.system_prompt, "
    "executions.temperature, executions.max_tokens, executions.response, "
    "executions.classification, executions.classification_evidence, executions.error_code, "
    "executions.error_message, executions.error_stage, executions.error_transient, "
    "executions.error_provider_id, executions.available_at, executions.lease_owner, "
    "executions.claim_token, executions.lease_expires_at, executions.started_at, "
    "executions.completed_at, executions.duration_ms, executions.created_at"
)
JOB_COUNTS = (
    "jobs.id, jobs.status, jobs.expected, jobs.pending_count, jobs.running_count, "
    "jobs.completed_count, jobs.failed_count, jobs.cancelled_count, jobs.event_sequence, "
    "jobs.min_regions, jobs.min_success_rate, jobs.finished_at"
)
SETTLED_COLUMNS = (
    "executions.id, executions.job_id, executions.question_id, executions.model_id, "
    "executions.region, executions.position, executions.status, executions.attempts, "
    "executions.provider_id, executions.classification, executions.duration_ms, "
    "executions.started_at, executions.completed_at, executions.error_code, "
    "executions.error_message, executions.error_stage, executions.error_transient, "
    "executions.error_provider_id"
)

CLAIM_LOCK = """SELECT executions.id FROM executions
 WHERE executions.available_at <= $1::TIMESTAMP WITH TIME ZONE AND executions.status = $2::VARCHAR
 ORDER BY executions.available_at, executions.position LIMIT $3::INTEGER FOR UPDATE SKIP LOCKED"""


def claim_update(count: int) -> str:
    """The claim's UPDATE for `count` locked ids, its IN list expanded as SQLAlchemy does."""
    ids = ", ".join(f"${8 + index}::VARCHAR" for index in range(count))
    return f"""UPDATE executions SET status=$1::VARCHAR,
 attempts=(executions.attempts + $2::INTEGER), lease_owner=$3::VARCHAR, claim_token=$4::VARCHAR,
 lease_expires_at=$5::TIMESTAMP WITH TIME ZONE,
 started_at=coalesce(executions.started_at, $6::TIMESTAMP WITH TIME ZONE)
 WHERE executions.status = $7::VARCHAR AND executions.id IN ({ids})
 RETURNING {EXECUTION_COLUMNS}"""


JOB_CLAIMED = f"""UPDATE jobs SET status=CASE WHEN (jobs.status = $1::VARCHAR) THEN $2::VARCHAR
 ELSE jobs.status END, pending_count=(jobs.pending_count + $3::INTEGER),
 running_count=(jobs.running_count + $4::INTEGER),
 event_sequence=(jobs.event_sequence + $5::INTEGER), updated_at=$6::TIMESTAMP WITH TIME ZONE
 WHERE jobs.id = $7::VARCHAR RETURNING {JOB_COUNTS}"""

SETTLE = f"""UPDATE executions SET claim_token=claimed.claim_token,
 classification=claimed.classification,
 classification_evidence=CAST(claimed.classification_evidence AS JSON),
 completed_at=claimed.completed_at, duration_ms=claimed.duration_ms,
 error_code=claimed.error_code, error_message=claimed.error_message,
 error_provider_id=claimed.error_provider_id, error_stage=claimed.error_stage,
 error_transient=claimed.error_transient, lease_expires_at=claimed.lease_expires_at,
 lease_owner=claimed.lease_owner, provider_id=claimed.provider_id, response=claimed.response,
 status=claimed.status
 FROM unnest($1::VARCHAR(36)[], $2::VARCHAR(64)[], $3::VARCHAR(64)[], $4::VARCHAR(32)[],
 $5::TEXT[], $6::TIMESTAMP WITH TIME ZONE[], $7::INTEGER[], $8::VARCHAR(64)[], $9::TEXT[],
 $10::VARCHAR(200)[], $11::VARCHAR(32)[], $12::BOOLEAN[], $13::TIMESTAMP WITH TIME ZONE[],
 $14::VARCHAR(64)[], $15::VARCHAR(200)[], $16::TEXT[], $17::VARCHAR(16)[])
 AS claimed(matched_id, matched_token, claim_token, classification, classification_evidence,
 completed_at, duration_ms, error_code, error_message, error_provider_id, error_stage,
 error_transient, lease_expires_at, lease_owner, provider_id, response, status)
 WHERE executions.id = claimed.matched_id AND executions.claim_token = claimed.matched_token
 AND executions.status = $18::VARCHAR RETURNING {SETTLED_COLUMNS}"""

JOB_SETTLED = f"""UPDATE jobs SET running_count=(jobs.running_count + $1::INTEGER),
 completed_count=(jobs.completed_count + $2::INTEGER),
 event_sequence=(jobs.event_sequence + $3::INTEGER), updated_at=$4::TIMESTAMP WITH TIME ZONE
 WHERE jobs.id = $5::VARCHAR RETURNING {JOB_COUNTS}"""

REGIONS_SUCCEEDED = """SELECT count(distinct(executions.region)) AS count_1 FROM executions
 WHERE executions.job_id = $1::VARCHAR AND executions.status = $2::VARCHAR"""

JOB_TERMINAL = """UPDATE jobs SET status=$1::VARCHAR, finished_at=$2::TIMESTAMP WITH TIME ZONE
 WHERE jobs.id = $3::VARCHAR"""

ATTEMPT_OPENED = """INSERT INTO execution_attempts (execution_id, attempt, claim_token,
 provider_id, started_at, duration_ms, outcome, http_status, message) VALUES ($1::VARCHAR,
 $2::INTEGER, $3::VARCHAR, $4::VARCHAR, $5::TIMESTAMP WITH TIME ZONE, $6::INTEGER, $7::VARCHAR,
 $8::INTEGER, $9::VARCHAR)"""

ATTEMPT_CLOSED = """UPDATE execution_attempts SET provider_id=$1::VARCHAR,
 started_at=$2::TIMESTAMP WITH TIME ZONE, duration_ms=$3::INTEGER, outcome=$4::VARCHAR,
 http_status=$5::INTEGER, message=$6::VARCHAR WHERE execution_attempts.execution_id = $7::VARCHAR
 AND execution_attempts.claim_token = $8::VARCHAR AND execution_attempts.attempt = $9::INTEGER
 AND execution_attempts.outcome = $10::VARCHAR"""

ANSWER = (
    "Here is a short answer. This benchmark row stands for an answer of a simulated model; "
    "its length is that of a typical simulated answer."
)


def _now() -> datetime:
    return datetime.now(UTC)


async def run_raw_queue(
    dsn: str,
    job_id: str,
    expected: int,
    *,
    concurrency: int = 64,
    connections: int = 20,
    synchronous_commit: bool = True,
    batch: int | None = None,
) -> dict[str, float]:
    """Claims and settles every execution of `job_id`; returns the rate.

    Settles go through one recorder, up to `batch` (default: `concurrency`, as the worker)
    per transaction. `synchronous_commit=False` and `batch=1` are what-ifs, not the
    baseline: the first commits without waiting for the WAL flush, the second settles each
    execution in a transaction of its own, concurrently (the worker before its settler).
    """
    batch = concurrency if batch is None else batch
    settings = {} if synchronous_commit else {"synchronous_commit": "off"}
    pool = await asyncpg.create_pool(
        dsn, min_size=connections, max_size=connections, server_settings=settings
    )
    assert pool is not None
    worker_id = f"raw-{uuid.uuid4().hex[:12]}"
    inflight: set[asyncio.Task[None]] = set()
    settled = 0
    finished: list[tuple[asyncpg.Record, str, datetime, asyncio.Future[None]]] = []
    finished_signal = asyncio.Event()

    async def settle_rows(
        connection: asyncpg.Connection, rows: list[tuple[asyncpg.Record, str, datetime]]
    ) -> None:
        nonlocal settled
        now = _now()
        count = len(rows)
        moved = await connection.fetch(
            SETTLE,
            [row["id"] for row, _, _ in rows], [token for _, token, _ in rows],
            [None] * count, ["SUBSTANTIVE"] * count, ["[]"] * count, [now] * count,
            [1] * count, [None] * count, [None] * count, [None] * count, [None] * count,
            [None] * count, [None] * count, [None] * count, ["sim-us-east"] * count,
            [ANSWER] * count, ["COMPLETED"] * count, "RUNNING",
        )  # fmt: skip
        if not moved:
            return
        job = await connection.fetchrow(
            JOB_SETTLED, -len(moved), len(moved), len(moved), now, job_id
        )
        if job["pending_count"] + job["running_count"] == 0:
            await connection.fetchval(REGIONS_SUCCEEDED, job_id, "COMPLETED")
            await connection.execute(JOB_TERMINAL, "COMPLETED", now, job_id)
        held = {row["id"] for row in moved}
        await connection.executemany(
            ATTEMPT_CLOSED,
            [
                ("sim-us-east", started, 1, "COMPLETED", 200, None, row["id"], token,
                 row["attempts"], "RUNNING")
                for row, token, started in rows
                if row["id"] in held
            ],
        )  # fmt: skip
        settled += len(moved)

    async def settle(row: asyncpg.Record, token: str) -> None:
        started = _now()
        if batch == 1:
            async with pool.acquire() as connection, connection.transaction():
                await settle_rows(connection, [(row, token, started)])
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        finished.append((row, token, started, done))
        finished_signal.set()
        await done

    async def recorder() -> None:
        while True:
            await finished_signal.wait()
            finished_signal.clear()
            while finished:
                taken = finished[:batch]
                del finished[:batch]
                async with pool.acquire() as connection, connection.transaction():
                    await settle_rows(connection, [(r, t, s) for r, t, s, _ in taken])
                for *_, done in taken:
                    done.set_result(None)

    recorders = [asyncio.create_task(recorder()) for _ in range(1 if batch > 1 else 0)]
    started = time.perf_counter()
    cpu_started = time.process_time()
    try:
        while settled < expected:
            free = concurrency - len(inflight)
            claimed = 0
            if free > 0:
                token = f"{worker_id}:{uuid.uuid4().hex}"
                async with pool.acquire() as connection, connection.transaction():
                    now = _now()
                    ids = [
                        r["id"] for r in await connection.fetch(CLAIM_LOCK, now, "PENDING", free)
                    ]
                    rows = []
                    if ids:
                        rows = await connection.fetch(
                            claim_update(len(ids)),
                            "RUNNING", 1, worker_id, token, now + timedelta(seconds=30), now,
                            "PENDING", *ids,
                        )  # fmt: skip
                    if rows:
                        await connection.fetchrow(
                            JOB_CLAIMED, "QUEUED", "RUNNING", -len(rows), len(rows), len(rows),
                            now, job_id,
                        )  # fmt: skip
                        await connection.executemany(
                            ATTEMPT_OPENED,
                            [
                                (row["id"], row["attempts"], token, None, now, 0, "RUNNING",
                                 None, None)
                                for row in rows
                            ],
                        )  # fmt: skip
                for row in rows:
                    task = asyncio.create_task(settle(row, token))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                claimed = len(rows)
            if inflight and (claimed == 0 or len(inflight) >= concurrency):
                await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
            elif not inflight and claimed == 0:
                break
        if inflight:
            await asyncio.gather(*inflight)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    finally:
        for task in recorders:
            task.cancel()
        await asyncio.gather(*recorders, return_exceptions=True)
        await pool.close()
    return {
        "executions": float(settled),
        "seconds": elapsed,
        "executions_per_s": settled / elapsed,
        "client_cpu_ms_per_execution": cpu / max(1, settled) * 1000,
    }
