"""jobProgress over real WebSockets: snapshot, every change, the terminal event, the end."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as redis
import websockets
from sqlalchemy import event as sql_event

from beacon_gql.config import Settings
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from tests.support.jobs import executions_of, submit_spec, wait_until_finished
from tests.support.server import ServedApp, serve_app
from tests.support.specs import Signer, make_spec
from tests.support.ws import PROGRESS, SubscriptionError, subscribe

SERVER_PACKAGES = ("beacon_gql", "strawberry", "graphql", "starlette", "uvicorn")
TERMINAL = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED"}


@dataclass
class Live:
    fleet: SimulatorFleet
    app: ServedApp


@pytest.fixture
async def live(settings: Settings, tmp_path: Path) -> AsyncIterator[Live]:
    slow = FaultProfile(latency_ms=30)
    faults = {"sim-us-east": slow, "sim-eu-west": slow, "sim-asia-pacific": slow}
    async with SimulatorFleet(seed=2, faults=faults) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        async with serve_app(replace(settings, providers_file=providers), run_worker=True) as app:
            yield Live(fleet, app)


def assert_invariant(event: dict[str, Any]) -> None:
    p = event["jobProgress"]["progress"]
    assert (
        p["pending"] + p["running"] + p["completed"] + p["failed"] + p["cancelled"] == p["expected"]
    )


async def collect(
    app: ServedApp, job_id: str, within: float = 60, query: str = PROGRESS, **kw: Any
) -> list[dict[str, Any]]:
    events = []
    async with asyncio.timeout(within):
        async for data in subscribe(app.base_url, query, {"jobId": job_id}, **kw):
            events.append(data)
    return events


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_a_subscriber_sees_the_snapshot_every_change_and_the_end(
    live: Live, signer: Signer, protocol: str
) -> None:
    job_id = await submit_spec(live.app.services, signer, make_spec())

    events = await collect(live.app, job_id, protocol=protocol)

    first, last = events[0]["jobProgress"], events[-1]["jobProgress"]
    assert first["execution"] is None
    sequences = [e["jobProgress"]["sequence"] for e in events]
    assert sequences == sorted(set(sequences))
    for event in events:
        assert_invariant(event)
    assert last["job"]["status"] == "COMPLETED"
    assert all(e["jobProgress"]["job"]["status"] not in TERMINAL for e in events[:-1])
    rows = await executions_of(live.app.services, job_id)
    assert last["progress"]["completed"] == sum(r.status == "COMPLETED" for r in rows) == 36
    # A change per claim and per completion after the snapshot, none lost.
    assert sequences[-1] == 72 and len(events) == 73 - sequences[0]


async def test_a_finished_job_gives_its_final_state_and_completes(
    live: Live, signer: Signer
) -> None:
    job_id = await submit_spec(live.app.services, signer, make_spec(questions=["math_basic"]))
    await wait_until_finished(live.app.services, job_id)

    events = await collect(live.app, job_id)

    assert len(events) == 1
    assert events[0]["jobProgress"]["job"]["status"] == "COMPLETED"
    assert events[0]["jobProgress"]["progress"]["completed"] == 9


async def test_an_unknown_job_is_not_found(live: Live) -> None:
    with pytest.raises(SubscriptionError) as raised:
        await collect(live.app, "no-such-job")
    assert raised.value.payload[0]["extensions"]["code"] == "NOT_FOUND"


async def test_two_hundred_subscribers_all_get_the_final_event(live: Live, signer: Signer) -> None:
    job_id = await submit_spec(
        live.app.services, signer, make_spec(questions=["math_basic", "taiwan_status"])
    )
    await collect(live.app, job_id)  # warm up: imports, caches, pools
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        other = await submit_spec(
            live.app.services, signer, make_spec(questions=["math_basic", "taiwan_status"])
        )
        # Generous: tracemalloc slows the whole process several times over.
        results = await asyncio.gather(*(collect(live.app, other, within=240) for _ in range(200)))
        finals = [events[-1]["jobProgress"] for events in results]
        del results
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # The server's side of this process (the test's client shares it): what 200 finished
    # subscriptions leave behind in the app and the GraphQL stack, which held 37 events
    # each while they ran.
    server_side = [
        tracemalloc.Filter(True, f"*{os.sep}{name}{os.sep}*") for name in SERVER_PACKAGES
    ]
    retained = sum(
        stat.size_diff
        for stat in after.filter_traces(server_side).compare_to(
            before.filter_traces(server_side), "filename"
        )
    )
    assert retained < 256_000, f"{retained} bytes still held by the server after they left"
    assert len(finals) == 200
    assert all(f["job"]["status"] == "COMPLETED" for f in finals)
    assert {f["progress"]["completed"] for f in finals} == {18}
    # Every subscription let go of its buffer and its channel.
    assert live.app.services.hub.subscriber_count() == 0


async def test_a_read_token_guards_http_and_websockets(settings: Settings, signer: Signer) -> None:
    guarded = replace(settings, read_token="reader-secret")
    async with serve_app(guarded, run_worker=False) as app:
        async with httpx.AsyncClient(base_url=app.base_url) as http:
            anonymous = await http.post("/graphql", json={"query": "{ questions { id } }"})
            allowed = await http.post(
                "/graphql",
                json={"query": "{ questions { id } }"},
                headers={"Authorization": "Bearer reader-secret"},
            )
        assert anonymous.status_code == 401
        assert allowed.status_code == 200 and len(allowed.json()["data"]["questions"]) == 16

        with pytest.raises(websockets.ConnectionClosed) as closed:
            await collect(app, "any", init_payload={"token": "wrong"})
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

        job_id = await submit_spec(app.services, signer, make_spec(questions=["math_basic"]))
        url = app.base_url.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(
                json.dumps({"type": "connection_init", "payload": {"token": "reader-secret"}})
            )
            assert json.loads(await socket.recv())["type"] == "connection_ack"
        assert job_id


@pytest.mark.parametrize("backend", ["postgres", "redis"])
async def test_a_killed_broadcast_connection_heals_without_ending_the_stream(
    postgres_settings: Settings, signer: Signer, tmp_path: Path, backend: str
) -> None:
    broadcast_url = (
        postgres_settings.broadcast_url if backend == "postgres" else "redis://127.0.0.1:6379/0"
    )
    slow = FaultProfile(latency_ms=60)
    faults = {"sim-us-east": slow, "sim-eu-west": slow, "sim-asia-pacific": slow}
    async with SimulatorFleet(seed=4, faults=faults, include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(
            postgres_settings,
            providers_file=providers,
            broadcast_url=broadcast_url,
            worker_concurrency=4,
        )
        async with serve_app(settings, run_worker=True) as app:
            job_id = await submit_spec(app.services, signer, make_spec())
            events: list[dict[str, Any]] = []
            killed = False
            async with asyncio.timeout(90):
                async for data in subscribe(app.base_url, PROGRESS, {"jobId": job_id}):
                    events.append(data)
                    if not killed and data["jobProgress"]["progress"]["completed"] >= 5:
                        killed = True
                        if backend == "postgres":
                            admin = await asyncpg.connect(postgres_settings.broadcast_url)
                            pid = app.services.hub.backend_listen_pid()
                            await admin.execute("SELECT pg_terminate_backend($1)", pid)
                            await admin.close()
                        else:
                            client = redis.Redis.from_url(broadcast_url)
                            await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
                            await client.aclose()
            rows = await executions_of(app.services, job_id)

    assert killed
    last = events[-1]["jobProgress"]
    assert last["job"]["status"] == "COMPLETED"
    assert last["progress"]["completed"] == sum(r.status == "COMPLETED" for r in rows) == 36
    for event in events:
        assert_invariant(event)


async def test_an_event_is_executed_once_for_every_subscriber_asking_the_same(
    live: Live, signer: Signer
) -> None:
    """Twenty dashboards on one job: each change costs one execution of their query (one
    read of the attempt history), not twenty, and every dashboard sees the same event."""
    with_history = PROGRESS.replace("execution { id", "execution { attemptHistory { outcome } id")
    lookups: list[str] = []

    def record(*args: Any) -> None:
        if "FROM execution_attempts" in args[2]:
            lookups.append(args[2])

    for provider in ("sim-us-east", "sim-eu-west", "sim-asia-pacific"):
        # Answers come late enough for all twenty to be watching when they do.
        live.fleet.set_faults(provider, FaultProfile(latency_ms=500))
    job_id = await submit_spec(
        live.app.services, signer, make_spec(questions=["math_basic", "taiwan_status"])
    )
    engine = live.app.services.engine.sync_engine
    sql_event.listen(engine, "before_cursor_execute", record)
    try:
        results = await asyncio.gather(
            *(collect(live.app, job_id, query=with_history) for _ in range(20))
        )
    finally:
        sql_event.remove(engine, "before_cursor_execute", record)

    changes = {
        e["jobProgress"]["sequence"]: e["jobProgress"]
        for events in results
        for e in events
        if e["jobProgress"]["execution"] is not None
    }
    delivered = 0
    for events in results:
        assert events[-1]["jobProgress"]["job"]["status"] == "COMPLETED"
        for e in events:
            if e["jobProgress"]["execution"] is not None:
                assert e["jobProgress"] == changes[e["jobProgress"]["sequence"]]
                delivered += 1
    assert delivered >= 20 * 18  # every one saw at least the 18 answers
    assert len(lookups) <= len(changes) <= 36


async def test_a_hundred_dashboards_opening_at_once_share_their_snapshot_reads(
    live: Live, signer: Signer
) -> None:
    job_id = await submit_spec(live.app.services, signer, make_spec(questions=["math_basic"]))
    await wait_until_finished(live.app.services, job_id)
    job_reads: list[str] = []

    def record(*args: Any) -> None:
        if "FROM jobs" in args[2]:
            job_reads.append(args[2])

    engine = live.app.services.engine.sync_engine
    sql_event.listen(engine, "before_cursor_execute", record)
    try:
        results = await asyncio.gather(*(collect(live.app, job_id) for _ in range(100)))
    finally:
        sql_event.remove(engine, "before_cursor_execute", record)

    assert all(len(events) == 1 for events in results)
    assert {events[0]["jobProgress"]["progress"]["completed"] for events in results} == {9}
    # One read each would be 100, queueing for a pool of 10 connections.
    assert len(job_reads) <= 25
