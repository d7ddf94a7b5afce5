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

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from beacon_gql.config import Settings
from tests.conftest import ADMIN_TOKEN
from tests.support.jobs import SUBMIT, submit_spec
from tests.support.server import ServedApp, serve_app
from tests.support.specs import Signer, make_spec

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
    if not (modules / ".package-lock.json").exists():
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
    print(json.dumps(seen, indent=1))
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
    assert seen["notFound"] == {"job": None}
    assert seen["unauthenticated"] == {"codes": ["UNAUTHENTICATED"]}
    assert seen["badVariable"] == {"codes": ["BAD_USER_INPUT"]}
    assert_no_error_lines(error_lines)


async def test_legacy_ws_client(live: Live, node_modules: Path, error_lines: ErrorLines) -> None:
    seen = await run_node(node_modules, "legacy_ws.mjs", live.plan)
    print(json.dumps(seen, indent=1))
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
