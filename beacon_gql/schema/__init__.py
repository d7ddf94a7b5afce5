"""The GraphQL schema: types and thin resolvers over the services.

May import services (through its context), jobs/, analysis/, events/, db/ and errors; only
the web edge and cli import it.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from beacon_gql.schema.errors import CodedErrors
from beacon_gql.schema.mutation import Mutation
from beacon_gql.schema.query import Query
from beacon_gql.schema.shared_render import RenderOnceExecutor
from beacon_gql.schema.subscription import Subscription

MAX_QUERY_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000


class BeaconSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # A refused submission is the API working, not a server fault: only errors nobody
        # anticipated are logged (with a reference, by CodedErrors). Syntax errors (the token
        # limit aborts parsing with one) are answered before CodedErrors sees the result, so
        # they get their code here: this list is the one sent.
        for error in errors:
            if isinstance(error, GraphQLSyntaxError) and not error.extensions:
                error.extensions = {"code": "GRAPHQL_PARSE_FAILED"}


def create_schema(*, introspection: bool = True) -> strawberry.Schema:
    # The caches are shared by every request (that is what makes them caches); their hooks
    # read the request's context synchronously at the start of an operation, before any
    # suspension. The limiters are built per request from rule classes made once: the
    # validation cache keys on the rules, so new classes per request would never hit it.
    parser_cache = ParserCache(maxsize=1024)
    validation_cache = ValidationCache(maxsize=1024)
    rules = [
        *QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[object] = [
        CodedErrors,
        lambda: parser_cache,
        lambda: validation_cache,
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ]
    return BeaconSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=RenderOnceExecutor,
    )
