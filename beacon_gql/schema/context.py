"""What every resolver gets: the services, this request's loaders, and who is asking."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from strawberry.types import Info as StrawberryInfo

from beacon_gql.errors import Unauthenticated
from beacon_gql.jobs.response_cache import ReadLedger
from beacon_gql.schema.loaders import Loaders, create_loaders

if TYPE_CHECKING:
    from beacon_gql.services import Services


def bearer_token(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def connection_token(params: dict[str, object] | None) -> str | None:
    """The token a WebSocket client sent in connection_init: a bare `token`, or an
    `Authorization: Bearer ...` as the portal's clients send headers."""
    if not params:
        return None
    token = params.get("token")
    if isinstance(token, str) and token:
        return token
    for key in ("Authorization", "authorization"):
        header = params.get(key)
        if isinstance(header, str):
            return bearer_token(header)
    return None


def tokens_match(given: str | None, expected: str) -> bool:
    # Constant time, so response timing says nothing about how much of a guess was right.
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class BeaconContext:
    services: Services
    header_token: str | None
    # Filled in by strawberry from a WebSocket's connection_init payload.
    connection_params: dict[str, object] | None = None
    # The client's network address (None when not over the network), for per-client limits.
    client_host: str | None = None
    loaders: Loaders = field(init=False)
    # What the resolvers read, to decide whether the answer may be reused.
    ledger: ReadLedger = field(default_factory=ReadLedger)

    @property
    def token(self) -> str | None:
        if self.header_token is not None:
            return self.header_token
        return connection_token(self.connection_params)

    def __post_init__(self) -> None:
        self.loaders = create_loaders(self.services.reader)

    def require_admin(self) -> None:
        expected = self.services.settings.admin_token
        if expected is None:
            raise Unauthenticated(
                "admin mutations are disabled: the server has no BEACON_ADMIN_TOKEN set"
            )
        if not tokens_match(self.token, expected):
            raise Unauthenticated(
                "this mutation needs the admin token as `Authorization: Bearer <token>`"
            )


Info = StrawberryInfo[BeaconContext, None]
