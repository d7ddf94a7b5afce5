"""The question catalogue as stored; read once, since it only changes with a migration."""

from __future__ import annotations

from collections.abc import Mapping

from beacon_gql.db import queries
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Question


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

    async def by_category(self, category: str | None) -> list[Question]:
        return [q for q in await self.all() if category is None or q.category == category]

    async def categories(self) -> Mapping[str, str]:
        return {question.id: question.category for question in await self.all()}
