"""A hard bound on the size of one GraphQL answer, enforced while it is being built.

The query limits (`beacon_gql.schema.limits`) bound how many values an answer may hold, but
not how long each is: four aliases of one job's executions with long answers made a 210 MB
response in 0.7 s. Every text and JSON value is counted as graphql-core completes it; past
`BEACON_MAX_RESPONSE_BYTES` the rest of the answer is not built (each further value fails at
once) and the whole answer is replaced by one error, RESPONSE_TOO_LARGE, with no data.
Text is counted in characters, JSON values by their encoded length: an estimate of the
encoded answer, which field names and punctuation make somewhat larger.
"""

from __future__ import annotations

import json
from typing import Any, Final

import orjson
from graphql import ExecutionResult, GraphQLError, GraphQLLeafType

from beacon_gql.config import Settings
from beacon_gql.schema.list_plans import SHORT_VALUE
from beacon_gql.schema.shared_render import RenderOnceExecutor

RESPONSE_TOO_LARGE: Final = "RESPONSE_TOO_LARGE"
_SMALL_VALUE: Final = SHORT_VALUE  # numbers and booleans are short: counted as this


def _size(value: object) -> int:
    if isinstance(value, str):
        return len(value) + 2
    if value is None or isinstance(value, bool | int | float):
        return _SMALL_VALUE
    try:
        return len(orjson.dumps(value))
    except (orjson.JSONEncodeError, TypeError):
        return len(json.dumps(value, default=str))


class SizeBoundExecutor(RenderOnceExecutor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings: object = getattr(getattr(self.context_value, "services", None), "settings", None)
        self._allowed = (
            settings.max_response_bytes
            if isinstance(settings, Settings)
            else Settings.max_response_bytes
        )
        self._built = 0
        self._too_large: GraphQLError | None = None

    # Lists built by a plan (`list_plans`) complete no leaf through the method below: each is
    # counted once built, leaf by leaf as that method would have, and handed to count_planned.
    leaf_size = staticmethod(_size)

    # graphql-core declares it static; it is called on the instance, which the count needs.
    def complete_leaf_value(self, return_type: GraphQLLeafType, result: Any) -> Any:  # type: ignore[override]
        if self._too_large is not None:
            raise self._too_large
        completed = super().complete_leaf_value(return_type, result)
        self._built += _size(completed)
        if self._built > self._allowed:
            raise self._refuse()
        return completed

    def count_planned(self, size: int) -> None:
        # Past the bound, the answer is replaced by the error (build_response) and every leaf
        # completed after this one fails at once, as in the reference executor.
        self._built += size
        if self._built > self._allowed and self._too_large is None:
            self._refuse()

    def _refuse(self) -> GraphQLError:
        self._too_large = GraphQLError(
            f"the answer would be larger than the {self._allowed:,} bytes allowed "
            "(BEACON_MAX_RESPONSE_BYTES): ask for fewer fields, jobs or executions "
            "(executions can be filtered by questionId, modelId, region or status)",
            extensions={"code": RESPONSE_TOO_LARGE, "maxResponseBytes": self._allowed},
        )
        return self._too_large

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        if self._too_large is None:
            return response
        return ExecutionResult(None, [self._too_large])
