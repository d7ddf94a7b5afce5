"""Job events: what changed, encoded small enough for a NOTIFY, and the per-process fan-out.

A broadcast backend (events/broadcast.py) carries events between processes; this hub does
the local fan-out: one backend subscription per job channel, and per subscriber a bounded
buffer that coalesces to the newest progress when the subscriber falls behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import orjson

from beacon_gql.db.models import Execution
from beacon_gql.db.statuses import Progress
from beacon_gql.db.transitions import ExecutionChange
from beacon_gql.events.backend import BroadcastBackend
from beacon_gql.events.job_list import (
    JOBS_CHANNEL,
    RESYNC,
    JobListEvent,
    JobListSubscription,
)

log = logging.getLogger("beacon_gql.events.hub")

WORK_CHANNEL = "beacon_work"
SUBSCRIBER_BUFFER = 256
ERROR_EXCERPT = 500


def job_channel(job_id: str) -> str:
    # LISTEN channels are identifiers of at most 63 bytes: keep them short and plain.
    return "beacon_job_" + job_id.replace("-", "")


@dataclass(frozen=True)
class ExecutionSummary:
    """The changed execution as carried by an event: everything but the long texts."""

    id: str
    job_id: str
    question_id: str
    model_id: str
    region: str
    status: str
    attempts: int
    provider_id: str | None
    classification: str | None
    duration_ms: int | None
    started_at: datetime | None
    completed_at: datetime | None
    error_code: str | None
    error_message: str | None
    error_stage: str | None
    error_transient: bool | None
    error_provider_id: str | None

    @classmethod
    def of(cls, execution: Execution) -> ExecutionSummary:
        values = {name: getattr(execution, name) for name in _SUMMARY_FIELDS}
        message = execution.error_message
        values["error_message"] = None if message is None else message[:ERROR_EXCERPT]
        return cls(**values)


_SUMMARY_FIELDS = tuple(field.name for field in fields(ExecutionSummary))


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    sequence: int
    job_status: str
    progress: Progress
    execution: ExecutionSummary | None
    # Set on events a subscriber should treat as a fresh snapshot (after a reconnect).
    resync: bool = False

    @classmethod
    def of(cls, change: ExecutionChange) -> JobEvent:
        return cls(
            job_id=change.job_id,
            sequence=change.sequence,
            job_status=change.job_status,
            progress=change.progress,
            execution=ExecutionSummary.of(change.execution),
        )

    def encode(self) -> str:
        return orjson.dumps(self).decode()

    @classmethod
    def decode(cls, text: str) -> JobEvent:
        data: dict[str, Any] = orjson.loads(text)
        execution = data["execution"]
        if execution is not None:
            for key in ("started_at", "completed_at"):
                if execution[key] is not None:
                    execution[key] = datetime.fromisoformat(execution[key])
        return cls(
            job_id=data["job_id"],
            sequence=data["sequence"],
            job_status=data["job_status"],
            progress=Progress(**data["progress"]),
            execution=None if execution is None else ExecutionSummary(**execution),
            resync=data.get("resync", False),
        )


class Subscription:
    """One subscriber's view of a job channel, bounded however slow it reads."""

    def __init__(self, limit: int = SUBSCRIBER_BUFFER) -> None:
        self._events: deque[JobEvent] = deque()
        self._limit = limit
        self._ready = asyncio.Event()
        self.coalesced = 0

    def offer(self, event: JobEvent) -> None:
        if len(self._events) >= self._limit:
            # Falling behind: keep only the newest event, whose progress is current.
            self.coalesced += len(self._events)
            self._events.clear()
        self._events.append(event)
        self._ready.set()

    async def next(self) -> JobEvent:
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()


