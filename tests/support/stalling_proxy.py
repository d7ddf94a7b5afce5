"""A TCP proxy on loopback that can stop forwarding, to make a server's answers late for real."""

from __future__ import annotations

import asyncio
import contextlib

from tests.support.loopback_proxy import CHUNK, LoopbackProxy


class StallingProxy(LoopbackProxy):
    """Forwards every connection to `upstream`; while `flowing` is clear, what clients send
    waits (and `holding` is set once something does)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        super().__init__(upstream_host, upstream_port)
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.holding = asyncio.Event()

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
        self._spawn(
            self._pipe(reader, upstream_writer, gated=True),
            self._pipe(upstream_reader, writer, gated=False),
        )
