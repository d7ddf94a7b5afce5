"""Request limits enforced before GraphQL sees a request.

- `BodySizeLimit`: an ASGI middleware that answers 413 to any HTTP request whose body is larger
  than `max_body_bytes`, declared (Content-Length) or streamed (chunked), without reading past
  the limit.
- `strict_json_loads`: request JSON (HTTP bodies, query-string variables, WebSocket messages)
  is refused when nested deeper than `MAX_JSON_DEPTH`, when it holds NaN, Infinity or a number
  too large for a double (Python's json module would accept them; PostgreSQL's json type and
  other JSON readers do not), or when it is not JSON at all, instead of failing later as an
  internal error (RecursionError, a database error).
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
import math
import re
from collections.abc import Iterable, Mapping
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


# Far deeper than any job spec (about 5 levels) wrapped in a GraphQL request (3 more), and far
# shallower than the interpreter's recursion limit, which recursive code down the line needs.
MAX_JSON_DEPTH: Final = 64


class UnacceptableJSON(json.JSONDecodeError):
    """JSON the server refuses. A JSONDecodeError, so strawberry's WebSocket handlers treat it
    as any other unparsable message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def json_problem(value: object, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why an already parsed JSON value is refused (too deep, a non-finite number), or None."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return "it holds NaN or an infinite number, which JSON cannot represent"
        if isinstance(item, Mapping):
            children: Iterable[object] = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > max_depth:
            return f"it is nested more than {max_depth} levels deep"
        stack.extend((child, depth + 1) for child in children)
    return None


_NOT_STORABLE: Final = re.compile(r"[\x00\ud800-\udfff]")


def text_problem(text: str, *, max_length: int) -> str | None:
    """Why a string cannot go into a text column, or None. PostgreSQL refuses U+0000 in text,
    and neither database takes a lone surrogate (JSON columns escape both, so a spec's other
    strings may hold them: the portal does send lone surrogates in descriptions)."""
    if len(text) > max_length:
        return f"is longer than {max_length} characters"
    found = _NOT_STORABLE.search(text)
    if found is not None:
        return (
            f"contains U+{ord(found.group()):04X} at position {found.start()}, which is not "
            "storable text (NUL or an unpaired surrogate)"
        )
    return None


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnacceptableJSON(f"the number {text[:40]} is too large for a double")
    return value


def _refuse_constant(name: str) -> object:
    raise UnacceptableJSON(f"{name} is not JSON")


def strict_json_loads(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """`json.loads`, minus what JSON does not allow and what the server cannot hold: raises
    UnacceptableJSON with a reason a client can act on."""
    try:
        value = json.loads(data, parse_float=_finite_float, parse_constant=_refuse_constant)
    except UnacceptableJSON:
        raise
    except RecursionError:
        raise UnacceptableJSON(f"it is nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as error:
        raise UnacceptableJSON(f"it is not valid JSON: {error}") from None
    except ValueError:
        # Not UTF-8, or an integer with thousands of digits (Python refuses to convert those).
        raise UnacceptableJSON("it is not valid JSON (bad encoding or a huge number)") from None
    problem = json_problem(value, max_depth=max_depth)
    if problem is not None:
        raise UnacceptableJSON(problem)
    return value


def error_body(message: str, code: str, **extensions: object) -> bytes:
    return json.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    ).encode()


def media_type(content_type: str | None) -> str:
    """The type/subtype of a Content-Type header, lower-cased, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def unsupported_media_type(content_type: str | None) -> bytes | None:
    """The 415 body for a GraphQL POST with this Content-Type, or None when it is acceptable."""
    if media_type(content_type) in GRAPHQL_REQUEST_MEDIA_TYPES:
        return None
    shown = media_type(content_type) or "none"
    return error_body(
        f"a GraphQL POST must have `Content-Type: application/json`, not {shown}",
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
