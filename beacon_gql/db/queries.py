"""Read queries. Each takes a session and returns rows; no GraphQL, no rules."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Row, Select, Text, and_, bindparam, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

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


_FILTER_COLUMNS = ("question_id", "model_id", "region", "status")


@dataclass(frozen=True)
class ExecutionFilter:
    question_id: str | None = None
    model_id: str | None = None
    region: str | None = None
    status: str | None = None

    def params(self) -> dict[str, str]:
        """The filter's values, as bound parameters named as their columns."""
        values = {name: getattr(self, name) for name in _FILTER_COLUMNS}
        return {name: value for name, value in values.items() if value is not None}

    def shape(self) -> tuple[bool, ...]:
        """Which columns it filters on: statements are built once per shape."""
        return tuple(getattr(self, name) is not None for name in _FILTER_COLUMNS)


async def list_questions(session: AsyncSession) -> Sequence[Question]:
    return (await session.scalars(select(Question).order_by(Question.position))).all()


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    return await session.get(Job, job_id)


_JOB_COLUMNS = tuple(
    (attribute.key, attribute.columns[0]) for attribute in Job.__mapper__.column_attrs
)
_JOB_AND_ANALYSIS_STAMP = (
    select(
        *(column.label(key) for key, column in _JOB_COLUMNS),
        BiasAnalysisRecord.computed_at.label("analysis_computed_at"),
    )
    .outerjoin(BiasAnalysisRecord, BiasAnalysisRecord.job_id == Job.id)
    .where(Job.id == bindparam("job_id"))
)


async def job_and_analysis_stamp(
    connection: AsyncConnection, job_id: str
) -> tuple[Job, datetime | None] | None:
    """The job (an object of no session, built from its row) and the `computed_at` of its
    persisted analysis, in one statement: the job query's first two reads."""
    row = (await connection.execute(_JOB_AND_ANALYSIS_STAMP, {"job_id": job_id})).first()
    if row is None:
        return None
    values = row._mapping
    return Job(**{key: values[key] for key, _ in _JOB_COLUMNS}), values["analysis_computed_at"]


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


@functools.lru_cache(maxsize=256)
def _executions_statement(shape: tuple[bool, ...], only: frozenset[str] | None) -> Select[Any]:
    columns = [
        cast(column, Text).label(column.name)
        if column.name == "classification_evidence"
        else column
        for column in Execution.__table__.columns
        # `meaning_vector`: 1 KB an answer that only the analysis reads
        # (`analyses.answers_for_job`), never read here.
        if column.name != "meaning_vector"
        and (only is None or column.name in only or column.name in ("id", "job_id"))
    ]
    statement = select(*columns).where(Execution.job_id.in_(bindparam("job_ids", expanding=True)))
    for name, wanted in zip(_FILTER_COLUMNS, shape, strict=True):
        if wanted:
            statement = statement.where(Execution.__table__.c[name] == bindparam(name))
    return statement.order_by(Execution.job_id, Execution.position)


async def executions_for_jobs(
    session: AsyncSession | AsyncConnection,
    job_ids: Sequence[str],
    where: ExecutionFilter,
    only: frozenset[str] | None = None,
) -> dict[str, list[ExecutionRow]]:
    """`only`: the columns wanted (with `id` and `job_id` always), None for every column. A
    dashboard's list asks for a few short columns: reading the prompts and receipts too
    (and converting five timestamps per row) was most of the read. The statement is built
    once per (filter shape, columns): building it was a third of a small read's CPU."""
    statement = _executions_statement(where.shape(), only)
    grouped: dict[str, list[ExecutionRow]] = defaultdict(list)
    for row in await session.execute(statement, {"job_ids": list(job_ids), **where.params()}):
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


_ANALYSIS_STAMPS = select(BiasAnalysisRecord.job_id, BiasAnalysisRecord.computed_at).where(
    BiasAnalysisRecord.job_id.in_(bindparam("job_ids", expanding=True))
)


async def analysis_stamps(
    session: AsyncSession | AsyncConnection, job_ids: Sequence[str]
) -> dict[str, datetime]:
    """The `computed_at` of each job's persisted analysis, without the report itself."""
    rows = await session.execute(_ANALYSIS_STAMPS, {"job_ids": list(job_ids)})
    return {job_id: computed_at for job_id, computed_at in rows}
