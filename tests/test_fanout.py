"""jobProgress fan-out over WebSockets (web/fanout.py, web/outbox.py): one rendering per
distinct operation, the same bytes to every socket, and a client that stops reading costs the
server a bounded queue, then gets the job's latest state when it reads again."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from beacon_gql.config import Settings
from beacon_gql.db.statuses import Progress
from beacon_gql.events.hub import ExecutionSummary, JobEvent
from beacon_gql.web.app import create_app
from beacon_gql.web.fanout import ProgressFanout
from beacon_gql.web.outbox import OUTBOX_LIMIT
from tests.support.jobs import submit_spec
from tests.support.server import serve
from tests.support.specs import Signer, make_spec
from tests.support.ws import subscribe

# The error message as long as a broadcast event allows, asked for ten times: a few hundred
# events (20 MB) fill any socket buffer on the way to the client (Linux lets a loopback
# connection buffer a few MB).
LONG_MESSAGE = "the provider said no. " * 280
COPIES = " ".join(f"copy{n}: error {{ message }}" for n in range(10))
WITH_MESSAGE = (
    "subscription($jobId: ID!) { jobProgress(jobId: $jobId) { sequence job { status } "
    f"progress {{ completed failed }} execution {{ id status error {{ code }} {COPIES} }} }} }}"
)


def event(job_id: str, sequence: int, final: bool) -> JobEvent:
    failed = sequence if final else 0
    return JobEvent(
        job_id=job_id,
        sequence=sequence,
        job_status="FAILED" if final else "RUNNING",
        progress=Progress(1, 0, 0 if final else 1, 0, failed, 0),
        execution=ExecutionSummary(
            id=f"execution-{sequence}",
            job_id=job_id,
            question_id="q",
            model_id="m",
            region="us",
            status="FAILED",
            attempts=1,
            provider_id="sim-us-east",
            classification=None,
            duration_ms=1,
            started_at=None,
            completed_at=None,
            error_code="PROVIDER_ERROR",
            error_message=LONG_MESSAGE,
            error_stage="provider",
            error_transient=False,
            error_provider_id="sim-us-east",
        ),
    )


class SlowClient:
    """A WebSocket client (websockets' sans-I/O protocol over a plain socket) that reads only
    when told to: while it does not, nothing is taken off its socket, whose receive buffer
    is small, so the server's writes back up within a few messages."""

    def __init__(self, base_url: str, protocol: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.protocol = ClientProtocol(
            parse_uri(f"ws://{host}:{port}/graphql"),
            subprotocols=[Subprotocol(protocol)],
            max_size=None,
        )
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.socket.setblocking(False)
        self.loop = asyncio.get_running_loop()
        self._pending: list[object] = []

    async def open(self) -> None:
        await self.loop.sock_connect(self.socket, self.address)
        self.protocol.send_request(self.protocol.connect())
        await self._flush()
        while not isinstance(await self._next_event(), Response):
            pass

    async def send(self, message: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        await self._flush()

    async def receive(self) -> dict[str, Any]:
        """The next message, keep-alives aside."""
        return (await self.receive_text())["message"]

    async def receive_text(self) -> dict[str, Any]:
        """The next message (keep-alives aside): its `type`, `message` and `raw` text."""
        while True:
            event = await self._next_event()
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                message: dict[str, Any] = json.loads(event.data)
                if message["type"] not in ("ka", "ping", "pong"):
                    return {"type": message["type"], "message": message, "raw": event.data.decode()}

    async def _next_event(self) -> object:
        while True:
            if self._pending:
                return self._pending.pop(0)
            data = await self.loop.sock_recv(self.socket, 65536)
            if not data:
                raise ConnectionError("the server closed the connection")
            self.protocol.receive_data(data)
            self._pending.extend(self.protocol.events_received())
            await self._flush()  # pongs, close frames

    async def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            await self.loop.sock_sendall(self.socket, chunk)

    def close(self) -> None:
        self.socket.close()


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_client_that_stops_reading_gets_the_latest_state_from_a_bounded_queue(
    sqlite_settings: Settings, signer: Signer, protocol: str
) -> None:
    app = create_app(sqlite_settings, run_worker=False)
    async with serve(app) as base_url:
        services = app.state.services
        fanout: ProgressFanout = app.state.graphql.fanout
        job_id = await submit_spec(services, signer, make_spec(questions=["math_basic"]))
        client = SlowClient(base_url, protocol)
        try:
            await client.open()
            await client.send({"type": "connection_init", "payload": {}})
            assert (await client.receive())["type"] == "connection_ack"
            start = "start" if protocol == "graphql-ws" else "subscribe"
            payload = {"query": WITH_MESSAGE, "variables": {"jobId": job_id}}
            await client.send({"id": "slow", "type": start, "payload": payload})
            snapshot = await client.receive()
            first = snapshot["payload"]["data"]["jobProgress"]["sequence"]
            (outbox,) = fanout.outboxes()  # it joined its job's feed before its snapshot
            # Another client, which reads everything, says when each event has gone out.
            fast = subscribe(base_url, WITH_MESSAGE, {"jobId": job_id}, protocol=protocol)
            await anext(fast)
            # The slow client reads nothing more while 300 events are published.
            count = 300
            longest = 0
            for sequence in range(first + 1, first + count + 1):
                await services.hub.publish_job_event(
                    event(job_id, sequence, final=sequence == first + count)
                )
                async with asyncio.timeout(30):
                    while (await anext(fast))["jobProgress"]["sequence"] < sequence:
                        pass
                longest = max(longest, len(outbox))
            assert longest <= OUTBOX_LIMIT
            assert outbox.skipped > 0, "the test should have filled the client's socket"

            received = []
            async with asyncio.timeout(30):
                while True:
                    message = await client.receive()
                    if message["type"] == "complete":
                        break
                    if message["type"] in ("next", "data"):
                        assert message["id"] == "slow"
                        received.append(message["payload"]["data"]["jobProgress"])
            await fast.aclose()
        finally:
            client.close()

    sequences = [progress["sequence"] for progress in received]
    assert sequences == sorted(set(sequences))
    assert len(sequences) < count  # it skipped what it could not take in time...
    last = received[-1]  # ...and ends with the job's latest state
    assert last["sequence"] == first + count
    assert last["job"]["status"] == "FAILED"
    assert last["progress"]["failed"] == first + count
    assert last["execution"]["copy9"]["message"] == LONG_MESSAGE


async def test_every_socket_gets_the_same_bytes_but_its_operation_id(
    sqlite_settings: Settings, signer: Signer
) -> None:
    """Two graphql-transport-ws sockets and a graphql-ws one, asking the same: each event's
    payload is the same text on all three; a fourth asking for other fields gets its own."""
    app = create_app(sqlite_settings, run_worker=False)
    async with serve(app) as base_url:
        services = app.state.services
        job_id = await submit_spec(services, signer, make_spec(questions=["math_basic"]))
        other_fields = "subscription($jobId: ID!) { jobProgress(jobId: $jobId) { sequence } }"
        asks = [
            ("graphql-transport-ws", "a", WITH_MESSAGE),
            ("graphql-transport-ws", "b", WITH_MESSAGE),
            ("graphql-ws", "c", WITH_MESSAGE),
            ("graphql-transport-ws", "d", other_fields),
        ]
        clients = [SlowClient(base_url, protocol) for protocol, _, _ in asks]
        texts: dict[str, list[str]] = {operation_id: [] for _, operation_id, _ in asks}
        try:
            for client, (protocol, operation_id, query) in zip(clients, asks, strict=True):
                await client.open()
                await client.send({"type": "connection_init", "payload": {}})
                assert (await client.receive())["type"] == "connection_ack"
                start = "start" if protocol == "graphql-ws" else "subscribe"
                payload = {"query": query, "variables": {"jobId": job_id}}
                await client.send({"id": operation_id, "type": start, "payload": payload})
                snapshot = await client.receive()
                first = snapshot["payload"]["data"]["jobProgress"]["sequence"]
            for sequence in range(first + 1, first + 4):
                await services.hub.publish_job_event(
                    event(job_id, sequence, final=sequence == first + 3)
                )
            async with asyncio.timeout(30):
                for client, (_, operation_id, _) in zip(clients, asks, strict=True):
                    while (text := await client.receive_text())["type"] != "complete":
                        texts[operation_id].append(text["raw"])
        finally:
            for client in clients:
                client.close()

    def payloads(operation_id: str) -> list[str]:
        return [raw[raw.index('"payload":') :] for raw in texts[operation_id]]

    assert len(texts["a"]) == 3
    assert all(
        f'"id":"{operation_id}"' in raw for operation_id in "abcd" for raw in texts[operation_id]
    )
    assert payloads("a") == payloads("b") == payloads("c")
    assert payloads("d") != payloads("a")
    assert [
        json.loads(raw)["payload"]["data"]["jobProgress"]["sequence"] for raw in texts["d"]
    ] == [
        first + 1,
        first + 2,
        first + 3,
    ]
