"""Schema upgrades: the embedded SQLite file migrates itself, PostgreSQL must be migrated."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from beacon_gql.db.migrate import SchemaOutOfDate, head_revision
from beacon_gql.services import running_services
from tests.conftest import make_settings
from tests.support.databases import ADMIN_URL, postgres_wanted, sqlalchemy_url
from tests.support.processes import environment


async def test_a_new_sqlite_file_is_migrated_and_seeded_on_start(
    trust_file: Path, tmp_path: Path
) -> None:
    fresh = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'new' / 'b.db'}", trust_file)
    async with running_services(fresh, run_worker=False) as services:
        questions = await services.catalogue.all()
    assert len(questions) == 16  # the eight, and the same in simplified Chinese


@pytest.mark.skipif(not postgres_wanted(), reason="BEACON_TEST_POSTGRES=skip")
async def test_serve_refuses_an_unmigrated_postgres_until_migrate_runs(
    trust_file: Path,
) -> None:
    name = f"beacon_empty_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = sqlalchemy_url(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    empty = make_settings(url, trust_file)
    try:
        with pytest.raises(SchemaOutOfDate, match="run `beacon-gql migrate`"):
            async with running_services(empty, run_worker=False):
                pass

        migrate = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "beacon_gql.cli",
            "migrate",
            env=environment(empty),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(migrate.communicate(), 60)
        assert migrate.returncode == 0, output.decode()
        assert f"database at revision {head_revision()}".encode() in output

        async with running_services(empty, run_worker=False) as services:
            assert len(await services.catalogue.all()) == 16
    finally:
        admin = await asyncpg.connect(ADMIN_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
