"""Many `jobProgress` subscribers in their own process, for the load test.

    python -m tests.support.load_subscribers --url ws://127.0.0.1:PORT/graphql \
        --subscribers 500 --per-job 3 --deadline 300

Opens `subscribers` WebSocket connections (graphql-transport-ws) and prints `READY` once
every one is acknowledged. Then reads job ids from stdin, one a line, and hands each job to
the next `per-job` subscribers in turn; each subscriber follows its jobs one after another,
each to its final event. At end of input, once every subscriber has followed all its jobs
(or the deadline passed), prints one JSON line: every subscription's events, and every error.

The subscribers run in a process of their own so that the test process, which submits, does
not compete with 500 sockets for one event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

from tests.support.ws import PROGRESS

CONNECT_AT_ONCE = 50


@dataclass
class Followed:
    """What one subscriber saw of one job."""

    subscriber: int
    job_id: str
    sequences: list[int] = field(default_factory=list)
    last: dict[str, Any] | None = None
    snapshot_ms: float | None = None
    completed: bool = False


@dataclass
class Report:
    followed: list[Followed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(
            {
                "errors": self.errors,
                "followed": [
                    {
                        "subscriber": f.subscriber,
                        "job_id": f.job_id,
                        "sequences": f.sequences,
                        "last": f.last,
                        "snapshot_ms": f.snapshot_ms,
                        "completed": f.completed,
                    }
                    for f in self.followed
                ],
            }
        )


class Subscriber:
    def __init__(self, number: int, url: str, report: Report) -> None:
        self.number = number
        self.url = url
        self.report = report
        self.jobs: asyncio.Queue[str | None] = asyncio.Queue()
        self.socket: Any = None

    async def connect(self, gate: asyncio.Semaphore) -> None:
        async with gate:
            # No client keepalive pings: on a saturated machine a late pong is not an error
            # of the server's; the run's deadline bounds a dead connection instead.
            self.socket = await websockets.connect(
                self.url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                max_size=None,
                ping_interval=None,
            )
            await self.socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            message = json.loads(await self.socket.recv())
            if message["type"] != "connection_ack":
                raise RuntimeError(f"subscriber {self.number}: no connection_ack: {message}")

    async def run(self) -> None:
        try:
            operation = 0
            while (job_id := await self.jobs.get()) is not None:
                operation += 1
                await self.follow(str(operation), job_id)
            await self.socket.close()
        except Exception as error:
            self.report.errors.append(f"subscriber {self.number}: {type(error).__name__}: {error}")

    async def follow(self, operation: str, job_id: str) -> None:
        followed = Followed(subscriber=self.number, job_id=job_id)
        self.report.followed.append(followed)
        started = time.perf_counter()
        await self.socket.send(
            json.dumps(
                {
                    "id": operation,
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"jobId": job_id}},
                }
            )
        )
        while True:
            message = json.loads(await self.socket.recv())
            kind = message["type"]
            if kind == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
                continue
            if kind == "pong":
                continue
            if message.get("id") != operation:
                raise RuntimeError(f"message for another operation: {message}")
            if kind == "next":
                payload = message["payload"]
                if payload.get("errors"):
                    raise RuntimeError(f"job {job_id}: {json.dumps(payload['errors'])}")
                event = payload["data"]["jobProgress"]
                if followed.snapshot_ms is None:
                    followed.snapshot_ms = (time.perf_counter() - started) * 1000
                followed.sequences.append(int(event["sequence"]))
                followed.last = event
            elif kind == "complete":
                followed.completed = True
                return
            else:
                raise RuntimeError(f"job {job_id}: {message}")


async def hand_out_jobs(subscribers: list[Subscriber], per_job: int) -> None:
    """Job ids from stdin, each to the next `per_job` subscribers in turn."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    turn = 0
    while line := await reader.readline():
        job_id = line.decode().strip()
        for _ in range(per_job):
            subscribers[turn % len(subscribers)].jobs.put_nowait(job_id)
            turn += 1
    for subscriber in subscribers:
        subscriber.jobs.put_nowait(None)


async def main_async(args: argparse.Namespace) -> None:
    report = Report()
    subscribers = [Subscriber(n, args.url, report) for n in range(args.subscribers)]
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    try:
        async with asyncio.timeout(args.deadline):
            await asyncio.gather(*(s.connect(gate) for s in subscribers))
            print("READY", flush=True)
            await asyncio.gather(
                hand_out_jobs(subscribers, args.per_job), *(s.run() for s in subscribers)
            )
    except TimeoutError:
        report.errors.append(f"deadline of {args.deadline:g} s passed")
    except Exception as error:
        report.errors.append(f"{type(error).__name__}: {error}")
    print(report.as_json(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--per-job", type=int, default=3)
    parser.add_argument("--deadline", type=float, default=300.0)
    args = parser.parse_args()
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        runner = asyncio.Runner()
    with contextlib.suppress(KeyboardInterrupt), runner:
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
