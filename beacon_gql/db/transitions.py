"""Every change of an execution's status, with its job's counters and event sequence.

All status changes go through here, in the same transaction as the job-row update, so
pending + running + completed + failed + cancelled = expected holds at every commit and
every process agrees on each job's event sequence.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    RowMapping,
    Text,
    Update,
    bindparam,
    case,
    cast,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import Execution, Job
from beacon_gql.db.statuses import (
    COUNTER_COLUMNS,
    TERMINAL_JOB_STATUSES,
    ExecutionStatus,
    JobStatus,
    Progress,
    decide_terminal_status,
)


@dataclass(frozen=True)
class JobCounts:
    """The columns of a job row that a status change reads back: not its spec or models,
    which are large JSON documents nobody here needs."""

    id: str
    status: str
    expected: int
    pending_count: int
    running_count: int
    completed_count: int
    failed_count: int
    cancelled_count: int
    event_sequence: int
    min_regions: int
    min_success_rate: float
    finished_at: datetime | None


_JOB_COUNTS = tuple(getattr(Job, name) for name in JobCounts.__dataclass_fields__)
# These statements leave loaded objects as they were: callers that hold one (a Job being
# cancelled, say) refresh it after the commit.
_NO_SESSION_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class ExecutionChange:
    """One committed status change, as subscribers see it."""

    sequence: int
    job_id: str
    job_status: str
    progress: Progress
    execution: Execution


async def _succeeded_regions(session: AsyncSession, job_id: str) -> int:
    count = await session.scalar(
        select(func.count(func.distinct(Execution.region)))
        .where(Execution.job_id == job_id)
        .where(Execution.status == ExecutionStatus.COMPLETED)
    )
    return int(count or 0)


async def _apply_counts(
    session: AsyncSession,
    job_id: str,
    moves: Counter[tuple[str, str]],
    now: datetime,
    *,
    cancelled: bool = False,
) -> tuple[JobCounts, str]:
    """One UPDATE of the job row for all of `moves`; returns the row after it and the
    job's status before this change ended it (the status the earlier events carry)."""
    deltas: Counter[str] = Counter()
    for (source, target), count in moves.items():
        deltas[COUNTER_COLUMNS[ExecutionStatus(source)]] -= count
        deltas[COUNTER_COLUMNS[ExecutionStatus(target)]] += count
    values: dict[str, Any] = {
        name: getattr(Job, name) + delta for name, delta in deltas.items() if delta
    }
    values["event_sequence"] = Job.event_sequence + sum(moves.values())
    # Read the clock now that the row is being written, not when the caller started: a
    # writer that waited for SQLite's lock would otherwise move updated_at backwards.
    now = max(now, datetime.now(UTC))
    values["updated_at"] = now
    if any(target == ExecutionStatus.RUNNING for _, target in moves):
        values["status"] = _running_unless_terminal()
    row = (
        await session.execute(
            update(Job).where(Job.id == job_id).values(**values).returning(*_JOB_COUNTS),
            execution_options=_NO_SESSION_SYNC,
        )
    ).one()
    job = JobCounts(*row)
    # A change that moves an execution to RUNNING cannot end the job, so the status read
    # back is the one before this change whenever the job ends here.
    status_before = job.status
    status = job.status
    if cancelled and status not in TERMINAL_JOB_STATUSES:
        status = JobStatus.CANCELLED
    progress = Progress.of(job)
    if progress.unfinished == 0 and status not in TERMINAL_JOB_STATUSES:
        status = decide_terminal_status(
            progress,
            succeeded_regions=await _succeeded_regions(session, job_id),
            min_regions=job.min_regions,
            min_success_rate=job.min_success_rate,
            cancelled=False,
        )
    if status != job.status:
        await session.execute(
            update(Job).where(Job.id == job_id).values(status=status, finished_at=now),
            execution_options=_NO_SESSION_SYNC,
        )
        job = replace(job, status=status, finished_at=now)
    return job, status_before


def _running_unless_terminal() -> ColumnElement[str]:
    return case((Job.status == JobStatus.QUEUED, JobStatus.RUNNING.value), else_=Job.status)


