"""The in-process backend (``memory://``): single process only, for tests and development.

Nothing to lose, so ``on_reconnect`` callbacks are never called.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from beacon_gql.events.backend import Callback, check_payload


class MemoryBackend:
    """One queue of everything published; a reader gets what was published on the channels
    subscribed when it reads."""

    def __init__(self, url: str) -> None:
        self._subscribed: set[str] = set()
        self._published: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        # Like the other backends: unsubscribing from a channel not subscribed is no error.
        self._subscribed.discard(channel)

    async def publish(self, channel: str, message: str) -> None:
        check_payload(message)
        self._published.put_nowait((channel, message))

    async def publish_many(self, messages: Sequence[tuple[str, str]]) -> None:
        for channel, message in messages:
            await self.publish(channel, message)

    async def next_published(self) -> tuple[str, str]:
        while True:
            channel, message = await self._published.get()
            if channel in self._subscribed:
                return channel, message

    async def ping(self) -> None:
        return None

    def on_reconnect(self, callback: Callback) -> None:
        return None
