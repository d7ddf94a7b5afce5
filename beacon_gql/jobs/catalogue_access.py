"""The question catalogue as stored: the built-in eight and whatever was imported.

Read once and kept; an import in this process drops the copy, and a question id this
process has not seen (imported by another process) makes it read the catalogue again. The
texts a job is created with are read in the job's own transaction, never from the copy.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from beacon_gql.db import queries
from beacon_gql.db import questions as store
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Question
from beacon_gql.jobs.question_import import QuestionImportError, QuestionRecord


@dataclass(frozen=True)
class ImportResult:
    added: tuple[str, ...]
    updated: tuple[str, ...]
    """Questions whose text, category, language or translation_of changed."""
    unchanged: tuple[str, ...]


class QuestionCatalogue:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._questions: tuple[Question, ...] | None = None

    async def all(self) -> tuple[Question, ...]:
        if self._questions is None:
            async with self._sessions() as session:
                self._questions = tuple(await queries.list_questions(session))
        return self._questions

    async def texts(self) -> Mapping[str, str]:
        return {question.id: question.text for question in await self.all()}

    async def known_ids(self, wanted: Collection[str] = ()) -> frozenset[str]:
        """Every question id, read again when one of `wanted` is missing from the copy."""
        known = frozenset(question.id for question in await self.all())
        if not set(wanted) <= known:
            self._questions = None
            known = frozenset(question.id for question in await self.all())
        return known

    async def by_category(self, category: str | None) -> list[Question]:
        return await self.filtered(category=category)

    async def filtered(
        self, *, category: str | None = None, language: str | None = None
    ) -> list[Question]:
        return [
            q
            for q in await self.all()
            if (category is None or q.category == category)
            and (language is None or q.language.lower() == language.lower())
        ]

    async def categories(self) -> Mapping[str, str]:
        return {question.id: question.category for question in await self.all()}

    async def import_questions(self, records: Sequence[QuestionRecord]) -> ImportResult:
        """Adds and updates `records` in one transaction: all of them, or none.

        A question cannot change once a job has used it: its executions were asked that
        text, and the job's stored analysis counted it in that category (a `control`
        question is never censorship). Its text, category, language and translation_of
        stay; import a changed question under a new id.
        """
        ids = [record.id for record in records]
        async with self._sessions() as session:
            existing = await store.by_ids(session, ids, lock=True)
            changed = {
                r.id: field
                for r in records
                if r.id in existing and (field := _first_change(existing[r.id], r)) is not None
            }
            used = await store.used_by_a_job(session, list(changed))
            for record in records:
                if record.id in used:
                    field = changed[record.id]
                    stored, given = getattr(existing[record.id], field), getattr(record, field)
                    raise QuestionImportError(
                        record.where,
                        field,
                        f"question {record.id!r} has been used by a job, so its {field} cannot "
                        f"change (stored: {_excerpt(stored)}, given: {_excerpt(given)}); "
                        "import the changed question under a new id",
                    )
            importing = set(ids)
            missing = [
                r
                for r in records
                if r.translation_of is not None and r.translation_of not in importing
            ]
            originals = await store.by_ids(session, {r.translation_of or "" for r in missing})
            for record in missing:
                if record.translation_of not in originals:
                    raise QuestionImportError(
                        record.where,
                        "translation_of",
                        f"{record.translation_of!r} is neither in the catalogue nor in this import",
                    )

            position = await store.next_position(session)
            added, updated, unchanged, rows = [], [], [], []
            for record in records:
                values = {
                    "text": record.text,
                    "category": record.category,
                    "language": record.language,
                    "translation_of": record.translation_of,
                }
                stored = existing.get(record.id)
                if stored is None:
                    rows.append({"id": record.id, "position": position, **values})
                    position += 1
                    added.append(record.id)
                elif record.id in changed:
                    await store.update_question(session, record.id, values)
                    updated.append(record.id)
                else:
                    unchanged.append(record.id)
            await store.insert_questions(session, rows)
            await session.commit()
        self._questions = None
        return ImportResult(tuple(added), tuple(updated), tuple(unchanged))


_FIELDS = ("text", "category", "language", "translation_of")


def _first_change(stored: Question, record: QuestionRecord) -> str | None:
    for field in _FIELDS:
        if getattr(stored, field) != getattr(record, field):
            return field
    return None


def _excerpt(value: str | None, limit: int = 60) -> str:
    if value is None:
        return "none"
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")
