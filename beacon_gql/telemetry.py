"""This process's counters and histograms for /metrics (Prometheus), in seconds.

Each process (an API, a worker) counts what it does itself; Prometheus adds them up across
processes. What every process should agree on (executions by status, the queue) is read
from the database at scrape time instead (web/metrics.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    # process_cpu_seconds_total, process_resident_memory_bytes, python_gc_*, python_info.
    REGISTRY.register(_collector)

# Requests to the API: GraphiQL and health checks are milliseconds, a large export seconds.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Provider calls: a simulator answers in milliseconds, a model on a CPU in tens of seconds.
_PROVIDER_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS = Counter(
    "beacon_http_requests",
    "HTTP requests answered, by handler, GraphQL operation type (query, mutation; empty "
    "outside /graphql) and status code.",
    ["handler", "operation", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "beacon_http_request_duration_seconds",
    "Time to answer an HTTP request, by handler and GraphQL operation type.",
    ["handler", "operation"],
    buckets=_HTTP_BUCKETS,
    registry=REGISTRY,
)
WEBSOCKETS_OPEN = Gauge(
    "beacon_websocket_connections",
    "WebSocket connections open now.",
    registry=REGISTRY,
)
WEBSOCKETS_ACCEPTED = Counter(
    "beacon_websocket_connections_accepted",
    "WebSocket connections accepted since the process started.",
    registry=REGISTRY,
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    "beacon_active_subscriptions",
    "jobProgress subscriptions being served now.",
    registry=REGISTRY,
)
PROVIDER_CALLS = Counter(
    "beacon_provider_calls",
    "Calls to providers, by provider, region and outcome (COMPLETED or the error code).",
    ["provider", "region", "outcome"],
    registry=REGISTRY,
)
PROVIDER_CALL_DURATION = Histogram(
    "beacon_provider_call_duration_seconds",
    "Time a provider call took, answered or not, by provider and region.",
    ["provider", "region"],
    buckets=_PROVIDER_BUCKETS,
    registry=REGISTRY,
)
EXECUTION_ERRORS = Counter(
    "beacon_execution_errors",
    "Failed attempts, by error code, provider (none: no provider could be routed to) and region.",
    ["code", "provider", "region"],
    registry=REGISTRY,
)
EXECUTION_RETRIES = Counter(
    "beacon_execution_retries",
    "Failed attempts put back in the queue for another try, by provider, region and error code.",
    ["provider", "region", "code"],
    registry=REGISTRY,
)

NO_PROVIDER = "none"


def record_attempt(
    *,
    provider: str | None,
    region: str,
    outcome: str,
    seconds: float,
    retried: bool = False,
) -> None:
    """One attempt of an execution: COMPLETED, or the error code it failed with."""
    called = provider or NO_PROVIDER
    if provider is not None:
        PROVIDER_CALLS.labels(provider, region, outcome).inc()
        PROVIDER_CALL_DURATION.labels(provider, region).observe(seconds)
    if outcome != "COMPLETED":
        EXECUTION_ERRORS.labels(outcome, called, region).inc()
        if retried:
            EXECUTION_RETRIES.labels(called, region, outcome).inc()


def declare_provider(provider: str, region: str) -> None:
    """Zero-valued series for a configured provider, so dashboards show it before it is used."""
    PROVIDER_CALLS.labels(provider, region, "COMPLETED")
    PROVIDER_CALL_DURATION.labels(provider, region)


@contextlib.asynccontextmanager
async def active_subscription() -> AsyncIterator[None]:
    SUBSCRIPTIONS_ACTIVE.inc()
    try:
        yield
    finally:
        SUBSCRIPTIONS_ACTIVE.dec()
