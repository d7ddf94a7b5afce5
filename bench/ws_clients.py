"""Many GraphQL subscribers in one process, for the fan-out benchmark.

    python -m bench.ws_clients --url ws://127.0.0.1:8000/graphql --job ID --count 250 \
        --out arrivals.json --deadline 120

Opens `count` WebSocket connections (graphql-transport-ws, the `websockets` package), each
subscribing to `jobProgress(jobId)` as the portal's live dashboard does. Prints `READY n`
once every subscriber got its snapshot, `SEQ s` once every subscriber received the event
of sequence `s`, and `DONE` when every stream completed (or the deadline passed); then
writes, per event sequence, the wall-clock arrival time (time.time()) at each subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import websockets

from bench.common import run_on_uvloop

SUBSCRIPTION = """subscription($jobId: ID!) { jobProgress(jobId: $jobId) {
  sequence job { status }
  progress { expected pending running completed failed cancelled successRate }
  execution { id status region providerId error { code } } } }"""

CONNECT_AT_ONCE = 50


class Clients:
    def __init__(self, count: int) -> None:
        self.count = count
        self.arrivals: dict[int, list[float]] = defaultdict(list)
        self.snapshots = 0
        self.completed = 0
        self.failed: list[str] = []
        self.all_ready = asyncio.Event()

    def say(self, line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    async def one(self, url: str, job_id: str, gate: asyncio.Semaphore, stop: float) -> None:
        try:
            async with gate:
                socket = await websockets.connect(
                    url, subprotocols=["graphql-transport-ws"], max_size=None, ping_interval=None
                )  # type: ignore[list-item]
            async with socket:
                await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
                while json.loads(await socket.recv())["type"] != "connection_ack":
                    pass
                await socket.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {"query": SUBSCRIPTION, "variables": {"jobId": job_id}},
                        }
                    )
                )
                await self._receive(socket, stop)
        except Exception as error:
            self.failed.append(f"{type(error).__name__}: {error}")

    async def _receive(self, socket: Any, stop: float) -> None:
        # One deadline for the whole stream (a timeout per message cost the clients, which
        # share the machine with the server, more than reading the message).
        try:
            async with asyncio.timeout_at(
                asyncio.get_running_loop().time() + stop - time.monotonic()
            ):
                await self._read_stream(socket)
        except TimeoutError:
            return

    async def _read_stream(self, socket: Any) -> None:
        while True:
            raw = await socket.recv()
            arrived = time.time()
            message = orjson.loads(raw)
            kind = message["type"]
            if kind == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif kind == "next":
                payload = message["payload"]
                if payload.get("errors"):
                    raise RuntimeError(json.dumps(payload["errors"]))
                event = payload["data"]["jobProgress"]
                if event["execution"] is None:
                    self.snapshots += 1
                    if self.snapshots == self.count:
                        self.say(f"READY {self.count}")
                    continue
                sequence = int(event["sequence"])
                times = self.arrivals[sequence]
                times.append(arrived)
                if len(times) == self.count:
                    self.say(f"SEQ {sequence}")
            elif kind == "complete":
                self.completed += 1
                return
            elif kind == "error":
                raise RuntimeError(json.dumps(message["payload"]))


async def main_async(args: argparse.Namespace) -> None:
    clients = Clients(args.count)
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    stop = time.monotonic() + args.deadline
    await asyncio.gather(*(clients.one(args.url, args.job, gate, stop) for _ in range(args.count)))
    await asyncio.to_thread(
        Path(args.out).write_text,
        json.dumps(
            {
                "count": args.count,
                "snapshots": clients.snapshots,
                "completed": clients.completed,
                "failed": clients.failed[:20],
                "failures": len(clients.failed),
                "arrivals": {str(seq): times for seq, times in clients.arrivals.items()},
            }
        ),
    )
    clients.say("DONE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--count", type=int, default=250)
    parser.add_argument("--out", required=True)
    parser.add_argument("--deadline", type=float, default=120.0)
    args = parser.parse_args()
    run_on_uvloop(main_async(args))


if __name__ == "__main__":
    main()
