"""Alembic environment: runs on a connection handed in by beacon_gql.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from beacon_gql.db.models import Base

target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `beacon-gql migrate`, which supplies the connection")
run_migrations(connection)
