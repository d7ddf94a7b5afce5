"""The progress stream puts events back in commit order and survives a lost one."""

from __future__ import annotations

import asyncio

from beacon_gql.db.transitions import Progress
from beacon_gql.events import JobEvent
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
