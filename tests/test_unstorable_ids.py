"""Ids and filters holding U+0000 or a lone surrogate: no such row can exist, so the answer is
null, an empty list, NOT_FOUND or BAD_USER_INPUT, never INTERNAL_SERVER_ERROR (PostgreSQL's
driver cannot even send such text). On both databases."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import websockets

from tests.conftest import ADMIN_TOKEN
from tests.support.jobs import submit_spec
from tests.support.server import ServedApp
from tests.support.specs import Signer, make_spec
from tests.support.ws import PROGRESS, SubscriptionError, subscribe

UNSTORABLE = ["\u0000", "job-\u0000", "\ud800", "x\udfffy"]


async def execute(
    api: ServedApp, query: str, variables: dict[str, Any], token: str | None = None
) -> Any:
    """POST with the JSON escaped (\\ud800), as a client must send a lone surrogate."""
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    response = await api.client.http.post(
        "/graphql", content=json.dumps({"query": query, "variables": variables}), headers=headers
    )
    return response.json()


def escaped(text: str) -> str:
    """`text` as a GraphQL string literal's content, every unusual character as \\uXXXX."""
    return "".join(c if c.isalnum() or c == "-" else f"\\u{ord(c):04x}" for c in text)


@pytest.mark.parametrize("bad", UNSTORABLE)
async def test_a_job_id_that_cannot_exist_is_null(api: ServedApp, bad: str) -> None:
    # GraphQL itself refuses an escaped lone surrogate in a literal (a parse error); an
    # escaped NUL parses, and no job has it.
    literal = await execute(api, f'{{ job(id: "{escaped(bad)}") {{ id }} }}', {})
    if "\u0000" in bad:
        assert literal == {"data": {"job": None}}, literal
    else:
        assert literal["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", literal
    variable = await execute(api, "query($id: ID!) { job(id: $id) { id } }", {"id": bad})
    assert variable == {"data": {"job": None}}, variable


@pytest.mark.parametrize("bad", UNSTORABLE)
async def test_execution_filters_that_match_nothing_give_an_empty_list(
    api: ServedApp, signer: Signer, bad: str
) -> None:
    job_id = await submit_spec(api.services, signer, make_spec(questions=["math_basic"]))
    for argument in ("questionId", "modelId"):
        body = await execute(
            api,
            "query($id: ID!, $v: String) "
            f"{{ job(id: $id) {{ executions({argument}: $v) {{ id }} }} }}",
            {"id": job_id, "v": bad},
        )
        assert body == {"data": {"job": {"executions": []}}}, (argument, body)


async def test_a_cursor_hiding_a_nul_is_bad_user_input(api: ServedApp) -> None:
    cursor = base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|\x00").decode()
    body = await api.client.execute(
        "query($after: String) { jobs(after: $after) { nodes { id } } }", {"after": cursor}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


@pytest.mark.parametrize("bad", ["\u0000", "\ud800"])
async def test_admin_mutations_on_an_id_that_cannot_exist_are_not_found(
    api: ServedApp, bad: str
) -> None:
    for mutation in (
        "mutation($id: ID!) { cancelJob(id: $id) { id } }",
        "mutation($id: ID!) { retryFailedExecutions(jobId: $id) { id } }",
        "mutation($id: ID!) { recomputeBiasAnalysis(jobId: $id) { status } }",
    ):
        body = await execute(api, mutation, {"id": bad}, token=ADMIN_TOKEN)
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", (mutation, body)


@pytest.mark.parametrize("bad", ["\u0000", "\ud800"])
async def test_subscribing_to_a_job_that_cannot_exist_is_not_found(
    api: ServedApp, bad: str
) -> None:
    with pytest.raises(SubscriptionError) as refused:
        async for _ in subscribe(api.base_url, PROGRESS, {"jobId": bad}):
            pass
    errors = refused.value.payload
    assert errors[0]["extensions"]["code"] == "NOT_FOUND", errors
    assert websockets  # the connection itself stayed usable until the error
