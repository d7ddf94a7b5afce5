"""Reads of one job by many subscribers at once, made with as few queries as freshness allows.

A thousand dashboards opening on one job each read its snapshot, and each re-reads it when
the job ends; made one query each, they queue for the connection pool and time out. Here a
caller joins the next read of the job that has not begun yet, so whatever it gets was read
after it asked (for a snapshot: after its subscription was open, so no event falls between
the two). At most one read per job runs at a time, and one waits, shared by every caller
that arrived meanwhile.
"""

from __future__ import annotations

import asyncio

from beacon_gql.db.models import Job
from beacon_gql.jobs.reading import JobReader


class SharedJobReads:
    def __init__(self, reader: JobReader) -> None:
        self._reader = reader
        self._waiting: dict[str, asyncio.Future[Job | None]] = {}
        self._running: dict[str, asyncio.Future[Job | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, job_id: str) -> Job | None:
        read = self._waiting.get(job_id)
        if read is None:
            read = asyncio.get_running_loop().create_future()
            self._waiting[job_id] = read
            task = asyncio.create_task(self._read_after_the_running_one(job_id, read))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: one caller giving up does not cancel the read the others wait for.
        return await asyncio.shield(read)

    async def _read_after_the_running_one(
        self, job_id: str, read: asyncio.Future[Job | None]
    ) -> None:
        running = self._running.get(job_id)
        if running is not None:
            await asyncio.wait([running])
        # From now on, a new caller may have asked after this read began: it waits for the next.
        del self._waiting[job_id]
        self._running[job_id] = read
        try:
            read.set_result(await self._reader.get(job_id))
        except asyncio.CancelledError:
            read.cancel()
            raise
        except Exception as error:
            read.set_exception(error)
        finally:
            del self._running[job_id]
