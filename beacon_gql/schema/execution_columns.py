"""Which stored columns of an execution a query's selection reads.

A job's `executions` list is read with only these columns (`JobType.executions`): the
portal's dashboard asks for a few short fields, and reading every column (prompts, signed
receipts, five timestamps converted per row) was most of the time of a big job's read.
A field not listed here, or anything this walk does not understand, reads every column,
so a new field is never answered from a row that lacks what it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

_ERROR: Final = (
    "status", "error_code", "error_message", "error_stage", "error_transient", "error_provider_id",
)  # fmt: skip

# GraphQL field of Execution -> the columns its resolver (or plan getter) reads.
COLUMNS_OF_FIELD: Final[dict[str, tuple[str, ...]]] = {
    "__typename": (),
    "id": ("id",),
    "questionId": ("question_id",),
    "question": ("question_id",),
    "modelId": ("model_id",),
    "region": ("region",),
    "providerId": ("provider_id",),
    "status": ("status",),
    "attempts": ("attempts",),
    "startedAt": ("started_at",),
    "completedAt": ("completed_at",),
    "durationMs": ("duration_ms",),
    "response": ("response",),
    "prompt": ("prompt",),
    "systemPrompt": ("system_prompt",),
    "temperature": ("temperature",),
    "maxTokens": ("max_tokens",),
    "topP": ("top_p",),
    "sample": ("sample",),
    "classification": ("classification", "status"),
    "classificationEvidence": ("classification_evidence",),
    "classificationConfidence": ("classification_confidence", "status"),
    "classifierVersion": ("classifier_version",),
    "error": _ERROR,
    "lastError": _ERROR,
    # These load what they show by the execution's id.
    "attemptHistory": ("id",),
    "receipt": ("id",),
    "receiptProof": ("id",),
}


def _fields(
    field_nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode | None]:
    """Every field selected directly under `field_nodes`, through inline fragments and
    named ones (each named fragment once); None for what cannot be followed (a fragment the
    document lacks)."""
    pending: list[SelectionSetNode] = [
        node.selection_set for node in field_nodes if node.selection_set is not None
    ]
    seen_fragments: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None:
                    yield None
                elif name not in seen_fragments:
                    seen_fragments.add(name)
                    pending.append(fragment.selection_set)
            else:
                yield None


def selected_columns(
    field_nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode]
) -> frozenset[str] | None:
    """The columns the selections of `field_nodes` (a list of executions) read, whatever
    their directives say (a superset is always right); None for every column."""
    columns: set[str] = set()
    for field in _fields(field_nodes, fragments):
        wanted = None if field is None else COLUMNS_OF_FIELD.get(field.name.value)
        if wanted is None:
            return None
        columns.update(wanted)
    return frozenset(columns)


def executions_read_with_job(
    field_nodes: Iterable[FieldNode], fragments: dict[str, FragmentDefinitionNode]
) -> tuple[bool, frozenset[str] | None]:
    """Whether a `job` field's selection (`field_nodes`) reads its executions unfiltered
    under a single response key, and then the columns that list reads (`selected_columns`
    of the same nodes, so the same key `JobType.executions` loads them with): the job's
    read can bring them on the same connection. (False, None) when there is no such list,
    or several, or a filter: they are read as before, by the list's own loader."""
    found: dict[str, list[FieldNode]] = {}
    for field in _fields(field_nodes, fragments):
        if field is None:
            return False, None
        if field.name.value == "executions":
            key = field.alias.value if field.alias else "executions"
            found.setdefault(key, []).append(field)
    if len(found) != 1:
        return False, None
    (nodes,) = found.values()
    if any(node.arguments for node in nodes):
        return False, None
    return True, selected_columns(nodes, fragments)
