"""The table from a provider's `kind` (its protocol) to the client class that speaks it.

A new protocol is one module with its client class (its own request shape and auth
headers, sending through `exchange`) and one line here. A kind not in the table is a
configuration error, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from beacon_gql.providers.client import ProviderClient
from beacon_gql.providers.endpoint import ProviderConfig
from beacon_gql.providers.hybrid_router import HybridRouterClient
from beacon_gql.providers.openai import OpenAIClient

ClientClass = Callable[[ProviderConfig, httpx.AsyncClient], ProviderClient]

CLIENT_CLASSES: dict[str, ClientClass] = {
    "openai": OpenAIClient,
    "hybrid-router": HybridRouterClient,
}


class UnknownProviderKind(ValueError):
    """A provider's kind names no client: the providers file (or the code building a
    ProviderConfig) is wrong."""


def make_client(config: ProviderConfig, http: httpx.AsyncClient) -> ProviderClient:
    """A client for `config.kind`, sending through the shared `http` connection pool."""
    client_class = CLIENT_CLASSES.get(config.kind)
    if client_class is None:
        raise UnknownProviderKind(
            f"provider {config.name!r}: unknown kind {config.kind!r} "
            f"(known kinds: {', '.join(CLIENT_CLASSES)})"
        )
    return client_class(config, http)
