"""Headless Chromium (Debian's package) driven by Playwright, and servers on a chosen port.

Playwright's own browser download cannot run here, so the tests drive the system Chromium at
/usr/bin/chromium (installed by .ci/install-browser.sh). Without it the browser tests skip
locally and fail under CI, where a skip would hide a missing install step.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from beacon_gql.config import Settings
from beacon_gql.web.app import create_app
from tests.support.server import ServedApp

if TYPE_CHECKING:
    from playwright.async_api import ViewportSize

CHROMIUM = Path(os.environ.get("BEACON_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}

COUNT_NAMES = ("expected", "pending", "running", "completed", "failed", "cancelled")


def require_browser() -> None:
    """Skip (locally) or fail (under CI) when Chromium or Playwright is missing."""
    problems = []
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"{CHROMIUM} is missing: run .ci/install-browser.sh")
    try:
        import playwright  # noqa: F401
    except ImportError:
        problems.append("the `playwright` package is missing: pip install -e '.[test]'")
    if not problems:
        return
    message = "browser tests need headless Chromium: " + "; ".join(problems)
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message, allow_module_level=True)


def screenshot_path(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


@asynccontextmanager
async def serve_on(
    settings: Settings, *, port: int = 0, run_worker: bool = True, host: str = "127.0.0.1"
) -> AsyncIterator[ServedApp]:
    """The app on a real uvicorn server at host:port (0 picks a free port), in this loop.

    Unlike tests.support.server.serve_app, the port can be given, so a test can stop a server
    and start a new one where the page expects it.
    """
    app = create_app(settings, run_worker=run_worker)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
        ws_ping_interval=None,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    served: ServedApp | None = None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        # uvicorn exposes no "started" event, only this flag.
        while not server.started:
            if loop.time() > deadline:
                raise TimeoutError("the server did not start within 15 s")
            if task.done():
                task.result()
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        served = ServedApp(f"http://{host}:{bound}", app.state.services)
        yield served
    finally:
        if served is not None:
            await served.client.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


async def server_progress(
    served: ServedApp, job_id: str, *, token: str | None = None
) -> dict[str, Any]:
    """The job's status and progress as the API tells them."""
    data = await served.client.data(
        """query($id: ID!) { job(id: $id) { status
             progress { expected pending running completed failed cancelled } } }""",
        {"id": job_id},
        token=token,
    )
    job: dict[str, Any] = data["job"]
    return job
