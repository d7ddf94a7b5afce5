"""Shared fixtures: real databases (SQLite and PostgreSQL), a trusted signer, a served app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from beacon_gql.config import Settings
from beacon_gql.db.engine import create_engine
from tests.support.databases import (
    copy_sqlite,
    empty_tables,
    fresh_postgres_database,
    migrated_sqlite_template,
)
from tests.support.server import ServedApp, serve_app
from tests.support.specs import Signer, write_trust_file

ADMIN_TOKEN = "test-admin-token"
FIGURES = pytest.StashKey[list[str]]()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Lines a test measured (the load test's throughput and latency), shown in the terminal
    summary of every run, captured output or not, so they appear in the CI log."""
    lines: list[str] = []
    yield lines
    if lines:
        summary = request.config.stash.setdefault(FIGURES, [])
        summary += [f"{request.node.nodeid}:", *(f"  {line}" for line in lines)]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(FIGURES, [])
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def signer() -> Signer:
    return Signer.generate("test-researcher")


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("beacon")


@pytest.fixture(scope="session")
def trust_file(session_dir: Path, signer: Signer) -> Path:
    return write_trust_file(session_dir / "trusted-keys.json", [signer.trust_entry()])


@pytest.fixture(scope="session")
async def sqlite_template(session_dir: Path) -> Path:
    return await migrated_sqlite_template(session_dir)


class LazyPostgres:
    """One PostgreSQL database for the session, created when a test first needs it."""

    def __init__(self) -> None:
        self._stack = contextlib.AsyncExitStack()
        self._url: str | None = None

    async def url(self) -> str:
        if self._url is None:
            self._url = await self._stack.enter_async_context(fresh_postgres_database())
        return self._url

    async def close(self) -> None:
        await self._stack.aclose()


@pytest.fixture(scope="session")
async def lazy_postgres() -> AsyncIterator[LazyPostgres]:
    postgres = LazyPostgres()
    yield postgres
    await postgres.close()


async def emptied_postgres(lazy_postgres: LazyPostgres) -> str:
    """The session's PostgreSQL database, emptied for the test about to run."""
    url = await lazy_postgres.url()
    engine = create_engine(url)
    try:
        await empty_tables(engine)
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def postgres_database_url(lazy_postgres: LazyPostgres) -> str:
    return await emptied_postgres(lazy_postgres)


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(
    request: pytest.FixtureRequest,
    sqlite_template: Path,
    tmp_path: Path,
    lazy_postgres: LazyPostgres,
) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return copy_sqlite(sqlite_template, tmp_path)
    return await emptied_postgres(lazy_postgres)


def make_settings(database_url: str, trust_file: Path) -> Settings:
    return Settings(
        database_url=database_url,
        trusted_keys_file=trust_file,
        admin_token=ADMIN_TOKEN,
        lease_seconds=10.0,
    )


@pytest.fixture
def settings(database_url: str, trust_file: Path) -> Settings:
    return make_settings(database_url, trust_file)


@pytest.fixture
def sqlite_settings(sqlite_template: Path, tmp_path: Path, trust_file: Path) -> Settings:
    """For tests whose subject does not depend on the database (HTTP limits and the like)."""
    return make_settings(copy_sqlite(sqlite_template, tmp_path), trust_file)


@pytest.fixture
def postgres_settings(postgres_database_url: str, trust_file: Path) -> Settings:
    """For tests that are about PostgreSQL itself: the queue, LISTEN/NOTIFY, processes."""
    url = postgres_database_url.replace("postgresql+asyncpg://", "postgresql://")
    return replace(make_settings(postgres_database_url, trust_file), broadcast_url=url)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[ServedApp]:
    """The app over real HTTP, without a worker: jobs stay as submitted."""
    async with serve_app(settings, run_worker=False) as served:
        yield served
