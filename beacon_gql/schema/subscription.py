"""The live subscriptions: one job's progress, and the changes to the list of jobs."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import field
from enum import Enum
from functools import partial

import strawberry

from beacon_gql.db.models import Job
from beacon_gql.db.statuses import JobStatus
from beacon_gql.events.hub import ExecutionSummary
from beacon_gql.events.job_list import JobListEvent
from beacon_gql.jobs.job_list_stream import job_list_changes
from beacon_gql.jobs.progress_stream import ProgressUpdate
from beacon_gql.schema.context import Info
from beacon_gql.schema.direct_delivery import direct_delivery
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


@strawberry.enum(description="What a JobsChangedEvent says.")
class JobsChange(Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    RESYNC = "RESYNC"


@strawberry.type(name="JobsChangedEvent")
class JobsChangedEventType:
    kind: JobsChange = strawberry.field(
        description="RESYNC: read the list now (the first event, sent once every later change "
        "will be seen; again whenever changes may have been missed: the server lost its "
        "broadcast connection, or this subscriber fell behind); CREATED: a new job; UPDATED: "
        "a job's status or progress moved. jobId, status and progress are null only for "
        "RESYNC."
    )
    job_id: strawberry.ID | None
    status: JobStatus | None
    progress: JobProgressType | None

    @classmethod
    def of(cls, event: JobListEvent) -> JobsChangedEventType:
        if event.resync:
            return cls(kind=JobsChange.RESYNC, job_id=None, status=None, progress=None)
        return cls(
            kind=JobsChange.CREATED if event.created else JobsChange.UPDATED,
            job_id=strawberry.ID(event.job_id),
            status=JobStatus(event.job_status),
            progress=JobProgressType.of(event.progress),
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The current snapshot, then one event per execution state change; the last "
        "event carries the job's terminal status, then the stream completes."
    )
    async def job_progress(
        self, info: Info, job_id: strawberry.ID
    ) -> AsyncGenerator[JobProgressEventType, None]:
        delivery = direct_delivery.get()
        updates = (
            info.context.services.progress.stream(str(job_id))
            if delivery is None
            else delivery.follow(str(job_id), info.context.services)
        )
        async for update in updates:
            yield shared_event(
                update.source,
                (update.job.id, update.sequence),
                partial(JobProgressEventType.of, update),
            )

    @strawberry.subscription(
        description="RESYNC first, then every job's creation, and each job's status and "
        "progress as they move (at most one event per job per batch of execution changes); "
        "never ends. For lists of jobs; follow one job with jobProgress."
    )
    async def jobs_changed(self, info: Info) -> AsyncGenerator[JobsChangedEventType, None]:
        async for event in job_list_changes(info.context.services.hub):
            yield JobsChangedEventType.of(event)
