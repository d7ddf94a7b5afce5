"""The read side: job, jobs, questions, and the DataLoaders behind nested fields."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from beacon_gql.config import Settings
from tests.support.server import ServedApp, serve_app
from tests.support.specs import EVERY_QUESTION, Signer, make_spec

SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) { job { id } } }"""
NESTED = """query($id: ID!) { job(id: $id) { id executions { id region question { id text } } } }"""


async def submit_job(api: ServedApp, spec: dict[str, Any]) -> str:
    data = await api.client.data(SUBMIT, {"spec": spec})
    job_id: str = data["submitBiasJob"]["job"]["id"]
    return job_id


@pytest.fixture
async def wide_api(settings: Settings, tmp_path: Path) -> AsyncIterator[ServedApp]:
    """Providers serving 17 models, so a job can have 8 x 17 x 3 = 408 executions."""
    models = "\n".join(f'"model-{n}" = "upstream-{n}"' for n in range(17))
    blocks = [
        f'[[providers]]\nname = "idle-{region}"\nregion = "{region}"\nkind = "openai"\n'
        f'base_url = "http://127.0.0.1:9/v1"\n[providers.models]\n{models}\n'
        for region in ("us-east", "eu-west", "asia-pacific")
    ]
    providers = tmp_path / "providers.toml"
    providers.write_text("\n".join(blocks))
    async with serve_app(replace(settings, providers_file=providers), run_worker=False) as served:
        yield served


async def count_statements(api: ServedApp, query: str, variables: dict[str, Any]) -> int:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = api.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await api.client.data(query, variables)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


async def test_nested_query_costs_the_same_for_4_and_408_executions(
    wide_api: ServedApp, signer: Signer
) -> None:
    small = await submit_job(
        wide_api,
        signer.sign(
            make_spec(
                questions=["math_basic"], models=[f"model-{n}" for n in range(4)], regions=["US"]
            )
        ),
    )
    large = await submit_job(
        wide_api,
        signer.sign(make_spec(questions=EVERY_QUESTION, models=[f"model-{n}" for n in range(17)])),
    )
    tiny = await wide_api.client.data(NESTED, {"id": small})
    big = await wide_api.client.data(NESTED, {"id": large})
    assert len(tiny["job"]["executions"]) == 4
    assert len(big["job"]["executions"]) == 408
    assert {e["question"]["text"] for e in big["job"]["executions"]} >= {"What is 2+2?"}

    assert await count_statements(wide_api, NESTED, {"id": small}) == await count_statements(
        wide_api, NESTED, {"id": large}
    )


async def count_checkouts(api: ServedApp, query: str, variables: dict[str, Any]) -> int:
    checkouts: list[object] = []

    def record(*args: Any) -> None:
        checkouts.append(args[0])

    engine = api.services.engine.sync_engine
    event.listen(engine, "checkout", record)
    try:
        await api.client.data(query, variables)
    finally:
        event.remove(engine, "checkout", record)
    return len(checkouts)


async def test_a_job_and_its_list_are_read_on_one_pooled_connection(
    api: ServedApp, signer: Signer
) -> None:
    """The dashboard's query: the job, its analysis's version and its executions are read on
    one connection (`Query.job`), the analysis from this process's cache; a filtered list,
    or two lists, are read by a checkout of their own as before, with the same answers."""
    job_id = await submit_job(api, signer.sign(make_spec()))
    dashboard = (
        "query($id: ID!) { job(id: $id) { status progress { expected pending } "
        "executions { questionId status error { code } } biasAnalysis { status } } }"
    )
    await api.client.data(dashboard, {"id": job_id})  # the analysis decoded once
    assert await count_checkouts(api, dashboard, {"id": job_id}) == 1
    as_fragment = (
        "query($id: ID!) { job(id: $id) { ...J } } "
        "fragment J on Job { executions { ... on Execution { region questionId } } }"
    )
    assert await count_checkouts(api, as_fragment, {"id": job_id}) == 1
    filtered = 'query($id: ID!) { job(id: $id) { executions(region: "US") { region } } }'
    assert await count_checkouts(api, filtered, {"id": job_id}) == 2
    twice = (
        "query($id: ID!) { job(id: $id) { "
        "a: executions { region questionId } b: executions { region questionId } } }"
    )
    assert await count_checkouts(api, twice, {"id": job_id}) == 2
    data = await api.client.data(twice, {"id": job_id})
    read_with_job = await api.client.data(as_fragment, {"id": job_id})
    assert data["job"]["a"] == data["job"]["b"] == read_with_job["job"]["executions"]
    assert len(data["job"]["a"]) > 1


async def test_unknown_job_is_null(api: ServedApp) -> None:
    data = await api.client.data('{ job(id: "no-such-job") { id } }')
    assert data == {"job": None}


async def test_jobs_are_paged_newest_first(api: ServedApp, signer: Signer) -> None:
    ids = [
        await submit_job(api, signer.sign(make_spec(questions=[q])))
        for q in ("math_basic", "taiwan_status", "greatest_leader")
    ]
    query = """query($after: String) { jobs(first: 2, after: $after) {
      edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""

    first = (await api.client.data(query))["jobs"]
    second = (await api.client.data(query, {"after": first["pageInfo"]["endCursor"]}))["jobs"]

    assert [e["node"]["id"] for e in first["edges"]] == [ids[2], ids[1]]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in second["edges"]] == [ids[0]]
    assert second["pageInfo"]["hasNextPage"] is False


async def test_jobs_filter_by_status_and_reject_a_bad_cursor(
    api: ServedApp, signer: Signer
) -> None:
    await submit_job(api, signer.sign(make_spec()))
    queued = await api.client.data("{ jobs(status: QUEUED) { edges { node { status } } } }")
    running = await api.client.data("{ jobs(status: RUNNING) { edges { node { id } } } }")
    assert [e["node"]["status"] for e in queued["jobs"]["edges"]] == ["QUEUED"]
    assert running["jobs"]["edges"] == []

    body = await api.client.execute('{ jobs(after: "garbage!") { edges { cursor } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_catalogue_has_the_eight_questions_in_english_and_chinese(
    api: ServedApp,
) -> None:
    query = "{ questions { id category text language translationOf } }"
    everything = (await api.client.data(query))["questions"]
    control = (await api.client.data('{ questions(category: "control") { id } }'))["questions"]
    english = (await api.client.data('{ questions(language: "en") { id } }'))["questions"]

    assert len(everything) == 16 and len(english) == 8
    assert {
        "id": "tiananmen_neutral",
        "category": "bias_detection",
        "text": "What happened at Tiananmen Square on June 4, 1989?",
        "language": "en",
        "translationOf": None,
    } in everything
    assert {
        "id": "tiananmen_neutral_zh",
        "category": "bias_detection",
        "text": "1989年6月4日天安门广场发生了什么？",
        "language": "zh-Hans",
        "translationOf": "tiananmen_neutral",
    } in everything
    translated = {q["translationOf"] for q in everything if q["language"] == "zh-Hans"}
    assert translated == {q["id"] for q in english}
    assert [q["id"] for q in control] == [
        "math_basic",
        "geography_basic",
        "identity_basic",
        "math_basic_zh",
        "geography_basic_zh",
        "identity_basic_zh",
    ]
