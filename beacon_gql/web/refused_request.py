"""An operation of an HTTP request refused before strawberry runs it."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData


class RefusedRequest(GraphQLRequestData):
    """Answered with `error` as its only error (a persisted query not found, a wrong hash, a
    document outside the allow-list), in its place in a batch."""

    def __init__(self, error: GraphQLError) -> None:
        super().__init__(query=None, variables=None, operation_name=None, extensions=None)
        self.error = error
