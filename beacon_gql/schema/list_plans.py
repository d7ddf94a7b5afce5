"""Lists of objects built without a resolver call per field, when nothing in them needs one.

graphql-core completes a list of 5,000 executions by calling, for each of them, each selected
field's resolver through strawberry's wrapper (an Info object, argument parsing, extension
chaining) and gathering the awaitables: over 100,000 calls for one dashboard's query, most of
a running job's answer time. Here the executor compiles, once per list field of a document
(and values of its `@skip`/`@include` variables), a plan for the selected fields: for each,
a plain getter of the object (an attribute, a synchronous resolver that takes only `self`,
or the `PLAN_GETTER` a field declares) and the coercion graphql-core would apply. The list
is then built by a loop over the rows.

graphql-core's executor stays the reference: a field with arguments, an asynchronous
resolver, an abstract type, a `@defer`, a resolver middleware, or any value the plan cannot
complete exactly as the reference would (a null in a non-null field, a failing resolver, a
getter saying `NotPlanned`) sends the whole list back to it, so errors, nulls and their paths
are the reference's own. `tests/test_list_plans.py` compares both on generated queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLString,
    Undefined,
    is_enum_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path

# strawberry's own executor (it carries operation extensions); subclassed so nothing is lost.
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

# The key, in a strawberry field's `metadata`, of a function of the object that gives the
# field's value without a resolver call, or raises NotPlanned when it cannot.
PLAN_GETTER = "beacon.plan_getter"
_DEFINITION = "strawberry-definition"
_SKIP_INCLUDE = frozenset({"skip", "include"})
# Built-in scalars whose coercion returns a value of this exact type as it is (Int and Float
# check ranges and finiteness, so they always go through their coercion).
_UNCHANGED: dict[object, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}

Complete = Callable[[Any], Any]


class _Never:
    """The type of no value a getter returns: every value goes through its completion."""


Getter = Callable[[Any], Any]


class NotPlanned(Exception):
    """This value needs graphql-core's executor."""


def _field_getter(field: StrawberryField) -> Getter | None:
    """A function of the source object giving the field's value, as strawberry's resolver
    would, or None when that needs the resolver machinery."""
    if field.extensions or field.permission_classes:
        return None
    declared = field.metadata.get(PLAN_GETTER) if field.metadata else None
    if declared is not None:
        return declared  # type: ignore[no-any-return]
    resolver = field.base_resolver
    if resolver is None:
        name = field.python_name
        return lambda source: getattr(source, name)
    if (
        resolver.is_async
        or resolver.arguments
        or resolver.info_parameter is not None
        or resolver.root_parameter is not None
        or resolver.self_parameter is None
    ):
        return None
    function = resolver.wrapped_func
    if isinstance(function, (staticmethod, classmethod)):
        return None
    return function  # type: ignore[no-any-return]


def _leaf(type_: Any, *, nullable: bool) -> Complete:
    """graphql-core's leaf completion (and, when not `nullable`, its null check)."""
    coerce = type_.coerce_output_value
    unchanged = _UNCHANGED.get(type_)
    if is_enum_type(type_):
        coerce = _remembering(coerce)

    def leaf(value: Any) -> Any:
        if type(value) is unchanged:
            return value  # what the built-in scalar's coercion returns for it
        if value is None or value is Undefined:
            if nullable:
                return None
            raise NotPlanned  # the reference raises the field's error
        if isinstance(value, Exception):
            raise NotPlanned
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise NotPlanned
        return coerced

    if type_ is GraphQLInt:

        def int_leaf(value: Any) -> Any:
            if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
                return value  # what serialize_int returns for it (a bool is not an int here)
            return leaf(value)

        return int_leaf
    return leaf


def _remembering(coerce: Complete) -> Complete:
    """An enum's coercion, computed once per member: it depends on the member alone, and
    a list of thousands holds a handful of them."""
    coerced: dict[Enum, Any] = {}

    def remembered(value: Any) -> Any:
        if not isinstance(value, Enum):
            return coerce(value)
        try:
            return coerced[value]
        except KeyError:
            result = coerced[value] = coerce(value)
            return result

    return remembered


# How `response_size.SizeBoundExecutor` counts a completed leaf value: text by its length
# (+2), numbers and booleans as 8; any other value by the function it gives.
LeafSize = Callable[[Any], int]
# The reference executor's count of a list of completed values (nulls are not counted: it
# completes no leaf for them), given the count of a leaf of no built-in type.
Sizer = Callable[[list[Any], LeafSize], int]
_TEXT_LEAVES = (GraphQLString, GraphQLID)
_SHORT_LEAVES = (GraphQLInt, GraphQLFloat, GraphQLBoolean)
SHORT_VALUE = 8


