"""The execution engine against SIMULATED providers over real loopback HTTP."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from beacon_gql.analysis.classify import classifier_version
from beacon_gql.config import Settings
from beacon_gql.execution.retry import decide_retry
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from beacon_gql.services import Services, running_services
from tests.support.jobs import (
    assert_counters_match_rows,
    attempts_of,
    executions_of,
    submit_spec,
    wait_until_finished,
)
from tests.support.specs import Signer, make_spec

REGION_OF = {
    "sim-us-east": "US",
    "sim-eu-west": "EU",
    "sim-asia-pacific": "ASIA",
    "sim-hybrid-router-eu": "EU",
}


@dataclass
class Engine:
    fleet: SimulatorFleet
    services: Services


@pytest.fixture
async def engine(settings: Settings, tmp_path: Path) -> AsyncIterator[Engine]:
    async with SimulatorFleet(seed=7) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        tuned = replace(settings, providers_file=providers, max_attempts=3, worker_concurrency=8)
        async with running_services(tuned, run_worker=True, auto_migrate=False) as services:
            yield Engine(fleet, services)


async def test_a_4x3x3_job_completes_with_36_answers_each_from_its_own_region(
    engine: Engine, signer: Signer
) -> None:
    job_id = await submit_spec(engine.services, signer, make_spec())

    final = await wait_until_finished(engine.services, job_id)

    assert final.job_status == "COMPLETED"
    assert final.progress.completed == 36
    rows = await executions_of(engine.services, job_id)
    assert len(rows) == 36
    for row in rows:
        assert row.status == "COMPLETED"
        assert row.provider_id is not None and REGION_OF[row.provider_id] == row.region
        assert row.response and row.classification is not None
        assert row.classifier_version == classifier_version()
        assert row.classification_confidence is not None
    # Nothing crossed a region: each provider only saw its own region's executions.
    asia = [r for r in rows if r.region == "ASIA"]
    assert engine.fleet.requests_received("sim-asia-pacific") >= len(asia)


async def test_every_attempt_sends_the_jobs_recorded_parameters(
    engine: Engine, signer: Signer
) -> None:
    engine.fleet.set_faults("sim-us-east", FaultProfile(error_rate=0.5))
    spec = make_spec(regions=["US"])
    spec["parameters"] = {"temperature": 0.1, "max_tokens": 500}
    job_id = await submit_spec(engine.services, signer, spec)
    await wait_until_finished(engine.services, job_id)

    bodies = [r.body for r in engine.fleet.request_log("sim-us-east")]
    chat = [b for b in bodies if isinstance(b, dict) and "messages" in b]
    assert len(chat) > 12  # some were retries
    assert {(b["temperature"], b["max_tokens"]) for b in chat} == {(0.1, 500)}


FAULTS = {
    "500s": (FaultProfile(error_rate=1.0), "PROVIDER_HTTP_ERROR"),
    "429 with Retry-After": (FaultProfile(rate_limit_rate=1.0, retry_after_s=0.2), "RATE_LIMITED"),
    "hangs": (FaultProfile(hang_rate=1.0), "PROVIDER_TIMEOUT"),
    "malformed JSON": (FaultProfile(malformed_rate=1.0), "BAD_PROVIDER_RESPONSE"),
    "JSON sent as text/html": (FaultProfile(not_json_typed_rate=1.0), "BAD_PROVIDER_RESPONSE"),
    "answers 50 MB": (FaultProfile(oversized_rate=1.0), "RESPONSE_TOO_LARGE"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_provider_that_always_fails_gives_the_right_code(
    engine: Engine, signer: Signer, fault: str
) -> None:
    profile, code = FAULTS[fault]
    engine.fleet.set_faults("sim-asia-pacific", profile)
    # A short call timeout only where the fault is a hang: on a loaded machine a real answer
    # can take longer than 1 s, which would be recorded as a timeout.
    spec = make_spec(
        questions=["math_basic", "taiwan_status"],
        regions=["US", "ASIA"],
        provider_timeout="1s" if code == "PROVIDER_TIMEOUT" else "30s",
    )
    job_id = await submit_spec(engine.services, signer, spec)

    final = await wait_until_finished(engine.services, job_id)

    rows = await executions_of(engine.services, job_id)
    asia = [r for r in rows if r.region == "ASIA"]
    assert {r.status for r in asia} == {"FAILED"}
    assert {r.error_code for r in asia} == {code}
    assert {r.error_provider_id for r in asia} == {"sim-asia-pacific"}
    assert all(r.error_message and r.error_stage for r in asia)
    # Only an answer cut off at its size limit keeps what was read of it, and no more.
    assert {r.response is not None for r in asia} == {code == "RESPONSE_TOO_LARGE"}
    assert all(len(r.response or "") <= 64 * 1024 for r in asia)
    assert {r.status for r in rows if r.region == "US"} == {"COMPLETED"}
    assert final.job_status == "PARTIAL"
    assert final.progress.completed + final.progress.failed == final.progress.expected == 12
    attempts = await attempts_of(engine.services, job_id)
    assert {a.outcome for a in attempts if a.provider_id == "sim-asia-pacific"} == {code}


async def test_mixed_faults_end_every_execution_and_the_counts_add_up(
    engine: Engine, signer: Signer
) -> None:
    mixed = FaultProfile(
        error_rate=0.15, rate_limit_rate=0.15, retry_after_s=0.1, hang_rate=0.1, malformed_rate=0.15
    )
    for name in ("sim-us-east", "sim-eu-west", "sim-asia-pacific"):
        engine.fleet.set_faults(name, mixed)
    await engine.fleet.stop("sim-hybrid-router-eu")  # connection refused, fails over in EU
    spec = make_spec(provider_timeout="1s")
    job_id = await submit_spec(engine.services, signer, spec)

    final = await wait_until_finished(engine.services, job_id, within=120)

    rows = await executions_of(engine.services, job_id)
    assert {r.status for r in rows} <= {"COMPLETED", "FAILED"}
    progress = final.progress
    assert progress.pending == progress.running == 0
    assert progress.completed == sum(r.status == "COMPLETED" for r in rows)
    assert progress.failed == sum(r.status == "FAILED" for r in rows)
    assert progress.completed + progress.failed == 36
    for row in rows:
        if row.status == "FAILED":
            assert row.error_code in {
                "PROVIDER_HTTP_ERROR",
                "RATE_LIMITED",
                "PROVIDER_TIMEOUT",
                "BAD_PROVIDER_RESPONSE",
                "PROVIDER_UNREACHABLE",
            }
            assert row.error_provider_id is not None
    attempts = await attempts_of(engine.services, job_id)
    assert len(attempts) == sum(r.attempts for r in rows)
    assert "PROVIDER_UNREACHABLE" in {a.outcome for a in attempts}
    await assert_counters_match_rows(engine.services, job_id)


async def test_a_region_without_providers_fails_at_once_and_the_job_follows_min_regions(
    settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    async with SimulatorFleet(seed=1, regions=["US"], include_hybrid_router=False) as fleet:
        providers = tmp_path / "us-only.toml"
        fleet.write_providers_file(providers)
        async with running_services(
            replace(settings, providers_file=providers), run_worker=True, auto_migrate=False
        ) as services:
            strict = await submit_spec(
                services, signer, make_spec(regions=["US", "EU"], min_regions=2)
            )
            lenient = await submit_spec(
                services,
                signer,
                make_spec(regions=["US", "EU"], min_regions=1, min_success_rate=0.5),
            )
            strict_final = await wait_until_finished(services, strict)
            lenient_final = await wait_until_finished(services, lenient)
            rows = await executions_of(services, strict)

    eu = [r for r in rows if r.region == "EU"]
    assert {(r.status, r.error_code, r.error_stage) for r in eu} == {
        ("FAILED", "NO_PROVIDER_IN_REGION", "routing")
    }
    assert all(r.attempts == 1 and r.duration_ms is not None and r.duration_ms < 1000 for r in eu)
    assert strict_final.job_status == "FAILED"
    assert lenient_final.job_status == "PARTIAL"


async def test_a_call_cut_off_by_the_jobs_deadline_is_a_job_timeout_not_a_provider_one(
    engine: Engine, signer: Signer
) -> None:
    engine.fleet.set_faults("sim-asia-pacific", FaultProfile(hang_rate=1.0))
    spec = make_spec(
        questions=["math_basic", "taiwan_status"], regions=["US", "ASIA"], timeout="2s"
    )
    job_id = await submit_spec(engine.services, signer, spec)

    await wait_until_finished(engine.services, job_id)

    rows = await executions_of(engine.services, job_id)
    asia = [r for r in rows if r.region == "ASIA"]
    assert {(r.status, r.error_code) for r in asia} == {("FAILED", "JOB_TIMEOUT")}
    attempts = await attempts_of(engine.services, job_id)
    asia_ids = {r.id for r in asia}
    # Every call the deadline cut short says so; none reads as a slow provider, and no
    # "no answer within 0.1 s" call was started at the deadline.
    assert {a.outcome for a in attempts if a.execution_id in asia_ids} == {"JOB_TIMEOUT"}
    assert not any(a.message and "0.1 s" in a.message for a in attempts)


async def test_a_retry_after_past_the_jobs_deadline_fails_at_once_as_rate_limited(
    engine: Engine, signer: Signer
) -> None:
    engine.fleet.set_faults("sim-asia-pacific", FaultProfile(rate_limit_rate=1.0, retry_after_s=45))
    spec = make_spec(
        questions=["math_basic", "taiwan_status"], regions=["US", "ASIA"], timeout="20s"
    )
    job_id = await submit_spec(engine.services, signer, spec)

    # Well before the deadline: waiting out the Retry-After could not help.
    final = await wait_until_finished(engine.services, job_id, within=15)

    assert final.job_status == "PARTIAL"
    asia = [r for r in await executions_of(engine.services, job_id) if r.region == "ASIA"]
    assert {(r.status, r.error_code, r.attempts) for r in asia} == {("FAILED", "RATE_LIMITED", 1)}
    assert all(r.error_message and "Retry-After (45 s)" in r.error_message for r in asia)


def test_a_retry_after_longer_than_our_own_backoff_ceiling_is_honoured() -> None:
    decision = decide_retry(
        code="RATE_LIMITED",
        transient=True,
        attempt=1,
        max_attempts=3,
        retry_after=45.0,
        other_provider_available=False,
        rng=random.Random(1),
        seconds_to_deadline=None,
    )
    assert (decision.retry, decision.delay_seconds) == (True, 45.0)
    within_deadline = decide_retry(
        code="RATE_LIMITED",
        transient=True,
        attempt=1,
        max_attempts=3,
        retry_after=45.0,
        other_provider_available=False,
        rng=random.Random(1),
        seconds_to_deadline=60.0,
    )
    assert (within_deadline.retry, within_deadline.delay_seconds) == (True, 45.0)
