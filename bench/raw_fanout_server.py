"""The raw baseline of the subscription fan-out: plain Starlette WebSockets + asyncpg LISTEN.

    python -m bench.raw_fanout_server --dsn postgresql://... --port 8124

Speaks just enough graphql-transport-ws for bench/ws_clients.py (connection_init ->
connection_ack; subscribe -> a snapshot `next` read from the jobs table; complete after the
terminal event). One LISTEN connection per process, on the channel the package publishes
each job's events to (`beacon_gql.events.hub.job_channel`); every event is decoded once,
turned into the same `jobProgress` payload the beacon server sends, serialised once per
operation id, and written to every subscriber. No GraphQL execution, no per-subscriber
work beyond the write: the floor of this transport on this machine. Served by uvicorn with
the same options as `beacon-gql serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from beacon_gql.events.hub import job_channel
from bench.common import serve_baseline

TERMINAL = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED"}
SNAPSHOT = """SELECT status, expected, pending_count, running_count, completed_count,
                     failed_count, cancelled_count, event_sequence FROM jobs WHERE id = $1"""


def _progress(counts: dict[str, int]) -> dict[str, Any]:
    finished = counts["completed"] + counts["failed"]
    return {**counts, "successRate": None if finished == 0 else counts["completed"] / finished}


class Subscriber:
    def __init__(self, socket: WebSocket, operation: str, after: int) -> None:
        self.socket = socket
        self.operation = operation
        self.after = after
        self.finished = asyncio.Event()


class Hub:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: asyncpg.Pool | None = None
        self.listener: asyncpg.Connection | None = None
        self.jobs: dict[str, set[Subscriber]] = {}
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=2, max_size=20)
        self.listener = await asyncpg.connect(self.dsn)
        self.task = asyncio.create_task(self._deliver())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.listener is not None:
            await self.listener.close()
        if self.pool is not None:
            await self.pool.close()

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.queue.put_nowait(payload)

    async def subscribe(self, job_id: str, subscriber: Subscriber) -> None:
        assert self.listener is not None
        if job_id not in self.jobs:
            self.jobs[job_id] = set()
            await self.listener.add_listener(job_channel(job_id), self._notified)
        self.jobs[job_id].add(subscriber)

    async def _deliver(self) -> None:
        while True:
            event = orjson.loads(await self.queue.get())
            subscribers = self.jobs.get(event["job_id"])
            if not subscribers:
                continue
            execution = event["execution"]
            error = None
            if execution["status"] in ("FAILED", "CANCELLED") and execution["error_code"]:
                error = {"code": execution["error_code"]}
            data = {
                "jobProgress": {
                    "sequence": event["sequence"],
                    "job": {"status": event["job_status"]},
                    "progress": _progress(event["progress"]),
                    "execution": {
                        "id": execution["id"],
                        "status": execution["status"],
                        "region": execution["region"],
                        "providerId": execution["provider_id"],
                        "error": error,
                    },
                }
            }
            final = event["job_status"] in TERMINAL
            encoded: dict[str, str] = {}
            for subscriber in list(subscribers):
                if event["sequence"] <= subscriber.after:
                    continue
                text = encoded.get(subscriber.operation)
                if text is None:
                    text = orjson.dumps(
                        {"type": "next", "id": subscriber.operation, "payload": {"data": data}}
                    ).decode()
                    encoded[subscriber.operation] = text
                try:
                    await subscriber.socket.send_text(text)
                    if final:
                        await subscriber.socket.send_text(
                            json.dumps({"type": "complete", "id": subscriber.operation})
                        )
                except (WebSocketDisconnect, RuntimeError):
                    final = True
                if final:
                    subscribers.discard(subscriber)
                    subscriber.finished.set()


def create_app(dsn: str) -> Starlette:
    hub = Hub(dsn)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    async def graphql(socket: WebSocket) -> None:
        await socket.accept(subprotocol="graphql-transport-ws")
        subscriber: Subscriber | None = None
        try:
            while subscriber is None:
                message = json.loads(await socket.receive_text())
                if message["type"] == "connection_init":
                    await socket.send_text('{"type":"connection_ack"}')
                elif message["type"] == "subscribe":
                    job_id = message["payload"]["variables"]["jobId"]
                    assert hub.pool is not None
                    row = await hub.pool.fetchrow(SNAPSHOT, job_id)
                    counts = {
                        "expected": row["expected"],
                        "pending": row["pending_count"],
                        "running": row["running_count"],
                        "completed": row["completed_count"],
                        "failed": row["failed_count"],
                        "cancelled": row["cancelled_count"],
                    }
                    subscriber = Subscriber(socket, message["id"], row["event_sequence"])
                    await hub.subscribe(job_id, subscriber)
                    snapshot = {
                        "jobProgress": {
                            "sequence": row["event_sequence"],
                            "job": {"status": row["status"]},
                            "progress": _progress(counts),
                            "execution": None,
                        }
                    }
                    await socket.send_text(
                        orjson.dumps(
                            {"type": "next", "id": message["id"], "payload": {"data": snapshot}}
                        ).decode()
                    )
            receiving = asyncio.create_task(socket.receive_text())
            finished = asyncio.create_task(subscriber.finished.wait())
            await asyncio.wait({receiving, finished}, return_when=asyncio.FIRST_COMPLETED)
            for task in (receiving, finished):
                task.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            if subscriber is not None:
                for subscribers in hub.jobs.values():
                    subscribers.discard(subscriber)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[WebSocketRoute("/graphql", graphql), Route("/health", health)],
        lifespan=lifespan,
    )


def main() -> None:
    serve_baseline(create_app, __doc__ or "")


if __name__ == "__main__":
    main()
