"""Query limits, checked in time linear in the document before graphql-core validates it.

strawberry's QueryDepthLimiter and MaxAliasesLimiter are not used: they walk every fragment
again at every spread of it, so `query{...F0} fragment F0 on Query{...F1 ...F1} ...` with 40
fragments (1 KB) is 2^40 walks and froze the server. Here each fragment is measured once
(memoised over the fragment graph, a cycle refused as such), and everything that could make
graphql-core's own rules slow is bounded first:

- depth: at most `depth` fields deep, `introspection_depth` under `__schema`/`__type` (the
  standard introspection query is 15 deep; `__type{ofType{ofType...}}` 41 deep is refused);
- aliases (`aliases`) and fragment spreads written in the document (`spreads`);
- fields once fragments are expanded (`fields`): what execution may visit;
- cost (`cost`): the values the answer may hold, each list counted at its largest
  (`beacon_gql.schema.cost`): `jobs(first: 100) { nodes { executions { id } } }` is refused
  before it runs; those under `__schema`/`__type` have their own, smaller budget
  (`introspection_cost`, one standard introspection query): executing introspection is slow;
- operations in one document (`operations`): each is validated, one is run;
- pairs of fields answering under the same path (`same_name_pairs`), weighted by their depth:
  graphql-core's OverlappingFieldsCanBeMergedRule compares each such pair, and again for
  every selection set above it (300 fields `a: job(id: "n") { id }` took it 0.9 s).

Time: every selection set is visited once, every fragment measured once; the walk stops as
soon as a spread, depth or nesting limit is crossed. Only the same-name count walks the
expanded document, and only once the expanded field count is known to be within `fields`.

Only a document within every limit is then validated by graphql-core
(`beacon_gql.schema.validation`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from beacon_gql.schema.cost import SchemaShape

QUERY_TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"
GRAPHQL_VALIDATION_FAILED: Final = "GRAPHQL_VALIDATION_FAILED"
_INTROSPECTION_ROOTS: Final = frozenset({"__schema", "__type"})
# Selection sets nested in one another on the path being walked (fields, inline fragments and
# spreads alike): beyond this the walk stops, far below Python's recursion limit.
_MAX_NESTED_SELECTION_SETS: Final = 100


@dataclass(frozen=True)
class QueryLimits:
    depth: int
    introspection_depth: int
    aliases: int
    spreads: int
    fields: int
    cost: int
    introspection_cost: int
    operations: int
    same_name_pairs: int


@dataclass(frozen=True, slots=True)
class _Measure:
    depth: int  # the deepest path, in fields
    data_depth: int  # the deepest path outside introspection
    aliases: int
    fields: int  # fields, each fragment counted at every spread of it
    cost: int  # values the answer may hold
    introspection_cost: int  # those of them under __schema and __type


_NOTHING: Final = _Measure(0, 0, 0, 0, 0, 0)


class _Refused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


def _error(message: str, code: str, **extensions: object) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def _too_much(what: str, found: int, allowed: int, limit: str) -> GraphQLError:
    return _error(
        f"{what} {found:,}. Allowed: {allowed:,}",
        QUERY_TOO_COMPLEX,
        limit=limit,
        allowed=allowed,
    )


class _Measurer:
    """One walk of the document: every selection set is visited once."""

    def __init__(self, document: DocumentNode, shape: SchemaShape, limits: QueryLimits) -> None:
        self.shape = shape
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, _Measure] = {}
        self.measuring: set[str] = set()
        self.spreads = 0
        self.nesting = 0
        self.open_sets = 0
        self.operation = "anonymous"
        self.unused: list[str] = []

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> _Measure:
        self.open_sets += 1
        if self.open_sets > _MAX_NESTED_SELECTION_SETS:
            raise _Refused(self._depth_error(introspection_too=True))
        depth = data_depth = aliases = fields = cost = introspection_cost = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                measure = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = parent if condition is None else self.shape.named_type(condition.name.value)
                measure = self.selection_set(selection.selection_set, on)
            elif isinstance(selection, FragmentSpreadNode):
                self.spreads += 1
                if self.spreads > self.limits.spreads:
                    raise _Refused(
                        _error(
                            f"More than {self.limits.spreads} fragment spreads found. "
                            f"Allowed: {self.limits.spreads}",
                            QUERY_TOO_COMPLEX,
                            limit="spreads",
                            allowed=self.limits.spreads,
                        )
                    )
                measure = self.fragment(selection.name.value)
            else:  # pragma: no cover - the three kinds of selection
                continue
            depth = max(depth, measure.depth)
            data_depth = max(data_depth, measure.data_depth)
            aliases += measure.aliases
            fields += measure.fields
            cost += measure.cost
            introspection_cost += measure.introspection_cost
        self.open_sets -= 1
        return _Measure(depth, data_depth, aliases, fields, cost, introspection_cost)

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Measure:
        name = node.name.value
        definition = self.shape.field(parent, name)
        values, of_type = 1, None
        if definition is not None and parent is not None:
            values, of_type = self.shape.values(parent, name, definition, node)
        below = _NOTHING
        if node.selection_set is not None:
            self.nesting += 1
            if self.nesting > max(self.limits.depth, self.limits.introspection_depth):
                # Deeper than any limit allows: refused without walking (or recursing) further.
                raise _Refused(self._depth_error(introspection_too=True))
            below = self.selection_set(node.selection_set, of_type)
            self.nesting -= 1
        introspective = name in _INTROSPECTION_ROOTS or (
            parent is not None and parent.name.startswith("__")
        )
        cost = values * (1 + below.cost)
        return _Measure(
            depth=below.depth + 1,
            data_depth=0 if introspective else below.data_depth + 1,
            aliases=below.aliases + (node.alias is not None),
            fields=below.fields + 1,
            cost=cost,
            introspection_cost=cost if introspective else values * below.introspection_cost,
        )

    def fragment(self, name: str) -> _Measure:
        known = self.measured.get(name)
        if known is not None:
            return known
        if name in self.measuring:
            raise _Refused(
                _error(f"Cannot spread fragment '{name}' within itself.", GRAPHQL_VALIDATION_FAILED)
            )
        definition = self.fragments.get(name)
        if definition is None:
            return _NOTHING  # graphql-core's validation names the unknown fragment
        self.measuring.add(name)
        # The measure is relative to the fragment (memoised for every spread of it);
        # `nesting` stays the real depth of the path walked, which bounds the recursion.
        measure = self.selection_set(
            definition.selection_set, self.shape.named_type(definition.type_condition.name.value)
        )
        self.measuring.discard(name)
        self.measured[name] = measure
        return measure

    def _depth_error(self, *, introspection_too: bool = False) -> GraphQLError:
        also = (
            f" (and of {self.limits.introspection_depth} under __schema and __type)"
            if introspection_too
            else ""
        )
        return _error(
            f"'{self.operation}' exceeds maximum operation depth of {self.limits.depth}{also}",
            GRAPHQL_VALIDATION_FAILED,
            limit="depth",
            allowed=self.limits.depth,
        )

    def check(self, document: DocumentNode) -> list[GraphQLError]:
        schema = self.shape.schema
        roots = {
            OperationType.QUERY: schema.query_type,
            OperationType.MUTATION: schema.mutation_type,
            OperationType.SUBSCRIPTION: schema.subscription_type,
        }
        totals = _NOTHING
        errors: list[GraphQLError] = []
        named = Counter(
            d.name.value for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        )
        twice = [name for name, count in named.items() if count > 1]
        if twice:
            # Invalid anyway; and only the last of them would be measured here.
            return [
                _error(
                    f"There can be only one fragment named '{twice[0]}'.",
                    GRAPHQL_VALIDATION_FAILED,
                )
            ]
        operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
        if operations > self.limits.operations:
            # graphql-core validates every operation of a document, walking each again for
            # its variables; only one is run.
            return [
                _too_much(
                    "Operations in one document:", operations, self.limits.operations, "operations"
                )
            ]
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            self.operation = definition.name.value if definition.name else "anonymous"
            measure = self.selection_set(definition.selection_set, roots[definition.operation])
            if measure.data_depth > self.limits.depth:
                errors.append(self._depth_error())
            if measure.depth > self.limits.introspection_depth:
                errors.append(
                    _error(
                        f"'{self.operation}' exceeds maximum introspection depth of "
                        f"{self.limits.introspection_depth}",
                        GRAPHQL_VALIDATION_FAILED,
                        limit="depth",
                        allowed=self.limits.introspection_depth,
                    )
                )
            totals = _Measure(
                0,
                0,
                totals.aliases + measure.aliases,
                totals.fields + measure.fields,
                totals.cost + measure.cost,
                totals.introspection_cost + measure.introspection_cost,
            )
        # Fragments no operation spreads are validated (and walked for same-name pairs) too:
        # their fields count, each unused fragment expanded once.
        self.unused = [name for name in self.fragments if name not in self.measured]
        unused_fields = sum(self.fragment(name).fields for name in self.unused)
        totals = replace(totals, fields=totals.fields + unused_fields)
        limits = self.limits
        if totals.aliases > limits.aliases:
            errors.append(
                _error(
                    f"{totals.aliases} aliases found. Allowed: {limits.aliases}",
                    GRAPHQL_VALIDATION_FAILED,
                    limit="aliases",
                    allowed=limits.aliases,
                )
            )
        if totals.fields > limits.fields:
            errors.append(
                _too_much(
                    "Fields selected, each fragment counted at every spread:",
                    totals.fields,
                    limits.fields,
                    "fields",
                )
            )
        if totals.cost > limits.cost:
            errors.append(
                _too_much(
                    "Values the answer may hold, each list counted at its largest "
                    "(jobs(first), 20,000 executions a job, ...):",
                    totals.cost,
                    limits.cost,
                    "cost",
                )
            )
        if totals.introspection_cost > limits.introspection_cost:
            errors.append(
                _too_much(
                    "Values of introspection (__schema, __type) the answer may hold:",
                    totals.introspection_cost,
                    limits.introspection_cost,
                    "introspectionCost",
                )
            )
        return errors


def _same_name_pairs(document: DocumentNode, unused: list[str]) -> int:
    """Pairs of fields answering under the same path, each weighted by its depth (the overlap
    rule compares a pair again for every selection set above it). Walks the operations and
    the fragments no operation spreads, fragments expanded: call it only once that expanded
    size is known to be within the fields limit."""
    fragments = {
        d.name.value: d.selection_set
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    roots: list[SelectionSetNode] = [
        d.selection_set for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    roots += [fragments[name] for name in unused]
    pairs = 0
    for root in roots:
        at: Counter[tuple[str, ...]] = Counter()
        stack: list[tuple[SelectionSetNode, tuple[str, ...], frozenset[str]]] = [
            (root, (), frozenset())
        ]
        while stack:
            node, path, through = stack.pop()
            for selection in node.selections:
                if isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    here = (*path, name)
                    at[here] += 1
                    if selection.selection_set is not None:
                        stack.append((selection.selection_set, here, through))
                elif isinstance(selection, InlineFragmentNode):
                    stack.append((selection.selection_set, path, through))
                elif isinstance(selection, FragmentSpreadNode):
                    spread = selection.name.value
                    if spread in fragments and spread not in through:
                        stack.append((fragments[spread], path, through | {spread}))
        pairs += sum(n * (n - 1) // 2 * len(path) for path, n in at.items() if n > 1)
    return pairs


def check_limits(
    document: DocumentNode, shape: SchemaShape, limits: QueryLimits
) -> list[GraphQLError]:
    """The limits this document exceeds (none: graphql-core may validate it safely)."""
    measurer = _Measurer(document, shape, limits)
    try:
        errors = measurer.check(document)
    except _Refused as refused:
        return [refused.error]
    if errors:
        return errors
    pairs = _same_name_pairs(document, measurer.unused)
    if pairs > limits.same_name_pairs:
        return [
            _too_much(
                "Pairs of fields answering under the same name, weighted by depth:",
                pairs,
                limits.same_name_pairs,
                "sameNamePairs",
            )
        ]
    return []
