"""Read queries. Each takes a session and returns rows; no GraphQL, no rules."""

from __future__ import annotations

import functools
from collections import defaultdict, namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    Dialect,
    Row,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeDecorator

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
# (`decode_evidence`): decoding it for every row was the next largest part. A job's list
# read with the job (`job_with_executions`) comes as named tuples with the same attributes.
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
    return _job_of({key: values[key] for key, _ in _JOB_COLUMNS}), values["analysis_computed_at"]


_new_job = Job.__mapper__.class_manager.new_instance


def _job_of(values: dict[str, Any]) -> Job:
    """A Job of no session holding these column values as its loaded state, as SQLAlchemy's
    own loading makes one (a new instance, its dict filled): `Job(**values)` recorded each
    value as a change through the attribute events, 30 us of a 2 ms job query."""
    job: Job = _new_job()
    job.__dict__.update(values)
    return job


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


def _execution_columns(only: frozenset[str] | None) -> list[Any]:
    return [
        cast(column, Text).label(column.name)
        if column.name == "classification_evidence"
        else column
        for column in Execution.__table__.columns
        # `meaning_vector`: 1 KB an answer that only the analysis reads
        # (`analyses.answers_for_job`), never read here.
        if column.name != "meaning_vector"
        and (only is None or column.name in only or column.name in ("id", "job_id"))
    ]


@functools.lru_cache(maxsize=256)
def _executions_statement(shape: tuple[bool, ...], only: frozenset[str] | None) -> Select[Any]:
    statement = select(*_execution_columns(only)).where(
        Execution.job_id.in_(bindparam("job_ids", expanding=True))
    )
    for name, wanted in zip(_FILTER_COLUMNS, shape, strict=True):
        if wanted:
            statement = statement.where(Execution.__table__.c[name] == bindparam(name))
    return statement.order_by(Execution.job_id, Execution.position)


def _processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value asyncpg decoded: on asyncpg, only the project's own
    column types (UTCDateTime) convert anything; the built-in ones pass values on as the
    driver gives them (JSON is decoded by the codec SQLAlchemy sets on each connection)."""
    if not isinstance(type_, TypeDecorator):
        return None
    convert = type_.process_result_value
    return lambda value: convert(value, dialect)


def _converter(
    processors: Sequence[Callable[[Any], Any] | None], start: int = 0
) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A record's values from `start` on, as SQLAlchemy would give them."""
    if all(process is None for process in processors):
        return list if start == 0 else lambda record: record[start:]
    pairs = tuple(enumerate(processors, start))
    return lambda record: [
        record[i] if process is None else process(record[i]) for i, process in pairs
    ]


@dataclass(frozen=True)
class _JobRead:
    """The job query's read as one SQL text for the driver, and how its records become what
    the SQLAlchemy statements give (`job_and_analysis_stamp`, `executions_for_jobs`)."""

    sql: str
    job_values: Callable[[Sequence[Any]], Sequence[Any]]
    execution_values: Callable[[Sequence[Any]], Sequence[Any]]
    # A named tuple: every column an attribute, read as an ExecutionRow's are.
    row: Any


@functools.lru_cache(maxsize=64)
def _job_read(only: frozenset[str] | None, dialect: Dialect) -> _JobRead:
    """One statement, one round trip: the job (with its analysis's `computed_at`) as a single
    row value in the first record, its executions in the records after it. Two statements
    were two round trips, and on a busy machine each socket write to PostgreSQL (which wakes
    its backend) cost the server more than everything else in reading 36 rows. The job is
    one column (a ROW), so each execution's record carries one NULL more, not thirty."""
    columns = _execution_columns(only)
    job = select(
        func.row(*(column for _, column in _JOB_COLUMNS), BiasAnalysisRecord.computed_at),
        *(cast(null(), column.type) for column in columns),
    )
    job = job.outerjoin_from(Job, BiasAnalysisRecord, BiasAnalysisRecord.job_id == Job.id).where(
        Job.id == bindparam("job_id")
    )
    executions = (
        select(literal_column("NULL::record"), *columns)
        .where(Execution.job_id == bindparam("job_id"))
        .order_by(Execution.position)
    )
    # PostgreSQL's Append runs the two parts in order, so the job comes first (checked:
    # `job_with_executions` refuses anything else) and the executions keep their order.
    sql = f"({job.compile(dialect=dialect)}) UNION ALL ({executions.compile(dialect=dialect)})"
    job_types = [column.type for _, column in _JOB_COLUMNS] + [BiasAnalysisRecord.computed_at.type]
    return _JobRead(
        sql=sql,
        job_values=_converter([_processor(type_, dialect) for type_ in job_types]),
        execution_values=_converter([_processor(c.type, dialect) for c in columns], start=1),
        row=namedtuple("ExecutionRow", [column.name for column in columns]),
    )


async def job_with_executions(
    connection: AsyncConnection, job_id: str, only: frozenset[str] | None
) -> tuple[Job, datetime | None, list[ExecutionRow]] | None:
    """The job, its analysis's `computed_at` and its executions (unfiltered, `only` their
    columns), as `job_and_analysis_stamp` and `executions_for_jobs` read them, in one
    statement sent through asyncpg itself: SQLAlchemy's execution around each statement and
    its Row objects were most of a small job query's read. PostgreSQL (asyncpg) only."""
    shape = _job_read(only, connection.dialect)
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    records = await driver.fetch(shape.sql, job_id)
    if not records:
        return None
    head = records[0][0]
    if head is None:
        raise RuntimeError("the job's record did not come first")
    *job_values, analysis_stamp = shape.job_values(head)
    job = _job_of({key: value for (key, _), value in zip(_JOB_COLUMNS, job_values, strict=True)})
    make, values = shape.row._make, shape.execution_values
    executions = [make(values(record)) for record in records[1:]]
    return job, analysis_stamp, executions


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
