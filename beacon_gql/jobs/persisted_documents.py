"""GraphQL documents registered under their SHA-256, shared by every API process through the
database, with the recently used ones kept in memory (a document never changes under its
hash, so a remembered one is never stale)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.persisted_queries import count_documents, find_document, register_document

# About 4,000 documents of a few kilobytes: a few megabytes at most.
CACHED_DOCUMENTS = 4096
# Any client with read access registers what it sends: the table is bounded (20,000 documents
# of at most 32 KiB, 640 MiB at the very worst); past it, documents still run, unregistered.
# Documents registered with the admin token (the allow-list) are not limited.
MAX_CLIENT_DOCUMENTS = 20_000
MAX_CLIENT_DOCUMENT_BYTES = 32 * 1024


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

    async def register(self, document: str, *, trusted: bool = False) -> bool:
        """Store the document under its hash; False when a client's document is over the
        bounds (it runs all the same, and its client keeps sending it in full)."""
        sha256 = document_hash(document)
        if sha256 in self._recent:
            return True
        async with self._sessions() as session:
            if not trusted and (
                len(document.encode("utf-8", "surrogatepass")) > MAX_CLIENT_DOCUMENT_BYTES
                or await count_documents(session) >= MAX_CLIENT_DOCUMENTS
            ):
                return False
            await register_document(session, sha256, document)
        self._remember(sha256, document)
        return True

    async def is_registered(self, document: str) -> bool:
        return await self.document(document_hash(document)) is not None

    def _remember(self, sha256: str, document: str) -> None:
        self._recent[sha256] = document
        self._recent.move_to_end(sha256)
        while len(self._recent) > CACHED_DOCUMENTS:
            self._recent.popitem(last=False)