def _changes(
    job: JobCounts, executions: Sequence[Execution], sources: Sequence[str], status_before: str
) -> list[ExecutionChange]:
    """One change per execution, each with the progress right after it, so a subscriber
    sees the counts move one step at a time; only the last carries a terminal status."""
    counts = Progress.of(job).counts()
    for execution, source in zip(executions, sources, strict=True):
        counts[execution.status] -= 1
        counts[source] += 1
    first_sequence = job.event_sequence - len(executions) + 1
    changes: list[ExecutionChange] = []
    for offset, (execution, source) in enumerate(zip(executions, sources, strict=True)):
        counts[source] -= 1
        counts[execution.status] += 1
        last = offset == len(executions) - 1
        changes.append(
            ExecutionChange(
                sequence=first_sequence + offset,
                job_id=job.id,
                job_status=job.status if last else _in_flight(status_before, job.status),
                progress=Progress.counted(job.expected, counts),
                execution=execution,
            )
        )
    return changes


def _in_flight(before: str, after: str) -> str:
    if after not in TERMINAL_JOB_STATUSES:
        return after
    return before if before not in TERMINAL_JOB_STATUSES else JobStatus.RUNNING


async def transition(
    session: AsyncSession,
    *,
    where: Iterable[ColumnElement[bool]],
    source_statuses: Sequence[str],
    values: dict[str, Any],
    now: datetime,
    cancelled_job: str | None = None,
    limit: int | None = None,
    claim_order: bool = False,
) -> list[ExecutionChange]:
    """Move the executions matched by `where` (and in one of `source_statuses`) to
    `values["status"]`, updating each touched job in the same transaction.

    Returns one change per execution moved, in sequence order per job. Executions whose
    status changed in between are simply not matched: no double transition is possible.
    With `limit`, the oldest available rows are taken; a claim (`claim_order`) skips rows
    another worker has locked, every other change waits for such locks.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    source_of: dict[str, str] = {}
    moved: list[Execution] = []
    # One UPDATE per source status, so each returned row's previous status is known for
    # certain: a separate read first could be stale (SQLite begins its transaction only at
    # the first write), and the counters would drift.
    for source in source_statuses:
        statement = update(Execution).where(Execution.status == source)
        if limit is None:
            statement = statement.where(*where)
        else:
            oldest = (
                select(Execution.id)
                .where(*where)
                .where(Execution.status == source)
                .order_by(Execution.available_at, Execution.position)
                .limit(limit - len(moved))
            )
            if postgres:
                oldest = oldest.with_for_update(skip_locked=claim_order)
            # Locked in a statement of its own: as a subquery of the UPDATE, PostgreSQL may
            # re-run it and, skipping the rows it has just locked, take more than `limit`.
            # The status guard above keeps this right on SQLite, which reads before it locks.
            ids = list(await session.scalars(oldest))
            if not ids:
                continue
            statement = statement.where(Execution.id.in_(ids))
        rows = (
            await session.scalars(
                statement.values(**values).returning(Execution),
                execution_options={"populate_existing": True},
            )
        ).all()
        source_of.update((row.id, source) for row in rows)
        moved.extend(rows)
    if not moved and cancelled_job is None:
        return []
    return await account(session, moved, source_of, now, cancelled_job=cancelled_job)


# What a change of one execution reads back: enough for its event, without the prompt and
# the answer, which the worker already holds.
_EXECUTION_SUMMARY = (
    Execution.id,
    Execution.job_id,
    Execution.question_id,
    Execution.model_id,
    Execution.region,
    Execution.position,
    Execution.status,
    Execution.attempts,
    Execution.provider_id,
    Execution.classification,
    Execution.duration_ms,
    Execution.started_at,
    Execution.completed_at,
    Execution.error_code,
    Execution.error_message,
    Execution.error_stage,
    Execution.error_transient,
    Execution.error_provider_id,
)


@dataclass(frozen=True)
class ClaimedChange:
    """A claimed (RUNNING) execution's own change, applied only while the claim holds."""

    execution_id: str
    claim_token: str
    values: dict[str, Any]


