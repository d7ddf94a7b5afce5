"""Engine and session factory for PostgreSQL (asyncpg) and the embedded SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]
# Opens a connection for Core reads (rows, not ORM objects).
ConnectionFactory = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


def _enable_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the in-process worker writes; busy_timeout
    # makes concurrent writers wait for the lock instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(database_url: str, *, pool_size: int = 20) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url)
        if url.database and url.database != ":memory:":
            # At the first connection, not now: a process that stops before using the
            # database (a bad setting, a taken port) leaves no folder behind.
            folder = Path(url.database).parent
            event.listen(
                engine.sync_engine,
                "do_connect",
                lambda *_: folder.mkdir(parents=True, exist_ok=True),
            )
        event.listen(engine.sync_engine, "connect", _enable_sqlite_pragmas)
        return engine
    # Every connection is kept (no overflow): with 10 kept and 10 more made on demand, 16
    # concurrent job queries opened and closed a connection (TLS attempt, authentication,
    # asyncpg's type introspection) for a third of their reads. The most open at once is
    # the same 20 as before.
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0)
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, a terminated backend) is
    replaced before use. asyncpg notices the closed socket by itself, so this costs no round
    trip; SQLAlchemy's `pool_pre_ping`, used before, cost three on every checkout (BEGIN, a
    ping, ROLLBACK): with three checkouts a job query, most of a small one's answer time."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_read_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for single-statement reads, in autocommit: no BEGIN and ROLLBACK around each
    one. A job query's reads (the job, its executions, its analysis) were 12 round trips
    to the database, most of a small running job's answer time; each read is one statement,
    so a transaction around it gave it nothing."""
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


def create_read_connection_factory(engine: AsyncEngine) -> ConnectionFactory:
    """Connections for single-statement Core reads, in autocommit as the read sessions are.
    A read that returns rows needs no ORM session: the session's own work around a
    statement (its transaction state, the ORM execution path) cost more CPU than a small
    read itself, three times over in each job query."""
    return engine.execution_options(isolation_level="AUTOCOMMIT").connect