class EventHub:
    def __init__(self, backend: BroadcastBackend) -> None:
        self._backend = backend
        self._local: dict[str, set[Subscription]] = {}
        self._job_list: set[JobListSubscription] = set()
        self._work_listeners: list[Callable[[], None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._backend.connect()
        await self._backend.subscribe(WORK_CHANNEL)
        await self._backend.subscribe(JOBS_CHANNEL)
        self._backend.on_reconnect(self._resync_all)
        self._listener = asyncio.create_task(self._listen(), name="beacon-event-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._backend.disconnect()

    async def ping(self) -> None:
        await self._backend.ping()

    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._local.values())

    def backend_listen_pid(self) -> int | None:
        """The PostgreSQL backend's LISTEN connection, for operators and fault tests."""
        pid = getattr(self._backend, "listen_pid", None)
        return pid if isinstance(pid, int) else None

    async def _listen(self) -> None:
        while True:
            channel, message = await self._backend.next_published()
            if channel == WORK_CHANNEL:
                for listener in self._work_listeners:
                    listener()
                continue
            if channel == JOBS_CHANNEL:
                self._offer_job_list(message)
                continue
            subscribers = self._local.get(channel)
            if not subscribers:
                continue
            try:
                event = JobEvent.decode(message)
            except (ValueError, KeyError, TypeError):
                log.warning("undecodable event on %s", channel)
                continue
            for subscription in subscribers:
                subscription.offer(event)

    def _offer_job_list(self, message: str) -> None:
        if not self._job_list:
            return
        try:
            event = JobListEvent.decode(message)
        except (ValueError, KeyError, TypeError):
            log.warning("undecodable event on %s", JOBS_CHANNEL)
            return
        for subscription in self._job_list:
            subscription.offer(event)

    def _resync_all(self) -> None:
        """After a reconnect, events may have been missed: ask every subscriber to reload."""
        for follower in self._job_list:
            follower.offer(RESYNC)
        for subscribers in self._local.values():
            marker = JobEvent(
                job_id="",
                sequence=-1,
                job_status="",
                progress=Progress(0, 0, 0, 0, 0, 0),
                execution=None,
                resync=True,
            )
            for subscription in subscribers:
                subscription.offer(marker)

    async def publish_changes(self, changes: Sequence[ExecutionChange]) -> None:
        """Every change its own event, and each job's state after them for the job list,
        all in one round trip to the backend."""
        latest = {change.job_id: change for change in changes}
        await self._backend.publish_many(
            [(job_channel(c.job_id), JobEvent.of(c).encode()) for c in changes]
            + [
                (JOBS_CHANNEL, JobListEvent(c.job_id, c.job_status, c.progress).encode())
                for c in latest.values()
            ]
        )

    async def publish_job_created(self, job_id: str, job_status: str, progress: Progress) -> None:
        event = JobListEvent(job_id, job_status, progress, created=True)
        await self._backend.publish(JOBS_CHANNEL, event.encode())

    @asynccontextmanager
    async def follow_job_list(self) -> AsyncIterator[JobListSubscription]:
        """Every job's creation and changes from now on (the channel is always listened
        to, so this takes no round trip)."""
        subscription = JobListSubscription()
        self._job_list.add(subscription)
        try:
            yield subscription
        finally:
            self._job_list.discard(subscription)

    async def publish_job_event(self, event: JobEvent) -> None:
        await self._backend.publish(job_channel(event.job_id), event.encode())

    async def announce_work(self) -> None:
        await self._backend.publish(WORK_CHANNEL, "1")

    def on_work_announced(self, listener: Callable[[], None]) -> None:
        self._work_listeners.append(listener)

    @asynccontextmanager
    async def subscribe(self, job_id: str) -> AsyncIterator[Subscription]:
        """A subscription to the job's events, live before this returns.

        A channel is in `_local` only while the backend listens to it, so joining or leaving a
        channel that has other local subscribers takes no lock and no round trip. Only the
        first subscriber (LISTEN) and the last (UNLISTEN) take the lock: under load, when every
        round trip is slow, a single lock around every subscribe and unsubscribe queued new
        subscribers for seconds behind other jobs' LISTENs.
        """
        channel = job_channel(job_id)
        subscription = Subscription()
        if channel in self._local:
            self._local[channel].add(subscription)
        else:
            async with self._lock:
                if channel not in self._local:
                    await self._backend.subscribe(channel)
                    self._local[channel] = set()
                self._local[channel].add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._local.get(channel, set())
            subscribers.discard(subscription)
            if not subscribers:
                async with self._lock:
                    # Someone may have joined while this waited for the lock.
                    if channel in self._local and not self._local[channel]:
                        del self._local[channel]
                        await self._backend.unsubscribe(channel)
