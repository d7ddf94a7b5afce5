"""The two WebSocket protocols, answered as their clients expect.

- An operation refused before it runs (a syntax error, the token limit, a failed validation)
  gets an `error` message for its id and the socket's other operations keep running, on
  both protocols. strawberry closes a graphql-transport-ws socket (4400) on a syntax error,
  which ends every operation multiplexed on it; the protocol's `error` message is the answer
  to "errors before execution".
- The legacy `graphql-ws` protocol (subscriptions-transport-ws) runs queries and mutations
  too, as its clients send them: strawberry sent every operation to `subscribe`, which
  refused anything but a subscription.
- A client offering both subprotocols gets graphql-transport-ws, whatever its order
  (`gql`'s WebsocketsTransport lists the legacy one first).
- A malformed message is the client's mistake, never a traceback: graphql-transport-ws
  closes with 4400 (its protocol's answer), graphql-ws answers an `error` and carries on.
- With BEACON_PERSISTED_QUERIES=only, a document outside the allow-list gets an `error`
  (FORBIDDEN), as over HTTP (web/persisted_queries.py).
- Each operation's task carries a `direct_delivery` (schema/direct_delivery.py): a jobProgress
  subscription's events after the snapshot are written by web/fanout.py, once-rendered bytes
  with this operation's id spliced in, through the socket's bounded outbox (web/outbox.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final

from graphql import GraphQLError
from starlette.websockets import WebSocket
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.types import (
    CompleteMessage,
    ErrorMessage,
    OperationMessage,
)
from strawberry.types.execution import PreExecutionError

from beacon_gql.schema.context import BeaconContext, tokens_match
from beacon_gql.schema.direct_delivery import direct_delivery
from beacon_gql.web.auth import LegacyGraphQLWSHandler
from beacon_gql.web.fanout import LEGACY_WS_DATA, TRANSPORT_WS_NEXT, ProgressFanout, WireOperation
from beacon_gql.web.outbox import Outbox
from beacon_gql.web.persisted_queries import refusal_of

# Most preferred first.
SUBPROTOCOL_PREFERENCE: Final = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)


def preferred_subprotocol(offered: list[str], served: list[str]) -> str | None:
    return next((p for p in SUBPROTOCOL_PREFERENCE if p in offered and p in served), None)


async def allow_list_refusal(context: BeaconContext, document: str) -> GraphQLError | None:
    """BEACON_PERSISTED_QUERIES=only: why this document may not run on this socket."""
    services = context.services
    admin_token = services.settings.admin_token
    admin = admin_token is not None and tokens_match(context.token, admin_token)
    return await refusal_of(document, services.persisted, admin=admin)


def _payload_problem(payload: object) -> str | None:
    """What is wrong with an operation's payload (None when nothing is)."""
    if not isinstance(payload, dict):
        return "an operation needs a `payload` object"
    if not isinstance(payload.get("query"), str):
        return "`payload.query` must be a string"
    for name, kind in (("variables", dict), ("extensions", dict), ("operationName", str)):
        if not isinstance(payload.get(name), kind | None):
            return f"`payload.{name}` has the wrong type"
    return None


def _wire_operation(
    view: object,
    websocket: object,
    outbox: Outbox | None,
    framing: tuple[str, str],
    operation_id: str,
    payload: Mapping[str, Any],
) -> tuple[WireOperation | None, Outbox | None]:
    """The operation's direct delivery, and the socket's outbox (made on first use)."""
    fanout = getattr(view, "fanout", None)
    socket = getattr(websocket, "ws", None)  # strawberry's ASGI adapter's Starlette WebSocket
    if not isinstance(fanout, ProgressFanout) or not isinstance(socket, WebSocket):
        return None, outbox
    if outbox is None:
        outbox = Outbox(socket.send_text)
    operation = WireOperation(
        fanout,
        outbox,
        framing,
        operation_id,
        payload["query"],
        payload.get("operationName"),
        payload.get("variables"),
    )
    return operation, outbox


