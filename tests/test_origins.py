"""A browser page of another site cannot open the subscription WebSocket."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from beacon_gql.config import Settings
from tests.support.server import ServedApp, serving


async def acknowledged(app: ServedApp, origin: str | None) -> bool:
    """Whether a graphql-transport-ws handshake sent with this Origin gets connection_ack."""
    url = app.base_url.replace("http://", "ws://") + "/graphql"
    try:
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin=origin,  # type: ignore[arg-type]
        ) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            return bool(json.loads(await socket.recv())["type"] == "connection_ack")
    except InvalidStatus as refused:
        assert refused.response.status_code == 403
        return False


async def test_programs_and_pages_of_this_server_may_connect(sqlite_settings: Settings) -> None:
    async with serving(sqlite_settings) as app:
        assert await acknowledged(app, None)
        assert await acknowledged(app, app.base_url)
        assert await acknowledged(app, app.base_url.replace("127.0.0.1", "127.0.0.1") + "/")


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://127.0.0.1:1", "null", "http://localhost.evil"]
)
async def test_a_page_of_another_origin_is_refused(sqlite_settings: Settings, origin: str) -> None:
    async with serving(sqlite_settings) as app:
        assert not await acknowledged(app, origin)


async def test_listed_origins_are_let_in(sqlite_settings: Settings) -> None:
    portal = "https://portal.example.org"
    async with serving(sqlite_settings, allowed_origins=frozenset({portal})) as app:
        assert await acknowledged(app, portal)
        assert not await acknowledged(app, "https://other.example.org")
