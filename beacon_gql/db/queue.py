"""The executions table as a durable queue: claim with a lease, finish, requeue, expire."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import Execution, ExecutionAttempt, Job
from beacon_gql.db.receipts import NO_RECEIPT
from beacon_gql.db.statuses import (
    LIVE_JOB_STATUSES,
    UNFINISHED_EXECUTION_STATUSES,
    ExecutionStatus,
    JobStatus,
)
from beacon_gql.db.transitions import (
    ClaimedChange,
    ExecutionChange,
    transition,
    transition_claimed,
)


async def claim(
    session: AsyncSession,
    *,
    worker_id: str,
    claim_token: str,
    limit: int,
    lease_seconds: float,
    now: datetime,
    open_regions: Collection[str] | None = None,
    served_regions: Collection[str] = (),
) -> list[ExecutionChange]:
    """Claims up to `limit` executions, and opens each one's attempt row (RUNNING) in the
    same transaction: a provider call is on record before it is made, so a worker that
    dies during it leaves a row saying so (see `expire_leases`) instead of nothing.

    With `open_regions`, only executions of those regions, or of none of `served_regions`
    (they fail at routing, at once), are taken.
    """
    where = [Execution.available_at <= now]
    if open_regions is not None:
        where.append(
            or_(Execution.region.in_(open_regions), Execution.region.not_in(served_regions))
        )
    changes = await transition(
        session,
        where=where,
        source_statuses=[ExecutionStatus.PENDING],
        values=claim_values(
            worker_id=worker_id, claim_token=claim_token, lease_seconds=lease_seconds, now=now
        ),
        now=now,
        limit=limit,
        claim_order=True,
    )
    if changes:
        await session.execute(
            insert(ExecutionAttempt),
            [
                {
                    "execution_id": change.execution.id,
                    "attempt": change.execution.attempts,
                    "claim_token": claim_token,
                    "provider_id": None,
                    "started_at": now,
                    "duration_ms": 0,
                    "outcome": ATTEMPT_RUNNING,
                    "http_status": None,
                    "message": None,
                }
                for change in changes
            ],
        )
    return changes


async def claimed_with(session: AsyncSession, claim_token: str) -> list[Execution]:
    """The executions a claim took that it still holds: none if it was never committed (a
    token is used by one claim only), or if its leases have since been expired."""
    rows = await session.scalars(
        select(Execution).where(
            Execution.claim_token == claim_token, Execution.status == ExecutionStatus.RUNNING
        )
    )
    return list(rows)


ATTEMPT_RUNNING = "RUNNING"
"""The outcome of an attempt row while its call is under way."""


def claim_values(
    *, worker_id: str, claim_token: str, lease_seconds: float, now: datetime
) -> dict[str, Any]:
    """What a claim sets on a PENDING execution: RUNNING, leased to the worker."""
    return {
        "status": ExecutionStatus.RUNNING,
        "lease_owner": worker_id,
        "claim_token": claim_token,
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "attempts": Execution.attempts + 1,
        "started_at": func.coalesce(Execution.started_at, now),
    }


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
class AttemptError:
    """Why an attempt did not answer, as the execution's error columns."""

    code: str
    message: str
    stage: str
    transient: bool
    provider_id: str | None

    def columns(self) -> dict[str, Any]:
        return {
            "error_code": self.code,
            "error_message": self.message,
            "error_stage": self.stage,
            "error_transient": self.transient,
            "error_provider_id": self.provider_id,
        }


# An execution no worker holds any more.
_RELEASED = dict.fromkeys(("lease_owner", "lease_expires_at", "claim_token"))


def _fields_of(record: Any) -> dict[str, Any]:
    """A dataclass's fields by name, shallow: `dataclasses.asdict` deep-copies every value,
    a share of the worker's CPU for nothing (the values are only read)."""
    return {field.name: getattr(record, field.name) for field in fields(record)}


_NO_ERROR = dict.fromkeys(
    ("error_code", "error_message", "error_stage", "error_transient", "error_provider_id")
)


