"""/metrics after a real job over real HTTP and WebSockets: it parses with prometheus_client's
own parser, and the series a Grafana dashboard needs are there with the job's figures."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from beacon_gql.config import Settings
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from beacon_gql.web.metrics import operation_type
from tests.support.graphql import GraphQLClient
from tests.support.jobs import attempts_of, executions_of
from tests.support.server import serve_app
from tests.support.specs import Signer, make_spec
from tests.support.ws import PROGRESS, subscribe

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard.json"
SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) { job { id } } }"""


async def scrape(base_url: str) -> dict[str, list[Sample]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base_url}/metrics")
    assert response.status_code == 200
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def total(
    samples: dict[str, list[Sample]], family: str, suffix: str = "_total", **labels: str
) -> float:
    return sum(
        sample.value
        for sample in samples.get(family, [])
        if sample.name == family + suffix
        and all(sample.labels.get(key) == value for key, value in labels.items())
    )


async def test_metrics_after_a_job_hold_the_series_a_dashboard_needs(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # Errors and 429s on one provider, so there are failures and retries to count.
    faults = {"sim-eu-west": FaultProfile(error_rate=0.3, rate_limit_rate=0.2, retry_after_s=0.05)}
    async with SimulatorFleet(seed=3, faults=faults) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        settings = replace(sqlite_settings, providers_file=providers, max_attempts=3)
        async with serve_app(settings, run_worker=True) as app:
            before = await scrape(app.base_url)
            client = GraphQLClient(app.base_url)
            data = await client.data(SUBMIT, {"spec": signer.sign(make_spec())})
            job_id = data["submitBiasJob"]["job"]["id"]
            during: dict[str, list[Sample]] = {}
            async with asyncio.timeout(60):
                async for event in subscribe(app.base_url, PROGRESS, {"jobId": job_id}):
                    if not during:
                        during = await scrape(app.base_url)  # the subscription is open
                    final = event["jobProgress"]
            after = await scrape(app.base_url)
            rows = await executions_of(app.services, job_id)
            attempts = await attempts_of(app.services, job_id)

    assert final["job"]["status"] in ("COMPLETED", "PARTIAL")
    region_of = {row.id: row.region for row in rows}

    # HTTP: by handler and GraphQL operation type, with a latency histogram in seconds.
    mutations = {"handler": "graphql", "operation": "mutation", "status": "200"}
    assert total(after, "beacon_http_requests", **mutations) == (
        total(before, "beacon_http_requests", **mutations) + 1
    )
    assert total(after, "beacon_http_requests", handler="metrics", status="200") >= 2
    buckets = [
        s
        for s in after["beacon_http_request_duration_seconds"]
        if s.name.endswith("_bucket") and s.labels["operation"] == "mutation"
    ]
    assert {s.labels["le"] for s in buckets} >= {"0.005", "1.0", "+Inf"}

    # WebSockets and subscriptions, seen while the subscription was open.
    assert total(during, "beacon_websocket_connections", "") >= 1
    assert total(during, "beacon_active_subscriptions", "") >= 1
    assert total(after, "beacon_websocket_connections_accepted") >= 1

    # Executions by status from the database, every status present, zeros included.
    by_status = {s.labels["status"]: s.value for s in after["beacon_executions"]}
    assert by_status.keys() >= {"PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"}
    counts = Counter(row.status for row in rows)
    assert by_status["CANCELLED"] == 0
    assert by_status["COMPLETED"] == counts["COMPLETED"]
    assert by_status["FAILED"] == counts["FAILED"]
    queue = {s.labels["state"]: s.value for s in after["beacon_queue_depth"]}
    assert queue == {"ready": 0, "waiting": 0}
    assert total(after, "beacon_queue_oldest_pending_age_seconds", "") == 0

    # Provider calls, errors by code and retries, per provider and region: this job's
    # attempts, as the database recorded them.
    called = Counter(
        (a.provider_id, region_of[a.execution_id], a.outcome) for a in attempts if a.provider_id
    )
    assert called, "the job called no provider"
    for (provider, region, outcome), n in called.items():
        labels = {"provider": provider, "region": region, "outcome": outcome}
        grew = total(after, "beacon_provider_calls", **labels) - total(
            before, "beacon_provider_calls", **labels
        )
        assert grew == n, labels
        assert (
            total(
                after,
                "beacon_provider_call_duration_seconds",
                "_count",
                provider=provider,
                region=region,
            )
            > 0
        )
    failed_attempts = Counter(a.outcome for a in attempts if a.outcome != "COMPLETED")
    assert failed_attempts, "the faults caused no failure"
    for code, n in failed_attempts.items():
        grew = total(after, "beacon_execution_errors", code=code) - total(
            before, "beacon_execution_errors", code=code
        )
        assert grew == n, code
    retried = sum(failed_attempts.values()) - counts["FAILED"]
    assert retried > 0
    assert total(after, "beacon_execution_retries") - total(before, "beacon_execution_retries") == (
        retried
    )

    # The process itself.
    assert total(after, "process_cpu_seconds", "_total") > 0
    assert total(after, "process_resident_memory_bytes", "") > 0

    # Every series the Grafana dashboard in docs/ plots is one /metrics has.
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    plotted = {name for expr in exprs for name in re.findall(r"\b(?:beacon|process)_\w+", expr)}
    served = {sample.name for samples in after.values() for sample in samples}
    assert plotted and plotted <= served, plotted - served


@pytest.mark.parametrize(
    ("method", "query_string", "body", "operation"),
    [
        ("POST", b"", b'{"query": "mutation($s: JSON!) { submitBiasJob }"}', "mutation"),
        ("POST", b"", b'{"query":"\\n  # a comment\\n query Job { job }"}', "query"),
        ("POST", b"", b'{"variables": {}, "query": "{ jobs { edges } }"}', "query"),
        ("POST", b"", b'{"query": "subscription { jobProgress }"}', "subscription"),
        ("POST", b"", b'{"query": "fragment F on Job { id } query { job }"}', "other"),
        ("POST", b"", b"not json", "other"),
        ("GET", b"query=%7B%20jobs%20%7B%20edges%20%7D%20%7D", b"", "query"),
        ("GET", b"query=query+Q+%7B+job+%7D&variables=%7B%7D", b"", "query"),
        ("GET", b"", b"", "other"),
    ],
)
def test_the_operation_type_of_a_request(
    method: str, query_string: bytes, body: bytes, operation: str
) -> None:
    scope = {"type": "http", "method": method, "query_string": query_string}
    assert operation_type(scope, body) == operation
