"""Request and query limits, over real HTTP: nothing over a limit runs, and nothing is written.

HTTP-level behaviour does not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

import pytest

import beacon_gql.schema
from beacon_gql.config import ONE_MIB, ConfigError, Settings, load_settings
from beacon_gql.jobs.strict_json import MAX_JSON_DEPTH
from tests.support.graphql import error_code
from tests.support.server import ServedApp, serving
from tests.support.specs import Signer, make_spec
from tests.test_submission import row_counts

SUBMIT = """mutation($input: SubmitBiasJobInput!) {
  submitBiasJob(input: $input) { idempotent job { id } } }"""


@pytest.fixture
async def app(sqlite_settings: Settings) -> AsyncIterator[ServedApp]:
    async with serving(sqlite_settings) as served:
        yield served


def submit_body(spec: dict[str, Any], query: str = SUBMIT) -> dict[str, Any]:
    return {"query": query, "variables": {"input": {"jobspec": spec}}}


# --- query depth, aliases, tokens ----------------------------------------------------------

DEEP_VALID_SUBMIT = """mutation($input: SubmitBiasJobInput!) { submitBiasJob(input: $input) {
  job { biasAnalysis { questions { regionComparisons { a } } } } } }"""


async def test_a_query_deeper_than_the_limit_is_refused_with_a_clear_error(
    app: ServedApp,
) -> None:
    # The schema has no cycles, so an 11-deep selection also names unknown fields; the depth
    # rule still says what is wrong.
    deep = "{ jobs { edges { node { " + "a { " * 8 + "b" + " }" * 8 + " } } } }"
    body = await app.client.execute(deep)
    assert body.get("data") is None
    messages = [error["message"] for error in body["errors"]]
    assert any("exceeds maximum operation depth of 10" in m for m in messages), messages


async def test_a_mutation_over_the_depth_limit_is_refused_before_it_runs(
    sqlite_settings: Settings, signer: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real limit (10) lets this 6-deep mutation run; with the limit at 4 (set before the
    # app builds its schema) it must be refused at validation: the valid spec creates no job.
    monkeypatch.setattr(beacon_gql.schema, "MAX_QUERY_DEPTH", 4)
    async with serving(sqlite_settings) as app:
        before = await row_counts(app)

        response = await app.client.http.post(
            "/graphql", json=submit_body(signer.sign(make_spec()), DEEP_VALID_SUBMIT)
        )

        body = response.json()
        assert body.get("data") is None
        assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"
        assert "exceeds maximum operation depth of 4" in body["errors"][0]["message"]
        assert await row_counts(app) == before


async def test_a_mutation_within_the_depth_limit_runs(app: ServedApp, signer: Signer) -> None:
    response = await app.client.http.post(
        "/graphql", json=submit_body(signer.sign(make_spec()), DEEP_VALID_SUBMIT)
    )
    assert "errors" not in response.json(), response.json()


async def test_more_than_30_aliases_are_refused_before_anything_runs(
    app: ServedApp, signer: Signer
) -> None:
    aliased = " ".join(f"a{i}: submitBiasJob(input: $input) {{ idempotent }}" for i in range(31))
    before = await row_counts(app)

    response = await app.client.http.post(
        "/graphql",
        json=submit_body(
            signer.sign(make_spec()), f"mutation($input: SubmitBiasJobInput!) {{ {aliased} }}"
        ),
    )

    body = response.json()
    assert body.get("data") is None
    assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"
    assert body["errors"][0]["message"] == "31 aliases found. Allowed: 30"
    assert await row_counts(app) == before

    thirty = " ".join(f"q{i}: questions {{ id }}" for i in range(30))
    assert "errors" not in await app.client.execute(f"{{ {thirty} }}")


def graphql_literal(value: object) -> str:
    """`value` as a GraphQL input literal (its object keys must be GraphQL names)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {graphql_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(graphql_literal(v) for v in value) + "]"
    return json.dumps(value)


async def test_a_syntax_error_has_its_code(app: ServedApp) -> None:
    body = await app.client.execute("{ job(id: ")

    assert "data" not in body  # nothing ran: a request error (GraphQL over HTTP)
    assert body["errors"][0]["message"].startswith("Syntax Error")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_a_document_over_2000_tokens_is_refused_before_anything_runs(
    app: ServedApp, signer: Signer
) -> None:
    # A valid mutation with the signed spec written inline: 2,100 numbers in it make the
    # document too long, so it must not even be parsed, let alone create the job.
    spec = make_spec()
    spec["metadata"]["padding"] = list(range(2100))
    literal = graphql_literal(signer.sign(spec))
    before = await row_counts(app)

    body = await app.client.execute(
        f"mutation {{ submitBiasJob(input: {{jobspec: {literal}}}) {{ job {{ id }} }} }}"
    )

    assert body.get("data") is None
    assert "Document contains more than 2000 tokens" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert await row_counts(app) == before

    spec["metadata"]["padding"] = list(range(100))
    small = graphql_literal(signer.sign(spec))
    assert "errors" not in await app.client.execute(
        f"mutation {{ submitBiasJob(input: {{jobspec: {small}}}) {{ job {{ id }} }} }}"
    )


# --- list sizes -----------------------------------------------------------------------------


async def test_jobs_first_is_capped_at_100(app: ServedApp) -> None:
    query = "query($first: Int) { jobs(first: $first) { nodes { id } } }"
    for first in (101, 10_000, 0, -1):
        body = await app.client.execute(query, {"first": first})
        assert error_code(body) == "BAD_USER_INPUT", first
        assert "between 1 and 100" in body["errors"][0]["message"]
    assert "errors" not in await app.client.execute(query, {"first": 100})


# --- introspection --------------------------------------------------------------------------


async def test_introspection_can_be_turned_off(sqlite_settings: Settings) -> None:
    assert load_settings({"BEACON_INTROSPECTION": "false"}).introspection is False
    async with serving(sqlite_settings, introspection=False) as closed:
        for query in (
            "{ __schema { queryType { name } } }",
            '{ __type(name: "Job") { fields { name } } }',
        ):
            body = await closed.client.execute(query)
            assert body.get("data") is None, query
            assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"
            assert "introspection" in body["errors"][0]["message"].lower()
        # Not introspection of the schema: still answered.
        assert await closed.client.data("{ __typename }") == {"__typename": "Query"}


async def test_introspection_is_on_by_default(app: ServedApp) -> None:
    assert Settings().introspection is True
    data = await app.client.data("{ __schema { queryType { name } } }")
    assert data["__schema"]["queryType"]["name"] == "Query"


# --- body size ------------------------------------------------------------------------------


def test_max_body_bytes_defaults_to_one_mib_and_is_configurable() -> None:
    assert Settings().max_body_bytes == ONE_MIB == 1024 * 1024
    assert load_settings({}).max_body_bytes == ONE_MIB
    assert load_settings({"BEACON_MAX_BODY_BYTES": "65536"}).max_body_bytes == 65536
    with pytest.raises(ConfigError, match="BEACON_MAX_BODY_BYTES"):
        load_settings({"BEACON_MAX_BODY_BYTES": "lots"})


async def test_a_body_over_the_limit_is_refused_with_413_and_creates_nothing(
    app: ServedApp, signer: Signer
) -> None:
    spec = make_spec()
    spec["metadata"]["padding"] = "x" * ONE_MIB
    content = json.dumps(submit_body(signer.sign(spec))).encode()
    assert len(content) > ONE_MIB
    before = await row_counts(app)

    response = await app.client.http.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    body = response.json()
    assert error_code(body) == "PAYLOAD_TOO_LARGE"
    assert str(ONE_MIB) in body["errors"][0]["message"]
    assert await row_counts(app) == before


async def test_a_body_just_under_the_limit_is_served(app: ServedApp, signer: Signer) -> None:
    spec = make_spec()
    spec["metadata"]["padding"] = ""
    size = len(json.dumps(submit_body(signer.sign(spec))).encode())
    spec["metadata"]["padding"] = "x" * (ONE_MIB - size - 200)
    content = json.dumps(submit_body(signer.sign(spec))).encode()
    assert ONE_MIB - 400 < len(content) <= ONE_MIB

    response = await app.client.http.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )

    assert response.status_code == 200
    assert response.json()["data"]["submitBiasJob"]["job"]["id"]


