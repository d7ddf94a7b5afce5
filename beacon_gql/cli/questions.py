"""`beacon-gql questions import FILE`: add questions to the catalogue of BEACON_DATABASE_URL.

It writes to the database directly, as `migrate` does: an admin's tool, run where the
database is reachable. Running servers see the new questions at once (a question id they
do not know makes them read the catalogue again).
"""

from __future__ import annotations

from pathlib import Path

from beacon_gql.config import Settings
from beacon_gql.db import migrate
from beacon_gql.db.engine import create_engine, create_session_factory
from beacon_gql.jobs.catalogue_access import ImportResult, QuestionCatalogue
from beacon_gql.jobs.question_import import parse_file


async def import_file(path: Path, settings: Settings) -> tuple[ImportResult, int]:
    """The import's result and the size of the catalogue afterwards."""
    records = parse_file(path)
    engine = create_engine(settings.database_url)
    try:
        if settings.is_sqlite:
            await migrate.upgrade(engine)
        else:
            await migrate.require_current(engine)
        catalogue = QuestionCatalogue(create_session_factory(engine))
        result = await catalogue.import_questions(records)
        return result, len(await catalogue.all())
    finally:
        await engine.dispose()
