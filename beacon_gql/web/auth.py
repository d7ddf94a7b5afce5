"""Who may read: one rule for every way in (HTTP GET and POST, both WebSocket protocols, /metrics).

- With `BEACON_READ_TOKEN` set, anything that can execute GraphQL needs that token or the admin
  token (`BEACON_ADMIN_TOKEN` is the stronger one: whoever may cancel a job may read it). The
  only request served without it is GET /graphql asking for the GraphiQL page with no `query`
  parameter: strawberry renders the page then and executes nothing. A GET that carries a
  query is authenticated like a POST, whatever its Accept header says.
- /metrics needs `BEACON_METRICS_TOKEN` when that is set (a scraper need not read jobs),
  otherwise whatever grants read access; the admin token always works.
- The legacy `graphql-ws` protocol closes a refused connection with 4403, as
  `graphql-transport-ws` does (strawberry closes it with 1011, "internal error").
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ConnectionInitMessage

from beacon_gql.config import Settings
from beacon_gql.schema.context import BeaconContext, bearer_token, connection_token, tokens_match
from beacon_gql.web.limits import error_body

UNAUTHENTICATED: Final = "UNAUTHENTICATED"
READ_TOKEN_REQUIRED: Final = "a valid read token is required as `Authorization: Bearer <token>`"
METRICS_TOKEN_REQUIRED: Final = (
    "a valid metrics or read token is required as `Authorization: Bearer <token>`"
)
# WebSocket close code for a refused connection_init (graphql-transport-ws uses it too).
FORBIDDEN_CLOSE_CODE: Final = 4403


def _is_admin(settings: Settings, token: str | None) -> bool:
    return settings.admin_token is not None and tokens_match(token, settings.admin_token)


def grants_read(settings: Settings, *tokens: str | None) -> bool:
    """True when reading needs no token, or one of `tokens` is the read or the admin token."""
    if settings.read_token is None:
        return True
    read_token = settings.read_token
    return any(tokens_match(token, read_token) or _is_admin(settings, token) for token in tokens)


def grants_metrics(settings: Settings, token: str | None) -> bool:
    if settings.metrics_token is None:
        return grants_read(settings, token)
    return tokens_match(token, settings.metrics_token) or _is_admin(settings, token)


def only_asks_for_the_page(request: Request) -> bool:
    """GET /graphql from a browser with no query: the GraphiQL page (or, without `text/html`
    in Accept, a 400 saying the query is missing), nothing run, so no token is needed. Not
    with `extensions`: a persisted query's hash there runs its stored document."""
    accept = request.headers.get("accept", "")
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "extensions" not in request.query_params
        and ("text/html" in accept or "*/*" in accept)
    )


def refusal_body(message: str) -> bytes:
    return error_body(message, UNAUTHENTICATED)


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler[BeaconContext, None]):
    """strawberry's `graphql-ws` handler, closing refused connections with 4403."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload")
        context = self.context
        if isinstance(context, BeaconContext) and (payload is None or isinstance(payload, dict)):
            settings = context.services.settings
            if not grants_read(settings, context.header_token, connection_token(payload)):
                await self.send_message(
                    {"type": "connection_error", "payload": {"reason": READ_TOKEN_REQUIRED}}
                )
                await self.websocket.close(code=FORBIDDEN_CLOSE_CODE, reason="Forbidden")
                return
        await super().handle_connection_init(message)


def request_token(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization"))
