"""Real databases for tests: a migrated SQLite file, and a fresh PostgreSQL database.

PostgreSQL is required: an unreachable server fails the run. Set
BEACON_TEST_POSTGRES=skip to run only the SQLite half on a machine without one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from beacon_gql.db import migrate
from beacon_gql.db.engine import create_engine
from beacon_gql.db.models import Base, Question
from beacon_gql.jobs.catalogue import BUILT_IN

ADMIN_URL = os.environ.get("BEACON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_wanted() -> bool:
    return os.environ.get("BEACON_TEST_POSTGRES", "required") != "skip"


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@asynccontextmanager
async def fresh_postgres_database(
    admin_url: str = ADMIN_URL, *, migrated: bool = True
) -> AsyncIterator[str]:
    """A new database on the server of `admin_url`, migrated unless told not to; dropped
    afterwards.

    Yields its SQLAlchemy URL.
    """
    if not postgres_wanted():
        pytest.skip("BEACON_TEST_POSTGRES=skip: PostgreSQL tests not run")
    name = f"beacon_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(_asyncpg_url(admin_url), timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(
            f"PostgreSQL is required for the suite and unreachable at {admin_url}: {error}. "
            "Start it, set BEACON_TEST_POSTGRES_URL, or set BEACON_TEST_POSTGRES=skip."
        )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = _asyncpg_url(admin_url).rpartition("/")
    url = sqlalchemy_url(f"{base}/{name}")
    if migrated:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
    try:
        yield url
    finally:
        admin = await asyncpg.connect(_asyncpg_url(admin_url), timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def migrated_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return path


def copy_sqlite(template: Path, directory: Path) -> str:
    target = directory / f"beacon-{uuid.uuid4().hex[:8]}.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


async def empty_tables(engine: AsyncEngine) -> None:
    """Remove every row a test wrote; the built-in catalogue stays, imported questions go."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "questions"]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
        await connection.execute(
            delete(Question).where(Question.id.not_in([q.id for q in BUILT_IN]))
        )
        for question in BUILT_IN:
            await connection.execute(
                update(Question)
                .where(Question.id == question.id)
                .values(
                    text=question.text,
                    category=question.category,
                    language=question.language,
                    translation_of=question.translation_of,
                )
            )
