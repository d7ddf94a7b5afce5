"""One WebSocket's queue of pre-encoded messages from the fan-out, bounded however slowly the
client reads.

The fan-out puts a message for every subscriber of an event in one loop and never waits for
a socket: a writer task per socket, started only while the socket has something queued,
sends them in order. A client that stops reading stalls only its own writer (the send waits
for the transport to drain). Meanwhile its queue holds at most OUTBOX_LIMIT messages: past
that it keeps only the newest message of each operation. Progress events are state (each
carries the job's status and counts as of its sequence), so a client that resumes reading
gets the job's latest state and skips what it could not take in time: the same rule as the
event hub's per-subscriber buffer. Server memory for a stalled client is this queue plus the
transport's write buffer, never more.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Final

log = logging.getLogger("beacon_gql.fanout")

OUTBOX_LIMIT: Final = 64


class Recipient:
    """One operation on one socket, as the outbox sees it."""

    __slots__ = ("delivered", "written_final")

    def __init__(self) -> None:
        # Set once the operation's last message is written (or can never be: socket gone).
        self.delivered = asyncio.Event()
        self.written_final = False


class Outbox:
    def __init__(self, send: Callable[[str], Awaitable[None]], limit: int = OUTBOX_LIMIT) -> None:
        self._send = send
        self._limit = limit
        self._queue: deque[tuple[Recipient, str, bool]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.closed = False
        # Messages dropped because the client fell behind (for tests and operators).
        self.skipped = 0

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, recipient: Recipient, text: str, last: bool) -> None:
        """Queue `text` for `recipient`; `last`: its stream ends with this message."""
        if self.closed:
            recipient.delivered.set()
            return
        queue = self._queue
        queue.append((recipient, text, last))
        if len(queue) > self._limit:
            self._keep_newest()
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    def forget(self, recipient: Recipient) -> None:
        """The operation ended on the client's side: nothing more is sent for it."""
        if any(queued is recipient for queued, _, _ in self._queue):
            self._queue = deque(item for item in self._queue if item[0] is not recipient)

    def _keep_newest(self) -> None:
        newest: dict[Recipient, tuple[Recipient, str, bool]] = {}
        for item in self._queue:
            newest.pop(item[0], None)  # re-inserted last: the order of the newest messages
            newest[item[0]] = item
        self.skipped += len(self._queue) - len(newest)
        self._queue = deque(newest.values())

    async def _write(self) -> None:
        try:
            while self._queue:
                recipient, text, last = self._queue.popleft()
                await self._send(text)
                if last:
                    recipient.written_final = True
                    recipient.delivered.set()
        except Exception as error:  # the socket is gone (disconnect, closed by either side)
            log.debug("fan-out send failed: %s", type(error).__name__)
            self.close()
        finally:
            self._writer = None

    def close(self) -> None:
        """Nothing more can be written: every queued operation is released."""
        self.closed = True
        for recipient, _, _ in self._queue:
            recipient.delivered.set()
        self._queue.clear()