@dataclass(frozen=True)
class Answered:
    """The provider answered: the execution is COMPLETED."""

    response: str
    provider_id: str
    classification: str
    classification_evidence: list[str]
    completed_at: datetime
    duration_ms: int
    classification_confidence: float | None = None
    classifier_version: str | None = None
    meaning_vector: bytes | None = None

    def values(self) -> dict[str, Any]:
        # Its fields are the execution's columns of the same names.
        return {
            "status": ExecutionStatus.COMPLETED,
            **_fields_of(self),
            **_NO_ERROR,
            "claim_token": None,
        }


@dataclass(frozen=True)
class Retrying:
    """The attempt failed and the execution waits, PENDING, for another one."""

    error: AttemptError
    available_at: datetime

    def values(self) -> dict[str, Any]:
        return {
            "status": ExecutionStatus.PENDING,
            "available_at": self.available_at,
            **self.error.columns(),
            "claim_token": None,
        }


@dataclass(frozen=True)
class Failed:
    """The attempt failed for good: the execution is FAILED."""

    error: AttemptError
    completed_at: datetime
    duration_ms: int
    partial_response: str | None = None
    """An answer cut off at its size limit (RESPONSE_TOO_LARGE): what was read is kept as
    the failure's evidence, never as an answer."""

    def values(self) -> dict[str, Any]:
        values = {
            "status": ExecutionStatus.FAILED,
            "provider_id": self.error.provider_id,
            "completed_at": self.completed_at,
            "duration_ms": self.duration_ms,
            **self.error.columns(),
            "claim_token": None,
        }
        if self.partial_response is not None:
            values["response"] = self.partial_response
        return values


Ending = Answered | Retrying | Failed


@dataclass(frozen=True)
class Settlement:
    """How a claimed attempt ended: the execution's ending, and the attempt's record."""

    execution_id: str
    claim_token: str
    ending: Ending
    attempt: AttemptRecord | None = None
    # The signed receipt's columns (receipt_payload, receipt_signature, receipt_key_id),
    # written with the ending when it ends the execution.
    receipt: Mapping[str, str] | None = None


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
                values={
                    **settlement.ending.values(),
                    **(settlement.receipt or {}),
                    "lease_owner": None,
                    "lease_expires_at": None,
                },
            )
            for settlement in settlements
        ],
        now,
    )
    settled = {change.execution.id for change in changes}
    attempts = [
        {f"attempt_{name}": value for name, value in _fields_of(s.attempt).items()}
        for s in settlements
        if s.attempt is not None and s.execution_id in settled
    ]
    if attempts:
        # Closes the rows the claims opened: one executemany, as the insert was before.
        await session.execute(_CLOSE_ATTEMPT, attempts)
    return changes


_ATTEMPTS = cast(Table, ExecutionAttempt.__table__)
# Core, on the table: executed with a list of rows this is one executemany, where the ORM
# would read it as a bulk update by primary key.
_CLOSE_ATTEMPT = (
    update(_ATTEMPTS)
    .where(
        _ATTEMPTS.c.execution_id == bindparam("attempt_execution_id"),
        _ATTEMPTS.c.claim_token == bindparam("attempt_claim_token"),
        _ATTEMPTS.c.attempt == bindparam("attempt_attempt"),
        _ATTEMPTS.c.outcome == ATTEMPT_RUNNING,
    )
    .values(
        provider_id=bindparam("attempt_provider_id"),
        started_at=bindparam("attempt_started_at"),
        duration_ms=bindparam("attempt_duration_ms"),
        outcome=bindparam("attempt_outcome"),
        http_status=bindparam("attempt_http_status"),
        message=bindparam("attempt_message"),
    )
)