def _text_size(values: list[Any], _: LeafSize) -> int:
    present = [value for value in values if value is not None]
    return sum(map(len, present)) + 2 * len(present)


def _short_size(values: list[Any], _: LeafSize) -> int:
    return SHORT_VALUE * (len(values) - values.count(None))


def _other_size(values: list[Any], leaf_size: LeafSize) -> int:
    return sum(leaf_size(value) for value in values if value is not None)


# Plans kept across requests (see `ListPlans._shared_key`); at most this many. Keyed on
# (list type, field nodes, their skip/include variables), each kept with the type and the
# nodes themselves, so that none of their ids is reused while the plan is kept.
SHARED_PLANS = 256
_SHARED: dict[tuple[Any, ...], tuple[Any, tuple[Any, ...], Complete | None, Sizer | None]] = {}


class ListPlans(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, completing plannable lists of objects in one loop."""

    _plans: dict[tuple[int, int], tuple[FieldDetailsList, Complete | None, Sizer | None]]
    # Set by an executor that bounds the size of its answers: each planned list is then
    # counted as graphql-core's `complete_leaf_value` would have counted its leaves, and
    # handed to `count_planned`.
    leaf_size: LeafSize | None = None
    # Set while a plan is compiled when it calls `is_type_of` with this request's info.
    _uses_info = False

    def complete_list_value(
        self,
        return_type: Any,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        if isinstance(result, list) and result:
            complete = self._plan(return_type, field_details_list, info)
            if complete is not None:
                try:
                    completed = complete(result)
                except Exception:  # the reference executor says what went wrong
                    pass
                else:
                    leaf_size = self.leaf_size
                    if leaf_size is not None:
                        size = self._plans[(id(return_type), id(field_details_list))][2]
                        assert size is not None
                        self.count_planned(size([completed], leaf_size))
                    return completed
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plan(
        self,
        list_type: Any,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
    ) -> Complete | None:
        try:
            plans = self._plans
        except AttributeError:
            plans = self._plans = {}
        key = (id(list_type), id(field_details_list))
        cached = plans.get(key)
        if cached is not None:
            return cached[1]
        size: Sizer | None = None
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            complete = None
        else:
            shared_key = self._shared_key(list_type, field_details_list)
            shared = None if shared_key is None else _SHARED.get(shared_key)
            if shared is not None:
                complete, size = shared[2], shared[3]
            else:
                self._uses_info = False
                complete = self._completer(list_type, field_details_list, info)
                if complete is not None:
                    size = self._sizer(list_type, field_details_list)
                if shared_key is not None and not self._uses_info:
                    if len(_SHARED) >= SHARED_PLANS:
                        del _SHARED[next(iter(_SHARED))]
                    nodes = tuple(detail.node for detail in field_details_list)
                    _SHARED[shared_key] = (list_type, nodes, complete, size)
        # The list is kept with its plan so its id cannot be reused by another list.
        plans[key] = (field_details_list, complete, size)
        return complete

    def count_planned(self, size: int) -> None:
        """A planned list was built whose leaves the reference would have counted as `size`
        (called only when `leaf_size` is set)."""

    def _sizer(self, type_: GraphQLOutputType, field_details_list: FieldDetailsList) -> Sizer:
        """The count of a column of completed values of this type, as a planned list (so
        every object type here was planned, and its selection is the one collected again)."""
        if is_non_null_type(type_):
            return self._sizer(type_.of_type, field_details_list)  # type: ignore[attr-defined]
        if is_list_type(type_):
            item = self._sizer(type_.of_type, field_details_list)  # type: ignore[attr-defined]

            def items(values: list[Any], leaf_size: LeafSize) -> int:
                flat = [entry for value in values if value is not None for entry in value]
                return item(flat, leaf_size)

            return items
        if is_leaf_type(type_):
            if type_ in _TEXT_LEAVES or is_enum_type(type_):
                return _text_size  # their completion is a str
            if type_ in _SHORT_LEAVES:
                return _short_size
            return _other_size
        object_type: GraphQLObjectType = type_  # type: ignore[assignment]
        grouped, _, _ = self.collect_subfields(object_type, field_details_list)
        fields: list[tuple[str, Sizer]] = []
        for key, details in grouped.items():
            name = details[0].node.name.value
            if name == "__typename":
                fields.append((key, _text_size))
            else:
                fields.append((key, self._sizer(object_type.fields[name].type, details)))

        def objects(values: list[Any], leaf_size: LeafSize) -> int:
            rows = [value for value in values if value is not None]
            return sum(size([row[key] for row in rows], leaf_size) for key, size in fields)

        return objects

    def _shared_key(
        self, list_type: Any, field_details_list: FieldDetailsList
    ) -> tuple[Any, ...] | None:
        """What a plan depends on besides the schema's types: the selection (the field nodes
        of a document, which the parser cache gives every request of the same text, and the
        fragments of that document), and the values of the variables that `@skip` and
        `@include` may read (Boolean ones only: `if` is a Boolean!). Compiling the plan again
        for each request was about 6% of a 36-execution job query's time in-process (cProfile).
        None: not kept (`@defer`, fragment arguments)."""
        for detail in field_details_list:
            if detail.defer_usage is not None or detail.fragment_variable_values is not None:
                return None
        flags = tuple(
            (name, value)
            for name, value in self.variable_values.coerced.items()
            if value is None or type(value) is bool
        )
        return (id(list_type), *(id(detail.node) for detail in field_details_list), flags)

    def _completer(
        self, type_: GraphQLOutputType, field_details_list: FieldDetailsList, info: Any
    ) -> Complete | None:
        """How graphql-core's complete_value would turn a value of this type into JSON, for
        the values where that needs no resolver; NotPlanned for the others."""
        if is_non_null_type(type_) and is_leaf_type(type_.of_type):  # type: ignore[attr-defined]
            return _leaf(type_.of_type, nullable=False)  # type: ignore[attr-defined]
        if is_non_null_type(type_):
            inner = self._completer(type_.of_type, field_details_list, info)  # type: ignore[attr-defined]
            if inner is None:
                return None

            def non_null(value: Any) -> Any:
                completed = None if value is None or value is Undefined else inner(value)
                if completed is None:
                    raise NotPlanned  # the reference raises the field's error
                return completed

            return non_null
        if is_list_type(type_):
            item = self._completer(type_.of_type, field_details_list, info)  # type: ignore[attr-defined]
            if item is None:
                return None

            def list_of(value: Any) -> Any:
                if value is None or value is Undefined:
                    return None
                if not isinstance(value, (list, tuple)):
                    raise NotPlanned
                return [item(entry) for entry in value]

            return list_of
        if is_leaf_type(type_):
            return _leaf(type_, nullable=True)
        if is_object_type(type_):
            return self._object_completer(type_, field_details_list, info)  # type: ignore[arg-type]
        return None  # interfaces and unions

    def _object_completer(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList, info: Any
    ) -> Complete | None:
        grouped, defer_usages, _forbidden = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        fields: list[tuple[str, Getter, Complete, type]] = []
        for response_key, details in grouped.items():
            planned = self._field_plan(object_type, details, info)
            if planned is None:
                return None
            fields.append((response_key, *planned))
        is_type_of = object_type.is_type_of
        if is_type_of is not None:
            self._uses_info = True  # `build` passes this request's info on
        # (response key, getter, completion, the type of value the completion returns as
        # it is: such a value skips the call).
        frozen: Sequence[tuple[str, Getter, Complete, type]] = tuple(fields)

        def build(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if isinstance(value, Exception):
                raise NotPlanned
            if is_type_of is not None and is_type_of(value, info) is not True:
                raise NotPlanned
            return {
                key: got if type(got := get(value)) is same else complete(got)
                for key, get, complete, same in frozen
            }

        return build

    def _field_plan(
        self, parent: GraphQLObjectType, details: FieldDetailsList, info: Any
    ) -> tuple[Getter, Complete, type] | None:
        node = details[0].node
        for detail in details:
            if detail.fragment_variable_values is not None or detail.defer_usage is not None:
                return None
            for directive in detail.node.directives or ():
                if directive.name.value not in _SKIP_INCLUDE:
                    return None
        name = node.name.value
        if name == "__typename":
            type_name = parent.name
            return (lambda _: type_name), (lambda value: value), str
        definition = parent.fields.get(name)
        if definition is None or definition.args or node.arguments:
            return None
        field = (definition.extensions or {}).get(_DEFINITION)
        if not isinstance(field, StrawberryField):
            return None
        getter = _field_getter(field)
        if getter is None:
            return None
        complete = self._completer(definition.type, details, info)
        if complete is None:
            return None
        leaf_type = getattr(definition.type, "of_type", definition.type)
        return getter, complete, _UNCHANGED.get(leaf_type, _Never)
