"""How many values a field can return: each list counted at the largest it can be.

The query limits (`beacon_gql.schema.limits`) multiply these along every path, so
`jobs(first: 100) { nodes { executions { id } } }` counts 100 x 20,000 ids and is refused
before it runs, while one job with all its executions is not. A list field of the schema
missing from `LIST_BOUNDS` counts `DEFAULT_LIST_BOUND` (a test lists every list field, so a
new one is bounded on purpose). Introspection lists are bounded by the schema itself.
"""

from __future__ import annotations

from math import comb
from typing import Final

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    IntValueNode,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from beacon_gql.analysis.comparisons import MAX_MODELS_FOR_PAIRS
from beacon_gql.jobs.question_import import MAX_QUESTIONS_PER_IMPORT
from beacon_gql.jobs.reading import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from beacon_gql.jobs.spec import MAX_EXECUTIONS, MAX_MODELS, MAX_QUESTIONS, MAX_RUNS
from beacon_gql.providers.regions import KNOWN_REGIONS

REGIONS: Final = len(KNOWN_REGIONS)
# Bounds the data does not fix exactly: generous estimates, not guarantees.
MAX_PROVIDERS: Final = 100
MAX_LISTED_STRINGS: Final = 20  # evidence phrases, reasons
MAX_ATTEMPTS_SHOWN: Final = 10  # provider calls of one execution (BEACON_MAX_ATTEMPTS is 3)
MAX_KEY_DIFFERENCES: Final = MAX_QUESTIONS * REGIONS
MAX_LANGUAGES: Final = 10  # languages one job's questions are asked in
# Imports add to the catalogue without a cap on its total: counted as one full import's
# worth, so that a page listing the catalogue a few times over is not refused; a larger
# catalogue still answers, within the response's byte bound.
MAX_CATALOGUE: Final = MAX_QUESTIONS_PER_IMPORT
DEFAULT_LIST_BOUND: Final = 100

LIST_BOUNDS: Final[dict[tuple[str, str], int]] = {
    ("Query", "questions"): MAX_CATALOGUE,
    ("Query", "providers"): MAX_PROVIDERS,
    # `Query.jobs` is counted by its `first` argument; these are that page.
    ("JobConnection", "edges"): 1,
    ("JobConnection", "nodes"): 1,
    ("Job", "questions"): MAX_QUESTIONS,
    ("Job", "models"): MAX_MODELS,
    ("Job", "regions"): REGIONS,
    ("Job", "executions"): MAX_EXECUTIONS,
    ("Model", "regions"): REGIONS,
    ("Provider", "models"): MAX_MODELS,
    ("Execution", "classificationEvidence"): MAX_LISTED_STRINGS,
    ("Execution", "attemptHistory"): MAX_ATTEMPTS_SHOWN,
    ("BiasAnalysis", "keyDifferences"): MAX_KEY_DIFFERENCES,
    ("BiasAnalysis", "regions"): REGIONS,
    ("BiasAnalysis", "questions"): MAX_QUESTIONS,
    ("BiasAnalysis", "models"): MAX_MODELS,
    ("BiasAnalysis", "languages"): MAX_LANGUAGES,
    # A group holds at least two of the job's questions.
    ("BiasAnalysis", "translationGroups"): MAX_QUESTIONS // 2,
    ("TranslationGroup", "languages"): MAX_LANGUAGES,
    ("LanguageSummary", "questions"): MAX_QUESTIONS,
    ("LanguageSummary", "models"): MAX_MODELS,
    ("KeyDifference", "languages"): MAX_LANGUAGES,
    ("KeyDifference", "regions"): REGIONS,
    ("KeyDifference", "models"): MAX_MODELS,
    ("KeyDifference", "evidence"): MAX_LISTED_STRINGS,
    ("QuestionAnalysis", "regionComparisons"): comb(REGIONS, 2),
    ("QuestionAnalysis", "modelComparisons"): comb(MAX_MODELS_FOR_PAIRS, 2),
    ("QuestionAnalysis", "regions"): REGIONS,
    ("QuestionAnalysis", "models"): MAX_MODELS,
    ("ImportQuestionsPayload", "added"): MAX_QUESTIONS_PER_IMPORT,
    ("ImportQuestionsPayload", "updated"): MAX_QUESTIONS_PER_IMPORT,
    ("ImportQuestionsPayload", "unchanged"): MAX_QUESTIONS_PER_IMPORT,
    ("ImportQuestionsPayload", "questions"): MAX_CATALOGUE,
    ("RiskAssessment", "reasons"): MAX_LISTED_STRINGS,
    # One sibling hash per level of a Merkle tree over at most MAX_EXECUTIONS leaves.
    ("ReceiptProof", "path"): MAX_EXECUTIONS.bit_length(),
}

