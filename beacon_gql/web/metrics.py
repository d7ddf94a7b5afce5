"""/metrics in the Prometheus text format, and the HTTP and WebSocket counts behind it.

Two kinds of series: this process's own counters (requests, provider calls, retries, process
CPU and memory: beacon_gql/telemetry.py), and gauges every process agrees on because they
are read from the database at scrape time (jobs and executions by status, the queue).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Execution, Job
from beacon_gql.providers.registry import ProviderRegistry
from beacon_gql.telemetry import (
    HTTP_DURATION,
    HTTP_REQUESTS,
    REGISTRY,
    WEBSOCKETS_ACCEPTED,
    WEBSOCKETS_OPEN,
    declare_provider,
)

JOB_STATUSES = ("QUEUED", "RUNNING", "COMPLETED", "PARTIAL", "FAILED", "CANCELLED")
EXECUTION_STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")

# The first keyword of the query's text, after comments: `{ ... }` alone is a query. A body
# whose query cannot be seen this way (a fragment first, say) is counted as "other".
_OPERATION = re.compile(
    rb'"query"\s*:\s*"(?:\s|\\[nrt]|#(?:[^"\\]|\\[^n])*\\n)*(query|mutation|subscription|\{)'
)
_GET_OPERATION = re.compile(r"\s*(?:#[^\n]*\n\s*)*(query|mutation|subscription|\{)")
# The first bytes of a body are enough to find `"query"` in what clients send.
_PEEK_BYTES = 4096


def _handler(path: str) -> str:
    """A few fixed values, so a scanner trying random paths cannot grow the label set."""
    if path == "/graphql":
        return "graphql"
    if path in ("/health", "/ready", "/metrics"):
        return path[1:]
    if path == "/" or path.startswith("/jobs/"):
        return "dashboard"
    if path.startswith("/static/"):
        return "static"
    return "other"


def operation_type(scope: Scope, first_bytes: bytes) -> str:
    """query, mutation or subscription, from a GET's query string or a POST body's start."""
    if scope["method"] == "GET":
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("query")
        found = _GET_OPERATION.match(values[0]) if values else None
        word = found.group(1) if found else None
    else:
        raw = _OPERATION.search(first_bytes)
        word = raw.group(1).decode() if raw else None
    if word is None:
        return "other"
    return "query" if word == "{" else word


class RequestMetrics:
    """Counts and times HTTP requests (by GraphQL operation type on /graphql) and WebSocket
    connections. A plain ASGI middleware: it adds microseconds, not a task, per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        handler = _handler(scope["path"])
        started = time.perf_counter()
        status = 500
        peeked = bytearray()

        async def watching_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(peeked) < _PEEK_BYTES:
                peeked.extend(message.get("body", b"")[: _PEEK_BYTES - len(peeked)])
            return message

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        graphql = handler == "graphql"
        try:
            await self.app(scope, watching_receive if graphql else receive, watching_send)
        finally:
            operation = operation_type(scope, bytes(peeked)) if graphql else ""
            HTTP_REQUESTS.labels(handler, operation, str(status)).inc()
            HTTP_DURATION.labels(handler, operation).observe(time.perf_counter() - started)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        async def watching_send(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKETS_ACCEPTED.inc()
                WEBSOCKETS_OPEN.inc()
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            if accepted:
                WEBSOCKETS_OPEN.dec()


class _Snapshot:
    """Metric families computed for one scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def _by_status(
    name: str, documentation: str, statuses: Iterable[str], counts: dict[str, int]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    # Every status, zero included: a dashboard's series do not vanish when a status empties.
    for status in (*statuses, *(s for s in counts if s not in statuses)):
        family.add_metric([status], counts.get(status, 0))
    return family


async def _database_families(sessions: SessionFactory) -> list[Metric]:
    now = datetime.now(UTC)
    async with sessions() as session:
        jobs = dict(
            (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
        )
        executions = dict(
            (
                await session.execute(
                    select(Execution.status, func.count()).group_by(Execution.status)
                )
            ).all()
        )
        pending = Execution.status == "PENDING"
        ready = (
            await session.execute(
                select(func.count(), func.min(Execution.available_at)).where(
                    pending, Execution.available_at <= now
                )
            )
        ).one()
    ready_count, oldest = ready
    waiting = executions.get("PENDING", 0) - ready_count
    queue = GaugeMetricFamily(
        "beacon_queue_depth",
        "PENDING executions: ready (claimable now) or waiting (a retry's back-off).",
        labels=["state"],
    )
    queue.add_metric(["ready"], ready_count)
    queue.add_metric(["waiting"], max(0, waiting))
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    age = GaugeMetricFamily(
        "beacon_queue_oldest_pending_age_seconds",
        "How long the longest-waiting claimable PENDING execution has waited (0: none waits).",
        value=0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()),
    )
    return [
        _by_status("beacon_jobs", "Jobs by status.", JOB_STATUSES, jobs),
        _by_status("beacon_executions", "Executions by status.", EXECUTION_STATUSES, executions),
        queue,
        age,
    ]


def _provider_families(registry: ProviderRegistry) -> list[Metric]:
    healthy = GaugeMetricFamily(
        "beacon_provider_healthy",
        "1 when the provider's last check or call succeeded.",
        labels=["provider", "region"],
    )
    latency = GaugeMetricFamily(
        "beacon_provider_latency_seconds",
        "Moving average of the provider's latency, as routing sees it.",
        labels=["provider", "region"],
    )
    for status in registry.statuses():
        declare_provider(status.name, status.region)
        healthy.add_metric([status.name, status.region], int(status.healthy))
        if status.latency_ms is not None:
            latency.add_metric([status.name, status.region], status.latency_ms / 1000)
    return [healthy, latency]


async def render_metrics(sessions: SessionFactory, registry: ProviderRegistry) -> str:
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Snapshot([*await _database_families(sessions), *_provider_families(registry)]))
    return (generate_latest(REGISTRY) + generate_latest(scrape)).decode()
