"""GET /.well-known/beacon-keys.json: the receipt signing keys, current and retired, public
to anyone (no token), so that receipts can be verified by people the server never met."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from beacon_gql.services import Services

KEYS_PATH = "/.well-known/beacon-keys.json"


def published_keys(services: Callable[[], Services]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(_: Request) -> Response:
        return JSONResponse(
            services().receipts.keyring.document(),
            headers={"Cache-Control": "public, max-age=300"},
        )

    return endpoint
