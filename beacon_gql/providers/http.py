"""The HTTP client provider calls go through: small connection pools.

httpcore's pool bookkeeping walks every connection of the pool, and for each idle one
counts the idle ones again and polls its socket, whenever a request starts or ends: its
cost grows with the square of the pool's size. In one pool shared by every provider that
was half of a busy worker's CPU. So each provider endpoint gets pools of its own, and its
requests are spread over a few of them, each holding a fraction of its connections.
An endpoint reached through a proxy (HTTP_PROXY and the like) keeps the client's own
proxied pool.
"""

from __future__ import annotations

import itertools
import urllib.request
from collections.abc import Sequence

import httpx

from beacon_gql.providers.config import ProviderConfig

KEEPALIVE_SECONDS = 2.0
"""How long an idle connection is kept for reuse. Servers built on uvicorn (vLLM, the
simulator) and llama.cpp's close idle connections after 5 s; at httpx's default of 5 s too, a
request sent just as the server closes the connection fails (ReadError) and costs the
execution an attempt. Reopening a connection after 2 s idle costs a millisecond."""
LIMITS = httpx.Limits(
    max_connections=512, max_keepalive_connections=128, keepalive_expiry=KEEPALIVE_SECONDS
)
POOLS_PER_ENDPOINT = 8


class _SpreadTransport(httpx.AsyncBaseTransport):
    """Sends each request through the next of `count` ordinary transports in turn."""

    def __init__(self, count: int, limits: httpx.Limits) -> None:
        self._transports = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(count)]
        self._next = itertools.cycle(self._transports)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for transport in self._transports:
            await transport.aclose()


def provider_http_client(configs: Sequence[ProviderConfig]) -> httpx.AsyncClient:
    pool_limits = httpx.Limits(
        max_connections=max(1, (LIMITS.max_connections or 0) // POOLS_PER_ENDPOINT),
        max_keepalive_connections=max(
            1, (LIMITS.max_keepalive_connections or 0) // POOLS_PER_ENDPOINT
        ),
        keepalive_expiry=KEEPALIVE_SECONDS,
    )
    return httpx.AsyncClient(
        limits=LIMITS,
        mounts={
            _origin(config.base_url): _SpreadTransport(POOLS_PER_ENDPOINT, pool_limits)
            for config in configs
            if not _proxied(config.base_url)
        },
    )


def _proxied(url: str) -> bool:
    parts = httpx.URL(url)
    return parts.scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(
        parts.host
    )


def _origin(url: str) -> str:
    parts = httpx.URL(url)
    port = "" if parts.port is None else f":{parts.port}"
    return f"{parts.scheme}://{parts.host}{port}"
