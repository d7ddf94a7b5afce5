"""Read access is one rule for every way in: GET or POST, any Accept header, both WebSocket
protocols, /metrics; and the admin token is the stronger one (it also reads)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from beacon_gql.config import Settings, load_settings
from tests.conftest import ADMIN_TOKEN
from tests.support.jobs import submit_spec
from tests.support.server import ServedApp, serving
from tests.support.specs import Signer, make_spec

READ_TOKEN = "reader-secret"
METRICS_TOKEN = "scraper-secret"
JOBS = "{ jobs(first: 2) { nodes { id spec } } }"
CANCEL = "mutation($id: ID!) { cancelJob(id: $id) { id status } }"


@pytest.fixture
async def guarded(sqlite_settings: Settings) -> AsyncIterator[ServedApp]:
    async with serving(sqlite_settings, read_token=READ_TOKEN) as served:
        yield served


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_get_with_a_query_needs_the_token_whatever_it_accepts(
    guarded: ServedApp, signer: Signer
) -> None:
    await submit_spec(guarded.services, signer, make_spec(questions=["math_basic"]))
    async with httpx.AsyncClient(base_url=guarded.base_url) as http:
        for accept in ("text/html", "text/html,application/json", "*/*", "application/json"):
            response = await http.get(
                "/graphql", params={"query": JOBS}, headers={"accept": accept}
            )
            assert response.status_code == 401, accept
            assert "data" not in response.text, accept
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        allowed = await http.get(
            "/graphql",
            params={"query": JOBS},
            headers={"accept": "application/json", **bearer(READ_TOKEN)},
        )
        assert allowed.status_code == 200
        assert len(allowed.json()["data"]["jobs"]["nodes"]) == 1


async def test_the_graphiql_page_is_served_without_a_token_and_runs_nothing(
    guarded: ServedApp,
) -> None:
    async with httpx.AsyncClient(base_url=guarded.base_url) as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "graphiql" in page.text.lower()
        # Variables or an operation name without a query execute nothing either.
        other = await http.get(
            "/graphql",
            params={"variables": "{}", "operationName": "x"},
            headers={"accept": "text/html"},
        )
        assert '"data"' not in other.text


async def test_metrics_need_the_read_token(guarded: ServedApp) -> None:
    async with httpx.AsyncClient(base_url=guarded.base_url) as http:
        anonymous = await http.get("/metrics")
        assert anonymous.status_code == 401
        assert "beacon_jobs" not in anonymous.text
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        for token in (READ_TOKEN, ADMIN_TOKEN):
            allowed = await http.get("/metrics", headers=bearer(token))
            assert allowed.status_code == 200, token
            assert "# TYPE beacon_jobs gauge" in allowed.text


async def test_a_metrics_token_opens_metrics_and_nothing_else(sqlite_settings: Settings) -> None:
    assert load_settings({"BEACON_METRICS_TOKEN": METRICS_TOKEN}).metrics_token == METRICS_TOKEN
    async with (
        serving(sqlite_settings, read_token=READ_TOKEN, metrics_token=METRICS_TOKEN) as app,
        httpx.AsyncClient(base_url=app.base_url) as http,
    ):
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers=bearer(READ_TOKEN))).status_code == 401
        assert (await http.get("/metrics", headers=bearer(METRICS_TOKEN))).status_code == 200
        assert (await http.get("/metrics", headers=bearer(ADMIN_TOKEN))).status_code == 200
        scraper = await http.post("/graphql", json={"query": JOBS}, headers=bearer(METRICS_TOKEN))
        assert scraper.status_code == 401


async def test_metrics_are_open_when_no_token_is_configured(sqlite_settings: Settings) -> None:
    async with serving(sqlite_settings) as app, httpx.AsyncClient(base_url=app.base_url) as http:
        assert (await http.get("/metrics")).status_code == 200


async def test_the_admin_token_runs_admin_mutations_over_http_and_reads(
    guarded: ServedApp, signer: Signer
) -> None:
    job_id = await submit_spec(guarded.services, signer, make_spec(questions=["math_basic"]))
    async with httpx.AsyncClient(base_url=guarded.base_url) as http:
        reader = await http.post(
            "/graphql",
            json={"query": CANCEL, "variables": {"id": job_id}},
            headers=bearer(READ_TOKEN),
        )
        assert reader.status_code == 200
        assert reader.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "needs the admin token" in reader.json()["errors"][0]["message"]

        admin = await http.post(
            "/graphql",
            json={"query": CANCEL, "variables": {"id": job_id}},
            headers=bearer(ADMIN_TOKEN),
        )
        assert admin.status_code == 200, admin.text
        assert admin.json()["data"]["cancelJob"] == {"id": job_id, "status": "CANCELLED"}

        read = await http.post("/graphql", json={"query": JOBS}, headers=bearer(ADMIN_TOKEN))
        assert read.status_code == 200
        assert read.json()["data"]["jobs"]["nodes"][0]["id"] == job_id


async def connection_init(app: ServedApp, protocol: str, payload: dict[str, str]) -> object:
    """The first message the server answers to connection_init, or the close code."""
    url = app.base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[protocol]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            while True:
                message = json.loads(await socket.recv())
                if message["type"] == "connection_ack":
                    return "ack"
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_both_websocket_protocols_refuse_with_4403_and_take_either_token(
    guarded: ServedApp, protocol: str
) -> None:
    assert await connection_init(guarded, protocol, {}) == 4403
    assert await connection_init(guarded, protocol, {"token": "wrong"}) == 4403
    assert await connection_init(guarded, protocol, {"token": READ_TOKEN}) == "ack"
    assert await connection_init(guarded, protocol, {"token": ADMIN_TOKEN}) == "ack"
