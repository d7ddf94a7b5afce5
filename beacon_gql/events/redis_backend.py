"""The Redis backend: SUBSCRIBE on a dedicated pubsub connection, PUBLISH through a pool."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis import asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from beacon_gql.events.backend import (
    CLOSE_TIMEOUT,
    CONNECT_TIMEOUT,
    HEALTH_INTERVAL,
    HEALTH_TIMEOUT,
    QUERY_TIMEOUT,
    REDIS_POLL,
    BroadcastUnavailableError,
    ReconnectingBackend,
    check_payload,
    describe_error,
)

log = logging.getLogger("beacon_gql.events.broadcast")


_REDIS_TRANSIENT: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    TimeoutError,
)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _check_connected(pubsub: PubSub) -> None:
    """Raise unless the pubsub's connection is still the one we opened.

    redis-py reconnects a closed pubsub connection on its next read or command and quietly
    re-subscribes, hiding the gap in which messages were lost. Called right before each pubsub
    call (with no await in between) this makes that case an error for our own reconnect path,
    which fires on_reconnect.
    """
    connection = pubsub.connection
    if connection is None or not connection.is_connected:
        raise RedisConnectionError("pubsub connection closed")


class RedisBackend(ReconnectingBackend):
    """SUBSCRIBE on a dedicated pubsub connection, PUBLISH through a connection pool."""

    name = "redis"

    def __init__(self, url: str) -> None:
        super().__init__()
        # Per instance, so a test or an operator can find exactly these connections.
        self.client_name = f"beacon_gql.events.broadcast.{secrets.token_hex(4)}"
        options: dict[str, Any] = {
            "client_name": self.client_name,
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_timeout": QUERY_TIMEOUT,
        }
        # No retries inside redis-py: publish() has its own bounded retry.
        self._client = aioredis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)
        # For the pubsub, not even redis-py's reconnect-on-failure (which it does before it
        # looks at the retry count): that reconnect races with our other task using the same
        # connection, and re-subscribes without telling anyone messages were lost.
        self._subscriber = aioredis.Redis.from_url(
            url, retry=Retry(NoBackoff(), 0, supported_errors=()), **options
        )
        self._pubsub: PubSub | None = None
        # Serialises replacing the pubsub with (un)subscribing on it.
        self._lock = asyncio.Lock()
        # Set when a SUBSCRIBE went unconfirmed: the listener then replaces the connection.
        self._suspect = False
        # Channels whose SUBSCRIBE the server has yet to confirm, and who is waiting for it.
        self._confirmations: dict[str, asyncio.Event] = {}
        self._listener: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        await self._open()  # fail fast at startup, as for Postgres
        self._up_since = time.monotonic()
        self._listener = self._start(self._listen())

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        async with self._lock:
            pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await _close_pubsub(pubsub)
        await self._subscriber.aclose()
        await self._client.aclose()

    async def subscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.add(channel)
            pubsub = self._pubsub
            if pubsub is None:
                return  # reconnecting: the new pubsub subscribes it before on_reconnect fires
            confirmed = self._confirmations.setdefault(channel, asyncio.Event())
            if not await self._send(pubsub.subscribe, channel):
                return
        # Redis confirms asynchronously; wait for it so that whatever the caller publishes or
        # reads after this returns is not older than the subscription.
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await confirmed.wait()
        except TimeoutError:
            if self._pubsub is pubsub:  # else a reconnect is under way and will see to it
                log.warning("broadcast SUBSCRIBE unconfirmed backend=redis channel=%s", channel)
                self._suspect = True

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            if self._pubsub is not None:
                await self._send(self._pubsub.unsubscribe, channel)

    async def _send(self, command: Callable[[str], Awaitable[object]], channel: str) -> bool:
        """(Un)subscribe on the live pubsub; on failure leave it to the listener to reconnect."""
        try:
            assert self._pubsub is not None
            _check_connected(self._pubsub)  # see _check_connected: no await before command
            await command(channel)
            return True
        # Not only connection errors: redis-py can also fail with AttributeError when the
        # listener's read tore the dead connection down while we were writing to it.
        except Exception as exc:
            # The caller isn't failed: the channel set is already right, and the reconnect
            # applies it and then fires on_reconnect so subscribers resync.
            log.warning(
                "broadcast (UN)SUBSCRIBE failed backend=redis channel=%s error=%s",
                channel,
                describe_error(exc),
            )
            return False

    async def publish(self, channel: str, message: str) -> None:
        check_payload(message)
        await self._publish_with_retry(
            lambda: self._client.publish(channel, message), _REDIS_TRANSIENT
        )

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for _, message in messages:
            check_payload(message)
        if messages:
            await self._publish_with_retry(
                lambda: self._publish_pipelined(messages), _REDIS_TRANSIENT
            )

    async def _publish_pipelined(self, messages: Sequence[tuple[str, str]]) -> None:
        # One round trip; not a MULTI, so a retry after a partial failure may repeat some
        # (delivery is at most once per connection anyway, and subscribers drop repeats).
        async with self._client.pipeline(transaction=False) as pipe:
            for channel, message in messages:
                pipe.publish(channel, message)
            await pipe.execute()

    async def ping(self) -> None:
        if self._pubsub is None:
            raise BroadcastUnavailableError("redis listener is not connected")
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await self._client.ping()
        except _REDIS_TRANSIENT as exc:
            raise BroadcastUnavailableError(f"redis unreachable: {describe_error(exc)}") from exc

    async def _open(self) -> None:
        pubsub = self._subscriber.pubsub()
        try:
            async with self._lock, asyncio.timeout(CONNECT_TIMEOUT):
                await pubsub.connect()  # type: ignore[no-untyped-call]  # untyped in redis-py
                pending = set(self._channels)
                if pending:
                    await pubsub.subscribe(*pending)
                # Only once the server confirmed every SUBSCRIBE may on_reconnect tell
                # subscribers to reload: a reload before that could miss an event.
                while pending:
                    _check_connected(pubsub)
                    message = await pubsub.get_message(timeout=REDIS_POLL)
                    if message is not None:
                        self._handle(message)
                        if message["type"] == "subscribe":
                            pending.discard(_text(message["channel"]))
                self._pubsub = pubsub
                self._suspect = False
        except BaseException:
            await _close_pubsub(pubsub)
            raise

    async def _listen(self) -> None:
        while True:
            try:
                await self._pump()
            # Whatever broke, this connection can't be trusted any more; a fresh one can.
            except Exception as exc:
                log.warning(
                    "broadcast connection lost backend=redis reason=%s channels=%d",
                    describe_error(exc),
                    len(self._channels),
                )
            async with self._lock:
                dead, self._pubsub = self._pubsub, None
            if dead is not None:
                await _close_pubsub(dead)
            await self._reconnect(self._open)

    async def _pump(self) -> None:
        """Read messages until the connection fails; PING it when idle to notice silent death."""
        pubsub = self._pubsub
        assert pubsub is not None
        heard = pinged = time.monotonic()
        while True:
            if self._suspect:
                raise RedisTimeoutError("a SUBSCRIBE went unconfirmed")
            _check_connected(pubsub)
            message = await pubsub.get_message(timeout=REDIS_POLL)
            now = time.monotonic()
            if message is not None:
                heard = now
                self._handle(message)
            elif now - heard >= HEALTH_INTERVAL:
                if pinged <= heard:
                    _check_connected(pubsub)
                    await pubsub.ping()
                    pinged = now
                elif now - pinged >= HEALTH_TIMEOUT:
                    raise RedisTimeoutError("no reply to PING")

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            self._queue.put_nowait((_text(message["channel"]), _text(message["data"])))
        elif kind == "subscribe":
            confirmed = self._confirmations.pop(_text(message["channel"]), None)
            if confirmed is not None:
                confirmed.set()


async def _close_pubsub(pubsub: PubSub) -> None:
    # Best effort: the connection is usually dead already.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
