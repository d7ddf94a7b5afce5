"""The GraphQL clients people use, against a live server (issue #18).

The JavaScript clients are the real packages from npm, pinned in tests/conformance/
package-lock.json and installed by `npm ci` the first time (into tests/conformance/
node_modules); each script there runs its checks and prints what it observed as JSON. The
Python client is `gql` (the test extra). Every test also asserts that no client mistake put
an error-level line (or a traceback) in the server's log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from beacon_gql.config import Settings
from beacon_gql.jobs.persisted_documents import document_hash
from tests.conftest import ADMIN_TOKEN
from tests.support.jobs import SUBMIT, submit_spec
from tests.support.server import ServedApp, serve_app
from tests.support.specs import Signer, make_spec
from tests.support.ws import SubscriptionError, subscribe

PROGRESS_DOC = """subscription($jobId: ID!) { jobProgress(jobId: $jobId) {
  sequence job { id status } progress { expected pending } } }"""
CONFORMANCE = Path(__file__).parent / "conformance"
NODE_TIMEOUT = 90


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """The pinned client packages, installed from the lock file when missing."""
    npm = shutil.which("npm")
    assert npm is not None and shutil.which("node") is not None, "node and npm are required"
    modules = CONFORMANCE / "node_modules"
    installed = modules / ".package-lock.json"  # written by npm when it installs
    lock = CONFORMANCE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CONFORMANCE,
            check=True,
            timeout=600,
        )
    return modules


class ErrorLines(logging.Handler):
    """Every record at ERROR or above, from the app, strawberry and uvicorn alike."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()} {r.exc_info or ''}" for r in self.records]


@pytest.fixture
def error_lines() -> Iterator[ErrorLines]:
    handler = ErrorLines()
    # uvicorn's loggers do not propagate to the root one.
    loggers = [
        logging.getLogger(),
        logging.getLogger("uvicorn"),
        logging.getLogger("uvicorn.error"),
    ]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@dataclass
class Live:
    app: ServedApp
    plan: dict[str, Any]

    @property
    def services(self) -> Any:
        return self.app.services


def make_plan(app: ServedApp, signer: Signer, job_id: str, **extra: Any) -> dict[str, Any]:
    specs = [signer.sign(make_spec(questions=["math_basic"], regions=["US"])) for _ in range(4)]
    return {
        "http": f"{app.base_url}/graphql",
        "ws": app.base_url.replace("http://", "ws://") + "/graphql",
        "submit": SUBMIT,
        "specs": specs,
        "jobId": job_id,
        "adminToken": ADMIN_TOKEN,
        **extra,
    }


@asynccontextmanager
async def live_server(settings: Settings, signer: Signer, **overrides: Any) -> AsyncIterator[Live]:
    async with serve_app(replace(settings, **overrides), run_worker=False) as app:
        job_id = await submit_spec(app.services, signer, make_spec(questions=["math_basic"]))
        yield Live(app, make_plan(app, signer, job_id))


@pytest.fixture
async def live(sqlite_settings: Settings, signer: Signer) -> AsyncIterator[Live]:
    async with live_server(sqlite_settings, signer) as served:
        yield served


