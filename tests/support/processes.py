"""Real `beacon-gql` processes for tests that cross process boundaries."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from beacon_gql.config import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "BEACON_DATABASE_URL": settings.database_url,
        "BEACON_BROADCAST_URL": settings.broadcast_url,
        "BEACON_LEASE_SECONDS": str(settings.lease_seconds),
        "BEACON_WORKER_CONCURRENCY": str(settings.worker_concurrency),
    }
    if settings.providers_file is not None:
        env["BEACON_PROVIDERS_FILE"] = str(settings.providers_file)
    if settings.trusted_keys_file is not None:
        env["BEACON_TRUSTED_KEYS_FILE"] = str(settings.trusted_keys_file)
    if settings.signing_key_file is not None:
        env["BEACON_SIGNING_KEY_FILE"] = str(settings.signing_key_file)
    return env


async def wait_until_healthy(base_url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as http, asyncio.timeout(30):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                if (await http.get(f"{base_url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            # Connection refused until uvicorn binds: retry briefly.
            await asyncio.sleep(0.05)


@asynccontextmanager
async def beacon_process(settings: Settings, *args: str, log: Path) -> AsyncIterator[str]:
    """Runs `beacon-gql ARGS`; for `serve`, yields its base URL once it answers /health."""
    port = free_port()
    command = list(args)
    if command[0] == "serve":
        command += ["--port", str(port)]
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "beacon_gql.cli",
            *command,
            env=environment(settings),
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        if command[0] == "serve":
            await wait_until_healthy(base_url, process)
        yield base_url
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 15)
