"""Alembic, driven from inside the running event loop on the app's own engine.

Its settings live here, not in an alembic.ini: an installed package has no project folder.
The migrations ship inside the package (beacon_gql/migrations, mapped from the repository's
top-level migrations/ at build time); a checkout, editable install included, uses them where
they are."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

_INSTALLED = Path(__file__).resolve().parents[1] / "migrations"
_CHECKOUT = Path(__file__).resolve().parents[2] / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database is behind the code; the message says what to run."""


def migrations_dir() -> Path:
    """Where the migration scripts are: inside the installed package, else the checkout's."""
    return _INSTALLED if (_INSTALLED / "env.py").is_file() else _CHECKOUT


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {migrations_dir()}")
    return head


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current_revision)


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def require_current(engine: AsyncEngine) -> None:
    current, head = await current_revision(engine), head_revision()
    if current != head:
        found = current or "an empty database"
        raise SchemaOutOfDate(
            f"the database schema is at {found}, the code needs {head}: "
            "run `beacon-gql migrate` with the same BEACON_DATABASE_URL, then start again"
        )
