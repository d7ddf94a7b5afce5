"""Submitting jobs and waiting for them to end, through the services under test."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from beacon_gql.db.models import Execution, ExecutionAttempt, Job
from beacon_gql.jobs.progress_stream import ProgressUpdate
from beacon_gql.services import Services
from tests.support.specs import Signer

SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) {
  job { id progress { expected } } } }"""


async def submit_spec(services: Services, signer: Signer, spec: dict[str, Any]) -> str:
    result = await services.submission.submit(signer.sign(spec), None)
    await services.wake_workers()
    return result.job.id


async def wait_until_finished(
    services: Services, job_id: str, within: float = 60
) -> ProgressUpdate:
    """The job's final progress update, from the live stream (no polling)."""

    async def last() -> ProgressUpdate:
        final: ProgressUpdate | None = None
        async for update in services.progress.stream(job_id):
            final = update
        assert final is not None
        return final

    return await asyncio.wait_for(last(), within)


async def executions_of(services: Services, job_id: str) -> list[Execution]:
    async with services.sessions() as session:
        rows = await session.scalars(
            select(Execution).where(Execution.job_id == job_id).order_by(Execution.position)
        )
        return list(rows)


async def attempts_of(services: Services, job_id: str) -> list[ExecutionAttempt]:
    async with services.sessions() as session:
        rows = await session.scalars(
            select(ExecutionAttempt)
            .join(Execution, Execution.id == ExecutionAttempt.execution_id)
            .where(Execution.job_id == job_id)
        )
        return list(rows)


async def assert_counters_match_rows(services: Services, job_id: str) -> None:
    """The job row's counters equal a fresh count of its execution rows."""
    async with services.sessions() as session:
        job = await session.get(Job, job_id)
        counted = dict(
            (
                await session.execute(
                    select(Execution.status, func.count())
                    .where(Execution.job_id == job_id)
                    .group_by(Execution.status)
                )
            ).all()
        )
    assert job is not None
    stored = {
        "PENDING": job.pending_count,
        "RUNNING": job.running_count,
        "COMPLETED": job.completed_count,
        "FAILED": job.failed_count,
        "CANCELLED": job.cancelled_count,
    }
    assert {k: v for k, v in stored.items() if v} == counted
    assert sum(stored.values()) == job.expected
