"""A TCP proxy to PostgreSQL that lets a transaction commit, then cuts its connection before
the server's answer reaches the client: what a server crash right after a commit does (the
commit is durable, the client only sees its connection die), on purpose and every time.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct

from tests.support.loopback_proxy import CHUNK, LoopbackProxy

# Requests a client may send before its startup message; the server answers each with a
# single untyped byte.
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_COMMIT = b"COMMIT;\x00"


class _ClientStream:
    """Splits what a client sends into protocol messages, to see its COMMITs."""

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False

    def messages(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        """The (type, body) of each message `chunk` completes; the untyped ones before the
        startup message have the type b""."""
        self._buffer += chunk
        found: list[tuple[bytes, bytes]] = []
        while True:
            header = 4 if not self._started else 5
            if len(self._buffer) < header:
                return found
            if self._started:
                kind, (length,) = self._buffer[:1], struct.unpack("!i", self._buffer[1:5])
                end = 1 + length
            else:
                kind, (length,) = b"", struct.unpack("!i", self._buffer[:4])
                end = length
            if len(self._buffer) < end:
                return found
            body, self._buffer = self._buffer[header:end], self._buffer[end:]
            if not self._started:
                (code,) = struct.unpack("!i", body[:4])
                self._started = code not in (_SSL_REQUEST, _GSSENC_REQUEST)
            found.append((kind, body))


class CommitCuttingProxy(LoopbackProxy):
    """Forwards every connection to `upstream`. Once armed with `cut_commit_after(marker)`,
    the first connection that sends a statement containing `marker` and then COMMIT has its
    COMMIT go through and the answer dropped with the connection; `cut` is set then."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        super().__init__(upstream_host, upstream_port)
        self.cut = asyncio.Event()
        self._marker: bytes | None = None
        self._marked = False

    def cut_commit_after(self, marker: bytes) -> None:
        self._marker = marker

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        commit_sent = asyncio.Event()

        async def to_server() -> None:
            stream = _ClientStream()
            marked = False
            with contextlib.suppress(ConnectionError):
                while chunk := await reader.read(CHUNK):
                    for kind, body in stream.messages(chunk):
                        if self._marker is not None and not self._marked and self._marker in body:
                            # One connection only: the first to send it.
                            self._marked = marked = True
                        elif marked and kind == b"Q" and body == _COMMIT:
                            # Set before the COMMIT leaves: its answer cannot come earlier.
                            commit_sent.set()
                    upstream_writer.write(chunk)
                    await upstream_writer.drain()
            upstream_writer.close()

        async def to_client() -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await upstream_reader.read(CHUNK):
                    if commit_sent.is_set():
                        # The server answers a COMMIT once it is durable: the transaction
                        # stands, and the client never hears of it.
                        self.cut.set()
                        break
                    writer.write(chunk)
                    await writer.drain()
            writer.close()
            upstream_writer.close()

        self._spawn(to_server(), to_client())
