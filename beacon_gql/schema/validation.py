"""Validation: the query limits first, then graphql-core's rules, answers remembered.

In place of strawberry's ValidationCache. A document over a limit (`beacon_gql.schema.limits`)
is refused without graphql-core seeing it; the others are validated with at most
`MAX_VALIDATION_ERRORS` errors, and without field suggestions ("Did you mean 'job'?") when
introspection is off, since they describe the schema as well.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Final

from graphql import DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from beacon_gql.schema.cost import SchemaShape
from beacon_gql.schema.limits import QueryLimits, check_limits

# graphql-core stops validating after this many errors (its default, 100, let one document
# cost a hundred errors, each locating itself by scanning the text from its start).
MAX_VALIDATION_ERRORS: Final = 20
# Answers for longer query texts (a long string literal or comment) are not remembered, so
# the cache holds at most cache_size x this many characters of keys.
MAX_REMEMBERED_QUERY_CHARS: Final = 64 * 1024


def limited_validation(
    schema: GraphQLSchema, limits: QueryLimits, *, hide_suggestions: bool, cache_size: int
) -> type[SchemaExtension]:
    """A schema extension (in place of strawberry's ValidationCache) that checks the limits
    and then validates, remembering the answer for the last `cache_size` query texts."""
    shape = SchemaShape(schema)
    # Keyed on the query text, as the parser cache is (one text, one document): strawberry's
    # ValidationCache keys on the document itself, whose hash walks the whole tree again.
    answers: OrderedDict[tuple[str, tuple[type[ASTValidationRule], ...]], list[GraphQLError]]
    answers = OrderedDict()

    def checked(
        document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        refused = check_limits(document, shape, limits)
        if refused:
            return refused
        return validate(
            schema,
            document,
            (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
            max_errors=MAX_VALIDATION_ERRORS,
            hide_suggestions=hide_suggestions,
        )

    class LimitedValidation(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None:
                rules = tuple(context.validation_rules)
                if context.query is None or len(context.query) > MAX_REMEMBERED_QUERY_CHARS:
                    context.pre_execution_errors = checked(document, rules)
                else:
                    key = (context.query, rules)
                    errors = answers.get(key)
                    if errors is None:
                        errors = answers[key] = checked(document, rules)
                        if len(answers) > cache_size:
                            answers.popitem(last=False)
                    else:
                        answers.move_to_end(key)
                    context.pre_execution_errors = errors
            yield

    return LimitedValidation
