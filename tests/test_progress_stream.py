"""The progress stream puts events back in commit order, survives a lost one, and re-reads a
quiet job less and less often."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event as event_api

from beacon_gql.db.models import Job
from beacon_gql.db.statuses import Progress
from beacon_gql.events.hub import JobEvent
from beacon_gql.jobs.progress_stream import ProgressStreams, ProgressUpdate
from tests.support.jobs import submit_spec
from tests.support.server import ServedApp
from tests.support.specs import Signer, make_spec


def event(job_id: str, sequence: int, pending: int, status: str = "RUNNING") -> JobEvent:
    return JobEvent(
        job_id=job_id,
        sequence=sequence,
        job_status=status,
        progress=Progress(
            expected=3, pending=pending, running=0, completed=3 - pending, failed=0, cancelled=0
        ),
        execution=None,
    )


async def test_events_published_out_of_order_arrive_in_order_and_a_gap_is_skipped(
    api: ServedApp, signer: Signer
) -> None:
    services = api.services
    job_id = await submit_spec(
        services, signer, make_spec(questions=["math_basic"], models=["mistral-7b"])
    )
    received: list[int] = []

    async def consume() -> None:
        async for update in services.progress.stream(job_id):
            received.append(update.sequence)
            if update.sequence == 0:
                subscribed.set()

    subscribed = asyncio.Event()
    consumer = asyncio.create_task(consume())
    await asyncio.wait_for(subscribed.wait(), 10)
    hub_publish = services.hub.publish_job_event
    # 2 before 1, and 3 never published: 4 must still arrive, after the gap wait.
    for sequence, pending in ((2, 1), (1, 2), (4, 0)):
        await hub_publish(
            event(job_id, sequence, pending, "COMPLETED" if pending == 0 else "RUNNING")
        )
    await asyncio.wait_for(consumer, 10)

    assert received == [0, 1, 2, 4]


async def test_a_quiet_job_is_read_less_and_less_often_and_a_lost_change_still_arrives(
    api: ServedApp, signer: Signer
) -> None:
    services = api.services
    job_id = await submit_spec(services, signer, make_spec(questions=["math_basic"]))
    job_reads = 0

    def count_job_reads(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal job_reads
        job_reads += "FROM jobs" in statement and "jobs.id =" in statement

    streams = ProgressStreams(
        services.hub, services.reader, recheck_seconds=0.05, max_recheck_seconds=0.4
    )
    received: list[ProgressUpdate] = []
    snapshot = asyncio.Event()

    async def consume() -> None:
        async for update in streams.stream(job_id):
            received.append(update)
            snapshot.set()

    sql_engine = services.engine.sync_engine
    event_api.listen(sql_engine, "before_cursor_execute", count_job_reads)
    try:
        consumer = asyncio.create_task(consume())
        await asyncio.wait_for(snapshot.wait(), 10)
        quiet = asyncio.Event()
        # No worker: the job stays QUEUED and nothing is published. Re-reading every 0.05 s
        # would be about 32 reads in 1.6 s; waits of 0.05, 0.1, 0.2, then 0.4 s make 6.
        asyncio.get_running_loop().call_later(1.6, quiet.set)
        await quiet.wait()
        reads_while_quiet = job_reads - 1
        # A change whose event never reaches the stream (a lost NOTIFY) still arrives.
        async with services.sessions() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            job.status, job.event_sequence = "CANCELLED", job.event_sequence + 1
            await session.commit()
        await asyncio.wait_for(consumer, 5)
    finally:
        event_api.remove(sql_engine, "before_cursor_execute", count_job_reads)

    assert 3 <= reads_while_quiet <= 9, reads_while_quiet
    assert [u.job_status for u in received] == ["QUEUED", "CANCELLED"]
