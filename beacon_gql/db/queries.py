"""Read queries. Each takes a session and returns rows; no GraphQL, no rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import Row, Select, Text, and_, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import (
    BiasAnalysisRecord,
    Execution,
    ExecutionAttempt,
    Job,
    Question,
    ReceiptRoot,
)


@dataclass(frozen=True)
class JobVersion:
    """Changes whenever anything shown about the job does: each state change bumps its event
    sequence, and recomputing its analysis gives a new `computed_at`."""

    event_sequence: int
    analysis_computed_at: datetime | None
    # The receipts' root is signed just after the job ends, like the analysis.
    receipts_sealed_at: datetime | None = None


AnySelect = TypeVar("AnySelect", bound=Select[Any])

# An execution's stored row, every column an attribute (`row.response`), without an ORM
# object: building 5,000 of those was half of the time of a big job's query. Its
# `classification_evidence` is the column's JSON text, decoded only by who asks for it
# (`decode_evidence`): decoding it for every row was the next largest part.
ExecutionRow = Row[Any]


def decode_evidence(stored: list[str] | str | None) -> list[str]:
    """An execution's evidence, from an ORM object (a list) or an ExecutionRow (JSON text)."""
    if isinstance(stored, str):
        stored = orjson.loads(stored)
    return list(stored or [])


@dataclass(frozen=True)
class ExecutionFilter:
    question_id: str | None = None
    model_id: str | None = None
    region: str | None = None
    status: str | None = None

    def apply(self, statement: AnySelect) -> AnySelect:
        if self.question_id is not None:
            statement = statement.where(Execution.question_id == self.question_id)
        if self.model_id is not None:
            statement = statement.where(Execution.model_id == self.model_id)
        if self.region is not None:
            statement = statement.where(Execution.region == self.region)
        if self.status is not None:
            statement = statement.where(Execution.status == self.status)
        return statement


async def list_questions(session: AsyncSession) -> Sequence[Question]:
    return (await session.scalars(select(Question).order_by(Question.position))).all()


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    return await session.get(Job, job_id)


async def jobs_by_ids(session: AsyncSession, job_ids: Sequence[str]) -> dict[str, Job]:
    rows = await session.scalars(select(Job).where(Job.id.in_(job_ids)))
    return {job.id: job for job in rows}


async def job_versions(session: AsyncSession, job_ids: Sequence[str]) -> dict[str, JobVersion]:
    statement = (
        select(Job.id, Job.event_sequence, BiasAnalysisRecord.computed_at, ReceiptRoot.signed_at)
        .outerjoin(BiasAnalysisRecord, BiasAnalysisRecord.job_id == Job.id)
        .outerjoin(ReceiptRoot, ReceiptRoot.job_id == Job.id)
        .where(Job.id.in_(job_ids))
    )
    return {
        job_id: JobVersion(sequence, computed_at, sealed_at)
        for job_id, sequence, computed_at, sealed_at in await session.execute(statement)
    }


async def list_jobs(
    session: AsyncSession,
    *,
    limit: int,
    status: str | None,
    before: tuple[datetime, str] | None,
) -> Sequence[Job]:
    """Newest first; `before` is the (created_at, id) of the last job already seen."""
    statement = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    if status is not None:
        statement = statement.where(Job.status == status)
    if before is not None:
        created_at, job_id = before
        statement = statement.where(
            or_(Job.created_at < created_at, and_(Job.created_at == created_at, Job.id < job_id))
        )
    return (await session.scalars(statement)).all()


async def executions_for_jobs(
    session: AsyncSession, job_ids: Sequence[str], where: ExecutionFilter
) -> dict[str, list[ExecutionRow]]:
    columns = [
        cast(column, Text).label(column.name)
        if column.name == "classification_evidence"
        else column
        for column in Execution.__table__.columns
        # 1 KB an answer that only the analysis reads (`analyses.answers_for_job`).
        if column.name != "meaning_vector"
    ]
    statement = where.apply(
        select(*columns)
        .where(Execution.job_id.in_(job_ids))
        .order_by(Execution.job_id, Execution.position)
    )
    grouped: dict[str, list[ExecutionRow]] = defaultdict(list)
    for row in await session.execute(statement):
        grouped[row.job_id].append(row)
    return grouped


async def executions_by_ids(
    session: AsyncSession, execution_ids: Sequence[str]
) -> dict[str, Execution]:
    rows = await session.scalars(select(Execution).where(Execution.id.in_(execution_ids)))
    return {execution.id: execution for execution in rows}


async def questions_by_ids(session: AsyncSession, ids: Sequence[str]) -> dict[str, Question]:
    rows = await session.scalars(select(Question).where(Question.id.in_(ids)))
    return {question.id: question for question in rows}


async def attempts_for_executions(
    session: AsyncSession, execution_ids: Sequence[str]
) -> dict[str, list[ExecutionAttempt]]:
    statement = (
        select(ExecutionAttempt)
        .where(ExecutionAttempt.execution_id.in_(execution_ids))
        .order_by(ExecutionAttempt.execution_id, ExecutionAttempt.id)
    )
    grouped: dict[str, list[ExecutionAttempt]] = defaultdict(list)
    for attempt in await session.scalars(statement):
        grouped[attempt.execution_id].append(attempt)
    return grouped


async def analyses_by_job_ids(
    session: AsyncSession, job_ids: Sequence[str]
) -> dict[str, BiasAnalysisRecord]:
    rows = await session.scalars(
        select(BiasAnalysisRecord).where(BiasAnalysisRecord.job_id.in_(job_ids))
    )
    return {record.job_id: record for record in rows}
