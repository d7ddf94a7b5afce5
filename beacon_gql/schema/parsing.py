"""Parsing with a shared cache that never breaks strawberry's error handling.

strawberry's `ParserCache` parses in its `on_parse` hook, which runs outside the `try` that
turns a syntax error into a GraphQL error: over the WebSocket protocols a document with a
syntax error (or over the token limit, which aborts parsing the same way) escaped as an
exception (a traceback in the log, a bare `complete` or no answer at all). Here a document
the cache cannot parse is left unparsed: strawberry then parses it itself, inside its error
handling, and answers GRAPHQL_PARSE_FAILED like any other transport.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import ParserCache


class ErrorSafeParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        execution_context = self.execution_context
        try:
            execution_context.graphql_document = self.cached_parse_document(
                execution_context.query, **execution_context.parse_options
            )
        except GraphQLError:
            # Parsed again by strawberry (a failure is not cached: lru_cache keeps only
            # returned values), so the error reaches the client through the usual path.
            execution_context.graphql_document = None
        yield
