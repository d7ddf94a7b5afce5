"""The PostgreSQL backend: LISTEN on one dedicated connection, NOTIFY through another.

LISTEN needs a session, so the URL must not point at a transaction-pooling pgbouncer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias

import asyncpg

from beacon_gql.events.backend import (
    CLOSE_TIMEOUT,
    CONNECT_TIMEOUT,
    HEALTH_INTERVAL,
    HEALTH_TIMEOUT,
    MAX_CHANNEL_BYTES,
    QUERY_TIMEOUT,
    BroadcastUnavailableError,
    ReconnectingBackend,
    check_payload,
    describe_error,
)

log = logging.getLogger("beacon_gql.events.broadcast")


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


class PostgresBackend(ReconnectingBackend):
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
                describe_error(exc),
            )
            self._lost.set()

    async def publish(self, channel: str, message: str) -> None:
        await self.publish_many([(channel, message)])

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for channel, message in messages:
            _check_channel(channel)
            check_payload(message)
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
                raise BroadcastUnavailableError(
                    f"postgres unreachable: {describe_error(exc)}"
                ) from exc

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
                return f"health check failed: {describe_error(exc)}"


async def _close_pg(conn: _PgConnection) -> None:
    try:
        await conn.close(timeout=CLOSE_TIMEOUT)
    except Exception:
        conn.terminate()
