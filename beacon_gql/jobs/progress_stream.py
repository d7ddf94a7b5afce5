"""The live progress of one job: a snapshot, then every change, then the end.

The subscription is opened before the snapshot is read, and events not newer than what
was already sent are dropped, so nothing falls between the two. Whenever the stream may
have missed something (the broadcast connection came back, or it has been quiet for a
while: 5 s, then twice as long each time nothing changed, up to 30 s), it re-reads the job and
sends a fresh snapshot if the job moved on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from sqlalchemy.exc import SQLAlchemyError

from beacon_gql.db.models import Job
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES, Progress
from beacon_gql.errors import NotFound
from beacon_gql.events.hub import EventHub, ExecutionSummary, JobEvent
from beacon_gql.jobs.reading import JobReader
from beacon_gql.jobs.shared_reads import SharedReads
from beacon_gql.telemetry import active_subscription

log = logging.getLogger("beacon_gql.progress")

QUIET_RECHECK_SECONDS = 5.0
# While a job stays quiet (waiting in a long queue, say), each re-read that finds nothing new
# doubles the wait before the next one, up to this. With a fixed 5 s every open subscription
# kept reading the database however idle its job; in tests/test_load.py, with jobs queued for
# up to a minute, those reads competed for the API's connection pool with submissions and
# snapshots, and a subscriber got INTERNAL_SERVER_ERROR from a pool timeout.
QUIET_RECHECK_MAX_SECONDS = 30.0
GAP_WAIT_SECONDS = 1.0


@dataclass(frozen=True)
class ProgressUpdate:
    sequence: int
    job: Job
    job_status: str
    progress: Progress
    execution: ExecutionSummary | None
    # The broadcast event this update comes from: one object shared by every subscriber of
    # the job in this process, alive until the last of them has taken it. None in snapshots.
    source: JobEvent | None = None

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
        self,
        hub: EventHub,
        reader: JobReader,
        *,
        recheck_seconds: float = QUIET_RECHECK_SECONDS,
        max_recheck_seconds: float = QUIET_RECHECK_MAX_SECONDS,
        gap_seconds: float = GAP_WAIT_SECONDS,
    ) -> None:
        self._hub = hub
        self._reads: SharedReads[str, Job | None] = SharedReads(reader.get)
        self._recheck_seconds = recheck_seconds
        self._max_recheck_seconds = max_recheck_seconds
        self._gap_seconds = gap_seconds

    async def snapshot(self, job_id: str) -> ProgressUpdate:
        """The job as it is now (one read shared by everyone asking at the same time)."""
        job = await self._reads.get(job_id)
        if job is None:
            raise NotFound(f"no job with id {job_id!r}")
        return _snapshot(job)

    async def stream(self, job_id: str, *, counted: bool = True) -> AsyncIterator[ProgressUpdate]:
        """`counted`: the stream is a subscriber's (the active-subscriptions gauge counts
        it); web/fanout.py's one stream per job for many subscribers counts them itself."""
        counting = active_subscription() if counted else contextlib.nullcontext()
        async with self._hub.subscribe(job_id) as subscription, counting:
            update = await self.snapshot(job_id)
            job = update.job
            yield update
            last = update.sequence
            # Events committed in one order can be published in another (each worker task
            # publishes after its own commit): early ones wait, briefly, for the gap to fill.
            early: dict[int, JobEvent] = {}
            gap_deadline = 0.0
            loop = asyncio.get_running_loop()
            quiet_wait = self._recheck_seconds
            while not update.is_final:
                wait = max(0.0, gap_deadline - loop.time()) if early else quiet_wait
                try:
                    event: JobEvent | None = await asyncio.wait_for(subscription.next(), wait)
                except TimeoutError:
                    event = None
                if event is not None and not event.resync:
                    quiet_wait = self._recheck_seconds
                    if event.sequence > last:
                        if not early:
                            gap_deadline = loop.time() + self._gap_seconds
                        early[event.sequence] = event
                    give_up_on_gap = False
                elif early and event is None:
                    give_up_on_gap = True  # the missing event was lost; go on without it
                else:
                    try:
                        fresh = await self._reads.get(job_id)
                    except (SQLAlchemyError, OSError) as error:
                        # The database is away (restarting, failing over): the subscriber
                        # keeps its stream, and the next recheck looks again.
                        log.warning(
                            "progress recheck failed; retrying",
                            extra={"job_id": job_id, "error": type(error).__name__},
                        )
                        continue
                    if fresh is None or fresh.event_sequence <= last:
                        if event is None:
                            quiet_wait = min(2 * quiet_wait, self._max_recheck_seconds)
                        continue
                    quiet_wait = self._recheck_seconds
                    job, update = fresh, _snapshot(fresh)
                    last = update.sequence
                    early = {seq: e for seq, e in early.items() if seq > last}
                    yield update
                    continue
                while early and (min(early) == last + 1 or give_up_on_gap):
                    event = early.pop(min(early))
                    give_up_on_gap = False
                    update = ProgressUpdate(
                        sequence=event.sequence,
                        job=job,
                        job_status=event.job_status,
                        progress=event.progress,
                        execution=event.execution,
                        source=event,
                    )
                    last = update.sequence
                    if update.is_final:
                        # The last event carries the job as it ended (finishedAt and all).
                        job = await self._reads.get(job_id) or job
                        update = replace(update, job=job)
                    yield update
                    if update.is_final:
                        return
                if early:
                    gap_deadline = loop.time() + self._gap_seconds
