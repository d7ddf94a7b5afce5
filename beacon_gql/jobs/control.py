"""What an administrator can do to a job: cancel it, retry its failures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from beacon_gql.db import analyses, queue
from beacon_gql.db import receipts as receipt_store
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Job
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES
from beacon_gql.db.transitions import ExecutionChange
from beacon_gql.errors import BadUserInput, NotFound

Announce = Callable[[Sequence[ExecutionChange]], Awaitable[None]]


class JobControl:
    def __init__(
        self,
        sessions: SessionFactory,
        announce: Announce,
        wake_workers: Callable[[], Awaitable[None]],
    ) -> None:
        self._sessions = sessions
        self._announce = announce
        self._wake_workers = wake_workers

    async def cancel(self, job_id: str) -> Job:
        async with self._sessions() as session:
            job = await session.get(Job, job_id)
            if job is None:
                raise NotFound(f"no job with id {job_id!r}")
            if job.status in TERMINAL_JOB_STATUSES:
                raise BadUserInput(f"job {job_id} has already ended ({job.status})")
            changes = await queue.cancel_job(session, job_id=job_id, now=datetime.now(UTC))
            await session.commit()
            await session.refresh(job)
        await self._announce(changes)
        return job

    async def retry_failed(self, job_id: str) -> Job:
        async with self._sessions() as session:
            job = await session.get(Job, job_id)
            if job is None:
                raise NotFound(f"no job with id {job_id!r}")
            if job.status not in TERMINAL_JOB_STATUSES:
                raise BadUserInput(
                    f"job {job_id} is still {job.status}; retry its failures once it has ended"
                )
            if job.failed_count == 0:
                raise BadUserInput(f"job {job_id} has no failed executions to retry")
            now = datetime.now(UTC)
            # The job's timeout runs again from now, or the retry would time out at once.
            deadline = None if job.deadline_at is None else now + (job.deadline_at - job.created_at)
            changes = await queue.requeue_failed(
                session, job_id=job_id, now=now, deadline_at=deadline
            )
            await analyses.forget(session, job_id)
            # The retried executions get new receipts: the root is made again at the end.
            await receipt_store.forget_root(session, job_id)
            await session.commit()
            await session.refresh(job)
        await self._announce(changes)
        await self._wake_workers()
        return job
