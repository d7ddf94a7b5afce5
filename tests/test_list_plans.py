"""The compiled list plans (`beacon_gql/schema/list_plans.py`) against graphql-core's executor.

Hundreds of generated queries (aliases, fragments, @skip/@include with variables, filters,
__typename, nested objects, fields only the reference can answer) run on the server's
schema and on the same schema with strawberry's plain executor; data and errors must be
identical. The job's executions are in every state (nulls, errors, answers, evidence, a
classifier's confidence or none), and a second job holds an execution with a status no enum
knows, so a resolver fails inside a list and the reference's errors and their paths must
come out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from graphql import GraphQLError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from strawberry.dataloader import DataLoader
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from beacon_gql.config import Settings
from beacon_gql.db.models import Execution
from beacon_gql.db.queries import ExecutionRow
from beacon_gql.schema import create_schema
from beacon_gql.schema.context import BeaconContext
from beacon_gql.schema.loaders import ExecutionsKey
from beacon_gql.schema.response_size import RESPONSE_TOO_LARGE, SizeBoundExecutor
from beacon_gql.schema.shared_render import RenderOnceExecutor
from tests.support.server import ServedApp, serve_app
from tests.support.specs import Signer, make_spec

SUBMIT = """mutation($spec: JSON!) { submitBiasJob(input: {jobspec: $spec}) { job { id } } }"""
EXAMPLES = 200

SCALARS = [
    "id", "questionId", "modelId", "region", "providerId", "status", "attempts", "startedAt",
    "completedAt", "durationMs", "response", "prompt", "systemPrompt", "temperature",
    "maxTokens", "classification", "classificationEvidence", "classificationConfidence",
    "classifierVersion", "topP", "sample", "__typename",
]  # fmt: skip
NESTED = [
    "error { code message stage transient providerId __typename }",
    "error { code }",
    "lastError { code message stage transient providerId }",
    "question { id text }",  # asynchronous: the reference answers these lists
    "attemptHistory { attempt outcome }",
    "receipt { signature }",  # read by the execution's id
]
JOB_FIELDS = [
    "id", "status", "regions", "minRegions", "runs", "__typename", "models { id name regions }",
    "progress { expected pending running completed failed cancelled successRate }",
]  # fmt: skip


@dataclass
class Query:
    """A document being generated, and the variables it uses."""

    used: set[str] = field(default_factory=set)
    fragments: dict[str, str] = field(default_factory=dict)


VARIABLE_TYPES = {
    "id": "ID!", "yes": "Boolean!", "no": "Boolean!", "region": "String",
    "status": "ExecutionStatus",
}  # fmt: skip


@st.composite
def directive(draw: st.DrawFn, query: Query) -> str:
    choice = draw(st.sampled_from(["", "", "", "skip", "include"]))
    if not choice:
        return ""
    variable = draw(st.sampled_from(["yes", "no"]))
    if draw(st.booleans()):
        query.used.add(variable)
        return f" @{choice}(if: ${variable})"
    return f" @{choice}(if: {draw(st.sampled_from(['true', 'false']))})"


@st.composite
def execution_selection(draw: st.DrawFn, query: Query) -> str:
    names = draw(st.lists(st.sampled_from(SCALARS), min_size=1, max_size=8))
    if draw(st.integers(0, 3)) == 0:
        names.append(draw(st.sampled_from(NESTED)))
    parts = []
    for name in names:
        alias = draw(st.sampled_from(["", "", "a1", "b2"]))
        prefix = f"{alias}_{name.split()[0].lstrip('_')}: " if alias else ""
        field_name, _, selection = name.partition(" ")
        parts.append(f"{prefix}{field_name}{draw(directive(query))} {selection}".rstrip())
    selection = " ".join(parts)
    shape = draw(st.sampled_from(["plain", "inline", "named"]))
    if shape == "inline":
        return f"... on Execution{draw(directive(query))} {{ {selection} }}"
    if shape == "named":
        name = f"E{len(query.fragments)}"
        query.fragments[name] = f"fragment {name} on Execution {{ {selection} }}"
        return f"...{name} id"
    return selection


@st.composite
def executions_field(draw: st.DrawFn, query: Query) -> str:
    arguments = []
    region = draw(st.sampled_from(["", "US", "eu-west", "$region"]))
    if region == "$region":
        query.used.add("region")
        arguments.append("region: $region")
    elif region:
        arguments.append(f'region: "{region}"')
    status = draw(st.sampled_from(["", "COMPLETED", "FAILED", "$status"]))
    if status == "$status":
        query.used.add("status")
        arguments.append("status: $status")
    elif status:
        arguments.append(f"status: {status}")
    alias = draw(st.sampled_from(["", "", "grid: "]))
    args = f"({', '.join(arguments)})" if arguments else ""
    return (
        f"{alias}executions{args}{draw(directive(query))} {{ {draw(execution_selection(query))} }}"
    )


@st.composite
def job_selection(draw: st.DrawFn, query: Query) -> str:
    parts = draw(st.lists(st.sampled_from(JOB_FIELDS), max_size=3, unique=True))
    parts.append(draw(executions_field(query)))
    if draw(st.booleans()):
        second = draw(executions_field(query))
        parts.append(second if second.startswith("grid") else "other: " + second)
    return " ".join(draw(st.permutations(parts)))


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    """(document, variables, about the job with the broken row)."""
    query = Query()
    broken = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        root = f"jobs(first: 5) {{ nodes {{ {draw(job_selection(query))} }} }}"
    else:
        query.used.add("id")
        root = f"job(id: $id) {{ {draw(job_selection(query))} }}"
    used = sorted(query.used)
    declared = f"({', '.join(f'${v}: {VARIABLE_TYPES[v]}' for v in used)})" if used else ""
    text = f"query Q{declared} {{ {root} }} " + " ".join(query.fragments.values())
    variables: dict[str, Any] = {
        "yes": True,
        "no": False,
        "region": draw(st.sampled_from([None, "ASIA", "eu-west"])),
        "status": draw(st.sampled_from([None, "PENDING", "FAILED", "CANCELLED"])),
    }
    return text, {name: value for name, value in variables.items() if name in query.used}, broken


def generated(count: int) -> list[tuple[str, dict[str, Any], bool]]:
    """Queries drawn by hypothesis (derandomized: the same on every run)."""
    found: list[tuple[str, dict[str, Any], bool]] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(documents())
    def collect(case: tuple[str, dict[str, Any], bool]) -> None:
        found.append(case)

    collect()
    return found


class CountingExecutor(RenderOnceExecutor):
    """The server's executor, counting the lists its plans completed."""

    planned_lists = 0

    def _plan(self, *args: Any) -> Any:
        complete = super()._plan(*args)
        if complete is None:
            return None

        def counted(value: Any) -> Any:
            completed = complete(value)
            CountingExecutor.planned_lists += 1
            return completed

        return counted


