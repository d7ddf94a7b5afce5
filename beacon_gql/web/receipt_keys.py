"""GET /.well-known/beacon-keys.json: the receipt signing keys, current and retired, public
to anyone (no token), so that receipts can be verified by people the server never met."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from beacon_gql.services import Services

KEYS_PATH = "/.well-known/beacon-keys.json"


async def published_keys(request: Request) -> Response:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise RuntimeError("the app is not started")
    return JSONResponse(
        services.receipts.keyring.document(),
        headers={"Cache-Control": "public, max-age=300"},
    )
