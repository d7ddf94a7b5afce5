"""A real uvicorn server on an ephemeral loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from beacon_gql.config import Settings
from beacon_gql.services import Services
from beacon_gql.web.app import create_app
from tests.support.graphql import GraphQLClient


@asynccontextmanager
async def serve(app: ASGIApp, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Yields the base URL, e.g. http://127.0.0.1:41234, once the server accepts."""
    config = uvicorn.Config(
        app,
        host=host,
        port=0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        ws_ping_interval=None,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        deadline = asyncio.get_running_loop().time() + 15
        # uvicorn exposes no "started" event, only this flag.
        while not server.started:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the server did not start within 15 s")
            if task.done():
                task.result()
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


class ServedApp:
    def __init__(self, base_url: str, services: Services) -> None:
        self.base_url = base_url
        self.services = services
        self.client = GraphQLClient(base_url)


@asynccontextmanager
async def serve_app(settings: Settings, *, run_worker: bool) -> AsyncIterator[ServedApp]:
    app = create_app(settings, run_worker=run_worker)
    async with serve(app) as base_url:
        served = ServedApp(base_url, app.state.services)
        try:
            yield served
        finally:
            await served.client.aclose()


@asynccontextmanager
async def serving(settings: Settings, **overrides: Any) -> AsyncIterator[ServedApp]:
    """The app without a worker, with some settings changed."""
    async with serve_app(replace(settings, **overrides), run_worker=False) as served:
        yield served
