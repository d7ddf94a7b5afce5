"""The executions table as a durable queue: claim with a lease, finish, requeue, expire."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import Execution, ExecutionAttempt, Job
from beacon_gql.db.receipts import NO_RECEIPT
from beacon_gql.db.transitions import (
    ClaimedChange,
    ExecutionChange,
    transition,
    transition_claimed,
)

UNFINISHED = ("PENDING", "RUNNING")


async def claim(
    session: AsyncSession,
    *,
    worker_id: str,
    claim_token: str,
    limit: int,
    lease_seconds: float,
    now: datetime,
) -> list[ExecutionChange]:
    return await transition(
        session,
        where=[Execution.available_at <= now],
        source_statuses=["PENDING"],
        values={
            "status": "RUNNING",
            "lease_owner": worker_id,
            "claim_token": claim_token,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
            "attempts": Execution.attempts + 1,
            "started_at": func.coalesce(Execution.started_at, now),
        },
        now=now,
        limit=limit,
        claim_order=True,
    )


@dataclass(frozen=True)
class AttemptRecord:
    """One provider call, as its execution_attempts row."""

    execution_id: str
    attempt: int
    claim_token: str
    provider_id: str | None
    started_at: datetime
    duration_ms: int
    outcome: str
    http_status: int | None
    message: str | None


@dataclass(frozen=True)
class Settlement:
    """How a claimed attempt ended: the execution's new values, and the attempt's record."""

    execution_id: str
    claim_token: str
    values: dict[str, Any]
    attempt: AttemptRecord | None = None


async def settle_many(
    session: AsyncSession, settlements: Sequence[Settlement], *, now: datetime
) -> list[ExecutionChange]:
    """End claimed attempts, in the caller's transaction, recording each attempt whose
    claim still held exactly once with it. A settlement whose claim was lost (lease
    expired, job cancelled or timed out) matches nothing, so a late result can never
    overwrite a newer state; its attempt is not recorded."""
    changes = await transition_claimed(
        session,
        [
            ClaimedChange(
                execution_id=settlement.execution_id,
                claim_token=settlement.claim_token,
                values={**settlement.values, "lease_owner": None, "lease_expires_at": None},
            )
            for settlement in settlements
        ],
        now,
    )
    settled = {change.execution.id for change in changes}
    attempts = [
        asdict(s.attempt)
        for s in settlements
        if s.attempt is not None and s.execution_id in settled
    ]
    if attempts:
        await session.execute(insert(ExecutionAttempt), attempts)
    return changes


async def renew_leases(
    session: AsyncSession,
    *,
    worker_id: str,
    execution_ids: Collection[str],
    lease_seconds: float,
    now: datetime,
) -> int:
    """Extend the leases of the executions a worker is still working on.

    Only those it names: an attempt the worker dropped (it could not record the outcome) must
    see its lease expire so that another attempt takes the execution.
    """
    if not execution_ids:
        return 0
    result = await session.execute(
        update(Execution)
        .where(
            Execution.status == "RUNNING",
            Execution.lease_owner == worker_id,
            Execution.id.in_(list(execution_ids)),
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def expire_leases(
    session: AsyncSession, *, now: datetime, max_attempts: int
) -> list[ExecutionChange]:
    """Executions whose worker died go back to the queue, or fail once out of attempts."""
    lost = [Execution.lease_expires_at < now]
    changes = await transition(
        session,
        where=[*lost, Execution.attempts >= max_attempts],
        source_statuses=["RUNNING"],
        values={
            "status": "FAILED",
            "error_code": "LEASE_EXPIRED",
            "error_message": f"the worker running it stopped responding {max_attempts} times",
            "error_stage": "worker",
            "error_transient": True,
            "completed_at": now,
            "lease_owner": None,
            "claim_token": None,
        },
        now=now,
    )
    changes += await transition(
        session,
        where=lost,
        source_statuses=["RUNNING"],
        values={
            "status": "PENDING",
            "available_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "claim_token": None,
        },
        now=now,
    )
    return changes


async def overdue_job_ids(session: AsyncSession, now: datetime) -> list[str]:
    rows = await session.scalars(
        select(Job.id).where(Job.deadline_at < now, Job.status.in_(["QUEUED", "RUNNING"]))
    )
    return list(rows)


async def fail_unfinished(
    session: AsyncSession, *, job_id: str, code: str, message: str, stage: str, now: datetime
) -> list[ExecutionChange]:
    return await transition(
        session,
        where=[Execution.job_id == job_id],
        source_statuses=UNFINISHED,
        values={
            "status": "FAILED",
            "error_code": code,
            "error_message": message,
            "error_stage": stage,
            "error_transient": False,
            "error_provider_id": None,
            "completed_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "claim_token": None,
        },
        now=now,
    )


async def cancel_job(session: AsyncSession, *, job_id: str, now: datetime) -> list[ExecutionChange]:
    return await transition(
        session,
        where=[Execution.job_id == job_id],
        source_statuses=UNFINISHED,
        values={
            "status": "CANCELLED",
            "error_code": "CANCELLED",
            "error_message": "the job was cancelled before this execution finished",
            "error_stage": "cancel",
            "error_transient": False,
            "completed_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "claim_token": None,
        },
        now=now,
        cancelled_job=job_id,
    )


async def requeue_failed(
    session: AsyncSession, *, job_id: str, now: datetime, deadline_at: datetime | None
) -> list[ExecutionChange]:
    """Failed executions of a finished job go back to the queue with a fresh attempt count
    (their attempt history stays) and the job gets a fresh deadline."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status="RUNNING", finished_at=None, deadline_at=deadline_at)
    )
    return await transition(
        session,
        where=[Execution.job_id == job_id],
        source_statuses=["FAILED"],
        values={
            "status": "PENDING",
            "attempts": 0,
            "available_at": now,
            "error_code": None,
            "error_message": None,
            "error_stage": None,
            "error_transient": None,
            "error_provider_id": None,
            "completed_at": None,
            "duration_ms": None,
            **NO_RECEIPT,
        },
        now=now,
    )
