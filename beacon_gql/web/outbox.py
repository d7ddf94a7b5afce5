"""One WebSocket's queue of pre-encoded messages from the fan-out, bounded however slowly the
client reads.

The fan-out puts a message for every subscriber of an event in one loop and never waits for
a socket. A message for an idle socket is sent there and then: its send is stepped in place
(`_send_now`), and on a socket that can take it (nearly always) it finishes without ever
waiting, so a thousand subscribers cost no task and no trip through the event loop each
(10,000 tasks per event, each living until the event loop got to it, were promoted to the
garbage collector's oldest generation and brought full collections of seconds). A send that
has to wait (the client is not reading and the transport's buffer is full) goes on in a
writer task of that socket, which then sends the rest of its queue in order; it alone
waits. Meanwhile its queue holds at most OUTBOX_LIMIT messages: past
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
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Final

log = logging.getLogger("beacon_gql.fanout")

OUTBOX_LIMIT: Final = 64


class Recipient:
    """One operation on one socket, as the outbox sees it."""

    __slots__ = ("delivered", "written_final")

    def __init__(self) -> None:
        # Set once the operation's last message is written (or can never be: socket gone).
        self.delivered = asyncio.Event()
        self.written_final = False


class _Resumed:
    """Awaiting this goes on with a coroutine that was stepped outside any task and
    suspended on `waiting`: a task awaiting it drives the coroutine from there."""

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting: object) -> None:
        self._coroutine = coroutine
        self._waiting = waiting

    def __await__(self) -> Generator[Any, Any, None]:
        waiting = self._waiting
        while True:
            try:
                value = yield waiting
            except BaseException as error:  # cancellation reaches the coroutine
                try:
                    waiting = self._coroutine.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    waiting = self._coroutine.send(value)
                except StopIteration:
                    return


class Outbox:
    def __init__(
        self, send: Callable[[str], Coroutine[Any, Any, None]], limit: int = OUTBOX_LIMIT
    ) -> None:
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
            self._send_now()

    def _send_now(self) -> None:
        """Sends the queue in place until a send has to wait; that one, and the rest of the
        queue, go on in a writer task."""
        while self._queue and not self.closed:
            recipient, text, last = self._queue.popleft()
            sending = self._send(text)
            try:
                waiting = sending.send(None)
            except StopIteration:
                if last:
                    recipient.written_final = True
                    recipient.delivered.set()
                continue
            except Exception as error:
                recipient.delivered.set()
                self._failed(error)
                return
            self._writer = asyncio.get_running_loop().create_task(
                self._write(_Resumed(sending, waiting), recipient if last else None)
            )
            return

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

    async def _write(self, unfinished: _Resumed, last_of: Recipient | None) -> None:
        try:
            await unfinished
            while True:
                if last_of is not None:
                    last_of.written_final = True
                    last_of.delivered.set()
                if not self._queue:
                    return
                recipient, text, last = self._queue.popleft()
                last_of = recipient if last else None
                await self._send(text)
        except Exception as error:
            self._failed(error)
        finally:
            self._writer = None
            if last_of is not None:
                last_of.delivered.set()  # written, or never will be

    def _failed(self, error: Exception) -> None:
        # The socket is gone (a disconnect, closed by either side).
        log.debug("fan-out send failed: %s", type(error).__name__)
        self.close()

    def close(self) -> None:
        """Nothing more can be written: every queued operation is released."""
        self.closed = True
        for recipient, _, _ in self._queue:
            recipient.delivered.set()
        self._queue.clear()
