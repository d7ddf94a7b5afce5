"""The live progress subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import field
from functools import partial

import strawberry

from beacon_gql.db.models import Job
from beacon_gql.events.hub import ExecutionSummary
from beacon_gql.jobs.progress_stream import ProgressUpdate
from beacon_gql.schema.context import Info
from beacon_gql.schema.shared_render import Renders, shared_event
from beacon_gql.schema.types import ExecutionType, JobProgressType, JobType


@strawberry.type(name="JobProgressEvent")
class JobProgressEventType:
    sequence: int = strawberry.field(description="Per job, increasing.")
    job: JobType
    progress: JobProgressType
    execution: ExecutionType | None = strawberry.field(
        description="The execution that changed; null in the snapshot."
    )
    renders: strawberry.Private[Renders] = field(default_factory=Renders)

    @classmethod
    def of(cls, update: ProgressUpdate) -> JobProgressEventType:
        job = update.job
        if update.execution is not None:
            job = _job_as_of(update)
        execution: ExecutionSummary | None = update.execution
        return cls(
            sequence=update.sequence,
            job=JobType(row=job),
            progress=JobProgressType.of(update.progress),
            execution=None if execution is None else ExecutionType(source=execution),
        )


def _job_as_of(update: ProgressUpdate) -> Job:
    """The snapshot's job row, moved on to this event's status and counts."""
    progress = update.progress
    copy = Job(**{column.key: getattr(update.job, column.key) for column in Job.__table__.columns})
    copy.status = update.job_status
    copy.pending_count = progress.pending
    copy.running_count = progress.running
    copy.completed_count = progress.completed
    copy.failed_count = progress.failed
    copy.cancelled_count = progress.cancelled
    copy.event_sequence = update.sequence
    return copy


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The current snapshot, then one event per execution state change; the last "
        "event carries the job's terminal status, then the stream completes."
    )
    async def job_progress(
        self, info: Info, job_id: strawberry.ID
    ) -> AsyncGenerator[JobProgressEventType, None]:
        async for update in info.context.services.progress.stream(str(job_id)):
            yield shared_event(
                update.source,
                (update.job.id, update.sequence),
                partial(JobProgressEventType.of, update),
            )
