"""GraphQL errors with `extensions.code`, and never a stack trace or SQL in a message."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator

from graphql.error import GraphQLError
from graphql.language import VariableDefinitionNode
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import StreamExecutionResult

from beacon_gql.errors import BeaconError

log = logging.getLogger("beacon_gql.graphql")

_REQUEST_REFUSALS = (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError)

# graphql.execution.values.coerce_variable_values' messages.
_VARIABLE_VALUE_ERROR = re.compile(
    r"Variable '\$\w+' (has invalid value|of required type .* was not provided"
    r"|of non-null type .* must not be null)"
)


def _is_coded(error: GraphQLError) -> bool:
    return bool(error.extensions and "code" in error.extensions)


def is_variable_coercion(error: GraphQLError) -> bool:
    """graphql-core's errors for variable values that do not fit their declared types
    (strawberry reports them with the validation errors, which also point at variable
    definitions: told apart by graphql-core's wording). Nothing has run when they occur."""
    return (
        error.path is None
        and bool(error.nodes)
        and all(isinstance(node, VariableDefinitionNode) for node in error.nodes or ())
        and _VARIABLE_VALUE_ERROR.match(error.message) is not None
    )


class CodedErrors(MaskErrors):
    """Service errors keep their message and gain their code; anything unexpected is
    logged with a reference and shown as INTERNAL_SERVER_ERROR with that reference only."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda _: True)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # Runs for every subscription event sent to every subscriber; MaskErrors' check of
        # the result against a runtime Protocol cost more than the rest of sending one event.
        if getattr(result, "errors", None):
            yield from super().on_stream_result(result)
            return
        self._stream_result_processed = True
        yield None

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            if _is_coded(error):
                return error
            # Parse and validation errors: the query itself is wrong; variable values that
            # do not fit their declared types: the input is.
            code = "BAD_USER_INPUT" if is_variable_coercion(error) else "GRAPHQL_VALIDATION_FAILED"
            return GraphQLError(
                error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": code},
            )
        if isinstance(original, _REQUEST_REFUSALS):
            # strawberry's refusals of the request itself (an operation type this transport
            # does not run, an unknown operation name): the client's mistake.
            return GraphQLError(
                error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": "BAD_REQUEST"},
            )
        if isinstance(original, BeaconError):
            extensions: dict[str, object] = {"code": original.code}
            if original.field is not None:
                extensions["field"] = original.field
            message = original.message
        else:
            reference = uuid.uuid4().hex[:12]
            log.error(
                "unexpected error in a resolver",
                exc_info=original,
                extra={"reference": reference, "path": error.path},
            )
            extensions = {"code": "INTERNAL_SERVER_ERROR", "reference": reference}
            message = f"internal server error (reference {reference})"
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
