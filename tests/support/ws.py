"""A real WebSocket GraphQL client speaking either subscription protocol."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import websockets

PROGRESS = """subscription($jobId: ID!) { jobProgress(jobId: $jobId) {
  sequence job { status }
  progress { expected pending running completed failed cancelled successRate }
  execution { id status region providerId error { code } } } }"""


class SubscriptionError(Exception):
    def __init__(self, payload: Any) -> None:
        super().__init__(json.dumps(payload))
        self.payload = payload


async def subscribe(
    base_url: str,
    query: str,
    variables: dict[str, Any],
    *,
    protocol: str = "graphql-transport-ws",
    init_payload: dict[str, Any] | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Yields each result's `data` until the server completes the subscription."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    legacy = protocol == "graphql-ws"
    async with websockets.connect(url, subprotocols=[protocol], max_size=None) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": init_payload or {}}))
        while True:
            ack = json.loads(await socket.recv())
            if ack["type"] == "connection_ack":
                break
        start = "start" if legacy else "subscribe"
        await socket.send(
            json.dumps(
                {"id": "1", "type": start, "payload": {"query": query, "variables": variables}}
            )
        )
        while True:
            message = json.loads(await socket.recv())
            kind = message["type"]
            if kind in ("ka", "ping", "pong"):
                if kind == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                continue
            if kind in ("next", "data"):
                payload = message["payload"]
                if payload.get("errors"):
                    raise SubscriptionError(payload["errors"])
                yield payload["data"]
            elif kind == "error":
                raise SubscriptionError(message["payload"])
            elif kind == "complete":
                return
