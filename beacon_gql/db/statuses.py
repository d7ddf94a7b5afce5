"""Job and execution statuses, the terminal set and the progress arithmetic, defined once.

Every room (db/, events/, schema/, execution/, jobs/, analysis/, the web edge) imports
them from here. They are str enums, so a member *is* its stored string: rows, events and
GraphQL values keep the same spelling ("COMPLETED", ...) they always had.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class ExecutionStatus(StrEnum):
    """Where one execution (question x model x region) is."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL_JOB_STATUSES = frozenset(
    {JobStatus.COMPLETED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED}
)
# A job still being worked on (a deadline can pass for it).
LIVE_JOB_STATUSES = frozenset(set(JobStatus) - TERMINAL_JOB_STATUSES)
UNFINISHED_EXECUTION_STATUSES = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)
# Executions that ended without an answer: their error columns say why.
ENDED_WITHOUT_ANSWER = frozenset({ExecutionStatus.FAILED, ExecutionStatus.CANCELLED})


def is_terminal(job_status: str) -> bool:
    return job_status in TERMINAL_JOB_STATUSES


# The job row's counter column for each execution status.
COUNTER_COLUMNS: Mapping[ExecutionStatus, str] = {
    status: f"{status.value.lower()}_count" for status in ExecutionStatus
}


class HasCounters(Protocol):
    """A job row, or the part of one a status change reads back: `expected`, and the
    COUNTER_COLUMNS column of each execution status."""

    @property
    def expected(self) -> int: ...


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
    def of(cls, job: HasCounters) -> Progress:
        return cls.counted(
            job.expected,
            {status: getattr(job, column) for status, column in COUNTER_COLUMNS.items()},
        )

    @classmethod
    def counted(cls, expected: int, counts: Mapping[str, int]) -> Progress:
        """From a count per execution status (missing statuses count zero)."""
        return cls(
            expected,
            *(counts.get(status, 0) for status in ExecutionStatus),
        )

    def counts(self) -> Counter[str]:
        """The count per execution status, to move executions between."""
        return Counter({status: getattr(self, status.value.lower()) for status in ExecutionStatus})


def decide_terminal_status(
    progress: Progress,
    *,
    succeeded_regions: int,
    min_regions: int,
    min_success_rate: float,
    cancelled: bool,
) -> JobStatus:
    """COMPLETED when every execution answered; PARTIAL when the job's thresholds are met
    despite failures; FAILED otherwise. A job cancelled by a person is CANCELLED."""
    if cancelled:
        return JobStatus.CANCELLED
    rate = progress.success_rate or 0.0
    if progress.completed == 0 or succeeded_regions < min_regions or rate < min_success_rate:
        return JobStatus.FAILED
    if progress.completed == progress.expected:
        return JobStatus.COMPLETED
    return JobStatus.PARTIAL
