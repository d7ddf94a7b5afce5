"""A TCP proxy on loopback that can stop forwarding, to make a server's answers late for real."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

CHUNK = 65536


class StallingProxy:
    """Forwards every connection to `upstream`; while `flowing` is clear, what clients send
    waits (and `holding` is set once something does)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.holding = asyncio.Event()
        self.port = 0
        self._pipes: set[asyncio.Task[None]] = set()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, gated: bool
    ) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await source.read(CHUNK):
                if gated and not self.flowing.is_set():
                    self.holding.set()
                    await self.flowing.wait()
                sink.write(chunk)
                await sink.drain()
        sink.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        for pipe in (
            self._pipe(reader, upstream_writer, gated=True),
            self._pipe(upstream_reader, writer, gated=False),
        ):
            task = asyncio.create_task(pipe)
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[StallingProxy]:
        server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            for task in list(self._pipes):
                task.cancel()
            await asyncio.gather(*self._pipes, return_exceptions=True)
