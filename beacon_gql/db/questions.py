"""Storage for the question catalogue: reads, the used-by-a-job check, the import's writes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import Execution, Question


async def by_ids(
    session: AsyncSession, ids: Collection[str], *, lock: bool = False, share: bool = False
) -> dict[str, Question]:
    """The questions among `ids`. `lock` takes their rows FOR UPDATE (an import about to
    change them), `share` FOR SHARE (a job about to use them): on PostgreSQL the two
    serialise, so a text cannot change between a job reading it and using it. SQLite runs
    one writer at a time and needs neither."""
    if not ids:
        return {}
    statement = select(Question).where(Question.id.in_(list(ids)))
    if lock or share:
        statement = statement.with_for_update(read=share and not lock)
    return {question.id: question for question in await session.scalars(statement)}


async def used_by_a_job(session: AsyncSession, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    rows = await session.scalars(
        select(Execution.question_id).where(Execution.question_id.in_(list(ids))).distinct()
    )
    return set(rows)


async def next_position(session: AsyncSession) -> int:
    highest = await session.scalar(select(func.max(Question.position)))
    return 0 if highest is None else highest + 1


async def insert_questions(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Question), list(rows))


async def update_question(
    session: AsyncSession, question_id: str, values: Mapping[str, Any]
) -> None:
    await session.execute(update(Question).where(Question.id == question_id).values(**values))
