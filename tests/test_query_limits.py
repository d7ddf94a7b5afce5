"""Hostile GraphQL documents are refused quickly, before they run, and answers have a bound.

Over real HTTP on SQLite: none of this depends on the database.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import get_introspection_query, parse

import beacon_gql.schema
from beacon_gql.cli.export import EXPORT_QUERY
from beacon_gql.config import Settings, load_settings
from beacon_gql.schema import create_schema
from beacon_gql.schema.cost import SchemaShape, unbounded_list_fields
from beacon_gql.schema.limits import QueryLimits, check_limits
from tests.support.graphql import error_code
from tests.support.jobs import submit_spec
from tests.support.server import ServedApp, serving
from tests.support.specs import Signer, make_spec
from tests.support.ws import SubscriptionError, subscribe
from tests.test_submission import row_counts


@pytest.fixture
async def app(sqlite_settings: Settings) -> AsyncIterator[ServedApp]:
    async with serving(sqlite_settings) as served:
        # The first request pays for the connection and cold code; the timed ones do not.
        await served.client.execute("{ __typename }")
        yield served


def fragment_bomb(k: int) -> str:
    """2^k copies of `questions { id }` in about 40 bytes a fragment."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(k))
    return f"query {{ ...F0 }} {chain} fragment F{k} on Query {{ questions {{ id }} }}"


async def timed(app: ServedApp, query: str, variables: dict[str, Any] | None = None) -> Any:
    """The answer and the seconds it took over HTTP. The bounds asserted on them are loose
    (this machine is shared); `bench/bench_hostile.py` measures the targets."""
    started = time.perf_counter()
    body = await app.client.execute(query, variables)
    return body, time.perf_counter() - started


async def test_a_fragment_bomb_is_refused_at_once(app: ServedApp) -> None:
    # k = 20 took strawberry's depth and alias limiters seconds; k = 40, hours.
    for k in (20, 40):
        body, seconds = await timed(app, fragment_bomb(k))
        assert body.get("data") is None
        assert error_code(body) == "QUERY_TOO_COMPLEX", body
        assert seconds < 1.0, (k, seconds)
    # Fewer spreads than the spread limit: refused for the fields the expansion would select,
    # whether an operation spreads them or not (validation walks unused fragments too).
    body, _ = await timed(app, fragment_bomb(15))
    assert body["errors"][0]["extensions"]["limit"] == "fields", body
    unused = "{ __typename } " + fragment_bomb(24).removeprefix("query { ...F0 } ")
    body, seconds = await timed(app, unused)
    assert body["errors"][0]["extensions"]["limit"] == "fields", body
    assert seconds < 1.0, seconds


async def test_a_fragment_defined_twice_is_refused_before_either_is_compared(
    app: ServedApp,
) -> None:
    # The first `A` would not be measured: 600 spreads compared pairwise by graphql-core.
    spreads = " ".join(["...B"] * 600)
    body, seconds = await timed(
        app,
        f"{{ ...A }} fragment A on Query {{ {spreads} }} fragment A on Query {{ __typename }} "
        "fragment B on Query { __typename }",
    )
    assert body["errors"][0]["message"] == "There can be only one fragment named 'A'.", body
    assert seconds < 0.5, seconds


async def test_a_fragment_cycle_is_refused(app: ServedApp) -> None:
    body = await app.client.execute(
        "query { ...A } fragment A on Query { ...B } fragment B on Query { questions { id } ...A }"
    )
    assert body.get("data") is None
    assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "within itself" in body["errors"][0]["message"]


async def test_many_aliases_are_refused_quickly(app: ServedApp) -> None:
    aliased = " ".join(f"a{i}: questions {{ id }}" for i in range(330))  # 1,980 tokens
    body, seconds = await timed(app, f"{{ {aliased} }}")
    assert body["errors"][0]["message"] == "330 aliases found. Allowed: 30"
    assert seconds < 0.5, seconds


async def test_fields_repeated_under_one_name_are_refused_before_validation_compares_them(
    app: ServedApp,
) -> None:
    # graphql-core's overlap rule compares every pair (10 tokens each: 180 fit in 2,000).
    repeated = " ".join(f'job(id: "{i}") {{ id }}' for i in range(180))
    body, seconds = await timed(app, f"{{ {repeated} }}")
    assert error_code(body) == "QUERY_TOO_COMPLEX"
    assert body["errors"][0]["extensions"]["limit"] == "sameNamePairs"
    assert seconds < 0.5, seconds
    # A few repeats, as merged fragments make, are fine.
    assert "errors" not in await app.client.execute(
        "{ questions { id } ...Q } fragment Q on Query { questions { id text } }"
    )


