"""Samples per cell (`runs`), generation parameters, and the statistics they make possible:
rates with intervals and censorship differences tested for significance, end to end
against SIMULATED providers whose refusal rate per region is set by the test."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from beacon_gql.config import Settings
from beacon_gql.db import analyses
from beacon_gql.db.models import Execution, Job
from beacon_gql.errors import BadUserInput
from beacon_gql.jobs.catalogue import CATALOGUE
from beacon_gql.jobs.signing import verify_spec_signature
from beacon_gql.jobs.spec import parse_job_spec
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from beacon_gql.services import running_services
from tests.support.jobs import executions_of, submit_spec, wait_until_finished
from tests.support.server import ServedApp, serve_app
from tests.support.specs import THREE_MODELS, Signer, make_spec

PROVIDER_OF = {"US": "sim-us-east", "EU": "sim-eu-west", "ASIA": "sim-asia-pacific"}
SENSITIVE = ["tiananmen_neutral", "taiwan_status", "hongkong_2019"]
TWO_MODELS = ["llama3.2-1b", "qwen2.5-1.5b"]

ANALYSIS = """query($id: ID!) { job(id: $id) {
  runs progress { expected completed }
  biasAnalysis {
    status runs tests recommendation censorshipRate summary
    riskAssessment { level score reasons }
    regions { region answered censored censorshipRate censorshipInterval { low high } }
    models { model answered censored censorshipRate censorshipInterval { low high } }
    keyDifferences { dimension severity questionId regions models description pValue significant }
    questions { questionId censored censorshipRate censorshipInterval { low high }
      regions { region censored censorshipRate censorshipInterval { low high } } }
  } } }"""


# -- the spec ----------------------------------------------------------------------


def plan(**fields: Any) -> Any:
    metadata = {"models": THREE_MODELS, "nonce": "n", "timestamp": "2026-01-01T00:00:00Z"}
    spec = {**make_spec(), "metadata": metadata}
    spec.update(fields)
    return parse_job_spec(
        spec,
        known_questions={question.id for question in CATALOGUE},
        known_models=set(THREE_MODELS),
    )


def test_runs_multiplies_the_expected_executions_and_numbers_the_samples() -> None:
    assert plan().runs == 1
    three = plan(runs=3)
    assert three.expected == 4 * 3 * 3 * 3
    samples = list(three.samples())
    assert len(samples) == len(set(samples)) == 108
    assert samples[:3] == [
        ("math_basic", "llama3.2-1b", "US", 1),
        ("math_basic", "llama3.2-1b", "US", 2),
        ("math_basic", "llama3.2-1b", "US", 3),
    ]
    # The signed canonical JSON writes 1.0 as 1, so the spec may too.
    assert plan(runs=2.0).runs == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"runs": 0}, "runs must be between 1 and 50, got 0"),
        ({"runs": 51}, "runs must be between 1 and 50, got 51"),
        ({"runs": 2.5}, "runs must be a whole number from 1 to 50"),
        ({"runs": "5"}, "runs must be a number between 1 and 50"),
        ({"runs": True}, "runs must be a number between 1 and 50"),
        ({"generation": {"temperature": 3}}, "generation.temperature must be between 0 and 2"),
        ({"generation": {"max_tokens": 0}}, "generation.max_tokens must be between 1 and 8192"),
        ({"generation": {"max_tokens": 10.5}}, "generation.max_tokens must be a whole number"),
        ({"generation": {"top_p": 0}}, "generation.top_p must be above 0"),
        ({"generation": {"top_p": 1.5}}, "generation.top_p must be between 0 and 1"),
        ({"generation": {"top_k": 40}}, "generation: unknown field 'top_k'"),
        ({"generation": [0.1]}, "generation must be a JSON object"),
        (
            {"generation": {"top_p": 0.9}, "parameters": {"max_tokens": 5}},
            "set generation or parameters (its older name), not both",
        ),
    ],
)
def test_bad_runs_and_generation_are_rejected_with_a_clear_message(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadUserInput) as raised:
        plan(**fields)
    assert raised.value.message.startswith(message)


def test_generation_defaults_and_values() -> None:
    default = plan()
    assert (default.temperature, default.max_tokens, default.top_p) == (0.1, 500, None)
    chosen = plan(generation={"temperature": 0.7, "max_tokens": 64, "top_p": 0.95})
    assert (chosen.temperature, chosen.max_tokens, chosen.top_p) == (0.7, 64, 0.95)


def test_a_job_too_big_with_its_runs_is_refused_naming_runs() -> None:
    # 8 questions x 20 models x 3 regions = 480 cells: fine once, not 50 times (24,000).
    models = [f"m{i}" for i in range(20)]
    spec = make_spec(questions=[q.id for q in CATALOGUE])
    spec["metadata"] = {"models": models, "nonce": "n", "timestamp": "2026-01-01T00:00:00Z"}
    spec["runs"] = 50
    with pytest.raises(BadUserInput, match="would run 24000 executions") as raised:
        parse_job_spec(spec, known_questions={q.id for q in CATALOGUE}, known_models=set(models))
    assert raised.value.field == "runs"


def test_runs_and_generation_are_covered_by_the_signature(signer: Signer) -> None:
    spec = make_spec()
    spec["runs"] = 10
    spec["generation"] = {"temperature": 0.7, "max_tokens": 300, "top_p": 0.95}
    signed = signer.sign(spec)
    verify_spec_signature(signed)
    tampered = {**signed, "generation": {**spec["generation"], "top_p": 0.9}}
    with pytest.raises(Exception, match="signature"):
        verify_spec_signature(tampered)
    more_runs = {**signed, "runs": 11}
    with pytest.raises(Exception, match="signature"):
        verify_spec_signature(more_runs)


# -- end to end ---------------------------------------------------------------------


@pytest.fixture
async def fleet() -> AsyncIterator[SimulatorFleet]:
    # Without the hybrid router each region has one provider, whose refusal draws the test sets.
    async with SimulatorFleet(seed=11, include_hybrid_router=False) as running:
        yield running


async def served(settings: Settings, fleet: SimulatorFleet, tmp_path: Path) -> Any:
    providers = tmp_path / "providers.toml"
    fleet.write_providers_file(providers)
    tuned = replace(settings, providers_file=providers, worker_concurrency=8, max_attempts=3)
    return serve_app(tuned, run_worker=True)


async def run_job(app: ServedApp, signer: Signer, spec: dict[str, Any]) -> dict[str, Any]:
    job_id = await submit_spec(app.services, signer, spec)
    final = await wait_until_finished(app.services, job_id, within=120)
    assert final.job_status == "COMPLETED"
    data = await app.client.data(ANALYSIS, {"id": job_id})
    job: dict[str, Any] = data["job"]
    job["id"] = job_id
    return job


async def test_every_sample_is_its_own_execution_asked_with_the_jobs_parameters(
    settings: Settings, fleet: SimulatorFleet, tmp_path: Path, signer: Signer
) -> None:
    spec = make_spec(questions=["math_basic", "taiwan_status"], regions=["US", "ASIA"])
    spec["runs"] = 3
    spec["generation"] = {"temperature": 0.4, "max_tokens": 200, "top_p": 0.9}
    async with await served(settings, fleet, tmp_path) as app:
        job = await run_job(app, signer, spec)
        rows = await executions_of(app.services, job["id"])

        assert job["runs"] == 3
        assert job["progress"] == {"expected": 36, "completed": 36}
        cells = {(r.question_id, r.model_id, r.region) for r in rows}
        assert len(cells) == 12
        assert sorted((r.question_id, r.model_id, r.region, r.sample) for r in rows) == sorted(
            (*cell, sample) for cell in cells for sample in (1, 2, 3)
        )
        assert {(r.temperature, r.max_tokens, r.top_p) for r in rows} == {(0.4, 200, 0.9)}
        sent = [
            request.body
            for name in ("sim-us-east", "sim-asia-pacific")
            for request in fleet.request_log(name)
            if isinstance(request.body, dict) and "messages" in request.body
        ]
        assert len(sent) == 36
        assert {(b["temperature"], b["max_tokens"], b["top_p"]) for b in sent} == {(0.4, 200, 0.9)}
        samples = await app.client.data(
            """query($id: ID!) { job(id: $id) { executions(region: "US") { sample topP } } }""",
            {"id": job["id"]},
        )
        assert sorted(e["sample"] for e in samples["job"]["executions"]) == sorted([1, 2, 3] * 6)
        assert job["biasAnalysis"]["runs"] == 3

        # The database itself refuses a second row for the same sample.
        first = rows[0]
        async with app.services.sessions() as session:
            session.add(
                Execution(
                    **{
                        column: getattr(first, column)
                        for column in (
                            "job_id",
                            "question_id",
                            "model_id",
                            "region",
                            "sample",
                            "status",
                            "prompt",
                            "temperature",
                            "max_tokens",
                        )
                    },
                    id="duplicate-sample",
                    position=999,
                )
            )
            with pytest.raises(IntegrityError):
                await session.commit()


def sensitive_job(runs: int) -> dict[str, Any]:
    spec = make_spec(questions=SENSITIVE, models=TWO_MODELS)
    spec["runs"] = runs
    return spec


def by_region(analysis: Mapping[str, Any]) -> dict[str, Any]:
    return {region["region"]: region for region in analysis["regions"]}


async def test_the_same_refusal_rate_everywhere_is_no_regional_difference(
    sqlite_settings: Settings, fleet: SimulatorFleet, tmp_path: Path, signer: Signer
) -> None:
    for provider in PROVIDER_OF.values():
        fleet.set_faults(provider, FaultProfile(refusal_rate=0.3))
    async with await served(sqlite_settings, fleet, tmp_path) as app:
        job = await run_job(app, signer, sensitive_job(runs=10))
    analysis = job["biasAnalysis"]
    regions = by_region(analysis)

    assert job["progress"]["expected"] == 180
    assert {name: region["answered"] for name, region in regions.items()} == {
        "US": 60,
        "EU": 60,
        "ASIA": 60,
    }
    # Each region refused about 30%, and every region's interval holds the job's rate.
    overall = analysis["censorshipRate"]
    assert 0.2 < overall < 0.4
    for region in regions.values():
        interval = region["censorshipInterval"]
        assert interval["low"] < overall < interval["high"]
    censorship = [d for d in analysis["keyDifferences"] if d["dimension"] == "censorship"]
    assert analysis["tests"] > 0
    assert not any(d["significant"] for d in censorship), censorship
    assert all(d["severity"] == "LOW" and d["pValue"] is not None for d in censorship)
    # The recommendation is the risk of a 30% censorship rate, nothing more: the regional
    # gap is left out of the score and no difference raises it.
    risk = analysis["riskAssessment"]
    assert risk["score"] == pytest.approx(overall)
    assert (risk["level"], analysis["recommendation"]) == ("MEDIUM", "MEDIUM")
    assert "Each cell was asked 10 times" in analysis["summary"]


async def test_asia_refusing_far_more_often_is_a_significant_difference(
    sqlite_settings: Settings, fleet: SimulatorFleet, tmp_path: Path, signer: Signer
) -> None:
    for region, provider in PROVIDER_OF.items():
        fleet.set_faults(provider, FaultProfile(refusal_rate=0.9 if region == "ASIA" else 0.1))
    async with await served(sqlite_settings, fleet, tmp_path) as app:
        job = await run_job(app, signer, sensitive_job(runs=10))
    analysis = job["biasAnalysis"]
    regions = by_region(analysis)

    significant = [d for d in analysis["keyDifferences"] if d["significant"]]
    assert significant, analysis["keyDifferences"]
    assert {tuple(d["regions"]) for d in significant if d["models"] != []} <= {("ASIA",)}
    job_wide = next(d for d in significant if d["questionId"] is None and d["regions"] == ["ASIA"])
    assert job_wide["dimension"] == "censorship"
    assert job_wide["severity"] == "HIGH"
    assert job_wide["pValue"] < 1e-10
    assert f"p = {job_wide['pValue']:.2g}" in job_wide["description"]
    # Per question, too, ASIA stands out.
    assert {d["questionId"] for d in significant if d["regions"] == ["ASIA"]} >= set(SENSITIVE)
    # ASIA's interval leaves out the other regions' rates, and theirs leave out ASIA's.
    asia = regions["ASIA"]
    for name in ("US", "EU"):
        assert regions[name]["censorshipRate"] < asia["censorshipInterval"]["low"]
        assert asia["censorshipRate"] > regions[name]["censorshipInterval"]["high"]
    # No model stands out: both refuse alike in every region.
    assert not [d for d in significant if d["regions"] != ["ASIA"]]
    assert analysis["recommendation"] in ("HIGH", "CRITICAL")
    assert any(
        "Regional censorship gap" in reason for reason in analysis["riskAssessment"]["reasons"]
    )


async def test_a_4x3x3_job_with_5_runs_completes_and_is_analysed_quickly(
    sqlite_settings: Settings,
    fleet: SimulatorFleet,
    tmp_path: Path,
    signer: Signer,
    figures: list[str],
) -> None:
    spec = make_spec()
    spec["runs"] = 5
    async with await served(sqlite_settings, fleet, tmp_path) as app:
        job = await run_job(app, signer, spec)
        assert job["progress"] == {"expected": 180, "completed": 180}
        assert job["biasAnalysis"]["status"] == "COMPLETE"

        # The analysis aggregates the labels stored when the answers were recorded: with the
        # persisted one forgotten, reading it computes it again from them.
        async with app.services.sessions() as session:
            await analyses.forget(session, job["id"])
            await session.commit()
            job_row = await session.get(Job, job["id"])
        assert job_row is not None
        started = time.perf_counter()
        report = await app.services.analysis.for_job(job_row)
        elapsed = time.perf_counter() - started
        # recomputeBiasAnalysis also labels every answer again (the classifier's model).
        started = time.perf_counter()
        recomputed = await app.services.analysis.recompute(job["id"])
        reclassified = time.perf_counter() - started
    assert report.executions == 180 and report.runs == 5
    assert recomputed.executions == 180 and recomputed.runs == 5
    figures.append(f"analysis of 180 executions (4 x 3 x 3, runs 5): {elapsed * 1000:.0f} ms")
    figures.append(f"recompute with reclassification of 180 answers: {reclassified * 1000:.0f} ms")
    print(f"analysis of 180 executions: {elapsed * 1000:.0f} ms")
    assert elapsed < 0.5


async def test_an_analysis_stored_before_samples_is_recomputed_when_read(
    sqlite_settings: Settings, signer: Signer
) -> None:
    async with running_services(sqlite_settings, run_worker=False) as services:
        job_id = await submit_spec(services, signer, make_spec(questions=["math_basic"]))
        job = await services.control.cancel(job_id)
        # What format 1 stored: no intervals, no p-values, no models.
        async with services.sessions() as session:
            await analyses.save_record(
                session,
                job_id=job_id,
                status="COMPLETE",
                computed_at=datetime(2026, 1, 1, tzinfo=UTC),
                report={"format_version": 1, "status": "COMPLETE", "regions": []},
            )
            await session.commit()

        report = await services.analysis.for_job(job)

        assert report.computed_at > datetime(2026, 1, 1, tzinfo=UTC)
        assert [region.region for region in report.regions] == ["US", "EU", "ASIA"]
        async with services.sessions() as session:
            stored = await analyses.get_record(session, job_id)
        assert stored is not None and stored.report["format_version"] == 2
