"""Run the app under uvicorn on a socket bound first, and report a failed start-up plainly.

The socket is bound before the app starts, so a taken port is found before anything is
created or migrated. A start-up error is re-raised as itself (the CLI turns it into one
line) instead of the traceback uvicorn logs and the exit it makes from inside a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beacon_gql.cli.failures import PortInUse


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, or PortInUse saying so."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise PortInUse(f"cannot listen on {host}: {error.strerror}; pass --host") from None
    sock = socket.socket(family, kind, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"{host}:{port} is already in use (another beacon-gql?); stop it or pass --port"
            ) from None
        raise PortInUse(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock


class _StartupCatcher:
    """Keeps the exception that failed the app's start-up instead of letting uvicorn log it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.error: BaseException | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def without_traceback(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                message = {"type": message["type"], "message": ""}
            await send(message)

        try:
            await self.app(scope, receive, without_traceback)
        except Exception as error:
            self.error = error


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], Awaitable[None]]) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            await self._on_listening()


def uvicorn_config(app: ASGIApp, **options: Any) -> uvicorn.Config:
    # The CLI has set up logging (cli/logs.py); uvicorn's own dictConfig would replace it.
    return uvicorn.Config(app, log_config=None, lifespan="on", **options)


async def serve_on(
    sock: socket.socket,
    app: ASGIApp,
    *,
    on_listening: Callable[[], Awaitable[None]],
    **options: Any,
) -> uvicorn.Server:
    """Serve until stopped (SIGINT/SIGTERM or `server.should_exit`); `on_listening` runs once
    the socket accepts connections. A failed start-up raises the app's own exception."""
    catcher = _StartupCatcher(app)
    server = _Server(uvicorn_config(catcher, **options), on_listening)
    with contextlib.suppress(SystemExit):
        # uvicorn exits with STARTUP_FAILURE when the app's start-up failed.
        await server.serve(sockets=[sock])
    if catcher.error is not None and not server.started:
        raise catcher.error
    if not server.started:
        raise RuntimeError("the server stopped before it started")
    return server


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop uvicorn would pick (uvloop when installed)."""
    return uvicorn.Config(app=_no_app, log_config=None).get_loop_factory()


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("only used to choose an event loop")