async def run_node(node_modules: Path, script: str, plan: dict[str, Any]) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(CONFORMANCE / script),
        cwd=CONFORMANCE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(
            process.communicate(json.dumps(plan).encode()), NODE_TIMEOUT
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    results: dict[str, Any] = json.loads(out)
    return results


def assert_no_error_lines(error_lines: ErrorLines) -> None:
    assert error_lines.lines() == []


PARSE_FAILED = ["GRAPHQL_PARSE_FAILED"]
VALIDATION_FAILED = ["GRAPHQL_VALIDATION_FAILED"]


async def test_graphql_ws_client(live: Live, node_modules: Path, error_lines: ErrorLines) -> None:
    seen = await run_node(node_modules, "graphql_ws.mjs", live.plan)
    assert seen["query"]["questions"] > 0, seen
    assert seen["mutation"] == {"expected": 3}
    assert seen["subscription"] == {"firstJobId": live.plan["jobId"]}
    # A syntax error and the token limit are the operation's `error`, GRAPHQL_PARSE_FAILED,
    # and the socket's other operations carry on (item 1).
    assert seen["multiplexing"] == {
        "syntaxError": PARSE_FAILED,
        "tokenLimit": PARSE_FAILED,
        "validation": VALIDATION_FAILED,
        "goodEvents": 2,
        "queryAfter": seen["query"]["questions"],
    }
    assert seen["jobsChanged"] == {
        "events": [
            {"kind": "RESYNC", "jobId": None, "status": None, "progress": None},
            {
                "kind": "CREATED",
                "jobId": "<submitted>",
                "status": "QUEUED",
                "progress": {"expected": 3, "cancelled": 0},
            },
            {
                "kind": "UPDATED",
                "jobId": "<submitted>",
                "status": "CANCELLED",
                "progress": {"expected": 3, "cancelled": 3},
            },
        ]
    }
    assert seen["notFound"] == {"job": None}
    assert seen["unauthenticated"] == {"codes": ["UNAUTHENTICATED"]}
    assert seen["badVariable"] == {"codes": ["BAD_USER_INPUT"]}
    assert_no_error_lines(error_lines)


async def test_legacy_ws_client(live: Live, node_modules: Path, error_lines: ErrorLines) -> None:
    seen = await run_node(node_modules, "legacy_ws.mjs", live.plan)
    # Queries and mutations over the legacy protocol (item 2).
    assert seen["query"]["errors"] == [] and seen["query"]["questions"] > 0, seen
    assert seen["query"]["completed"] is True
    assert seen["mutation"] == {"expected": 3, "errors": []}
    assert seen["subscription"] == {"firstJobId": live.plan["jobId"]}
    # Item 1 on the legacy protocol: an `error` for the operation, nothing else stops.
    assert seen["multiplexing"] == {
        "syntaxError": PARSE_FAILED,
        "tokenLimit": PARSE_FAILED,
        "validation": VALIDATION_FAILED,
        "goodEvents": 2,
    }
    assert seen["unauthenticated"] == {"codes": ["UNAUTHENTICATED"]}
    assert_no_error_lines(error_lines)


def gql_url(live: Live, scheme: str = "http") -> str:
    url: str = live.plan["http"]
    return url if scheme == "http" else url.replace("http://", "ws://")


async def test_gql_websockets_default_settings(live: Live, error_lines: ErrorLines) -> None:
    """gql's WebsocketsTransport offers both subprotocols (legacy first): the server picks
    graphql-transport-ws, and gql's schema fetch, queries and subscriptions work."""
    transport = WebsocketsTransport(url=gql_url(live, "ws"))
    async with Client(transport=transport, fetch_schema_from_transport=True) as session:
        assert transport.subprotocol == "graphql-transport-ws"
        assert session.client.schema is not None
        result = await session.execute(gql("{ questions { id } }"))
        assert len(result["questions"]) > 0
        events = session.subscribe(
            GraphQLRequest(PROGRESS_DOC, variable_values={"jobId": live.plan["jobId"]})
        )
        first = await anext(aiter(events))
        assert first["jobProgress"]["job"]["id"] == live.plan["jobId"]
        await events.aclose()
    assert_no_error_lines(error_lines)


async def test_gql_legacy_protocol(live: Live, error_lines: ErrorLines) -> None:
    """Queries and mutations over the legacy graphql-ws protocol (item 2)."""
    transport = WebsocketsTransport(
        url=gql_url(live, "ws"), subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL]
    )
    async with Client(transport=transport, fetch_schema_from_transport=True) as session:
        assert transport.subprotocol == "graphql-ws"
        result = await session.execute(gql("{ questions { id } }"))
        assert len(result["questions"]) > 0
        submitted = await session.execute(
            GraphQLRequest(SUBMIT, variable_values={"spec": live.plan["specs"][2]})
        )
        assert submitted["submitBiasJob"]["job"]["progress"]["expected"] == 3
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql('mutation { cancelJob(id: "x") { id } }'))
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert_no_error_lines(error_lines)


