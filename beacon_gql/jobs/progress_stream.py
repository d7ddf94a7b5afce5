"""The live progress of one job: a snapshot, then every change, then the end.

The subscription is opened before the snapshot is read, and events not newer than what
was already sent are dropped, so nothing falls between the two. Whenever the stream may
have missed something (the broadcast connection came back, or it has been quiet for a
while), it re-reads the job and sends a fresh snapshot if the job moved on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from beacon_gql.db.models import Job
from beacon_gql.db.transitions import TERMINAL_JOB_STATUSES, Progress
from beacon_gql.errors import NotFound
from beacon_gql.events import EventHub, ExecutionSummary, JobEvent
from beacon_gql.jobs.reading import JobReader

QUIET_RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class ProgressUpdate:
    sequence: int
    job: Job
    job_status: str
    progress: Progress
    execution: ExecutionSummary | None

    @property
    def is_final(self) -> bool:
        return self.job_status in TERMINAL_JOB_STATUSES


def _snapshot(job: Job) -> ProgressUpdate:
    return ProgressUpdate(
        sequence=job.event_sequence,
        job=job,
        job_status=job.status,
        progress=Progress.of(job),
        execution=None,
    )


class ProgressStreams:
    def __init__(
        self, hub: EventHub, reader: JobReader, *, recheck_seconds: float = QUIET_RECHECK_SECONDS
    ) -> None:
        self._hub = hub
        self._reader = reader
        self._recheck_seconds = recheck_seconds

    async def stream(self, job_id: str) -> AsyncIterator[ProgressUpdate]:
        async with self._hub.subscribe(job_id) as subscription:
            job = await self._reader.get(job_id)
            if job is None:
                raise NotFound(f"no job with id {job_id!r}")
            update = _snapshot(job)
            yield update
            last = update.sequence
            while not update.is_final:
                try:
                    event: JobEvent | None = await asyncio.wait_for(
                        subscription.next(), self._recheck_seconds
                    )
                except TimeoutError:
                    event = None
                if event is None or event.resync:
                    fresh = await self._reader.get(job_id)
                    if fresh is None or fresh.event_sequence <= last:
                        continue
                    job = fresh
                    update = _snapshot(fresh)
                elif event.sequence <= last:
                    continue
                else:
                    update = ProgressUpdate(
                        sequence=event.sequence,
                        job=job,
                        job_status=event.job_status,
                        progress=event.progress,
                        execution=event.execution,
                    )
                last = update.sequence
                yield update
