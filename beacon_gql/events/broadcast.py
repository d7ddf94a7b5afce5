"""Cross-process pub/sub for job events, with backends that survive a lost connection.

broadcaster's stock backends don't reconnect: its Postgres backend uses one asyncpg connection
for both LISTEN and NOTIFY and simply stops receiving when that connection dies, and its Redis
listener task dies silently on ConnectionError. Either way the process keeps running, deaf to
every event. So the Postgres and Redis backends here are our own: they notice a lost listening
connection (termination callback or failed health check), reconnect with exponential backoff and
jitter, re-subscribe every channel and then call the ``on_reconnect`` callbacks, because
whatever was published in the gap is gone and subscribers must reload their state. Publishing
retries on a fresh connection a bounded number of times. broadcaster's in-memory backend is
fine and is reused for ``memory://``.

Delivery is at most once per connection: messages published while the listener is reconnecting
are lost (hence ``on_reconnect``), and a publish retried after a timeout may arrive twice.
LISTEN needs a session, so the Postgres URL must not point at a transaction-pooling pgbouncer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ClassVar, Protocol, TypeAlias
from urllib.parse import urlsplit

import asyncpg
from broadcaster._backends.memory import MemoryBackend as _BroadcasterMemoryBackend
from redis import asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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


def create_backend(url: str) -> BroadcastBackend:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "memory":
        return MemoryBackend(url)
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return PostgresBackend(url)
    if scheme in ("redis", "rediss"):
        return RedisBackend(url)
    # Name the scheme only: the URL may carry a password.
    raise ValueError(
        f"unsupported broadcast URL scheme {scheme!r}; supported: memory://, postgres://, "
        "postgresql://, postgresql+asyncpg://, redis://, rediss://"
    )


def _check_payload(message: str) -> None:
    size = len(message.encode())
    if size >= MAX_PAYLOAD_BYTES:
        raise ValueError(f"broadcast payload is {size} bytes; the limit is {MAX_PAYLOAD_BYTES - 1}")


def _describe(exc: BaseException) -> str:
    # redis-py's exception repr is just "network:ConnectionError"; the text says what failed.
    return f"{type(exc).__name__}: {exc}"


class _Backoff:
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


class MemoryBackend:
    """Single-process only (tests, development): broadcaster's MemoryBackend with our interface.

    Nothing to lose, so ``on_reconnect`` callbacks are never called.
    """

    def __init__(self, url: str) -> None:
        self._inner = _BroadcasterMemoryBackend(url)

    async def connect(self) -> None:
        await self._inner.connect()

    async def disconnect(self) -> None:
        await self._inner.disconnect()

    async def subscribe(self, channel: str) -> None:
        await self._inner.subscribe(channel)

    async def unsubscribe(self, channel: str) -> None:
        # broadcaster raises KeyError for a channel not subscribed; the other backends don't.
        with contextlib.suppress(KeyError):
            await self._inner.unsubscribe(channel)

    async def publish(self, channel: str, message: str) -> None:
        _check_payload(message)
        await self._inner.publish(channel, message)

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for channel, message in messages:
            await self.publish(channel, message)

    async def next_published(self) -> tuple[str, str]:
        event = await self._inner.next_published()
        return event.channel, event.message

    async def ping(self) -> None:
        return None

    def on_reconnect(self, callback: Callback) -> None:
        return None


class _ReconnectingBackend:
    """What the Postgres and Redis backends share: the subscription set, the received queue,
    the reconnect loop with its callbacks, and the bounded publish retry."""

    name: ClassVar[str]

    def __init__(self) -> None:
        # The source of truth for what we listen to; connections come and go, this doesn't.
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._callbacks: list[Callback] = []
        self._backoff = _Backoff()
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
                    _describe(exc),
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
        backoff = _Backoff()
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
                            _describe(exc),
                        )
                    await asyncio.sleep(backoff.next_delay())
        except TimeoutError as exc:
            raise BroadcastUnavailableError(
                f"{self.name} unreachable: publish gave up after {PUBLISH_TIMEOUT:.0f} s"
            ) from exc


# Errors meaning "this connection (or the server) is gone", as opposed to a bad statement.
_PG_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, "starting up"
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    # After pg_terminate_backend the server's FATAL message can reach an idle connection
    # before its socket closes; the next query then fails with this instead.
    asyncpg.exceptions.InternalClientError,
)

# A string: asyncpg's Connection is generic only in its stubs.
_PgConnection: TypeAlias = "asyncpg.Connection[asyncpg.Record]"


def _check_channel(channel: str) -> None:
    if not channel or len(channel.encode()) > MAX_CHANNEL_BYTES:
        raise ValueError(f"channel names must be 1 to {MAX_CHANNEL_BYTES} bytes: {channel!r}")


class PostgresBackend(_ReconnectingBackend):
    """LISTEN on one dedicated connection, NOTIFY through another.

    Separate connections so that publishing never waits behind, or dies with, the listener.
    """

    name = "postgres"

    def __init__(self, url: str) -> None:
        super().__init__()
        # asyncpg wants a plain libpq URL; SQLAlchemy-style URLs name the driver.
        self._dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._listen: _PgConnection | None = None
        # asyncpg allows one operation at a time per connection: LISTEN/UNLISTEN and the
        # health check take turns, and so do publishes.
        self._listen_lock = asyncio.Lock()
        self._notify: _PgConnection | None = None
        self._notify_lock = asyncio.Lock()
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def listen_pid(self) -> int | None:
        """Server pid of the LISTEN connection, None while reconnecting (for tests and ops)."""
        return None if self._listen is None else self._listen.get_server_pid()

    @property
    def notify_pid(self) -> int | None:
        """Server pid of the NOTIFY connection, None until the first publish or ping."""
        return None if self._notify is None else self._notify.get_server_pid()

    async def connect(self) -> None:
        # Fail fast at startup: an unreachable database here is a configuration problem.
        await self._open_listener()
        self._up_since = time.monotonic()
        self._supervisor = self._start(self._supervise())

    async def disconnect(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
            self._supervisor = None
        listen, self._listen = self._listen, None
        notify, self._notify = self._notify, None
        for conn in (listen, notify):
            if conn is not None:
                await _close_pg(conn)

    async def subscribe(self, channel: str) -> None:
        _check_channel(channel)
        async with self._listen_lock:
            self._channels.add(channel)
            # While reconnecting there is no connection; the new one LISTENs to every channel
            # in the set before on_reconnect fires.
            if self._listen is not None:
                await self._listen_change(self._listen.add_listener, channel)

    async def unsubscribe(self, channel: str) -> None:
        async with self._listen_lock:
            self._channels.discard(channel)
            if self._listen is not None:
                await self._listen_change(self._listen.remove_listener, channel)

    async def _listen_change(
        self, change: Callable[[str, Any], Awaitable[None]], channel: str
    ) -> None:
        try:
            async with asyncio.timeout(QUERY_TIMEOUT):
                await change(channel, self._on_notification)
        except _PG_TRANSIENT as exc:
            # Don't fail the caller: the channel set is already right, and the reconnect this
            # triggers applies it and then fires on_reconnect so subscribers resync.
            log.warning(
                "broadcast LISTEN/UNLISTEN failed backend=postgres channel=%s error=%s",
                channel,
                _describe(exc),
            )
            self._lost.set()

    async def publish(self, channel: str, message: str) -> None:
        await self.publish_many([(channel, message)])

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for channel, message in messages:
            _check_channel(channel)
            _check_payload(message)
        if messages:
            await self._publish_with_retry(lambda: self._notify_once(messages), _PG_TRANSIENT)

    async def ping(self) -> None:
        if self._listen is None:
            raise BroadcastUnavailableError("postgres listener is not connected")
        async with self._notify_lock:
            try:
                conn = await self._notify_connection()
                await conn.fetchval("SELECT 1", timeout=HEALTH_TIMEOUT)
            except _PG_TRANSIENT as exc:
                self._drop_notify()
                raise BroadcastUnavailableError(f"postgres unreachable: {_describe(exc)}") from exc

    async def _notify_once(self, messages: Sequence[tuple[str, str]]) -> None:
        async with self._notify_lock:
            try:
                conn = await self._notify_connection()
                if len(messages) == 1:
                    await conn.execute(
                        "SELECT pg_notify($1, $2)", *messages[0], timeout=QUERY_TIMEOUT
                    )
                else:
                    # One statement, one transaction, one commit to wait for; a transaction's
                    # notifications are delivered in the order sent, the array's. (Identical
                    # channel + payload pairs in one transaction are delivered once: events
                    # never repeat, each carries its own sequence.)
                    channels, payloads = zip(*messages, strict=True)
                    await conn.execute(
                        "SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS m(c, p)",
                        list(channels),
                        list(payloads),
                        timeout=QUERY_TIMEOUT,
                    )
            # After any failure, even a cancellation (publish's deadline) mid-query, the
            # connection's state is unknown: the next attempt opens a fresh one.
            except BaseException:
                self._drop_notify()
                raise

    async def _notify_connection(self) -> _PgConnection:
        if self._notify is None or self._notify.is_closed():
            self._notify = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT)
        return self._notify

    def _drop_notify(self) -> None:
        if self._notify is not None:
            self._notify.terminate()
            self._notify = None

    def _on_notification(self, connection: object, pid: int, channel: str, payload: object) -> None:
        self._queue.put_nowait((channel, str(payload)))

    def _on_terminated(self, connection: object) -> None:
        # Also fires for connections we closed ourselves: only the current one matters.
        if connection is self._listen:
            self._lost.set()

    async def _open_listener(self) -> None:
        conn = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT)
        try:
            async with self._listen_lock:
                async with asyncio.timeout(QUERY_TIMEOUT):
                    for channel in sorted(self._channels):
                        await conn.add_listener(channel, self._on_notification)
                conn.add_termination_listener(self._on_terminated)
                self._listen = conn
                self._lost.clear()  # any earlier loss was about an earlier connection
        except BaseException:
            conn.terminate()
            raise

    async def _supervise(self) -> None:
        while True:
            reason = await self._wait_for_loss()
            log.warning(
                "broadcast connection lost backend=postgres reason=%s channels=%d",
                reason,
                len(self._channels),
            )
            async with self._listen_lock:
                dead, self._listen = self._listen, None
                self._lost.clear()
            if dead is not None:
                dead.terminate()  # don't wait for a goodbye from a dead socket
            await self._reconnect(self._open_listener)

    async def _wait_for_loss(self) -> str:
        while True:
            try:
                async with asyncio.timeout(HEALTH_INTERVAL):
                    await self._lost.wait()
                return "connection terminated"
            except TimeoutError:
                pass
            try:
                async with self._listen_lock:
                    if self._listen is None or self._listen.is_closed():
                        return "connection closed"
                    await self._listen.fetchval("SELECT 1", timeout=HEALTH_TIMEOUT)
            except Exception as exc:  # whatever broke, this connection can't be trusted
                return f"health check failed: {_describe(exc)}"


async def _close_pg(conn: _PgConnection) -> None:
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except Exception:
        conn.terminate()


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


class RedisBackend(_ReconnectingBackend):
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
                _describe(exc),
            )
            return False

    async def publish(self, channel: str, message: str) -> None:
        _check_payload(message)
        await self._publish_with_retry(
            lambda: self._client.publish(channel, message), _REDIS_TRANSIENT
        )

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for _, message in messages:
            _check_payload(message)
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
            raise BroadcastUnavailableError(f"redis unreachable: {_describe(exc)}") from exc

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
                    _describe(exc),
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