async def test_the_depth_limit_covers_introspection(app: ServedApp) -> None:
    deep = '{ __type(name: "Job") { ' + "ofType { " * 40 + "name" + " }" * 40 + " } }"
    body = await app.client.execute(deep)
    assert body.get("data") is None
    assert "and of 20 under __schema and __type" in body["errors"][0]["message"]
    just_over = '{ __type(name: "Job") { ' + "ofType { " * 19 + "name" + " }" * 19 + " } }"
    body = await app.client.execute(just_over)
    assert "exceeds maximum introspection depth of 20" in body["errors"][0]["message"]
    # The standard introspection query (GraphiQL's) still works.
    data = await app.client.data(get_introspection_query())
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_no_field_suggestions_when_introspection_is_off(sqlite_settings: Settings) -> None:
    async with serving(sqlite_settings, introspection=False) as closed:
        body = await closed.client.execute("{ jb(id: 1) { id } }")
        message = body["errors"][0]["message"]
        assert message == "Cannot query field 'jb' on type 'Query'.", message
        body = await closed.client.execute(
            "query($s: JobStatus) { jobs(status: $s) { nodes { id } } }", {"s": "COMPLETD"}
        )
        assert "Did you mean" not in body["errors"][0]["message"], body
    async with serving(sqlite_settings) as open_app:
        body = await open_app.client.execute("{ jb(id: 1) { id } }")
        assert "Did you mean 'job'?" in body["errors"][0]["message"]
        body = await open_app.client.execute(
            "query($s: JobStatus) { jobs(status: $s) { nodes { id } } }", {"s": "COMPLETD"}
        )
        assert "Did you mean" in body["errors"][0]["message"], body


async def test_lists_multiply_and_a_costly_query_is_refused_before_it_runs(
    app: ServedApp, signer: Signer
) -> None:
    await submit_spec(app.services, signer, make_spec(questions=["math_basic"]))
    costly = "{ jobs(first: 100) { nodes { executions { id status } } } }"
    body = await app.client.execute(costly)
    assert body.get("data") is None
    assert error_code(body) == "QUERY_TOO_COMPLEX"
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "cost",
        "allowed": beacon_gql.schema.MAX_COST,
    }
    # A variable counts at the largest page.
    body = await app.client.execute(
        "query($n: Int) { jobs(first: $n) { nodes { executions { id status } } } }", {"n": 1}
    )
    assert error_code(body) == "QUERY_TOO_COMPLEX"
    # A smaller page is answered.
    data = await app.client.data("{ jobs(first: 10) { nodes { executions { id status } } } }")
    assert len(data["jobs"]["nodes"][0]["executions"]) == 9  # the whole grid of the one job


def test_the_queries_the_project_sends_are_within_the_limits() -> None:
    schema = create_schema()
    shape = SchemaShape(schema._schema)
    limits = QueryLimits(
        depth=beacon_gql.schema.MAX_QUERY_DEPTH,
        introspection_depth=beacon_gql.schema.MAX_INTROSPECTION_DEPTH,
        aliases=beacon_gql.schema.MAX_ALIASES,
        spreads=beacon_gql.schema.MAX_FRAGMENT_SPREADS,
        fields=beacon_gql.schema.MAX_FIELDS,
        cost=beacon_gql.schema.MAX_COST,
        introspection_cost=beacon_gql.schema.MAX_INTROSPECTION_COST,
        operations=beacon_gql.schema.MAX_OPERATIONS,
        same_name_pairs=beacon_gql.schema.MAX_SAME_NAME_PAIRS,
    )
    for query in (EXPORT_QUERY, get_introspection_query(descriptions=True)):
        assert check_limits(parse(query), shape, limits) == []
    # Every list field has a bound chosen for it.
    assert unbounded_list_fields(schema._schema) == []


async def test_an_answer_over_the_byte_limit_is_refused_with_a_code(
    sqlite_settings: Settings, signer: Signer
) -> None:
    assert load_settings({}).max_response_bytes == 64 * 1024 * 1024
    assert load_settings({"BEACON_MAX_RESPONSE_BYTES": "65536"}).max_response_bytes == 65536
    async with serving(sqlite_settings, max_response_bytes=1024 * 1024) as app:
        spec = make_spec(questions=["math_basic"])
        spec["metadata"]["padding"] = "x" * 300_000
        job_id = await submit_spec(app.services, signer, spec)
        one = f'{{ job(id: "{job_id}") {{ spec }} }}'
        assert len((await app.client.data(one))["job"]["spec"]["metadata"]["padding"]) == 300_000

        four = "{ " + " ".join(f'j{i}: job(id: "{job_id}") {{ spec }}' for i in range(4)) + " }"
        response = await app.client.http.post("/graphql", json={"query": four})

        assert response.status_code == 200
        assert len(response.content) < 2000
        body = response.json()
        assert body["data"] is None
        assert error_code(body) == "RESPONSE_TOO_LARGE"
        assert body["errors"][0]["extensions"]["maxResponseBytes"] == 1024 * 1024
        assert len(body["errors"]) == 1
        assert await row_counts(app)  # the server still answers


async def test_the_limits_hold_over_a_websocket_too(app: ServedApp) -> None:
    chain = " ".join(
        f"fragment F{i} on Subscription {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)
    )
    bomb = (
        f'subscription {{ ...F0 }} {chain} fragment F40 on Subscription {{ jobProgress(jobId: "x")'
        " { sequence } }"
    )
    started = time.perf_counter()
    with pytest.raises(SubscriptionError) as refused:
        async for _ in subscribe(app.base_url, bomb, {}):
            pass
    assert time.perf_counter() - started < 1.0
    assert refused.value.payload[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
