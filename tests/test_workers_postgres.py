"""Several workers on one PostgreSQL, and a worker killed with SIGKILL mid-job."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from beacon_gql.config import Settings
from beacon_gql.providers.config import providers_to_toml
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from beacon_gql.services import running_services
from tests.support.jobs import attempts_of, executions_of, submit_spec, wait_until_finished
from tests.support.specs import EVERY_QUESTION, Signer, make_spec


def many_models_file(fleet: SimulatorFleet, path: Path, count: int) -> Path:
    """Providers serving `count` job models, all answered by the simulator's llama."""
    configs = [
        replace(c, models={f"m{n}": next(iter(c.models.values())) for n in range(count)})
        for c in fleet.provider_configs()
        if c.kind == "openai"
    ]
    path.write_text(providers_to_toml(configs))
    return path


@pytest.fixture
def pg_settings(postgres_settings: Settings) -> Settings:
    return replace(postgres_settings, lease_seconds=2.0)


async def test_two_workers_never_run_an_execution_twice(
    pg_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    slow = FaultProfile(latency_ms=40)
    faults = {"sim-us-east": slow, "sim-eu-west": slow, "sim-asia-pacific": slow}
    async with SimulatorFleet(seed=3, faults=faults, include_hybrid_router=False) as fleet:
        settings = replace(
            pg_settings,
            providers_file=many_models_file(fleet, tmp_path / "p.toml", 4),
            worker_concurrency=12,
        )
        async with (
            running_services(settings, run_worker=True) as first,
            running_services(settings, run_worker=True),
        ):
            spec = make_spec(questions=EVERY_QUESTION, models=[f"m{n}" for n in range(4)])
            job_id = await submit_spec(first, signer, spec)
            final = await wait_until_finished(first, job_id)
            rows = await executions_of(first, job_id)
            attempts = await attempts_of(first, job_id)

    assert final.job_status == "COMPLETED" and len(rows) == 96
    per_attempt = Counter((a.execution_id, a.attempt) for a in attempts)
    assert set(per_attempt.values()) == {1}, "an attempt was recorded twice"
    assert len({a.claim_token for a in attempts}) >= 2
    workers = {a.claim_token.split(":")[0] for a in attempts}
    assert len(workers) == 2, "both workers should have taken part"
    served = sum(
        fleet.requests_received(n) for n in ("sim-us-east", "sim-eu-west", "sim-asia-pacific")
    )
    chat_calls = sum(
        1
        for n in ("sim-us-east", "sim-eu-west", "sim-asia-pacific")
        for r in fleet.request_log(n)
        if r.path.endswith("/chat/completions")
    )
    assert served >= chat_calls == len(attempts) == 96


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BEACON_DATABASE_URL": settings.database_url,
        "BEACON_BROADCAST_URL": settings.broadcast_url,
        "BEACON_PROVIDERS_FILE": str(settings.providers_file),
        "BEACON_LEASE_SECONDS": str(settings.lease_seconds),
        "BEACON_WORKER_CONCURRENCY": "16",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "beacon_gql.cli", "worker"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def test_a_killed_worker_loses_nothing_and_duplicates_nothing(
    pg_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    slow = FaultProfile(latency_ms=100)
    faults = {"sim-us-east": slow, "sim-eu-west": slow, "sim-asia-pacific": slow}
    async with SimulatorFleet(seed=5, faults=faults, include_hybrid_router=False) as fleet:
        settings = replace(
            pg_settings, providers_file=many_models_file(fleet, tmp_path / "p.toml", 13)
        )
        async with running_services(settings, run_worker=False) as api:
            spec = make_spec(questions=EVERY_QUESTION, models=[f"m{n}" for n in range(13)])
            job_id = await submit_spec(api, signer, spec)
            victim = start_worker(settings, tmp_path / "victim.log")
            try:

                async def until_some_completed() -> None:
                    async for update in api.progress.stream(job_id):
                        if update.progress.completed >= 60:
                            return

                await asyncio.wait_for(until_some_completed(), 60)
            finally:
                victim.send_signal(signal.SIGKILL)
                victim.wait(10)
            survivor = start_worker(settings, tmp_path / "survivor.log")
            try:
                final = await wait_until_finished(api, job_id, within=120)
            finally:
                survivor.terminate()
                survivor.wait(10)
            rows = await executions_of(api, job_id)
            attempts = await attempts_of(api, job_id)

    assert len(rows) == 312
    assert final.job_status == "COMPLETED"
    assert final.progress.completed == 312
    assert {r.status for r in rows} == {"COMPLETED"}
    completed_attempts = Counter(a.execution_id for a in attempts if a.outcome == "COMPLETED")
    assert set(completed_attempts.values()) == {1} and len(completed_attempts) == 312
    assert set(Counter((a.execution_id, a.attempt) for a in attempts).values()) == {1}
    # The executions the victim held when it died were taken over after their lease expired.
    assert any(r.attempts > 1 for r in rows)
    # Every call made is on record, the victim's lost ones included, each saying what
    # became of it: nothing is left open, and nothing paid for went missing.
    history = Counter(a.execution_id for a in attempts)
    assert {r.id: r.attempts for r in rows} == {r.id: history[r.id] for r in rows}
    assert "RUNNING" not in {a.outcome for a in attempts}
    lost = [a for a in attempts if a.outcome == "LEASE_EXPIRED"]
    assert {a.execution_id for a in lost} == {r.id for r in rows if r.attempts > 1}
    # All of them the victim's (a claim token starts with its worker's id).
    assert len({a.claim_token.split(":")[0] for a in lost}) == 1
