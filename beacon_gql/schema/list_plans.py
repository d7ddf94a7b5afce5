"""Lists of objects built without a resolver call per field, when nothing in them needs one.

graphql-core completes a list of 5,000 executions by calling, for each of them, each selected
field's resolver through strawberry's wrapper (an Info object, argument parsing, extension
chaining) and gathering the awaitables: over 100,000 calls for one dashboard's query, most of
a running job's answer time. Here the executor compiles, once per list field of a request,
a plan for the selected fields: for each, a plain getter of the object (an attribute, a
synchronous resolver that takes only `self`, or the `PLAN_GETTER` a field declares) and the
coercion graphql-core would apply. The list is then built by a loop over the rows.

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


class ListPlans(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, completing plannable lists of objects in one loop."""

    _plans: dict[tuple[int, int], tuple[FieldDetailsList, Complete | None]]

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
                    return complete(result)
                except Exception:  # the reference executor says what went wrong
                    pass
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
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            complete = None
        else:
            complete = self._completer(list_type, field_details_list, info)
        # The list is kept with its plan so its id cannot be reused by another list.
        plans[key] = (field_details_list, complete)
        return complete

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
