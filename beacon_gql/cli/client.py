"""A small GraphQL client for the CLI (submit, watch, export): queries over httpx,
subscriptions over WebSockets (the `graphql-transport-ws` protocol)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

SUBMIT = """
mutation Submit($input: SubmitBiasJobInput!) {
  submitBiasJob(input: $input) {
    idempotent
    job { id status progress { expected pending running completed failed cancelled } }
  }
}
"""

TRANSPORT_WS = Subprotocol("graphql-transport-ws")
# Close codes of graphql-transport-ws that mean "do not come back with the same request".
_REFUSED_CLOSE_CODES = {
    4400: "the server rejected the request",
    4401: "the server requires authentication",
    4403: "the server refused the connection (missing or wrong read token?)",
    4409: "subscription id already in use",
    4429: "too many connection initialisation requests",
}


class ClientError(Exception):
    """The server refused or could not be reached; the message says which and why."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ConnectionLost(ClientError):
    """The server could not be reached or the connection dropped: trying again may work."""


def graphql_endpoint(url: str) -> str:
    """The GraphQL endpoint of what a person pasted: the server's root or a dashboard page
    (http://host:8000, http://host:8000/jobs/ID) means http://host:8000/graphql."""
    parts = urlsplit(url)
    if parts.path in ("", "/") or parts.path.startswith("/jobs/"):
        return urlunsplit((parts.scheme, parts.netloc, "/graphql", "", ""))
    return url


def _not_graphql_hint(url: str) -> str:
    if urlsplit(url).path.rstrip("/").endswith("/graphql"):
        return ""
    return " (is this the GraphQL endpoint? it usually ends in /graphql)"


def websocket_url(url: str) -> str:
    """The WebSocket URL of a GraphQL HTTP endpoint: http -> ws, https -> wss."""
    if url.startswith("https://"):
        return "wss://" + url.removeprefix("https://")
    if url.startswith("http://"):
        return "ws://" + url.removeprefix("http://")
    if url.startswith(("ws://", "wss://")):
        return url
    raise ClientError(f"{url} is not an http(s) or ws(s) URL")


def _graphql_error(errors: list[Any]) -> ClientError:
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = (first.get("extensions") or {}).get("code", "ERROR")
    return ClientError(f"{code}: {first.get('message')}", code=str(code))


class BeaconClient:
    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30.0) -> None:
        self.url = graphql_endpoint(url)
        self.token = token
        self._headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self._timeout = timeout

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                response = await http.post(
                    self.url,
                    json={"query": query, "variables": variables or {}},
                    headers=self._headers,
                )
        except httpx.HTTPError as error:
            raise ConnectionLost(f"cannot reach {self.url}: {error}") from None
        try:
            body = response.json()
        except ValueError:
            raise ClientError(
                f"{self.url} answered HTTP {response.status_code}, not JSON"
                + _not_graphql_hint(self.url)
            ) from None
        errors = body.get("errors")
        if errors:
            raise _graphql_error(errors)
        data: dict[str, Any] = body["data"]
        return data

    async def submit(self, spec: object, idempotency_key: str | None) -> dict[str, Any]:
        data = await self.execute(
            SUBMIT, {"input": {"jobspec": spec, "idempotencyKey": idempotency_key}}
        )
        result: dict[str, Any] = data["submitBiasJob"]
        return result

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yields the `data` of each result until the server completes the subscription.

        Raises ConnectionLost when the server cannot be reached or the connection drops
        (the caller may resubscribe), ClientError when the server refuses the request.
        """
        url = websocket_url(self.url)
        init: dict[str, Any] = {"type": "connection_init"}
        if self.token is not None:
            init["payload"] = {"token": self.token}
        try:
            async with connect(
                url, subprotocols=[TRANSPORT_WS], open_timeout=self._timeout, max_size=None
            ) as socket:
                if socket.subprotocol != TRANSPORT_WS:
                    raise ClientError(f"{url} does not speak graphql-transport-ws")
                await socket.send(json.dumps(init))
                while True:
                    message = _parse(await socket.recv())
                    kind = message.get("type")
                    if kind == "connection_ack":
                        break
                    if kind == "ping":
                        await socket.send(json.dumps({"type": "pong"}))
                subscribe = {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
                await socket.send(json.dumps(subscribe))
                while True:
                    message = _parse(await socket.recv())
                    kind = message.get("type")
                    if kind == "ping":
                        await socket.send(json.dumps({"type": "pong"}))
                    elif kind == "next":
                        payload = message.get("payload") or {}
                        if payload.get("errors"):
                            raise _graphql_error(payload["errors"])
                        yield payload["data"]
                    elif kind == "error":
                        raise _graphql_error(message.get("payload") or [])
                    elif kind == "complete":
                        return
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd is not None else None
            if code in _REFUSED_CLOSE_CODES:
                reason = closed.rcvd.reason if closed.rcvd is not None else ""
                detail = f": {reason}" if reason else ""
                raise ClientError(f"{_REFUSED_CLOSE_CODES[code]} ({code}{detail})") from None
            raise ConnectionLost(f"connection to {url} lost ({closed})") from None
        except InvalidStatus as error:
            status = error.response.status_code
            if status >= 500:
                raise ConnectionLost(f"{url} answered HTTP {status}") from None
            raise ClientError(
                f"{url} refused the WebSocket upgrade: HTTP {status}" + _not_graphql_hint(url)
            ) from None
        except (OSError, TimeoutError, InvalidHandshake) as error:
            raise ConnectionLost(f"cannot reach {url}: {error}") from None


def _parse(raw: str | bytes) -> dict[str, Any]:
    try:
        message = json.loads(raw)
    except ValueError:
        raise ClientError(f"the server sent a message that is not JSON: {raw[:80]!r}") from None
    if not isinstance(message, dict):
        raise ClientError(f"the server sent an unexpected message: {raw[:80]!r}")
    return message
