"""Request limits enforced before GraphQL sees a request.

- `BodySizeLimit`: an ASGI middleware that answers 413 to any HTTP request whose body is larger
  than `max_body_bytes`, declared (Content-Length) or streamed (chunked), without reading past
  the limit.
- request JSON (HTTP bodies, query-string variables, WebSocket messages) is read with
  `beacon_gql.jobs.strict_json.strict_json_loads`, the same rules a job spec is held to.
- `unsupported_media_type`: POSTs to /graphql must say `Content-Type: application/json` (or
  `application/graphql-response+json`). The three types a browser may send cross-site without
  a CORS preflight (text/plain, application/x-www-form-urlencoded, multipart/form-data) are
  refused with 415, so no web page can make a visitor's browser submit work (CSRF).

Both answer with a GraphQL-style body: `{"errors": [{"message", "extensions": {"code"}}]}`.
The query limits (depth, aliases, tokens, introspection) are validation rules in
`beacon_gql.schema`.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAYLOAD_TOO_LARGE: Final = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE: Final = "UNSUPPORTED_MEDIA_TYPE"

# Media types a GraphQL POST body may be sent as (RFC 9110 media types are case-insensitive;
# parameters such as charset are allowed).
GRAPHQL_REQUEST_MEDIA_TYPES: Final = frozenset(
    {"application/json", "application/graphql-response+json"}
)
# A bare document as the body (express-graphql's convention); not a type a browser may send
# cross-site without a preflight, so it is no CSRF risk either.
GRAPHQL_DOCUMENT_MEDIA_TYPE: Final = "application/graphql"


def error_body(message: str, code: str, **extensions: object) -> bytes:
    return json.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    ).encode()


def media_type(content_type: str | None) -> str:
    """The type/subtype of a Content-Type header, lower-cased, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def unsupported_media_type(content_type: str | None) -> bytes | None:
    """The 415 body for a GraphQL POST with this Content-Type, or None when it is acceptable."""
    if media_type(content_type) in GRAPHQL_REQUEST_MEDIA_TYPES | {GRAPHQL_DOCUMENT_MEDIA_TYPE}:
        return None
    shown = media_type(content_type) or "none"
    return error_body(
        "a GraphQL POST must have `Content-Type: application/json` (or application/graphql), "
        f"not {shown}",
        UNSUPPORTED_MEDIA_TYPE,
    )


class BodySizeLimit:
    """Refuse HTTP request bodies over `max_body_bytes` with 413.

    A declared Content-Length over the limit is refused before any of the body is read. Any
    other body (within its declared length, or chunked with no length) is read here, at most
    up to the limit plus one chunk, before the app runs; the app then gets the buffered body,
    which is at most `max_body_bytes`. WebSocket messages are bounded by the server instead
    (uvicorn's `ws_max_size`).
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if (
            declared is not None
            and declared.strip().isdigit()
            and int(declared) > self.max_body_bytes
        ):
            await self._too_large(send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break  # http.disconnect: let the app see it
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                await self._too_large(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        body = error_body(
            f"the request body is larger than the {self.max_body_bytes} bytes allowed "
            "(BEACON_MAX_BODY_BYTES)",
            PAYLOAD_TOO_LARGE,
            maxBodyBytes=self.max_body_bytes,
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is never read, so the connection cannot be reused.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
