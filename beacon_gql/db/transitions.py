"""Every change of an execution's status, with its job's counters and event sequence.

All status changes go through here, in the same transaction as the job-row update, so
pending + running + completed + failed + cancelled = expected holds at every commit and
every process agrees on each job's event sequence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import Execution, Job

TERMINAL_JOB_STATUSES = frozenset({"COMPLETED", "PARTIAL", "FAILED", "CANCELLED"})
_COUNTER = {
    "PENDING": "pending_count",
    "RUNNING": "running_count",
    "COMPLETED": "completed_count",
    "FAILED": "failed_count",
    "CANCELLED": "cancelled_count",
}


@dataclass(frozen=True)
class Progress:
    expected: int
    pending: int
    running: int
    completed: int
    failed: int
    cancelled: int

    @property
    def success_rate(self) -> float | None:
        """completed / (completed + failed); None until something has finished."""
        finished = self.completed + self.failed
        return None if finished == 0 else self.completed / finished

    @property
    def unfinished(self) -> int:
        return self.pending + self.running

    @classmethod
    def of(cls, job: Job) -> Progress:
        return cls(
            expected=job.expected,
            pending=job.pending_count,
            running=job.running_count,
            completed=job.completed_count,
            failed=job.failed_count,
            cancelled=job.cancelled_count,
        )


@dataclass(frozen=True)
class ExecutionChange:
    """One committed status change, as subscribers see it."""

    sequence: int
    job_id: str
    job_status: str
    progress: Progress
    execution: Execution


def decide_terminal_status(
    progress: Progress,
    *,
    succeeded_regions: int,
    min_regions: int,
    min_success_rate: float,
    cancelled: bool,
) -> str:
    """COMPLETED when every execution answered; PARTIAL when the job's thresholds are met
    despite failures; FAILED otherwise. A job cancelled by a person is CANCELLED."""
    if cancelled:
        return "CANCELLED"
    rate = progress.success_rate or 0.0
    if progress.completed == 0 or succeeded_regions < min_regions or rate < min_success_rate:
        return "FAILED"
    return "COMPLETED" if progress.completed == progress.expected else "PARTIAL"


async def _succeeded_regions(session: AsyncSession, job_id: str) -> int:
    count = await session.scalar(
        select(func.count(func.distinct(Execution.region)))
        .where(Execution.job_id == job_id)
        .where(Execution.status == "COMPLETED")
    )
    return int(count or 0)


async def _apply_counts(
    session: AsyncSession,
    job_id: str,
    moves: Counter[tuple[str, str]],
    now: datetime,
    *,
    cancelled: bool = False,
) -> Job:
    deltas: Counter[str] = Counter()
    for (source, target), count in moves.items():
        deltas[_COUNTER[source]] -= count
        deltas[_COUNTER[target]] += count
    values: dict[str, Any] = {
        name: getattr(Job, name) + delta for name, delta in deltas.items() if delta
    }
    values["event_sequence"] = Job.event_sequence + sum(moves.values())
    # Read the clock now that the row is being written, not when the caller started: a
    # writer that waited for SQLite's lock would otherwise move updated_at backwards.
    now = max(now, datetime.now(UTC))
    values["updated_at"] = now
    if any(target == "RUNNING" for _, target in moves):
        values["status"] = _running_unless_terminal()
    job = (
        await session.scalars(
            update(Job).where(Job.id == job_id).values(**values).returning(Job),
            execution_options={"populate_existing": True},
        )
    ).one()
    if cancelled and job.status not in TERMINAL_JOB_STATUSES:
        job.status = "CANCELLED"
        job.finished_at = now
    progress = Progress.of(job)
    if progress.unfinished == 0 and job.status not in TERMINAL_JOB_STATUSES:
        job.status = decide_terminal_status(
            progress,
            succeeded_regions=await _succeeded_regions(session, job_id),
            min_regions=job.min_regions,
            min_success_rate=job.min_success_rate,
            cancelled=False,
        )
        job.finished_at = now
    await session.flush()
    return job


def _running_unless_terminal() -> ColumnElement[str]:
    return case((Job.status == "QUEUED", "RUNNING"), else_=Job.status)


def _changes(
    job: Job, executions: Sequence[Execution], sources: Sequence[str], status_before: str
) -> list[ExecutionChange]:
    """One change per execution, each with the progress right after it, so a subscriber
    sees the counts move one step at a time; only the last carries a terminal status."""
    counts = Counter(
        {
            "PENDING": job.pending_count,
            "RUNNING": job.running_count,
            "COMPLETED": job.completed_count,
            "FAILED": job.failed_count,
            "CANCELLED": job.cancelled_count,
        }
    )
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
                progress=Progress(
                    expected=job.expected,
                    pending=counts["PENDING"],
                    running=counts["RUNNING"],
                    completed=counts["COMPLETED"],
                    failed=counts["FAILED"],
                    cancelled=counts["CANCELLED"],
                ),
                execution=execution,
            )
        )
    return changes


def _in_flight(before: str, after: str) -> str:
    if after not in TERMINAL_JOB_STATUSES:
        return after
    return before if before not in TERMINAL_JOB_STATUSES else "RUNNING"


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
    target = values["status"]
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
    by_job: dict[str, list[Execution]] = {}
    for execution in sorted(moved, key=lambda e: (e.job_id, e.position)):
        by_job.setdefault(execution.job_id, []).append(execution)
    if cancelled_job is not None:
        by_job.setdefault(cancelled_job, [])
    changes: list[ExecutionChange] = []
    for job_id, executions in by_job.items():
        sources = [source_of[e.id] for e in executions]
        status_before = await session.scalar(select(Job.status).where(Job.id == job_id))
        job = await _apply_counts(
            session,
            job_id,
            Counter((source, target) for source in sources),
            now,
            cancelled=job_id == cancelled_job,
        )
        changes.extend(_changes(job, executions, sources, status_before or "RUNNING"))
    return changes
