"""GraphQL documents registered under their SHA-256, shared by every API process through the
database, with the recently used ones kept in memory (a document never changes under its
hash, so a remembered one is never stale)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.persisted_queries import find_document, register_document

# About 4,000 documents of a few kilobytes: a few megabytes at most.
CACHED_DOCUMENTS = 4096


def document_hash(document: str) -> str:
    """The hex SHA-256 of the document's UTF-8 bytes, as Apollo's clients compute it."""
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


class PersistedDocuments:
    def __init__(self, sessions: SessionFactory, *, mode: str) -> None:
        self.mode = mode
        self._sessions = sessions
        self._recent: OrderedDict[str, str] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @property
    def allow_list_only(self) -> bool:
        return self.mode == "only"

    async def document(self, sha256: str) -> str | None:
        known = self._recent.get(sha256)
        if known is not None:
            self._recent.move_to_end(sha256)
            return known
        async with self._sessions() as session:
            found = await find_document(session, sha256)
        if found is not None:
            self._remember(sha256, found)
        return found

    async def register(self, document: str) -> str:
        sha256 = document_hash(document)
        if sha256 not in self._recent:
            async with self._sessions() as session:
                await register_document(session, sha256, document)
            self._remember(sha256, document)
        return sha256

    async def is_registered(self, document: str) -> bool:
        return await self.document(document_hash(document)) is not None

    def _remember(self, sha256: str, document: str) -> None:
        self._recent[sha256] = document
        self._recent.move_to_end(sha256)
        while len(self._recent) > CACHED_DOCUMENTS:
            self._recent.popitem(last=False)
