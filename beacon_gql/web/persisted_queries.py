"""Automatic persisted queries (Apollo's protocol) and the allow-list mode.

A client sends `extensions.persistedQuery = {version: 1, sha256Hash}`:
- without the document: the stored document runs; an unknown hash is answered
  PERSISTED_QUERY_NOT_FOUND (message "PersistedQueryNotFound"), and the client retries with
  the document;
- with the document: its SHA-256 must be the hash (BAD_USER_INPUT otherwise, nothing
  registered); it is registered (in the database, so every API process knows it) and runs.

`BEACON_PERSISTED_QUERIES`:
- `on` (default): as above; documents without the extension run as usual.
- `off`: the extension is refused with PERSISTED_QUERY_NOT_SUPPORTED (Apollo's link then
  sends whole documents).
- `only`: an allow-list. Only registered documents run, sent by hash or in full, over HTTP
  and both WebSocket protocols; anything else is FORBIDDEN. A document is registered by
  sending it (with or without the extension) with the admin token
  (`Authorization: Bearer $BEACON_ADMIN_TOKEN`, or `{"token": ...}` in a WebSocket's
  connection_init): a deployment registers its clients' documents that way, e.g. by running
  them once against it with the admin token.
"""

from __future__ import annotations

import re
from typing import Any, Final

from graphql import GraphQLError, parse
from strawberry.http import GraphQLRequestData

from beacon_gql.jobs.persisted_documents import PersistedDocuments, document_hash
from beacon_gql.schema import MAX_TOKENS
from beacon_gql.web.refused_request import RefusedRequest

PERSISTED_QUERY_NOT_FOUND: Final = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED: Final = "PERSISTED_QUERY_NOT_SUPPORTED"
NOT_REGISTERED: Final = (
    "this server runs only registered documents (BEACON_PERSISTED_QUERIES=only); "
    "send a registered document or its sha256Hash"
)
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def _persisted_hash(extensions: dict[str, Any] | None) -> str | GraphQLError | None:
    """The requested hash; None without the extension; the error for a malformed one."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        return _error("persistedQuery must be {version: 1, sha256Hash}", "BAD_REQUEST")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or _SHA256.fullmatch(sha256) is None:
        return _error("persistedQuery.sha256Hash must be 64 lower-case hex digits", "BAD_REQUEST")
    return sha256


def _parses(document: str) -> bool:
    """Only documents that parse are registered (the rest are answered
    GRAPHQL_PARSE_FAILED and never stored)."""
    try:
        parse(document, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return False
    return True


async def prepare(
    item: GraphQLRequestData, store: PersistedDocuments, *, admin: bool
) -> GraphQLRequestData:
    """The operation to run: its document filled in from its hash, registered, or refused."""
    requested = _persisted_hash(item.extensions)
    if isinstance(requested, GraphQLError):
        return RefusedRequest(requested)
    if requested is not None and not store.enabled:
        return RefusedRequest(
            _error("persisted queries are turned off here", PERSISTED_QUERY_NOT_SUPPORTED)
        )
    if requested is not None and item.query is None:
        document = await store.document(requested)
        if document is None:
            return RefusedRequest(_error("PersistedQueryNotFound", PERSISTED_QUERY_NOT_FOUND))
        item.query = document
        return item
    if item.query is None:
        return item  # strawberry answers "no query"
    if requested is not None:
        if document_hash(item.query) != requested:
            return RefusedRequest(_error("provided sha does not match query", "BAD_USER_INPUT"))
        if not store.allow_list_only or admin:
            if admin or _parses(item.query):
                await store.register(item.query, trusted=admin)
            return item
    if store.allow_list_only:
        refusal = await refusal_of(item.query, store, admin=admin)
        if refusal is not None:
            return RefusedRequest(refusal)
    return item


async def refusal_of(
    document: str, store: PersistedDocuments, *, admin: bool
) -> GraphQLError | None:
    """In the allow-list mode, why this document may not run (None when it may); the admin
    token registers it instead."""
    if not store.allow_list_only:
        return None
    if admin:
        await store.register(document, trusted=True)
        return None
    if await store.is_registered(document):
        return None
    return _error(NOT_REGISTERED, "FORBIDDEN")