def comparable(errors: list[GraphQLError] | None) -> list[tuple[Any, ...]]:
    """Errors as a client sees them; an internal error's reference is random by design."""
    seen = []
    for error in errors or []:
        extensions = dict(error.extensions or {})
        message = error.message
        if extensions.pop("reference", None) is not None:
            message = "internal"
        seen.append((message, tuple(error.path or ()), tuple(sorted(extensions.items()))))
    return sorted(seen, key=repr)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[ServedApp]:
    """On SQLite and on PostgreSQL (the list query reads its JSON column as text)."""
    async with serve_app(settings, run_worker=False) as served:
        yield served


async def every_state(api: ServedApp, signer: Signer) -> tuple[str, str]:
    """A job whose executions are in every state, and one with an unknown status."""
    ids = []
    for _ in range(2):
        spec = make_spec(questions=["math_basic", "tiananmen_neutral"])
        spec["runs"] = 2  # every cell asked twice: samples 1 and 2
        spec = signer.sign(spec)
        ids.append((await api.client.data(SUBMIT, {"spec": spec}))["submitBiasJob"]["job"]["id"])
    good, broken = ids
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    async with api.services.sessions() as session:
        rows = (await session.scalars(select(Execution).order_by(Execution.position))).all()
        assert {row.sample for row in rows} == {1, 2}
        for n, row in enumerate(rows):
            values: dict[str, Any] = {}
            kind = n % 6
            if kind == 0:
                values = {
                    "status": "COMPLETED", "response": f"answer {n} 答案", "provider_id": "p-us",
                    "classification": "REFUSAL", "classification_evidence": ["I cannot", "无法"],
                    "started_at": start, "completed_at": start + timedelta(seconds=n),
                    "duration_ms": 10 * n, "attempts": 1, "system_prompt": "be brief",
                    "classification_confidence": 0.875, "classifier_version": "2-head-abc",
                    "top_p": 0.9,
                }  # fmt: skip
            elif kind == 1:
                values = {
                    "status": "FAILED", "error_code": "PROVIDER_TIMEOUT", "error_message": "slow",
                    "error_stage": "provider_call", "error_transient": True,
                    "error_provider_id": "p-eu", "attempts": 3,
                }  # fmt: skip
            elif kind == 2:
                values = {  # no error code; a stored confidence wins over a failure's 1
                    "status": "FAILED", "classification": "SUBSTANTIVE",
                    "classification_confidence": 0.25, "classifier_version": "1",
                }  # fmt: skip
            elif kind == 3:
                values = {  # retrying after an error: lastError, no error
                    "status": "RUNNING", "started_at": start, "provider_id": "p-asia",
                    "error_code": "RATE_LIMITED", "error_stage": "provider_call",
                    "error_transient": True, "attempts": 2,
                }  # fmt: skip
            elif kind == 4:
                values = {"status": "CANCELLED", "error_code": "CANCELLED", "error_message": ""}
            if values:
                await session.execute(
                    update(Execution).where(Execution.id == row.id).values(values)
                )
        victim = next(row for row in rows if row.job_id == broken)
        await session.execute(
            update(Execution).where(Execution.id == victim.id).values(status="LOST")
        )
        await session.commit()
    return good, broken


