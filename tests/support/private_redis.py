"""A Redis server of the test's own, whose every client connection the test may kill."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.support.processes import free_port


@asynccontextmanager
async def private_redis() -> AsyncIterator[str]:
    """Yields the URL of a fresh, memory-only redis-server on a free loopback port."""
    program = shutil.which("redis-server")
    if program is None:
        pytest.fail("the fault tests need redis-server to run a Redis of their own")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        program,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        stdout=asyncio.subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = aioredis.Redis.from_url(url)
    try:
        async with asyncio.timeout(15):
            while True:
                try:
                    await client.ping()
                    break
                except RedisConnectionError:
                    # Refused until redis-server binds: retry briefly.
                    await asyncio.sleep(0.05)
        yield url
    finally:
        await client.aclose()
        process.terminate()
        await process.wait()
