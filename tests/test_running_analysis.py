"""A running job's analysis is computed once per state of the job, and follows every change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from beacon_gql.db import queue
from tests.support.jobs import submit_spec
from tests.support.server import ServedApp
from tests.support.specs import Signer, make_spec

ANALYSIS = """query($id: ID!) { job(id: $id) { status
  biasAnalysis { status computedAt executions finished answered } } }"""


async def analysis(api: ServedApp, job_id: str) -> dict[str, Any]:
    data = await api.client.data(ANALYSIS, {"id": job_id})
    found: dict[str, Any] = data["job"]["biasAnalysis"]
    return found


async def finish_some(api: ServedApp, count: int) -> None:
    """What a worker does: claim `count` executions, then settle them with an answer."""
    now = datetime.now(UTC)
    async with api.services.sessions() as session:
        claimed = await queue.claim(
            session, worker_id="w", claim_token="w:1", limit=count, lease_seconds=30, now=now
        )
        await session.commit()
    answered = queue.Answered(
        response="an answer",
        provider_id="sim-us-east",
        classification="SUBSTANTIVE",
        classification_evidence=[],
        completed_at=now,
        duration_ms=12,
    )
    settlements = []
    for change in claimed:
        execution = change.execution
        record = queue.AttemptRecord(
            execution.id, execution.attempts, "w:1", "sim-us-east", now, 12, "OK", 200, None
        )
        settlements.append(queue.Settlement(execution.id, "w:1", answered, record))
    async with api.services.sessions() as session:
        await queue.settle_many(session, settlements, now=now)
        await session.commit()


async def test_a_running_jobs_analysis_follows_each_change_and_only_then_is_computed_again(
    api: ServedApp, signer: Signer
) -> None:
    job_id = await submit_spec(api.services, signer, make_spec(questions=["math_basic"]))
    pending = await analysis(api, job_id)
    assert pending["status"] == "PENDING" and pending["finished"] == 0
    # Nothing changed: the same analysis, computed once (the same computedAt).
    assert await analysis(api, job_id) == pending

    await finish_some(api, 2)
    partial = await analysis(api, job_id)
    assert partial["status"] == "PARTIAL"
    assert (partial["finished"], partial["answered"]) == (2, 2)
    assert partial["computedAt"] > pending["computedAt"]

    await finish_some(api, 3)
    later = await analysis(api, job_id)
    assert (later["finished"], later["answered"]) == (5, 5)
    assert later["executions"] == pending["executions"] == 9