async def test_gql_httpx(live: Live, error_lines: ErrorLines) -> None:
    transport = HTTPXAsyncTransport(url=gql_url(live))
    async with Client(transport=transport, fetch_schema_from_transport=True) as session:
        result = await session.execute(gql("{ questions { id } }"))
        assert len(result["questions"]) > 0
        submitted = await session.execute(
            GraphQLRequest(SUBMIT, variable_values={"spec": live.plan["specs"][3]})
        )
        assert submitted["submitBiasJob"]["job"]["progress"]["expected"] == 3
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(
                GraphQLRequest(
                    "query($n: Int) { jobs(first: $n) { nodes { id } } }",
                    variable_values={"n": "many"},
                )
            )
        assert refused.value.errors is not None
        assert refused.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        # Batching (item 5): one request, two operations, two answers.
        answers = await session.execute_batch(
            [
                GraphQLRequest("{ questions { id } }"),
                GraphQLRequest(
                    "query($id: ID!) { job(id: $id) { id } }",
                    variable_values={"id": live.plan["jobId"]},
                ),
            ]
        )
        assert len(answers[0]["questions"]) > 0
        assert answers[1] == {"job": {"id": live.plan["jobId"]}}
    assert_no_error_lines(error_lines)


async def test_apollo_client(live: Live, node_modules: Path, error_lines: ErrorLines) -> None:
    seen = await run_node(node_modules, "apollo.mjs", live.plan)
    assert seen["httpQuery"]["questions"] > 0
    assert seen["httpMutation"] == {"expected": 3}
    assert seen["httpErrors"] == {
        "invalid": VALIDATION_FAILED,
        "unauthenticated": ["UNAUTHENTICATED"],
        "badVariable": ["BAD_USER_INPUT"],
    }
    # BatchHttpLink: two operations, one request (item 5).
    assert seen["batch"] == {
        "requests": 1,
        "operations": 2,
        "questions": seen["httpQuery"]["questions"],
        "jobId": live.plan["jobId"],
    }
    # Automatic persisted queries (item 4): the hash alone, PERSISTED_QUERY_NOT_FOUND, the
    # retry with the document registers it; the next client needs only the hash.
    hash_only, with_document = {"query": False, "hash": True}, {"query": True, "hash": True}
    assert seen["persistedQueries"] == {
        "first": [hash_only, with_document],
        "second": [hash_only],
        "answers": [seen["httpQuery"]["questions"]] * 2,
    }
    # A subscription over HTTP, as multipart (item 3).
    assert seen["multipartSubscription"] == {"firstJobId": live.plan["jobId"], "errors": []}
    assert seen["graphqlWsLink"] == {
        "questions": seen["httpQuery"]["questions"],
        "firstJobId": live.plan["jobId"],
    }
    # WebSocketLink speaks the legacy protocol: queries and mutations too (item 2).
    assert seen["webSocketLink"] == {
        "questions": seen["httpQuery"]["questions"],
        "errors": [],
        "expected": 3,
        "firstJobId": live.plan["jobId"],
    }
    assert_no_error_lines(error_lines)


# GraphQL over HTTP, as the spec and the persisted-query protocol have it, with plain httpx.

RESPONSE_JSON = "application/graphql-response+json"
QUESTIONS = "{ questions { id } }"


def persisted(document: str | None, sha256: str) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}}
    if document is not None:
        body["query"] = document
    return body


