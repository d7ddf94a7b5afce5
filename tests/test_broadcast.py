"""Broadcast backends against real PostgreSQL and Redis, including lost connections.

No mocks and no sleeps: every wait is for an event, bounded by a timeout. If PostgreSQL or
Redis is down these tests fail rather than skip: the reconnect logic is the point.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from beacon_gql.events.broadcast import (
    MAX_PAYLOAD_BYTES,
    BroadcastBackend,
    BroadcastUnavailableError,
    PostgresBackend,
    RedisBackend,
    create_backend,
)

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
TIMEOUT = 10.0

URLS = {"memory": "memory://", "postgres": PG_URL, "redis": REDIS_URL}


def channel() -> str:
    return "t_" + uuid.uuid4().hex


async def received(backend: BroadcastBackend) -> tuple[str, str]:
    return await asyncio.wait_for(backend.next_published(), TIMEOUT)


async def reconnected_event(backend: BroadcastBackend) -> asyncio.Event:
    event = asyncio.Event()
    backend.on_reconnect(event.set)
    return event


@pytest.fixture(params=list(URLS), ids=list(URLS))
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[BroadcastBackend]:
    backend = create_backend(URLS[request.param])
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.disconnect()


@pytest.fixture
async def postgres() -> AsyncIterator[PostgresBackend]:
    backend = create_backend(PG_URL)
    assert isinstance(backend, PostgresBackend)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.disconnect()


@pytest.fixture
async def redis_backend() -> AsyncIterator[RedisBackend]:
    backend = create_backend(REDIS_URL)
    assert isinstance(backend, RedisBackend)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.disconnect()


@pytest.fixture
async def pg_admin() -> AsyncIterator[asyncpg.Connection[asyncpg.Record]]:
    conn = await asyncpg.connect(PG_URL)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def redis_admin() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


# --- every backend ---------------------------------------------------------------------------


async def test_publish_reaches_subscriber(backend: BroadcastBackend) -> None:
    name = channel()
    await backend.subscribe(name)
    await backend.publish(name, "hello ünïcode")
    assert await received(backend) == (name, "hello ünïcode")


async def test_unsubscribed_channel_is_not_delivered(backend: BroadcastBackend) -> None:
    left, never, kept = channel(), channel(), channel()
    await backend.subscribe(left)
    await backend.subscribe(kept)
    await backend.unsubscribe(left)
    await backend.publish(left, "after unsubscribe")
    await backend.publish(never, "never subscribed")
    await backend.publish(kept, "marker")
    # Delivery is in publish order, so anything for the other channels would come first.
    assert await received(backend) == (kept, "marker")


async def test_unsubscribe_unknown_channel_is_harmless(backend: BroadcastBackend) -> None:
    await backend.unsubscribe(channel())


async def test_payload_limit(backend: BroadcastBackend) -> None:
    name = channel()
    await backend.subscribe(name)
    with pytest.raises(ValueError):
        await backend.publish(name, "x" * MAX_PAYLOAD_BYTES)
    with pytest.raises(ValueError):  # bytes, not characters
        await backend.publish(name, "é" * (MAX_PAYLOAD_BYTES // 2))
    largest = "x" * (MAX_PAYLOAD_BYTES - 1)
    await backend.publish(name, largest)
    assert await received(backend) == (name, largest)


async def test_ping(backend: BroadcastBackend) -> None:
    await backend.ping()


async def test_disconnect_stops_background_tasks() -> None:
    for url in (PG_URL, REDIS_URL):
        backend = create_backend(url)
        await backend.connect()
        await backend.disconnect()
    leftovers = [
        task for task in asyncio.all_tasks() if task.get_name().startswith("beacon-broadcast")
    ]
    assert leftovers == []


def test_create_backend_schemes() -> None:
    assert isinstance(create_backend("postgres://u@h/db"), PostgresBackend)
    assert isinstance(create_backend("postgresql+asyncpg://u@h/db"), PostgresBackend)
    assert isinstance(create_backend("rediss://h:6380/0"), RedisBackend)
    with pytest.raises(ValueError, match=r"memory://.*redis://"):
        create_backend("amqp://guest:secret@h/")


# --- PostgreSQL ------------------------------------------------------------------------------


async def test_postgres_relistens_after_listen_connection_is_killed(
    postgres: PostgresBackend, pg_admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    names = [channel(), channel()]
    for name in names:
        await postgres.subscribe(name)
    reconnected = await reconnected_event(postgres)
    pid = postgres.listen_pid
    assert pid is not None

    assert await pg_admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    await asyncio.wait_for(reconnected.wait(), TIMEOUT)

    assert postgres.listen_pid not in (None, pid)
    for name in names:
        await postgres.publish(name, "after reconnect")
        assert await received(postgres) == (name, "after reconnect")
    await postgres.ping()


async def test_postgres_health_check_notices_loss_without_termination_callback(
    postgres: PostgresBackend, pg_admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    # Termination callbacks don't fire for every kind of loss (a half-open connection):
    # take ours away so that only the periodic health check can notice.
    listen = postgres._listen
    assert listen is not None
    listen.remove_termination_listener(postgres._on_terminated)
    name = channel()
    await postgres.subscribe(name)
    reconnected = await reconnected_event(postgres)

    assert await pg_admin.fetchval("SELECT pg_terminate_backend($1)", listen.get_server_pid())
    await asyncio.wait_for(reconnected.wait(), TIMEOUT)

    await postgres.publish(name, "after health check")
    assert await received(postgres) == (name, "after health check")


async def test_postgres_subscribe_during_outage_is_kept(
    postgres: PostgresBackend, pg_admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    reconnected = await reconnected_event(postgres)
    assert await pg_admin.fetchval("SELECT pg_terminate_backend($1)", postgres.listen_pid)
    name = channel()
    await postgres.subscribe(name)  # on the dying connection or while there is none
    await asyncio.wait_for(reconnected.wait(), TIMEOUT)

    await postgres.publish(name, "kept")
    assert await received(postgres) == (name, "kept")


async def test_postgres_publish_survives_killed_notify_connection(
    postgres: PostgresBackend, pg_admin: asyncpg.Connection[asyncpg.Record]
) -> None:
    name = channel()
    await postgres.subscribe(name)
    await postgres.publish(name, "first")
    assert await received(postgres) == (name, "first")
    pid = postgres.notify_pid
    assert pid is not None

    assert await pg_admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    await postgres.publish(name, "second")

    assert await received(postgres) == (name, "second")
    assert postgres.notify_pid not in (None, pid)


async def test_postgres_rejects_bad_channel_names(postgres: PostgresBackend) -> None:
    with pytest.raises(ValueError):
        await postgres.subscribe("c" * 64)
    with pytest.raises(ValueError):
        await postgres.publish("", "x")


async def test_postgres_unreachable() -> None:
    backend = create_backend("postgresql://postgres@127.0.0.1:1/test")
    with pytest.raises(OSError):
        await backend.connect()
    with pytest.raises(BroadcastUnavailableError):
        await backend.publish(channel(), "x")
    with pytest.raises(BroadcastUnavailableError):
        await backend.ping()


# --- Redis -----------------------------------------------------------------------------------


async def test_redis_resubscribes_after_pubsub_connection_is_killed(
    redis_backend: RedisBackend, redis_admin: aioredis.Redis
) -> None:
    names = [channel(), channel()]
    for name in names:
        await redis_backend.subscribe(name)
    reconnected = await reconnected_event(redis_backend)

    assert await redis_admin.client_kill_filter(_type="pubsub") >= 1
    await asyncio.wait_for(reconnected.wait(), TIMEOUT)

    for name in names:
        await redis_backend.publish(name, "after reconnect")
        assert await received(redis_backend) == (name, "after reconnect")
    await redis_backend.ping()


async def test_redis_subscribe_during_outage_is_kept(
    redis_backend: RedisBackend, redis_admin: aioredis.Redis
) -> None:
    await redis_backend.subscribe(channel())  # a pubsub connection exists only once subscribed
    reconnected = await reconnected_event(redis_backend)
    assert await redis_admin.client_kill_filter(_type="pubsub") >= 1
    name = channel()
    await redis_backend.subscribe(name)  # on the dying connection or while there is none
    await asyncio.wait_for(reconnected.wait(), TIMEOUT)

    await redis_backend.publish(name, "kept")
    assert await received(redis_backend) == (name, "kept")


async def test_redis_publish_survives_killed_connection(
    redis_backend: RedisBackend, redis_admin: aioredis.Redis
) -> None:
    name = channel()
    await redis_backend.subscribe(name)
    await redis_backend.publish(name, "first")
    assert await received(redis_backend) == (name, "first")
    clients = await redis_admin.client_list(_type="normal")
    ours = [client["id"] for client in clients if client["name"] == redis_backend.client_name]
    assert ours
    for client_id in ours:
        await redis_admin.client_kill_filter(_id=client_id)

    await redis_backend.publish(name, "second")
    assert await received(redis_backend) == (name, "second")


async def test_redis_unreachable() -> None:
    backend = create_backend("redis://127.0.0.1:1/0")
    with pytest.raises(RedisConnectionError):  # redis-py's, not the builtin ConnectionError
        await backend.connect()
    with pytest.raises(BroadcastUnavailableError):
        await backend.publish(channel(), "x")
    with pytest.raises(BroadcastUnavailableError):
        await backend.ping()