async def close_lost_attempts(
    session: AsyncSession, where: ColumnElement[bool], *, outcome: str, message: str
) -> None:
    """Ends the open attempt rows of the executions matched by `where`, called once their
    claim has been taken away (lease expired, job timed out or cancelled): the call was
    made, perhaps paid for, and its result will never be recorded. The duration stays 0,
    unknown. Run after the executions' own update, so that it locks rows in the order a
    settlement does (execution, then attempt) and a late settlement finds nothing open."""
    await session.execute(
        update(ExecutionAttempt)
        .where(
            ExecutionAttempt.outcome == ATTEMPT_RUNNING,
            ExecutionAttempt.execution_id.in_(select(Execution.id).where(where)),
        )
        .values(outcome=outcome, message=message),
        execution_options={"synchronize_session": False},
    )


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
            Execution.status == ExecutionStatus.RUNNING,
            Execution.lease_owner == worker_id,
            Execution.id.in_(list(execution_ids)),
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def expire_leases(
    session: AsyncSession, *, now: datetime, max_attempts: int
) -> list[ExecutionChange]:
    """Executions whose worker died go back to the queue, or fail once out of attempts;
    the attempts they were running are recorded as LEASE_EXPIRED."""
    lost = [Execution.lease_expires_at < now]
    changes = await transition(
        session,
        where=[*lost, Execution.attempts >= max_attempts],
        source_statuses=[ExecutionStatus.RUNNING],
        values={
            "status": ExecutionStatus.FAILED,
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
        source_statuses=[ExecutionStatus.RUNNING],
        values={
            "status": ExecutionStatus.PENDING,
            "available_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "claim_token": None,
        },
        now=now,
    )
    if changes:
        await close_lost_attempts(
            session,
            Execution.id.in_([change.execution.id for change in changes]),
            outcome="LEASE_EXPIRED",
            message="the worker making this call stopped responding before recording its "
            "result (killed, hung or cut off from the database); the execution was taken over",
        )
    return changes


async def overdue_job_ids(session: AsyncSession, now: datetime) -> list[str]:
    rows = await session.scalars(
        select(Job.id).where(Job.deadline_at < now, Job.status.in_(LIVE_JOB_STATUSES))
    )
    return list(rows)


async def fail_unfinished(
    session: AsyncSession, *, job_id: str, code: str, message: str, stage: str, now: datetime
) -> list[ExecutionChange]:
    changes = await transition(
        session,
        where=[Execution.job_id == job_id],
        source_statuses=UNFINISHED_EXECUTION_STATUSES,
        values={
            "status": ExecutionStatus.FAILED,
            **AttemptError(code, message, stage, transient=False, provider_id=None).columns(),
            "completed_at": now,
            **_RELEASED,
        },
        now=now,
    )
    # None of the job's executions is running any more: every open attempt was lost.
    await close_lost_attempts(
        session,
        Execution.job_id == job_id,
        outcome=code,
        message=f"{message}; the call's result was not recorded",
    )
    return changes


async def cancel_job(session: AsyncSession, *, job_id: str, now: datetime) -> list[ExecutionChange]:
    changes = await transition(
        session,
        where=[Execution.job_id == job_id],
        source_statuses=UNFINISHED_EXECUTION_STATUSES,
        values={
            "status": ExecutionStatus.CANCELLED,
            "error_code": "CANCELLED",
            "error_message": "the job was cancelled before this execution finished",
            "error_stage": "cancel",
            "error_transient": False,
            "completed_at": now,
            **_RELEASED,
        },
        now=now,
        cancelled_job=job_id,
    )
    # None of the job's executions is running any more: every open attempt was lost.
    await close_lost_attempts(
        session,
        Execution.job_id == job_id,
        outcome="CANCELLED",
        message="the job was cancelled during this call; its result was not recorded",
    )
    return changes


async def requeue_failed(
    session: AsyncSession, *, job_id: str, now: datetime, deadline_at: datetime | None
) -> list[ExecutionChange]:
    """Failed executions of a finished job go back to the queue with a fresh attempt count
    (their attempt history stays) and the job gets a fresh deadline."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=JobStatus.RUNNING, finished_at=None, deadline_at=deadline_at)
    )
    return await transition(
        session,
        where=[Execution.job_id == job_id],
        source_statuses=[ExecutionStatus.FAILED],
        values={
            "status": ExecutionStatus.PENDING,
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
