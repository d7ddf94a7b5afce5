"""The queue's claim on both databases: never more than asked, never a row twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from beacon_gql.db import queue
from tests.support.jobs import (
    assert_counters_match_rows,
    attempts_of,
    executions_of,
    submit_spec,
)
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


async def test_a_batch_of_settlements_records_each_held_claim_once_and_skips_a_lost_one(
    api: ServedApp, signer: Signer
) -> None:
    services = api.services
    job_id = await submit_spec(services, signer, make_spec(questions=["math_basic"]))  # 9
    now = datetime.now(UTC)
    async with services.sessions() as session:
        claimed = await queue.claim(
            session, worker_id="w", claim_token="w:1", limit=5, lease_seconds=30, now=now
        )
        await session.commit()
    executions = [change.execution for change in claimed]
    completed = queue.Answered(
        response="an answer",
        provider_id="sim-us-east",
        classification="SUBSTANTIVE",
        classification_evidence=["a", "b"],
        completed_at=now,
        duration_ms=12,
    )
    retried = queue.Retrying(
        queue.AttemptError("RATE_LIMITED", "slow down", "provider_call", True, "sim-us-east"),
        available_at=now,
    )
    settlements = [
        queue.Settlement(
            e.id,
            # The last one's claim was lost (its lease expired and it was claimed again).
            "w:1" if n < 4 else "w:stale",
            retried if n == 0 else completed,
            queue.AttemptRecord(e.id, e.attempts, "w:1", "sim-us-east", now, 12, "OK", 200, None),
        )
        for n, e in enumerate(executions)
    ]

    async with services.sessions() as session:
        changes = await queue.settle_many(session, settlements, now=now)
        await session.commit()

    assert sorted(c.execution.id for c in changes) == sorted(e.id for e in executions[:4])
    # One event per settled execution, numbered on from the claim's five.
    assert sorted(c.sequence for c in changes) == [6, 7, 8, 9]
    assert changes[-1].progress.completed == 3 and changes[-1].progress.running == 1
    rows = {row.id: row for row in await executions_of(services, job_id)}
    assert rows[executions[0].id].status == "PENDING"
    assert rows[executions[0].id].error_code == "RATE_LIMITED"
    assert rows[executions[1].id].classification_evidence == ["a", "b"]
    assert rows[executions[4].id].status == "RUNNING"
    attempts = {a.execution_id: a for a in await attempts_of(services, job_id)}
    # The claim opened one attempt row per execution; each held settlement closed its own.
    assert sorted(attempts) == sorted(e.id for e in executions)
    assert {e.id: attempts[e.id].outcome for e in executions} == {
        **{e.id: "OK" for e in executions[:4]},
        executions[4].id: "RUNNING",
    }
    await assert_counters_match_rows(services, job_id)