class TransportWSHandler(BaseGraphQLTransportWSHandler[BeaconContext, None]):
    _outbox: Outbox | None = None

    async def handle_message(self, message: Any) -> None:
        # The protocol's answer to a message it cannot read is closing with 4400; strawberry
        # raised on anything but an object (a traceback, and an abrupt 1006).
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.handle_invalid_message("a message must be an object with a string `type`")
            return
        if message["type"] == "subscribe":
            problem = _payload_problem(message.get("payload"))
            if problem is not None or not isinstance(message.get("id"), str):
                await self.handle_invalid_message(problem or "`id` must be a string")
                return
        await super().handle_message(message)  # type: ignore[arg-type]

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Mapping[str, Any] = message["payload"]
        query = payload["query"]
        if self.connection_acknowledged:
            refusal = await allow_list_refusal(self.context, query)
            if refusal is not None and message["id"] not in self.operations:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [refusal.formatted]}
                )
                return
        # The operation's task (created by strawberry in there) keeps this in its context.
        operation, self._outbox = _wire_operation(
            self.view, self.websocket, self._outbox, TRANSPORT_WS_NEXT, message["id"], payload
        )
        token = direct_delivery.set(operation)
        try:
            await super().handle_subscribe(message)
        finally:
            direct_delivery.reset(token)

    async def shutdown(self) -> None:
        await super().shutdown()
        if self._outbox is not None:
            self._outbox.close()

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        # Never close the socket for one bad operation: strawberry then sends the
        # operation's `error` message with the (coded) errors.
        return None


class LegacyWSHandler(LegacyGraphQLWSHandler):
    """On top of web/auth.py's handler (refused connections closed with 4403)."""

    _outbox: Outbox | None = None

    async def handle_message(self, message: OperationMessage) -> None:
        # A message that is not an object with a string `type` (and, for `start`, an id and
        # a payload with a query) is the client's mistake: say so, keep the socket.
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self._refuse(None, "a message must be an object with a string `type`")
            return
        if message["type"] in ("start", "stop") and not isinstance(message.get("id"), str):
            await self._refuse(None, f"`{message['type']}` needs a string `id`")
            return
        if message["type"] == "start":
            operation_id = message["id"]
            payload = message.get("payload")
            problem = _payload_problem(payload)
            if problem is not None:
                await self._refuse(operation_id, problem)
                return
            if self.connection_acknowledged:
                refusal = await allow_list_refusal(self.context, payload["query"])
                if refusal is not None:
                    await self.send_message(
                        ErrorMessage(type="error", id=operation_id, payload=refusal.formatted)
                    )
                    return
            operation, self._outbox = _wire_operation(
                self.view, self.websocket, self._outbox, LEGACY_WS_DATA, operation_id, payload
            )
            token = direct_delivery.set(operation)
            try:
                await super().handle_message(message)
            finally:
                direct_delivery.reset(token)
            return
        await super().handle_message(message)

    async def cleanup(self) -> None:
        await super().cleanup()
        if self._outbox is not None:
            self._outbox.close()

    async def _refuse(self, operation_id: object, reason: str) -> None:
        await self.send_message(
            ErrorMessage(
                type="error",
                id=operation_id if isinstance(operation_id, str) else "",
                payload={"message": reason, "extensions": {"code": "BAD_REQUEST"}},
            )
        )

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        # schema.stream runs any operation: a subscription's events, or a query's or a
        # mutation's single result; then `complete`. Errors before execution are the
        # operation's `error` message, as the protocol has it.
        try:
            results = await self.schema.stream(
                query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = results
            first = True
            async for result in results:
                if first and isinstance(result, PreExecutionError) and result.errors:
                    await self.send_message(
                        ErrorMessage(
                            type="error", id=operation_id, payload=result.errors[0].formatted
                        )
                    )
                    return
                first = False
                await self.send_data_message(result, operation_id)  # type: ignore[arg-type]
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