async def transition_claimed(
    session: AsyncSession, claimed: Sequence[ClaimedChange], now: datetime
) -> list[ExecutionChange]:
    """Apply changes that differ per execution (each its own values) in the caller's
    transaction, with one job-row update per job for all of them. A change whose claim
    no longer holds (token replaced, or no longer RUNNING) is skipped, like in
    `transition`."""
    by_columns: dict[tuple[str, ...], list[ClaimedChange]] = {}
    for change in claimed:
        by_columns.setdefault(tuple(sorted(change.values)), []).append(change)
    postgres = session.get_bind().dialect.name == "postgresql"
    moved: list[Execution] = []
    for columns, changes in by_columns.items():
        if postgres:
            rows = await _update_claimed_together(session, columns, changes)
        else:
            rows = [row for change in changes for row in await _update_claimed(session, change)]
        # Detached and partial: each carries what its event needs, nothing more.
        moved.extend(Execution(**row) for row in rows)
    if not moved:
        return []
    return await account(
        session, moved, dict.fromkeys((e.id for e in moved), ExecutionStatus.RUNNING), now
    )


async def _update_claimed_together(
    session: AsyncSession, columns: tuple[str, ...], changes: Sequence[ClaimedChange]
) -> Sequence[RowMapping]:
    """One UPDATE for changes setting the same columns, each column's values as an array."""
    parameters: dict[str, list[Any]] = {
        "claimed_matched_id": [c.execution_id for c in changes],
        "claimed_matched_token": [c.claim_token for c in changes],
    }
    for name in columns:
        column_values = [c.values[name] for c in changes]
        if _is_json(name):
            column_values = [json.dumps(value) for value in column_values]
        parameters[f"claimed_{name}"] = column_values
    result = await session.execute(
        _claimed_together_statement(columns), parameters, execution_options=_NO_SESSION_SYNC
    )
    return result.mappings().all()


@functools.cache
def _claimed_together_statement(columns: tuple[str, ...]) -> Update:
    # UPDATE ... FROM unnest($1::varchar[], ...): one statement text whatever the number
    # of rows, so it is compiled and prepared once (a VALUES list is compiled every time).
    table = Execution.__table__.c
    # The match columns get names of their own: "claim_token" is also a column being set.
    names = ("matched_id", "matched_token", *columns)
    keys = ("id", "claim_token", *columns)
    # JSON documents travel as text (an array of lists would read as a 2-D array).
    claimed = (
        func.unnest(
            *(
                bindparam(
                    f"claimed_{name}",
                    type_=postgresql.ARRAY(Text if _is_json(key) else table[key].type),
                )
                for name, key in zip(names, keys, strict=True)
            )
        )
        .table_valued(*names)
        .render_derived(name="claimed")
    )
    return (
        update(Execution)
        .where(
            Execution.id == claimed.c.matched_id,
            Execution.claim_token == claimed.c.matched_token,
            Execution.status == ExecutionStatus.RUNNING,
        )
        .values(
            {
                name: cast(claimed.c[name], JSON) if _is_json(name) else claimed.c[name]
                for name in columns
            }
        )
        .returning(*_EXECUTION_SUMMARY)
    )


def _is_json(name: str) -> bool:
    return isinstance(Execution.__table__.c[name].type, JSON)


async def _update_claimed(session: AsyncSession, change: ClaimedChange) -> Sequence[RowMapping]:
    statement = (
        update(Execution)
        .where(
            Execution.id == change.execution_id,
            Execution.claim_token == change.claim_token,
            Execution.status == ExecutionStatus.RUNNING,
        )
        .values(**change.values)
        .returning(*_EXECUTION_SUMMARY)
    )
    result = await session.execute(statement, execution_options=_NO_SESSION_SYNC)
    return result.mappings().all()


async def account(
    session: AsyncSession,
    moved: Sequence[Execution],
    source_of: dict[str, str],
    now: datetime,
    *,
    cancelled_job: str | None = None,
) -> list[ExecutionChange]:
    """Update each touched job's counters and event sequence for `moved` executions (each
    now in its new status, previously in `source_of[id]`): one job-row UPDATE per job, in
    the caller's transaction. Returns one change per execution, in sequence order per job."""
    by_job: dict[str, list[Execution]] = {}
    for execution in sorted(moved, key=lambda e: (e.job_id, e.position)):
        by_job.setdefault(execution.job_id, []).append(execution)
    if cancelled_job is not None:
        by_job.setdefault(cancelled_job, [])
    changes: list[ExecutionChange] = []
    for job_id, executions in by_job.items():
        sources = [source_of[e.id] for e in executions]
        moves = Counter(
            (source, execution.status)
            for source, execution in zip(sources, executions, strict=True)
        )
        job, status_before = await _apply_counts(
            session, job_id, moves, now, cancelled=job_id == cancelled_job
        )
        changes.extend(_changes(job, executions, sources, status_before))
    return changes