class _UnprimedLoader(DataLoader[ExecutionsKey, list[ExecutionRow]]):
    """Ignores what `Query.job` primes it with (the rows it read with the job)."""

    def prime(self, key: ExecutionsKey, value: list[ExecutionRow], force: bool = False) -> None:
        pass


def whole_rows(api: ServedApp) -> DataLoader[ExecutionsKey, list[ExecutionRow]]:
    """The reference reads every column of the executions, each list by a statement of its
    own, as the server did before it read only the columns a selection needs
    (`schema/execution_columns.py`) and a job's list in the job's statement."""
    reader = api.services.reader

    async def load(keys: Sequence[ExecutionsKey]) -> list[list[ExecutionRow]]:
        return [
            (await reader.executions_for_jobs([job_id], where, None)).get(job_id, [])
            for job_id, where, _only in keys
        ]

    return _UnprimedLoader(load_fn=load)


async def test_planned_lists_answer_exactly_as_the_reference_executor(
    api: ServedApp, signer: Signer
) -> None:
    good, broken = await every_state(api, signer)
    planned = create_schema()
    planned.execution_context_class = CountingExecutor
    reference = create_schema()
    reference.execution_context_class = StrawberryGraphQLCoreExecutionContext
    CountingExecutor.planned_lists = 0
    answered = errors_seen = 0
    for text, variables, about_broken in generated(EXAMPLES):
        if "id" in variables or "$id" in text:
            variables = {**variables, "id": broken if about_broken else good}
        # Plans are kept across requests of the same document: the same text again with
        # its `@skip`/`@include` variables the other way round must not reuse the first's.
        flipped = {name: not value if name in ("yes", "no") else value
                   for name, value in variables.items()}  # fmt: skip
        for values in (variables, flipped) if flipped != variables else (variables,):
            results = []
            for schema in (planned, reference):
                context = BeaconContext(services=api.services, header_token=None)
                if schema is reference:
                    context.loaders.executions = whole_rows(api)
                results.append(
                    await schema.execute(text, variable_values=values, context_value=context)
                )
            mine, theirs = results
            assert mine.data == theirs.data, (text, values)
            assert comparable(mine.errors) == comparable(theirs.errors), (text, values)
            answered += mine.data is not None
            errors_seen += bool(mine.errors)
    # The comparison means something: most queries ran, lists were planned, errors came out.
    assert answered > EXAMPLES * 0.8
    assert CountingExecutor.planned_lists > EXAMPLES / 2
    assert errors_seen > 10


