"""strawberry's ASGI view, made to answer as GraphQL clients and the GraphQL-over-HTTP spec
expect; `web.app.BeaconGraphQL` adds the context, JSON rules and authentication on top.

- `Accept: application/graphql-response+json` is honoured: the answer has that type, and a
  request error (parse, validation, variable coercion: nothing executed) is a 400.
- A request error's answer has no `data` entry (executed operations keep theirs).
- `Content-Type: application/graphql`: the body is the document; `variables` and
  `operationName` may come in the query string.
- GET without a query answers JSON (400, BAD_REQUEST) unless the client asks for HTML
  (GraphiQL); `*/*` alone (curl, scripts) is not asking for a page.
- Subscriptions over HTTP stream as multipart (`multipart/mixed;subscriptionSpec=1.0`) or
  server-sent events (`text/event-stream`); a plain POST or GET of a subscription is refused
  with BAD_REQUEST and says how to stream it.
- Batches (a JSON array) are run when the schema allows them (see `web.batching`).
- Automatic persisted queries and the allow-list mode: `web.persisted_queries`.
- The WebSocket protocols: `web.ws_protocols`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, get_operation_ast, parse
from graphql import OperationType as OperationKind
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
)
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from beacon_gql.schema import MAX_TOKENS
from beacon_gql.schema.context import BeaconContext
from beacon_gql.schema.errors import is_variable_coercion
from beacon_gql.web.limits import media_type
from beacon_gql.web.refused_request import RefusedRequest
from beacon_gql.web.ws_protocols import LegacyWSHandler, TransportWSHandler, preferred_subprotocol

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
APPLICATION_JSON: Final = "application/json"
APPLICATION_GRAPHQL: Final = "application/graphql"
SUBSCRIPTION_PROTOCOLS: Final = (
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
    MULTIPART_SUBSCRIPTION_PROTOCOL,
    GRAPHQL_SSE_PROTOCOL,
)
BODY_SHAPE: Final = "a GraphQL request body must be a JSON object, or an array of them (a batch)"
SUBSCRIPTION_OVER_PLAIN_HTTP: Final = (
    "a subscription over HTTP needs `Accept: text/event-stream` (server-sent events) or "
    "`Accept: multipart/mixed;subscriptionSpec=1.0`; or use the WebSocket at this URL "
    "(graphql-transport-ws or graphql-ws)"
)


def _quality(accept: str, wanted: str) -> float:
    """The q-value `accept` gives `wanted` exactly (0 when it is not listed)."""
    for part in accept.split(","):
        kind, *params = (piece.strip() for piece in part.split(";"))
        if kind.lower() != wanted:
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    return float(value)
                except ValueError:
                    return 0.0
        return 1.0
    return 0.0


def response_media_type(accept: str | None) -> str:
    """application/graphql-response+json when the client prefers it (or asks only for it);
    application/json otherwise (no Accept, `*/*`, older clients)."""
    accept = accept or ""
    wanted = _quality(accept, GRAPHQL_RESPONSE_JSON)
    return (
        GRAPHQL_RESPONSE_JSON
        if wanted > 0 and wanted >= _quality(accept, APPLICATION_JSON)
        else APPLICATION_JSON
    )


def _streamed_protocol(item: GraphQLRequestData, accept: str) -> GraphQLRequestProtocol:
    """A client that accepts JSON as well as a stream (urql lists every type it reads) gets
    JSON for a query or a mutation, and the stream only for a subscription."""
    if not any(_quality(accept, kind) > 0 for kind in (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON)):
        return item.protocol
    if not item.query:
        return "http"
    try:
        document = parse(item.query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return "http"  # answered as a parse error, in JSON
    operation = get_operation_ast(document, item.operation_name)
    if operation is not None and operation.operation is OperationKind.SUBSCRIPTION:
        return item.protocol
    return "http"


def is_request_error(result: ExecutionResult) -> bool:
    """Nothing was executed: parse, validation or variable-coercion errors, or a refusal
    before parsing (strawberry's PreExecutionError). An error after execution began (an
    answer over the size bound, say) keeps its `data`, null as it may be."""
    if isinstance(result, PreExecutionError):
        return True
    errors = result.errors or ()
    return result.data is None and bool(errors) and all(map(is_variable_coercion, errors))


class ConformantGraphQL(GraphQL[BeaconContext, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    async def pick_websocket_subprotocol(self, request: WebSocket) -> str | None:
        return preferred_subprotocol(request["subprotocols"], self.websocket_subprotocols)

    def should_render_graphql_ide(self, request: Any) -> bool:
        return (
            request.method == "GET"
            and request.query_params.get("query") is None
            and "text/html" in request.headers.get("accept", "")
        )

    async def prepare_requests(
        self, request: AsyncHTTPRequestAdapter, items: list[GraphQLRequestData]
    ) -> list[GraphQLRequestData]:
        """Hook for what happens to every operation between parsing and running (the
        persisted-query protocol); the default runs them as they are."""
        return items

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST" and media_type(request.content_type) == APPLICATION_GRAPHQL:
            parsed: GraphQLRequestData | list[GraphQLRequestData] = self._graphql_body(
                request, await request.get_body()
            )
        else:
            try:
                parsed = await super().parse_http_body(request)
            except (AttributeError, TypeError) as error:
                # strawberry reads the JSON as an object (or a list of them) without checking:
                # a body of "x", 5 or [1] raised here (a 500 and a traceback).
                raise HTTPException(400, BODY_SHAPE) from error
        if isinstance(parsed, GraphQLRequestData) and parsed.protocol != "http":
            parsed.protocol = _streamed_protocol(parsed, request.headers.get("accept", ""))
        if isinstance(parsed, list):
            return await self.prepare_requests(request, parsed)
        return (await self.prepare_requests(request, [parsed]))[0]

    def _graphql_body(self, request: AsyncHTTPRequestAdapter, body: bytes) -> GraphQLRequestData:
        try:
            query = body.decode()
        except UnicodeDecodeError:
            raise HTTPException(400, "an application/graphql body must be UTF-8") from None
        params = self.parse_query_params(request.query_params)
        variables = params.get("variables")
        if not isinstance(variables, dict | None):
            raise HTTPException(400, "`variables` must be a JSON object")
        transport = self._get_stream_transport_from_headers(request.headers)
        return GraphQLRequestData(
            query=query,
            variables=variables,
            operation_name=params.get("operationName"),
            extensions=None,
            protocol=transport.protocol if transport else "http",
        )

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: BeaconContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if isinstance(request_data, RefusedRequest):
            return PreExecutionError(data=None, errors=[request_data.error])
        # Only streamed requests (multipart, SSE: not through here) may subscribe.
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_OVER_PLAIN_HTTP) from error
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    async def process_result(  # type: ignore[override]
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if isinstance(result, ExecutionResult) and is_request_error(result):
            processed.pop("data", None)  # type: ignore[misc]
            request.state.request_error = True
        return processed

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: BeaconContext = UNSET,  # type: ignore[assignment]
        root_value: None = UNSET,  # type: ignore[assignment]
    ) -> Response | WebSocket:
        response = await super().run(request, context, root_value)  # type: ignore[arg-type]
        if (
            isinstance(request, Request)
            and isinstance(response, Response)
            and not isinstance(response, StreamingResponse)
            and media_type(response.headers.get("content-type")) == APPLICATION_JSON
        ):
            _negotiate(request.headers, request, response)
        return response


def _negotiate(headers: Mapping[str, str], request: Request, response: Response) -> None:
    if response_media_type(headers.get("accept")) != GRAPHQL_RESPONSE_JSON:
        return
    response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
    # A batch's answer (an array) stays 200: its operations may have fared differently.
    single = not bytes(response.body).startswith(b"[")
    if single and response.status_code == 200 and getattr(request.state, "request_error", False):
        response.status_code = 400
