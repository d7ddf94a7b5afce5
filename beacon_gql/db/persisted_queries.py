"""Rows of `persisted_queries`: a document by its SHA-256, and registering one."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import PersistedQuery


async def find_document(session: AsyncSession, sha256: str) -> str | None:
    row = await session.get(PersistedQuery, sha256)
    return None if row is None else row.document


async def register_document(session: AsyncSession, sha256: str, document: str) -> None:
    """Insert once; a registration another process made first is the same document (the
    caller has checked the hash), so a duplicate key is success."""
    if await session.get(PersistedQuery, sha256) is not None:
        return
    session.add(PersistedQuery(sha256=sha256, document=document))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()


async def count_documents(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(PersistedQuery)) or 0)
