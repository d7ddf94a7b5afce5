"""Each progress event executed once per distinct operation, however many subscribe to it.

graphql-core runs a subscription's selection set again for every subscriber and every event;
with a thousand dashboards on one job that was most of the server's time. Every subscriber
of a job in this process receives the same event object (`shared_event`), and the executor
below keeps, on that object, the result of each distinct operation (the same parsed document
and the same variables), so the next subscriber asking the same gets it without running a
resolver. Nothing in a progress event depends on who asks, so sharing the result is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from weakref import WeakKeyDictionary, WeakValueDictionary

from graphql import OperationDefinitionNode
from graphql.execution.values import VariableValues

from beacon_gql.schema.list_plans import ListPlans

# A finished result, or the task computing it.
Render = object
Event = TypeVar("Event")


@dataclass
class Renders:
    """The results already computed for one event, by operation."""

    done: list[tuple[OperationDefinitionNode, VariableValues, Render]] = field(default_factory=list)

    def find(self, operation: OperationDefinitionNode, variables: VariableValues) -> Render | None:
        for seen_operation, seen_variables, render in self.done:
            # The parser cache hands every subscriber of one query text the same document.
            # `coerced`: the values; the sources describe them with objects made per request.
            if seen_operation is operation and seen_variables.coerced == variables.coerced:
                return render
        return None


class RenderOnceExecutor(ListPlans):
    def execute_operation(self, serially: bool | None = None) -> Any:
        renders: object = getattr(self.root_value, "renders", None)
        if not isinstance(renders, Renders):
            return super().execute_operation(serially)
        render = renders.find(self.operation, self.variable_values)
        if render is None:
            computed = super().execute_operation(serially)
            # A task, so every subscriber can await the one execution.
            render = asyncio.ensure_future(computed) if self.is_awaitable(computed) else computed
            renders.done.append((self.operation, self.variable_values, render))
        if isinstance(render, asyncio.Future):
            # A subscriber leaving cancels its own wait, not the others' shared execution.
            return asyncio.shield(render)
        return render


# Per process, and weak: a change's rendering lives as long as its broadcast event, which
# every subscriber's buffer holds until it has sent it; a snapshot's, while one is sending it.
_by_source: WeakKeyDictionary[object, Any] = WeakKeyDictionary()
_snapshots: WeakValueDictionary[tuple[str, int], Any] = WeakValueDictionary()


def shared_event(
    source: object | None, snapshot: tuple[str, int], build: Callable[[], Event]
) -> Event:
    """The one object for this broadcast event (or, without one, this job's snapshot at
    this sequence) in this process."""
    event: Event | None = _snapshots.get(snapshot) if source is None else _by_source.get(source)
    if event is None:
        event = build()
        if source is None:
            _snapshots[snapshot] = event
        else:
            _by_source[source] = event
    return event
