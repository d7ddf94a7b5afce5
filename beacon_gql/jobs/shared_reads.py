"""Reads that many callers want at once, made with as few queries as freshness allows.

A thousand dashboards opening on one job each read its snapshot, and each re-reads it when
the job ends; a burst of requests for a finished job's cached answer each check the job's
version. Made one query each, they queue for the connection pool. Here a caller joins the
next read of the same key that has not begun yet, so whatever it gets was read after it
asked (for a snapshot: after its subscription was open, so no event falls between the two).
At most one read per key runs at a time, and one waits, shared by every caller that arrived
meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


class SharedReads(Generic[Key, Value]):
    def __init__(self, read: Callable[[Key], Awaitable[Value]]) -> None:
        self._read = read
        self._waiting: dict[Key, asyncio.Future[Value]] = {}
        self._running: dict[Key, asyncio.Future[Value]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, key: Key) -> Value:
        read = self._waiting.get(key)
        if read is None:
            read = asyncio.get_running_loop().create_future()
            self._waiting[key] = read
            task = asyncio.create_task(self._read_after_the_running_one(key, read))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # Shielded: one caller giving up does not cancel the read the others wait for.
        return await asyncio.shield(read)

    async def _read_after_the_running_one(self, key: Key, read: asyncio.Future[Value]) -> None:
        running = self._running.get(key)
        if running is not None:
            await asyncio.wait([running])
        # From now on, a new caller may have asked after this read began: it waits for the next.
        del self._waiting[key]
        self._running[key] = read
        try:
            read.set_result(await self._read(key))
        except asyncio.CancelledError:
            read.cancel()
            raise
        except Exception as error:
            read.set_exception(error)
        finally:
            del self._running[key]
