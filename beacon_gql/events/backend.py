"""What every broadcast backend is: the interface, its limits, and what the reconnecting
backends (PostgreSQL, Redis) share: the subscription set, the received queue, the reconnect
loop with its callbacks, and the bounded publish retry.

Delivery is at most once per connection: messages published while a listener is reconnecting
are lost (hence ``on_reconnect``), and a publish retried after a timeout may arrive twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ClassVar, Protocol

log = logging.getLogger("beacon_gql.events.broadcast")

# PostgreSQL rejects NOTIFY payloads of 8000 bytes or more; keep a margin so a message that
# works on one backend works on all of them (events are designed to fit a NOTIFY).
MAX_PAYLOAD_BYTES = 7900
# LISTEN silently truncates longer names while pg_notify() rejects them: refuse them up front.
MAX_CHANNEL_BYTES = 63

BACKOFF_FIRST = 0.1
BACKOFF_CAP = 5.0
# A connection that stayed up this long counts as healthy: the next loss starts the backoff over.
STABLE_AFTER = 10.0
# Termination callbacks don't fire for a half-open TCP connection, so poll as well.
HEALTH_INTERVAL = 2.0
HEALTH_TIMEOUT = 2.0
CONNECT_TIMEOUT = 5.0
QUERY_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
# publish() gives up after this many attempts or this long, whichever comes first.
PUBLISH_ATTEMPTS = 6
PUBLISH_TIMEOUT = 15.0
REDIS_POLL = 0.5

Callback = Callable[[], None]


class BroadcastBackend(Protocol):
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    async def publish(self, channel: str, message: str) -> None: ...
    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        """Publishes (channel, message) pairs in order, in as few round trips as it can."""
        ...

    async def next_published(self) -> tuple[str, str]: ...
    async def ping(self) -> None: ...
    def on_reconnect(self, callback: Callback) -> None: ...


class BroadcastUnavailableError(ConnectionError):
    """The backend could not be reached (publish gave up, or ping failed)."""


def check_payload(message: str) -> None:
    size = len(message.encode())
    if size >= MAX_PAYLOAD_BYTES:
        raise ValueError(f"broadcast payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES - 1}")


def describe_error(exc: BaseException) -> str:
    # redis-py's exception repr is just "network:ConnectionError"; the text says what failed.
    return f"{type(exc).__name__}: {exc}"


class Backoff:
    """Exponential backoff with jitter, so restarted workers don't reconnect in lockstep."""

    def __init__(self) -> None:
        self._next = BACKOFF_FIRST

    def reset(self) -> None:
        self._next = BACKOFF_FIRST

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(BACKOFF_CAP, delay * 2)
        # Half fixed, half random: never close to zero, so a failing loop cannot spin.
        return delay / 2 + random.uniform(0, delay / 2)


class ReconnectingBackend:
    """What the Postgres and Redis backends share: the subscription set, the received queue,
    the reconnect loop with its callbacks, and the bounded publish retry."""

    name: ClassVar[str]

    def __init__(self) -> None:
        # The source of truth for what we listen to; connections come and go, this doesn't.
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._callbacks: list[Callback] = []
        self._backoff = Backoff()
        self._up_since = 0.0

    def on_reconnect(self, callback: Callback) -> None:
        self._callbacks.append(callback)

    async def next_published(self) -> tuple[str, str]:
        while True:
            channel, message = await self._queue.get()
            # Drop what was already queued for a channel unsubscribed since.
            if channel in self._channels:
                return channel, message

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=f"beacon-broadcast-{self.name}")
        task.add_done_callback(self._log_crash)
        return task

    def _log_crash(self, task: asyncio.Task[None]) -> None:
        # Without this a bug in the listener would leave us deaf without a word.
        if not task.cancelled() and task.exception() is not None:
            log.error("broadcast listener crashed backend=%s", self.name, exc_info=task.exception())

    async def _reconnect(self, open_connection: Callable[[], Awaitable[None]]) -> None:
        """Call ``open_connection`` until it succeeds, then tell the subscribers."""
        if time.monotonic() - self._up_since >= STABLE_AFTER:
            self._backoff.reset()
        lost_at = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            # Sleep even before the first attempt: a connection that keeps dying right after
            # it is opened then costs a growing delay, not a tight loop.
            await asyncio.sleep(self._backoff.next_delay())
            try:
                await open_connection()
                break
            except Exception as exc:  # whatever the cause, keep trying: this is our only listener
                level = logging.WARNING if attempt % 10 == 1 else logging.DEBUG
                log.log(
                    level,
                    "broadcast reconnect failed backend=%s attempt=%d error=%s",
                    self.name,
                    attempt,
                    describe_error(exc),
                )
        self._up_since = time.monotonic()
        log.info(
            "broadcast reconnected backend=%s attempts=%d downtime_s=%.2f channels=%d",
            self.name,
            attempt,
            self._up_since - lost_at,
            len(self._channels),
        )
        for callback in list(self._callbacks):
            try:
                callback()
            except Exception:
                log.exception("broadcast on_reconnect callback failed backend=%s", self.name)

    async def _publish_with_retry(
        self,
        publish_once: Callable[[], Awaitable[object]],
        transient: tuple[type[BaseException], ...],
    ) -> None:
        backoff = Backoff()
        attempt = 0
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                while True:
                    attempt += 1
                    try:
                        await publish_once()
                        return
                    except transient as exc:
                        if attempt >= PUBLISH_ATTEMPTS:
                            raise BroadcastUnavailableError(
                                f"{self.name} unreachable after {attempt} publish attempts"
                            ) from exc
                        log.warning(
                            "broadcast publish failed backend=%s attempt=%d error=%s",
                            self.name,
                            attempt,
                            describe_error(exc),
                        )
                    await asyncio.sleep(backoff.next_delay())
        except TimeoutError as exc:
            raise BroadcastUnavailableError(
                f"{self.name} unreachable: publish gave up after {PUBLISH_TIMEOUT:.0f} s"
            ) from exc
