"""The queue's claim on both databases: never more than asked, never a row twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from beacon_gql.db import queue
from tests.support.jobs import assert_counters_match_rows, submit_spec
from tests.support.server import ServedApp
from tests.support.specs import Signer, make_spec


async def test_a_claim_takes_at_most_its_limit_and_concurrent_claims_never_overlap(
    api: ServedApp, signer: Signer
) -> None:
    services = api.services
    job_id = await submit_spec(services, signer, make_spec())  # 36 pending

    async def claim(limit: int, worker: str) -> list[str]:
        async with services.sessions() as session:
            changes = await queue.claim(
                session,
                worker_id=worker,
                claim_token=f"{worker}:1",
                limit=limit,
                lease_seconds=30,
                now=datetime.now(UTC),
            )
            await session.commit()
        return [change.execution.id for change in changes]

    assert len(await claim(1, "first")) == 1
    batches = await asyncio.gather(*(claim(5, f"w{n}") for n in range(6)))

    claimed = [execution_id for batch in batches for execution_id in batch]
    assert all(len(batch) <= 5 for batch in batches)
    # On SQLite concurrent claimers may find their rows taken and claim fewer; never twice.
    while rest := await claim(7, "sweeper"):
        assert len(rest) <= 7
        claimed += rest
    assert len(claimed) == len(set(claimed)) == 35
    await assert_counters_match_rows(services, job_id)
