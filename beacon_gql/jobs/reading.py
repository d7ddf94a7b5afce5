"""Reading jobs: lookups, cursor pages, and the batched loads behind the DataLoaders."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from beacon_gql.db import queries
from beacon_gql.db.engine import ConnectionFactory, SessionFactory
from beacon_gql.db.models import Execution, ExecutionAttempt, Job, Question
from beacon_gql.db.queries import ExecutionFilter, ExecutionRow, JobVersion
from beacon_gql.errors import BadUserInput
from beacon_gql.jobs.strict_json import is_storable_text

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class JobPage:
    jobs: Sequence[Job]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return encode_cursor(self.jobs[-1]) if self.jobs else None


def encode_cursor(job: Job) -> str:
    raw = f"{job.created_at.isoformat()}|{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        if not is_storable_text(job_id):
            raise ValueError(job_id)
        return datetime.fromisoformat(created_at), job_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(
            "`after` is not a cursor this server issued; pass a pageInfo.endCursor", field="after"
        ) from None


class JobReader:
    def __init__(self, sessions: SessionFactory, connections: ConnectionFactory) -> None:
        self._sessions = sessions
        self._connections = connections  # for the reads that return rows, not ORM objects

    async def get(self, job_id: str) -> Job | None:
        if not is_storable_text(job_id):
            return None
        async with self._sessions() as session:
            return await queries.get_job(session, job_id)

    async def get_with_analysis_stamp(self, job_id: str) -> tuple[Job, datetime | None] | None:
        """The job and the version (`computed_at`) of its persisted analysis, if any."""
        if not is_storable_text(job_id):
            return None
        async with self._connections() as connection:
            return await queries.job_and_analysis_stamp(connection, job_id)

    async def get_with_executions(
        self, job_id: str, only: frozenset[str] | None
    ) -> tuple[Job, datetime | None, list[ExecutionRow]] | None:
        """The job, its analysis's version and all its executions (`only` their columns, as
        `executions_for_jobs` reads them), on one pooled connection: through asyncpg itself on
        PostgreSQL, through SQLAlchemy elsewhere."""
        if not is_storable_text(job_id):
            return None
        async with self._connections() as connection:
            if connection.dialect.name == "postgresql":
                return await queries.job_with_executions(connection, job_id, only)
            found = await queries.job_and_analysis_stamp(connection, job_id)
            if found is None:
                return None
            grouped = await queries.executions_for_jobs(
                connection, [job_id], ExecutionFilter(), only
            )
            return (*found, grouped.get(job_id, []))

    async def page(self, *, first: int | None, after: str | None, status: str | None) -> JobPage:
        size = DEFAULT_PAGE_SIZE if first is None else first
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise BadUserInput(f"`first` must be between 1 and {MAX_PAGE_SIZE}", field="first")
        before = None if after is None else decode_cursor(after)
        async with self._sessions() as session:
            jobs = await queries.list_jobs(session, limit=size + 1, status=status, before=before)
        return JobPage(jobs=jobs[:size], has_next_page=len(jobs) > size)

    async def versions(self, job_ids: Sequence[str]) -> dict[str, JobVersion]:
        async with self._sessions() as session:
            return await queries.job_versions(session, job_ids)

    async def jobs_by_ids(self, job_ids: Sequence[str]) -> dict[str, Job]:
        async with self._sessions() as session:
            return await queries.jobs_by_ids(session, job_ids)

    async def executions_for_jobs(
        self,
        job_ids: Sequence[str],
        where: ExecutionFilter,
        only: frozenset[str] | None = None,
    ) -> dict[str, list[ExecutionRow]]:
        filters = (where.question_id, where.model_id, where.region, where.status)
        if not all(is_storable_text(text) for text in filters if text is not None):
            return {job_id: [] for job_id in job_ids}  # no execution has such an id
        async with self._connections() as connection:
            return await queries.executions_for_jobs(connection, job_ids, where, only)

    async def executions_by_ids(self, ids: Sequence[str]) -> dict[str, Execution]:
        async with self._sessions() as session:
            return await queries.executions_by_ids(session, ids)

    async def questions_by_ids(self, ids: Sequence[str]) -> dict[str, Question]:
        async with self._sessions() as session:
            return await queries.questions_by_ids(session, ids)

    async def attempts_for_executions(
        self, ids: Sequence[str]
    ) -> dict[str, list[ExecutionAttempt]]:
        async with self._sessions() as session:
            return await queries.attempts_for_executions(session, ids)

    async def analysis_stamps(self, job_ids: Sequence[str]) -> dict[str, datetime]:
        async with self._connections() as connection:
            return await queries.analysis_stamps(connection, job_ids)
