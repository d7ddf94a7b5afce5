"""The raw baseline of the execution pipeline: the worker's own SQL, issued with asyncpg.

Per claimed batch, one transaction: the claim's SELECT ... FOR UPDATE SKIP LOCKED LIMIT n,
its UPDATE of the ids it locked, the job's status, the job counters UPDATE. Per execution,
one transaction: the settle UPDATE (matched on id and claim token), the job's status, the
job counters UPDATE, and the execution_attempts INSERT; when the job has nothing left to
run, the terminal status.
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
JOB_COLUMNS = (
    "jobs.id, jobs.status, jobs.spec, jobs.spec_id, jobs.benchmark_name, jobs.public_key, "
    "jobs.key_id, jobs.question_ids, jobs.models, jobs.regions, jobs.min_regions, "
    "jobs.min_success_rate, jobs.temperature, jobs.max_tokens, jobs.provider_timeout_seconds, "
    "jobs.deadline_at, jobs.expected, jobs.pending_count, jobs.running_count, "
    "jobs.completed_count, jobs.failed_count, jobs.cancelled_count, jobs.event_sequence, "
    "jobs.created_at, jobs.updated_at, jobs.finished_at"
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


JOB_STATUS = "SELECT jobs.status FROM jobs WHERE jobs.id = $1::VARCHAR"

JOB_CLAIMED = f"""UPDATE jobs SET status=CASE WHEN (jobs.status = $1::VARCHAR) THEN $2::VARCHAR
 ELSE jobs.status END, pending_count=(jobs.pending_count + $3::INTEGER),
 running_count=(jobs.running_count + $4::INTEGER),
 event_sequence=(jobs.event_sequence + $5::INTEGER), updated_at=$6::TIMESTAMP WITH TIME ZONE
 WHERE jobs.id = $7::VARCHAR RETURNING {JOB_COLUMNS}"""

SETTLE = f"""UPDATE executions SET status=$1::VARCHAR, provider_id=$2::VARCHAR,
 response=$3::VARCHAR, classification=$4::VARCHAR, classification_evidence=$5::JSON,
 error_code=$6::VARCHAR, error_message=$7::VARCHAR, error_stage=$8::VARCHAR,
 error_transient=$9::BOOLEAN,
 error_provider_id=$10::VARCHAR, lease_owner=$11::VARCHAR, claim_token=$12::VARCHAR,
 lease_expires_at=$13::TIMESTAMP WITH TIME ZONE, completed_at=$14::TIMESTAMP WITH TIME ZONE,
 duration_ms=$15::INTEGER WHERE executions.status = $16::VARCHAR AND executions.id = $17::VARCHAR
 AND executions.claim_token = $18::VARCHAR RETURNING {EXECUTION_COLUMNS}"""

JOB_SETTLED = f"""UPDATE jobs SET running_count=(jobs.running_count + $1::INTEGER),
 completed_count=(jobs.completed_count + $2::INTEGER),
 event_sequence=(jobs.event_sequence + $3::INTEGER), updated_at=$4::TIMESTAMP WITH TIME ZONE
 WHERE jobs.id = $5::VARCHAR RETURNING {JOB_COLUMNS}"""

REGIONS_SUCCEEDED = """SELECT count(distinct(executions.region)) AS count_1 FROM executions
 WHERE executions.job_id = $1::VARCHAR AND executions.status = $2::VARCHAR"""

JOB_TERMINAL = """UPDATE jobs SET status=$1::VARCHAR, finished_at=$2::TIMESTAMP WITH TIME ZONE
 WHERE jobs.id = $3::VARCHAR"""

ATTEMPT = """INSERT INTO execution_attempts (execution_id, attempt, claim_token, provider_id,
 started_at, duration_ms, outcome, http_status, message) VALUES ($1::VARCHAR, $2::INTEGER,
 $3::VARCHAR, $4::VARCHAR, $5::TIMESTAMP WITH TIME ZONE, $6::INTEGER, $7::VARCHAR, $8::INTEGER,
 $9::VARCHAR) RETURNING execution_attempts.id"""

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
    batch: int = 1,
) -> dict[str, float]:
    """Claims and settles every execution of `job_id`; returns the rate.

    `synchronous_commit=False` and `batch > 1` are what-ifs, not the baseline: the first
    commits without waiting for the WAL flush, the second settles up to `batch` finished
    executions in one transaction with one job-row update.
    """
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
        moved = 0
        attempts = []
        for row, token, started in rows:
            if await connection.fetch(
                SETTLE,
                "COMPLETED", "sim-us-east", ANSWER, "SUBSTANTIVE", "[]", None, None, None,
                None, None, None, None, None, now, 1, "RUNNING", row["id"], token,
            ):  # fmt: skip
                moved += 1
                attempts.append((row, token, started))
        if not moved:
            return
        await connection.fetchval(JOB_STATUS, job_id)
        job = await connection.fetchrow(JOB_SETTLED, -moved, moved, moved, now, job_id)
        if job["pending_count"] + job["running_count"] == 0:
            await connection.fetchval(REGIONS_SUCCEEDED, job_id, "COMPLETED")
            await connection.execute(JOB_TERMINAL, "COMPLETED", now, job_id)
        for row, token, started in attempts:
            await connection.fetchval(
                ATTEMPT, row["id"], row["attempts"], token, "sim-us-east", started, 1,
                "COMPLETED", 200, None,
            )  # fmt: skip
        settled += moved

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

    recorders = [asyncio.create_task(recorder()) for _ in range(4 if batch > 1 else 0)]
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
                        await connection.fetchval(JOB_STATUS, job_id)
                        await connection.fetchrow(
                            JOB_CLAIMED, "QUEUED", "RUNNING", -len(rows), len(rows), len(rows),
                            now, job_id,
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