async def raw_request(
    base_url: str, head: bytes, body_parts: Iterable[bytes], *, within: float = 5.0
) -> bytes:
    """Send a request head and some body bytes over a plain socket, and return everything the
    server answers until it closes the connection; TimeoutError if it keeps waiting for more."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head)
        for part in body_parts:
            writer.write(part)
        with contextlib.suppress(ConnectionError):  # the server may stop reading: it answered
            await writer.drain()
        return await asyncio.wait_for(reader.read(), within)
    finally:
        writer.close()


def head(extra: str) -> bytes:
    return (
        "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{extra}\r\n"
    ).encode()


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    app: ServedApp,
) -> None:
    # 100 MiB announced, 20 bytes sent: an app that read the body would wait for the rest.
    answer = await raw_request(
        app.base_url, head(f"Content-Length: {100 * ONE_MIB}\r\n"), [b'{"query": "{ __typen']
    )
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, answer[:200]
    assert b"PAYLOAD_TOO_LARGE" in rest


async def test_a_chunked_body_is_cut_off_at_the_limit(app: ServedApp) -> None:
    # No Content-Length: the body streams in 64 KiB chunks and never ends. The server must
    # answer once the limit is crossed instead of reading (or waiting) for all of it.
    chunk = b"x" * (64 * 1024)
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    chunks = ONE_MIB // len(chunk) + 1
    answer = await raw_request(
        app.base_url, head("Transfer-Encoding: chunked\r\n"), [framed] * chunks
    )
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line, answer[:200]
    assert b"PAYLOAD_TOO_LARGE" in rest


async def test_a_small_chunked_body_is_served(app: ServedApp) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": '
        yield b'"{ __typename }"}'

    response = await app.client.http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


# --- request shape: JSON nesting, non-JSON numbers, strawberry's own refusals ---------------


async def post_raw(app: ServedApp, content: bytes | str, content_type: str) -> Any:
    return await app.client.http.post(
        "/graphql", content=content, headers={"content-type": content_type}
    )


VARIABLE_X = '{"query": "{ __typename }", "variables": {"x": %s}}'


async def test_json_nested_too_deeply_is_a_400_not_a_crash(app: ServedApp) -> None:
    for depth in (MAX_JSON_DEPTH + 1, 5_000, 200_000):
        nested = "[" * depth + "]" * depth
        response = await post_raw(app, VARIABLE_X % nested, "application/json")
        assert response.status_code == 400, depth
        assert error_code(response.json()) == "BAD_REQUEST"
        assert "nested more than 64 levels" in response.json()["errors"][0]["message"]


async def test_nan_infinity_and_overflowing_numbers_are_refused(app: ServedApp) -> None:
    for literal in ("NaN", "Infinity", "-Infinity", "1e999", "-1e400"):
        response = await post_raw(app, VARIABLE_X % literal, "application/json")
        assert response.status_code == 400, literal
        assert error_code(response.json()) == "BAD_REQUEST"


async def test_a_body_that_is_not_json_is_a_coded_400(app: ServedApp) -> None:
    for content in (b"{not json", b"\xff\xfe\x00garbage", b'{"query": 12}', b""):
        response = await post_raw(app, content, "application/json")
        assert response.status_code == 400, content
        assert error_code(response.json()) == "BAD_REQUEST"


# --- GET and CSRF ---------------------------------------------------------------------------


async def test_a_mutation_over_get_is_refused_and_creates_nothing(
    app: ServedApp, signer: Signer
) -> None:
    before = await row_counts(app)

    response = await app.client.http.get(
        "/graphql",
        params={
            "query": SUBMIT,
            "variables": json.dumps({"input": {"jobspec": signer.sign(make_spec())}}),
        },
        headers={"accept": "application/json"},
    )

    assert response.status_code in (400, 405)
    body = response.json()
    assert error_code(body) in ("BAD_REQUEST", "METHOD_NOT_ALLOWED")
    assert "GET" in body["errors"][0]["message"]
    assert await row_counts(app) == before
    # Queries over GET still work.
    query = await app.client.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept": "application/json"}
    )
    assert query.json() == {"data": {"__typename": "Query"}}


CROSS_SITE_TYPES = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
]


@pytest.mark.parametrize("content_type", [*CROSS_SITE_TYPES, None])
async def test_a_post_a_browser_could_send_cross_site_is_refused_with_415(
    app: ServedApp, signer: Signer, content_type: str | None
) -> None:
    before = await row_counts(app)
    headers = {} if content_type is None else {"content-type": content_type}

    response = await app.client.http.post(
        "/graphql",
        content=json.dumps(submit_body(signer.sign(make_spec()))).encode(),
        headers=headers,
    )

    assert response.status_code == 415
    assert error_code(response.json()) == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/json" in response.json()["errors"][0]["message"]
    assert await row_counts(app) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/graphql-response+json",
    ],
)
async def test_json_posts_are_served(app: ServedApp, content_type: str) -> None:
    response = await post_raw(app, '{"query": "{ __typename }"}', content_type)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}