def codes_of(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_graphql_response_json(live: Live, error_lines: ErrorLines) -> None:
    """Item 6: the media type is honoured; request errors are 4xx under it, and no request
    error's answer has a `data` entry."""
    async with httpx.AsyncClient(base_url=live.app.base_url) as http:
        wanted = {"accept": f"{RESPONSE_JSON}, application/json;q=0.9"}
        ok = await http.post("/graphql", json={"query": QUESTIONS}, headers=wanted)
        assert (ok.status_code, ok.headers["content-type"]) == (200, RESPONSE_JSON)
        cases = {
            "{ questions { id ": "GRAPHQL_PARSE_FAILED",
            "{ noSuchField }": "GRAPHQL_VALIDATION_FAILED",
        }
        for document, code in cases.items():
            refused = await http.post("/graphql", json={"query": document}, headers=wanted)
            assert refused.status_code == 400, refused.text
            assert refused.headers["content-type"] == RESPONSE_JSON
            assert "data" not in refused.json() and codes_of(refused.json()) == [code]
            legacy = await http.post("/graphql", json={"query": document})
            assert (
                legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
            )
            assert "data" not in legacy.json() and codes_of(legacy.json()) == [code]
        coerced = await http.post(
            "/graphql",
            json={
                "query": "query($n: Int) { jobs(first: $n) { nodes { id } } }",
                "variables": {"n": "x"},
            },
            headers=wanted,
        )
        assert coerced.status_code == 400 and "data" not in coerced.json()
        assert codes_of(coerced.json()) == ["BAD_USER_INPUT"]
        # An execution error is not a request error: 200, with its data (null here).
        executed = await http.post(
            "/graphql", json={"query": 'mutation { cancelJob(id: "x") { id } }'}, headers=wanted
        )
        assert executed.status_code == 200 and executed.json()["data"] is None
        assert codes_of(executed.json()) == ["UNAUTHENTICATED"]
    assert_no_error_lines(error_lines)


async def test_http_requests_clients_send(live: Live, error_lines: ErrorLines) -> None:
    """Item 6: application/graphql bodies; GET without a query is JSON unless HTML is
    asked for. Item 3: a subscription by plain POST is refused with a clear code, and is
    served as server-sent events. Item 5: batches are bounded."""
    async with httpx.AsyncClient(base_url=live.app.base_url) as http:
        bare = await http.post(
            "/graphql",
            params={"variables": json.dumps({"id": live.plan["jobId"]})},
            content="query($id: ID!) { job(id: $id) { id } }",
            headers={"content-type": "application/graphql"},
        )
        assert bare.json() == {"data": {"job": {"id": live.plan["jobId"]}}}
        no_query = await http.get("/graphql", headers={"accept": "*/*"})
        assert no_query.status_code == 400
        assert codes_of(no_query.json()) == ["BAD_REQUEST"]
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")

        subscription = {"query": PROGRESS_DOC, "variables": {"jobId": live.plan["jobId"]}}
        plain = await http.post("/graphql", json=subscription)
        assert plain.status_code == 400 and codes_of(plain.json()) == ["BAD_REQUEST"]
        assert "text/event-stream" in plain.json()["errors"][0]["message"]
        async with http.stream(
            "POST", "/graphql", json=subscription, headers={"accept": "text/event-stream"}
        ) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            lines = aiter(events.aiter_lines())
            first_data = None
            async with asyncio.timeout(10):
                while first_data is None:
                    line = await anext(lines)
                    if line.startswith("data: ") and line != "data: ":
                        first_data = json.loads(line.removeprefix("data: "))
        assert first_data["data"]["jobProgress"]["job"]["id"] == live.plan["jobId"]

        batch = await http.post("/graphql", json=[{"query": QUESTIONS}] * 10)
        assert batch.status_code == 200 and len(batch.json()) == 10
        too_many = await http.post("/graphql", json=[{"query": QUESTIONS}] * 11)
        assert too_many.status_code == 400 and codes_of(too_many.json()) == ["BAD_REQUEST"]
        # Each operation of a batch is held to the limits of a single one.
        mixed = await http.post("/graphql", json=[{"query": QUESTIONS}, {"query": "{ x"}])
        assert [codes_of(answer) for answer in mixed.json()] == [[], ["GRAPHQL_PARSE_FAILED"]]
    assert_no_error_lines(error_lines)


async def test_401_says_how_to_authenticate(
    sqlite_settings: Settings, signer: Signer, error_lines: ErrorLines
) -> None:
    async with (
        live_server(sqlite_settings, signer, read_token="reader") as served,
        httpx.AsyncClient(base_url=served.app.base_url) as http,
    ):
        refused = await http.post("/graphql", json={"query": QUESTIONS})
        # Batches and persisted queries go through the same door.
        batch = await http.post("/graphql", json=[{"query": QUESTIONS}] * 2)
        hashed = await http.post("/graphql", json=persisted(None, document_hash(QUESTIONS)))
        # Apollo sends hashed queries by GET (useGETForHashedQueries) with `Accept: */*`.
        hashed_get = await http.get(
            "/graphql",
            params={
                "extensions": json.dumps(persisted(None, document_hash(QUESTIONS))["extensions"])
            },
            headers={"accept": "*/*"},
        )
    assert batch.status_code == hashed.status_code == hashed_get.status_code == 401
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert codes_of(refused.json()) == ["UNAUTHENTICATED"]
    assert_no_error_lines(error_lines)


async def test_persisted_queries_protocol_across_processes(
    sqlite_settings: Settings, signer: Signer, error_lines: ErrorLines
) -> None:
    """Item 4: PERSISTED_QUERY_NOT_FOUND, registration on the retry, the hash verified, and
    a document registered through one API process is known to another (the database)."""
    document = "query Shared { questions { id text } }"
    sha256 = document_hash(document)
    async with (
        live_server(sqlite_settings, signer) as one,
        live_server(sqlite_settings, signer) as two,
        httpx.AsyncClient() as http,
    ):
        url_one, url_two = one.plan["http"], two.plan["http"]
        unknown = await http.post(url_one, json=persisted(None, sha256))
        assert codes_of(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        wrong = await http.post(url_one, json=persisted(document, "0" * 64))
        assert codes_of(wrong.json()) == ["BAD_USER_INPUT"]
        still_unknown = await http.post(url_one, json=persisted(None, "0" * 64))
        assert codes_of(still_unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        registered = await http.post(url_one, json=persisted(document, sha256))
        assert len(registered.json()["data"]["questions"]) > 0
        elsewhere = await http.post(url_two, json=persisted(None, sha256))
        assert elsewhere.json() == registered.json()
        # Clients cannot fill the table: a document over the bound runs, unregistered.
        big = '{ job(id: "%s") { id } }' % ("x" * 40_000)
        ran = await http.post(url_one, json=persisted(big, document_hash(big)))
        assert ran.json() == {"data": {"job": None}}
        again = await http.post(url_one, json=persisted(None, document_hash(big)))
        assert codes_of(again.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert_no_error_lines(error_lines)


async def test_allow_list_mode(
    sqlite_settings: Settings, signer: Signer, error_lines: ErrorLines
) -> None:
    """Item 4: BEACON_PERSISTED_QUERIES=only runs registered documents only, over HTTP and
    WebSockets; the admin token registers them."""
    document = "query Allowed { questions { id } }"
    async with live_server(sqlite_settings, signer, persisted_queries="only") as served:
        url = served.plan["http"]
        async with httpx.AsyncClient() as http:
            refused = await http.post(url, json={"query": document})
            assert codes_of(refused.json()) == ["FORBIDDEN"]
            by_hash = await http.post(url, json=persisted(document, document_hash(document)))
            assert codes_of(by_hash.json()) == ["FORBIDDEN"]
            admin = {"authorization": f"Bearer {ADMIN_TOKEN}"}
            registered = await http.post(url, json={"query": document}, headers=admin)
            assert "errors" not in registered.json()
            assert (await http.post(url, json={"query": document})).json() == registered.json()
            hashed = await http.post(url, json=persisted(None, document_hash(document)))
            assert hashed.json() == registered.json()
        for protocol in ("graphql-transport-ws", "graphql-ws"):
            with pytest.raises(SubscriptionError) as unregistered:
                async for _ in subscribe(
                    served.app.base_url,
                    PROGRESS_DOC,
                    {"jobId": served.plan["jobId"]},
                    protocol=protocol,
                ):
                    pass
            payload = unregistered.value.payload
            first = payload[0] if isinstance(payload, list) else payload
            assert first["extensions"]["code"] == "FORBIDDEN"
    assert_no_error_lines(error_lines)


async def test_urql(live: Live, node_modules: Path, error_lines: ErrorLines) -> None:
    seen = await run_node(node_modules, "urql.mjs", live.plan)
    assert seen["query"]["questions"] > 0 and seen["query"]["error"] is None, seen
    assert seen["mutation"] == {"expected": 3}
    assert seen["errors"] == {
        "invalid": VALIDATION_FAILED,
        "unauthenticated": ["UNAUTHENTICATED"],
        "badVariable": ["BAD_USER_INPUT"],
    }
    assert seen["subscription"] == {"firstJobId": live.plan["jobId"]}
    assert_no_error_lines(error_lines)


async def test_graphql_inspector_finds_no_difference(
    live: Live, node_modules: Path, error_lines: ErrorLines
) -> None:
    plan = {**live.plan, "schemaFile": str(Path(__file__).parents[1] / "schema.graphql")}
    seen = await run_node(node_modules, "inspector.mjs", plan)
    assert seen["diff"] == {"changes": []}
    assert_no_error_lines(error_lines)


async def ws_exchange(url: str, protocol: str, *messages: Any) -> list[str]:
    """Sends the messages after connection_init; what came back (message types, then how
    the socket ended, or "open" when it stayed open for the next second)."""
    seen: list[str] = []
    async with websockets.connect(url, subprotocols=[protocol]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        for message in messages:
            await socket.send(message if isinstance(message, str) else json.dumps(message))
        try:
            async with asyncio.timeout(1):
                while True:
                    kind = json.loads(await socket.recv())["type"]
                    if kind not in ("ka", "ping", "pong"):
                        seen.append(kind)
        except TimeoutError:
            seen.append("open")
        except websockets.ConnectionClosed as closed:
            seen.append(f"closed {closed.rcvd.code if closed.rcvd else None}")
    return seen


async def test_client_mistakes_are_answered_never_logged(
    live: Live, error_lines: ErrorLines
) -> None:
    """Item 8: malformed messages and bodies get the protocol's answer (4400, an `error`
    message, a 400 with BAD_REQUEST), and nothing at error level reaches the log."""
    ws = live.plan["ws"]
    query = {"query": QUESTIONS}
    modern = "graphql-transport-ws"
    assert await ws_exchange(ws, modern, "[1]") == ["connection_ack", "closed 4400"]
    assert await ws_exchange(
        ws, modern, {"type": "subscribe", "id": "1", "payload": {"query": 5}}
    ) == [
        "connection_ack",
        "closed 4400",
    ]
    legacy = "graphql-ws"
    good = {"type": "start", "id": "2", "payload": query}
    assert await ws_exchange(ws, legacy, {"type": "stop"}, good) == [
        "connection_ack",
        "error",
        "data",
        "complete",
        "open",
    ]
    assert await ws_exchange(
        ws, legacy, {"type": "start", "id": "1", "payload": {**query, "operationName": 5}}, good
    ) == ["connection_ack", "error", "data", "complete", "open"]
    async with httpx.AsyncClient() as http:
        for body in ("x", 5, [1]):
            refused = await http.post(live.plan["http"], json=body)
            assert refused.status_code == 400 and codes_of(refused.json()) == ["BAD_REQUEST"]
        # A query sent to the multipart subscription transport alone: refused in the stream.
        streamed = await http.post(
            live.plan["http"],
            json=query,
            headers={"accept": "multipart/mixed;subscriptionSpec=1.0"},
        )
        assert streamed.status_code == 200 and "BAD_REQUEST" in streamed.text
    assert_no_error_lines(error_lines)


async def test_graphql_sse_client(live: Live, node_modules: Path, error_lines: ErrorLines) -> None:
    """Subscriptions over HTTP as server-sent events, with graphql-sse's client (item 3)."""
    seen = await run_node(node_modules, "sse.mjs", live.plan)
    assert seen == {
        "subscription": {"firstJobId": live.plan["jobId"]},
        "query": {"questions": seen["query"]["questions"], "completed": True},
        "syntaxError": {"codes": PARSE_FAILED, "error": None},
    }
    assert seen["query"]["questions"] > 0
    assert_no_error_lines(error_lines)
