"""Changes to the list of jobs, for whoever follows every job at once (the dashboard's job
list): one event when a job is created, and one per job after each batch of its execution
changes (its status and progress then). Far fewer than the per-job progress events, and
carried on one broadcast channel shared by every process.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from beacon_gql.db.statuses import Progress

JOBS_CHANNEL = "beacon_jobs"
SUBSCRIBER_BUFFER = 256


@dataclass(frozen=True)
class JobListEvent:
    job_id: str
    job_status: str
    progress: Progress
    created: bool = False
    # Events may have been missed (a lost broadcast connection, a subscriber too slow):
    # the list is to be read afresh. job_id, status and progress mean nothing then.
    resync: bool = False

    def encode(self) -> str:
        return orjson.dumps(self).decode()

    @classmethod
    def decode(cls, text: str) -> JobListEvent:
        data: dict[str, Any] = orjson.loads(text)
        return cls(
            job_id=data["job_id"],
            job_status=data["job_status"],
            progress=Progress(**data["progress"]),
            created=bool(data.get("created", False)),
            resync=bool(data.get("resync", False)),
        )


RESYNC = JobListEvent(job_id="", job_status="", progress=Progress(0, 0, 0, 0, 0, 0), resync=True)


class JobListSubscription:
    """One follower's events, bounded: one that falls behind gets a single RESYNC instead
    of a backlog (coalescing, as per-job streams do, would drop other jobs' changes)."""

    def __init__(self, limit: int = SUBSCRIBER_BUFFER) -> None:
        self._events: deque[JobListEvent] = deque()
        self._limit = limit
        self._ready = asyncio.Event()

    def offer(self, event: JobListEvent) -> None:
        if len(self._events) >= self._limit:
            self._events.clear()
            event = RESYNC
        self._events.append(event)
        self._ready.set()

    async def next(self) -> JobListEvent:
        while not self._events:
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()