async def test_a_failing_field_inside_a_planned_list_gives_the_reference_error(
    api: ServedApp, signer: Signer
) -> None:
    _, broken = await every_state(api, signer)
    query = "query($id: ID!) { job(id: $id) { executions { status region } } }"
    context = BeaconContext(services=api.services, header_token=None)
    result = await create_schema().execute(query, {"id": broken}, context_value=context)
    assert result.errors is not None and len(result.errors) == 1
    error = result.errors[0]
    assert error.extensions is not None and error.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert error.path is not None and error.path[:3] == ["job", "executions", 0]
    assert error.path[-1] == "status"
    assert result.data == {"job": None}


class MeasuredPlans(SizeBoundExecutor):
    """The server's executor, noting how much of each answer it counted against the bound."""

    counted: ClassVar[list[int]] = []

    def build_response(self, data: dict[str, Any] | None) -> Any:
        type(self).counted.append(self._built)
        return super().build_response(data)


class MeasuredReference(MeasuredPlans):
    """The same without plans: every leaf counted by graphql-core's completion."""

    counted: ClassVar[list[int]] = []

    def _plan(self, *args: Any) -> Any:
        return None


async def test_planned_lists_count_against_the_answer_size_bound_as_the_reference_does(
    api: ServedApp, signer: Signer
) -> None:
    # A planned list completes no leaf through `complete_leaf_value`: it is counted once
    # built. Its count must be the reference's, or the bound (BEACON_MAX_RESPONSE_BYTES)
    # would refuse other answers, or let a planned list of any size through.
    good, broken = await every_state(api, signer)
    schemas = []
    for executor in (MeasuredPlans, MeasuredReference):
        schema = create_schema()
        schema.execution_context_class = executor
        schemas.append(schema)
        executor.counted.clear()
    for text, variables, about_broken in generated(EXAMPLES // 2):
        if "id" in variables or "$id" in text:
            variables = {**variables, "id": broken if about_broken else good}
        for schema in schemas:
            context = BeaconContext(services=api.services, header_token=None)
            await schema.execute(text, variable_values=variables, context_value=context)
    assert MeasuredPlans.counted == MeasuredReference.counted
    assert sum(MeasuredPlans.counted) > 0

    query = "query($id: ID!) { job(id: $id) { executions { id response } } }"
    context = BeaconContext(services=api.services, header_token=None)
    whole = await schemas[0].execute(query, {"id": good}, context_value=context)
    assert whole.errors is None
    bound = MeasuredPlans.counted[-1] - 1
    refused = await create_schema().execute(
        query,
        {"id": good},
        context_value=BeaconContext(
            services=replace(
                api.services,
                settings=replace(api.services.settings, max_response_bytes=bound),
            ),
            header_token=None,
        ),
    )
    assert refused.data is None and refused.errors is not None
    assert [error.extensions for error in refused.errors] == [
        {"code": RESPONSE_TOO_LARGE, "maxResponseBytes": bound}
    ]
