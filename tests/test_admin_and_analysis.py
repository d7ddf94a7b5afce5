"""Admin mutations, the providers query, and the analysis lifecycle on a simulator job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import update

from beacon_gql.analysis.classify import classifier_version
from beacon_gql.config import Settings
from beacon_gql.db.models import Execution
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from tests.conftest import ADMIN_TOKEN
from tests.support.graphql import error_code
from tests.support.jobs import (
    assert_counters_match_rows,
    executions_of,
    submit_spec,
    wait_until_finished,
)
from tests.support.server import ServedApp, serve_app
from tests.support.specs import EVERY_QUESTION, Signer, make_spec

SENSITIVE = {"tiananmen_neutral", "taiwan_status", "hongkong_2019"}
OPINION_QUESTIONS = {"greatest_invention", "greatest_leader"}
MISREAD_AT_MOST = 6
RUNS = 3
CONTROL = {"math_basic", "geography_basic", "identity_basic"}
"""Cells of the opinion questions (2 x 3 models x 3 regions = 18) with a misread answer;
classifier use-m3-qa-logreg-3 misreads answers in 5 of them."""
ANALYSIS = """query($id: ID!) { job(id: $id) { status biasAnalysis {
  status computedAt censorshipRate biasVariance factualConsistency narrativeDivergence
  recommendation summary riskAssessment { level score reasons }
  keyDifferences { dimension severity questionId regions models evidence pValue significant }
  questions { questionId category classifications { refusal evasive substantive } } } } }"""


@dataclass
class Live:
    fleet: SimulatorFleet
    app: ServedApp


@pytest.fixture
async def live(settings: Settings, tmp_path: Path) -> AsyncIterator[Live]:
    async with SimulatorFleet(seed=11, include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        async with serve_app(replace(settings, providers_file=providers), run_worker=True) as app:
            yield Live(fleet, app)


async def test_asia_refusing_the_sensitive_questions_is_what_the_analysis_reports(
    live: Live, signer: Signer
) -> None:
    # Three samples per cell: with the opinion answers the classifier misreads (below), one
    # sample per cell no longer shows ASIA's refusals as significant.
    spec = make_spec(questions=EVERY_QUESTION)
    spec["runs"] = RUNS
    job_id = await submit_spec(live.app.services, signer, spec)
    await wait_until_finished(live.app.services, job_id)

    job = (await live.app.client.data(ANALYSIS, {"id": job_id}))["job"]
    analysis = job["biasAnalysis"]
    rows = await executions_of(live.app.services, job_id)

    censored = {
        (r.question_id, r.model_id, r.region)
        for r in rows
        if r.classification in ("REFUSAL", "EVASIVE")
    }
    refused_in_asia = {(q, r.model_id, "ASIA") for q in SENSITIVE for r in rows}
    # Qwen's Hong Kong answer in ASIA is the official account, but an account of events
    # ("radical protesters engaged in violence ... the government restored stability"):
    # one-sided, and SUBSTANTIVE by the label definitions, which do not judge one-sidedness.
    refused_in_asia.discard(("hongkong_2019", "qwen2.5-1.5b", "ASIA"))
    assert {c for c in censored if c[0] in SENSITIVE} == refused_in_asia
    # The classifier's known errors (see README, Classification): a few of the simulator's
    # substantive answers to the two opinion questions are labelled EVASIVE. Any other
    # censored answer outside ASIA's sensitive questions is a new error and fails here.
    misread = censored - refused_in_asia
    assert {question for question, _, _ in misread} <= OPINION_QUESTIONS, misread
    assert len(misread) <= MISREAD_AT_MOST, misread
    # Of the 45 non-control cells (5 questions x 3 models x 3 regions), 8 refused in every
    # sample, and the misread ones in some.
    censored_rows = sum(
        1
        for r in rows
        if r.classification in ("REFUSAL", "EVASIVE") and r.question_id not in CONTROL
    )
    assert analysis["status"] == "COMPLETE"
    assert censored_rows >= 8 * RUNS
    assert analysis["censorshipRate"] == pytest.approx(censored_rows / (45 * RUNS), abs=1e-6)
    censorship = [d for d in analysis["keyDifferences"] if d["dimension"] == "censorship"]
    significant = [d for d in censorship if d["significant"]]
    assert significant and all(d["regions"] == ["ASIA"] for d in significant)
    assert {d["questionId"] for d in significant} <= SENSITIVE | {None}
    # What is not significant (the misread opinion answers among them) stays LOW.
    assert all(d["severity"] == "LOW" for d in censorship if not d["significant"])
    # Three samples per cell: each sensitive question ASIA refuses (9 or 6 of 9 against 0 of
    # 18) is significant alone, and so is the job as a whole (severe too since the opinion
    # answers are misread less often: session 10).
    severe = [d for d in significant if d["severity"] in ("HIGH", "CRITICAL")]
    assert {d["questionId"] for d in severe if d["questionId"] is not None} == SENSITIVE
    job_wide = [d for d in significant if d["questionId"] is None]
    assert job_wide
    assert job_wide[0]["pValue"] < 0.05
    assert not any(
        d["questionId"] in {"math_basic", "geography_basic", "identity_basic"}
        and d["severity"] in ("HIGH", "CRITICAL")
        for d in analysis["keyDifferences"]
    )
    assert analysis["biasVariance"] > 0
    assert analysis["recommendation"] in ("HIGH", "CRITICAL")


async def test_a_complete_analysis_is_persisted_once_and_only_recomputed_on_request(
    live: Live, signer: Signer
) -> None:
    job_id = await submit_spec(live.app.services, signer, make_spec(questions=["taiwan_status"]))
    await wait_until_finished(live.app.services, job_id)
    first = (await live.app.client.data(ANALYSIS, {"id": job_id}))["job"]["biasAnalysis"]
    again = (await live.app.client.data(ANALYSIS, {"id": job_id}))["job"]["biasAnalysis"]
    assert first["computedAt"] == again["computedAt"]

    refused = await live.app.client.execute(
        "mutation($id: ID!) { recomputeBiasAnalysis(jobId: $id) { computedAt } }", {"id": job_id}
    )
    assert error_code(refused) == "UNAUTHENTICATED"
    recomputed = await live.app.client.data(
        "mutation($id: ID!) { recomputeBiasAnalysis(jobId: $id) { status computedAt } }",
        {"id": job_id},
        token=ADMIN_TOKEN,
    )
    assert recomputed["recomputeBiasAnalysis"]["status"] == "COMPLETE"
    assert recomputed["recomputeBiasAnalysis"]["computedAt"] > first["computedAt"]


async def test_analysis_is_pending_before_any_answer(api: ServedApp, signer: Signer) -> None:
    job_id = await submit_spec(api.services, signer, make_spec())
    analysis = (await api.client.data(ANALYSIS, {"id": job_id}))["job"]["biasAnalysis"]
    assert analysis["status"] == "PENDING"
    assert analysis["censorshipRate"] is None


async def test_cancel_stops_pending_work_and_needs_the_admin_token(
    live: Live, signer: Signer
) -> None:
    live.fleet.set_faults("sim-us-east", FaultProfile(latency_ms=400))
    job_id = await submit_spec(live.app.services, signer, make_spec(regions=["US"]))
    cancel = """mutation($id: ID!) { cancelJob(id: $id) {
      status progress { expected cancelled completed pending running } } }"""

    assert error_code(await live.app.client.execute(cancel, {"id": job_id})) == "UNAUTHENTICATED"
    wrong = await live.app.client.execute(cancel, {"id": job_id}, token="guess")
    assert error_code(wrong) == "UNAUTHENTICATED"
    job = (await live.app.client.data(cancel, {"id": job_id}, token=ADMIN_TOKEN))["cancelJob"]

    assert job["status"] == "CANCELLED"
    progress = job["progress"]
    assert progress["pending"] == progress["running"] == 0
    assert progress["cancelled"] > 0
    assert progress["cancelled"] + progress["completed"] == progress["expected"] == 12
    final = await wait_until_finished(live.app.services, job_id)
    assert final.job_status == "CANCELLED"
    await assert_counters_match_rows(live.app.services, job_id)


async def test_retry_requeues_only_the_failures_of_a_finished_job(
    live: Live, signer: Signer
) -> None:
    live.fleet.set_faults("sim-asia-pacific", FaultProfile(error_rate=1.0))
    job_id = await submit_spec(
        live.app.services,
        signer,
        make_spec(questions=["math_basic"], regions=["US", "ASIA"], min_success_rate=0.2),
    )
    assert (await wait_until_finished(live.app.services, job_id)).job_status == "PARTIAL"
    live.fleet.set_faults("sim-asia-pacific", FaultProfile())

    retried = await live.app.client.data(
        """mutation($id: ID!) { retryFailedExecutions(jobId: $id) {
          status progress { pending completed } } }""",
        {"id": job_id},
        token=ADMIN_TOKEN,
    )
    assert retried["retryFailedExecutions"]["progress"] == {"pending": 3, "completed": 3}
    final = await wait_until_finished(live.app.services, job_id)

    assert final.job_status == "COMPLETED"
    rows = await executions_of(live.app.services, job_id)
    assert {r.status for r in rows} == {"COMPLETED"}


async def test_providers_query_lists_each_region_with_health(live: Live) -> None:
    data = await live.app.client.data(
        "{ all: providers { name region kind models healthy lastError latencyMs }"
        ' asia: providers(region: "asia-pacific") { name } }'
    )
    assert {p["region"] for p in data["all"]} == {"US", "EU", "ASIA"}
    assert all(p["kind"] == "openai" and "llama3.2-1b" in p["models"] for p in data["all"])
    assert [p["name"] for p in data["asia"]] == ["sim-asia-pacific"]


LABELS = """query($id: ID!) { job(id: $id) { executions { id region classification
  classificationEvidence classificationConfidence classifierVersion } } }"""


async def test_each_answer_carries_its_label_confidence_evidence_and_classifier_version(
    live: Live, signer: Signer
) -> None:
    job_id = await submit_spec(live.app.services, signer, make_spec(questions=["taiwan_status"]))
    await wait_until_finished(live.app.services, job_id)
    executions = (await live.app.client.data(LABELS, {"id": job_id}))["job"]["executions"]

    assert executions
    for execution in executions:
        assert execution["classifierVersion"] == classifier_version()
        assert 0.5 <= execution["classificationConfidence"] <= 1.0
    asia = [e for e in executions if e["region"] == "ASIA"]
    assert {e["classification"] for e in asia} <= {"REFUSAL", "EVASIVE"}
    assert all(e["classificationEvidence"] for e in asia)


async def test_recompute_reclassifies_every_answer_with_the_current_classifier(
    live: Live, signer: Signer
) -> None:
    job_id = await submit_spec(live.app.services, signer, make_spec(questions=["taiwan_status"]))
    await wait_until_finished(live.app.services, job_id)
    first = (await live.app.client.data(ANALYSIS, {"id": job_id}))["job"]["biasAnalysis"]
    # As an older classifier version would have left them: every answer SUBSTANTIVE.
    async with live.app.services.sessions() as session:
        await session.execute(
            update(Execution)
            .where(Execution.job_id == job_id, Execution.status == "COMPLETED")
            .values(classification="SUBSTANTIVE", classifier_version="rules-0")
        )
        await session.commit()

    recomputed = await live.app.client.data(
        "mutation($id: ID!) { recomputeBiasAnalysis(jobId: $id) { censorshipRate } }",
        {"id": job_id},
        token=ADMIN_TOKEN,
    )

    assert recomputed["recomputeBiasAnalysis"]["censorshipRate"] == first["censorshipRate"] > 0
    rows = await executions_of(live.app.services, job_id)
    assert {row.classifier_version for row in rows} == {classifier_version()}
    assert {row.classification for row in rows if row.region == "ASIA"} <= {"REFUSAL", "EVASIVE"}
