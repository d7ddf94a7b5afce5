"""The GraphQL schema: types and thin resolvers over the services.

May import services (through its context), jobs/, analysis/, events/, db/ and errors; only
the web edge and cli import it.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from beacon_gql.schema.errors import CodedErrors
from beacon_gql.schema.limits import QueryLimits
from beacon_gql.schema.mutation import Mutation
from beacon_gql.schema.parsing import ErrorSafeParserCache
from beacon_gql.schema.query import Query
from beacon_gql.schema.response_size import SizeBoundExecutor
from beacon_gql.schema.subscription import Subscription
from beacon_gql.schema.validation import limited_validation

MAX_QUERY_DEPTH = 10
# The standard introspection query is 15 deep (`ofType` nested 9 times in graphql-core 3.3).
MAX_INTROSPECTION_DEPTH = 20
MAX_ALIASES = 30
MAX_TOKENS = 2000
MAX_FRAGMENT_SPREADS = 50
MAX_FIELDS = 1000
# `beacon-gql export` of a job at every maximum (20,000 executions, 200 questions) is 1.3 M.
MAX_COST = 2_500_000
# The standard introspection query is about 370,000 (52 types; it grows with the schema):
# one of them per document (it is slow), two are over.
MAX_INTROSPECTION_COST = 500_000
MAX_OPERATIONS = 20
MAX_SAME_NAME_PAIRS = 200


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


class _SuggestionFreeExecutor(SizeBoundExecutor):
    """Without introspection, variable values get no "Did you mean ...?" either."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


def create_schema(*, introspection: bool = True, max_batch: int = 0) -> strawberry.Schema:
    """`max_batch`: operations one HTTP request may carry as a JSON array (0: no batches);
    each runs through every limit and extension below, as a single one does."""
    # The caches are shared by every request (that is what makes them caches); their hooks
    # read the request's context synchronously at the start of an operation, before any
    # suspension. The rule list is made once: the validation cache keys on it.
    parser_cache = ErrorSafeParserCache(maxsize=1024)
    rules: list[type[ASTValidationRule]] = (
        [] if introspection else [NoSchemaIntrospectionCustomRule]
    )
    limits = QueryLimits(
        depth=MAX_QUERY_DEPTH,
        introspection_depth=MAX_INTROSPECTION_DEPTH,
        aliases=MAX_ALIASES,
        spreads=MAX_FRAGMENT_SPREADS,
        fields=MAX_FIELDS,
        cost=MAX_COST,
        introspection_cost=MAX_INTROSPECTION_COST,
        operations=MAX_OPERATIONS,
        same_name_pairs=MAX_SAME_NAME_PAIRS,
    )
    extensions: list[object] = [
        CodedErrors,
        lambda: parser_cache,
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ]
    schema = BeaconSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(
            auto_camel_case=True,
            batching_config={"max_operations": max_batch} if max_batch > 0 else None,
        ),
        execution_context_class=SizeBoundExecutor if introspection else _SuggestionFreeExecutor,
    )
    # Limits checked in linear time, then graphql-core's validation (cached); suggestions
    # ("Did you mean 'job'?") describe the schema, so they go when introspection does.
    schema.extensions = (
        *schema.extensions,
        limited_validation(
            schema._schema, limits, hide_suggestions=not introspection, cache_size=1024
        ),
    )
    return schema