# `runs` executions per (question, model, region): with all three filters, at most MAX_RUNS.
_CELL_FILTERS: Final = frozenset({"questionId", "modelId", "region"})


def _introspection_bounds(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    types = list(schema.type_map.values())

    def most(*counts: int) -> int:
        return max(1, *counts)

    fields = [t.fields for t in types if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)]
    return {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(schema.directives),
        ("__Type", "fields"): most(*(len(f) for f in fields)),
        ("__Type", "inputFields"): most(*(len(getattr(t, "fields", {})) for t in types)),
        ("__Type", "enumValues"): most(*(len(getattr(t, "values", {})) for t in types)),
        ("__Type", "interfaces"): most(*(len(getattr(t, "interfaces", ())) for t in types)),
        ("__Type", "possibleTypes"): len(types),
        ("__Field", "args"): most(*(len(field.args) for f in fields for field in f.values())),
        ("__Directive", "args"): most(*(len(d.args) for d in schema.directives)),
        ("__Directive", "locations"): 20,
    }


class SchemaShape:
    """What the limits need to know of the schema: field types and list bounds."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._bounds = {**LIST_BOUNDS, **_introspection_bounds(schema)}

    def named_type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.type_map.get(name)

    def field(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if parent is None:
            return None
        if parent is self.schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            field: GraphQLField | None = parent.fields.get(name)
            return field
        return None

    def values(
        self, parent: GraphQLNamedType, name: str, field: GraphQLField, node: FieldNode
    ) -> tuple[int, GraphQLNamedType]:
        """How many values the field returns at most, and their type."""
        count = 1
        of_type = field.type
        while isinstance(of_type, GraphQLNonNull | GraphQLList):
            if isinstance(of_type, GraphQLList):
                count *= self._list_bound(parent.name, name, node)
            of_type = of_type.of_type
        if parent is self.schema.query_type and name == "jobs":
            count *= _page_size(node)
        return count, get_named_type(field.type)

    def _list_bound(self, parent: str, name: str, node: FieldNode) -> int:
        if (parent, name) == ("Job", "executions"):
            given = {argument.name.value for argument in node.arguments or ()}
            if given >= _CELL_FILTERS:
                return MAX_RUNS
        return self._bounds.get((parent, name), DEFAULT_LIST_BOUND)


def _page_size(node: FieldNode) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                return min(max(int(argument.value.value), 1), MAX_PAGE_SIZE)
            return MAX_PAGE_SIZE  # a variable: its value is not known when validating
    return DEFAULT_PAGE_SIZE


def unbounded_list_fields(schema: GraphQLSchema) -> list[tuple[str, str]]:
    """List fields of the schema's own types that `LIST_BOUNDS` does not name."""
    missing = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for name, field in type_.fields.items():
            of_type = field.type
            while isinstance(of_type, GraphQLNonNull):
                of_type = of_type.of_type
            if isinstance(of_type, GraphQLList) and (type_.name, name) not in LIST_BOUNDS:
                missing.append((type_.name, name))
    return missing
