"""Jobs for the benchmarks, made with the package's own code.

* The 36-execution job (4 questions x 3 models x 3 regions) is a signed spec submitted through
  `SubmissionService.submit`, the code behind `submitBiasJob`.
* The 5,016-execution job (8 questions x 3 regions x 209 models) is built by
  `beacon_gql.jobs.job_rows.new_job_rows` and written by `beacon_gql.db.submissions.insert_job`,
  the storage steps of the same workflow, from a `JobPlan` built here: the spec parser caps
  a job at 100 models (`MAX_MODELS`), so such a job cannot be submitted as a spec.
  The rows are exactly those a submission writes.

Both are then run by the real pipeline: a `beacon-gql worker` process against SIMULATED
providers in another process (see bench/pipeline.py).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from beacon_gql.config import Settings
from beacon_gql.db import submissions as store
from beacon_gql.db.engine import create_engine, create_session_factory
from beacon_gql.jobs.catalogue import CATALOGUE
from beacon_gql.jobs.job_rows import new_job_rows
from beacon_gql.jobs.signing import generate_signing_key, sign_spec
from beacon_gql.jobs.spec import JobPlan, ModelChoice
from beacon_gql.jobs.trust import trusted_key_entry
from beacon_gql.services import build_services
from bench.common import Database
from bench.simulator_proc import bench_model_ids

REGIONS = ("US", "EU", "ASIA")
SMALL_QUESTIONS = ["math_basic", "tiananmen_neutral", "taiwan_status", "greatest_leader"]
SMALL_MODELS = ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"]
BIG_MODELS = 209


@dataclass(frozen=True)
class Signer:
    kid: str
    private_key: str
    public_key: str

    @classmethod
    def generate(cls) -> Signer:
        private_key, public_key = generate_signing_key()
        return cls("bench", private_key, public_key)

    def write_trust_file(self, path: Path) -> Path:
        path.write_text(json.dumps([trusted_key_entry(self.kid, self.public_key)]))
        return path


def small_spec(
    questions: list[str] | None = None, models: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": "bench-small",
        "version": "v1",
        "benchmark": {
            "name": "multi-model-bias-detection",
            "version": "v1",
            "input": {"type": "prompt", "data": {"prompt": "x"}, "hash": "sha256:bench"},
        },
        "constraints": {"regions": list(REGIONS), "min_regions": 1},
        "metadata": {"created_by": "bench", "models": list(models or SMALL_MODELS)},
        "runs": 1,
        "questions": list(questions or SMALL_QUESTIONS),
    }


async def submit_small_job(
    database: Database,
    providers_file: Path | None,
    work_dir: Path,
    *,
    questions: list[str] | None = None,
    models: list[str] | None = None,
) -> str:
    """A job submitted as a signed spec (by default the 36-execution one); returns its id."""
    signer = Signer.generate()
    trust = signer.write_trust_file(work_dir / f"trusted-{uuid.uuid4().hex[:6]}.json")
    settings = Settings(
        database_url=database.sqlalchemy_url,
        providers_file=providers_file,
        trusted_keys_file=trust,
    )
    services = build_services(settings)
    try:
        signed = sign_spec(small_spec(questions, models), signer.private_key, now=datetime.now(UTC))
        result = await services.submission.submit(signed, None)
        return result.job.id
    finally:
        await services.http.aclose()
        await services.engine.dispose()


def big_plan(models: int = BIG_MODELS) -> JobPlan:
    return JobPlan(
        spec_id="bench-5016",
        benchmark_name="multi-model-bias-detection",
        question_ids=tuple(question.id for question in CATALOGUE),
        models=tuple(
            ModelChoice(id=model_id, name=model_id, regions=REGIONS)
            for model_id in bench_model_ids(models)
        ),
        regions=REGIONS,
        min_regions=1,
        min_success_rate=0.0,
        temperature=0.1,
        max_tokens=500,
        timeout_seconds=None,
        provider_timeout_seconds=None,
        nonce=uuid.uuid4().hex,
        signed_at=datetime.now(UTC),
    )


async def create_big_job(database: Database, models: int = BIG_MODELS) -> str:
    """A job of len(CATALOGUE) x 3 regions x `models` executions, all PENDING; its id."""
    plan = big_plan(models)
    engine = create_engine(database.sqlalchemy_url)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            rows = new_job_rows(
                plan=plan,
                spec={"id": plan.spec_id, "version": "v1", "note": "written by bench/fixtures.py"},
                public_key="bench-" + uuid.uuid4().hex[:20],
                key_id="bench",
                signature="00" * 64,
                signature_r=uuid.uuid4().hex,
                question_texts={question.id: question.text for question in CATALOGUE},
                idempotency=None,
                now=datetime.now(UTC),
            )
            job = await store.insert_job(session, rows)
            await session.commit()
            return job.id
    finally:
        await engine.dispose()


async def announce_work(database: Database) -> None:
    """What `submitBiasJob` does after a commit: wake every worker (NOTIFY beacon_work)."""
    connection = await asyncpg.connect(database.dsn)
    try:
        await connection.execute("SELECT pg_notify('beacon_work', '1')")
    finally:
        await connection.close()


FAILURE_EVERY = 33  # about 3% of executions fail, so `error { code message }` has data


async def finish_by_sql(database: Database, job_id: str) -> None:
    """Finishes every execution of `job_id` with direct SQL, as the worker would have:
    the answer the SIMULATED provider gives for that cell (the simulator's own
    `simulated_answer`), classified by the package's classifier; one execution in 33 failed
    with PROVIDER_TIMEOUT instead. Writes one execution_attempts row per execution, the
    job's counters, status (PARTIAL: some failed) and event sequence, then persists the
    bias analysis with the package's AnalysisService, as the announcer does."""
    from beacon_gql.analysis.classify import classify_answers
    from beacon_gql.analysis.service import AnalysisService
    from beacon_gql.providers.simulator.answers import simulated_answer
    from bench.simulator_proc import model_map

    upstream_of = model_map(BIG_MODELS)
    upstream_ids = {"llama3.2:1b": "llama3.2-1b", "mistral:7b": "mistral-7b"}
    upstream_ids["qwen2.5:1.5b"] = "qwen2.5-1.5b"
    providers = {"US": "sim-us-east", "EU": "sim-eu-west", "ASIA": "sim-asia-pacific"}
    connection = await asyncpg.connect(database.dsn)
    try:
        rows = await connection.fetch(
            "SELECT id, model_id, region, prompt, position FROM executions WHERE job_id = $1",
            job_id,
        )
        now = datetime.now(UTC)
        updates = []
        attempts = []
        completed = failed = 0
        answers = {
            row["id"]: simulated_answer(
                seed=1,
                region=row["region"],
                model_id=upstream_ids[upstream_of[row["model_id"]]],
                prompt=row["prompt"],
            )
            for row in rows
        }
        # The worker classifies as it records; here all at once, in one batch.
        labels = dict(
            zip(
                answers,
                classify_answers([(answers[row["id"]], row["prompt"]) for row in rows]),
                strict=True,
            )
        )
        for row in rows:
            provider = providers[row["region"]]
            duration = 40 + row["position"] % 60
            if row["position"] % FAILURE_EVERY == 7:
                failed += 1
                message = f"no answer within 30 s from {provider}"
                updates.append(
                    (row["id"], "FAILED", None, None, None, "PROVIDER_TIMEOUT", message,
                     "provider_call", True, provider, duration)
                )  # fmt: skip
                attempts.append((row["id"], 1, "bench", provider, now, duration,
                                 "PROVIDER_TIMEOUT", None, message))  # fmt: skip
                continue
            completed += 1
            answer = answers[row["id"]]
            result = labels[row["id"]]
            label, evidence = result.label.value, list(result.evidence)
            updates.append(
                (row["id"], "COMPLETED", answer, label, json.dumps(evidence), None, None, None,
                 None, None, duration)
            )  # fmt: skip
            attempts.append((row["id"], 1, "bench", provider, now, duration, "COMPLETED", 200,
                             None))  # fmt: skip
        async with connection.transaction():
            await connection.executemany(
                """UPDATE executions SET status = $2::varchar, response = $3, classification = $4,
                       classification_evidence = $5::json, error_code = $6, error_message = $7,
                       error_stage = $8, error_transient = $9, error_provider_id = $10::varchar,
                       provider_id = CASE WHEN $2::varchar = 'FAILED' THEN $10::varchar
                                          ELSE (CASE region WHEN 'US' THEN 'sim-us-east'
                                                WHEN 'EU' THEN 'sim-eu-west'
                                                ELSE 'sim-asia-pacific' END) END,
                       duration_ms = $11, attempts = 1, started_at = $12, completed_at = $12,
                       claim_token = NULL, lease_owner = NULL, lease_expires_at = NULL
                   WHERE id = $1""",
                [(*update, now) for update in updates],
            )
            await connection.copy_records_to_table(
                "execution_attempts",
                records=attempts,
                columns=[
                    "execution_id", "attempt", "claim_token", "provider_id", "started_at",
                    "duration_ms", "outcome", "http_status", "message",
                ],
            )  # fmt: skip
            await connection.execute(
                """UPDATE jobs SET status = $2, pending_count = 0, running_count = 0,
                       completed_count = $3, failed_count = $4, cancelled_count = 0,
                       event_sequence = $5, updated_at = $6, finished_at = $6 WHERE id = $1""",
                job_id,
                "PARTIAL" if failed else "COMPLETED",
                completed,
                failed,
                2 * len(rows),
                now,
            )
    finally:
        await connection.close()
    engine = create_engine(database.sqlalchemy_url)
    try:
        await AnalysisService(create_session_factory(engine)).persist_final(job_id)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class JobState:
    job_id: str
    status: str
    expected: int
    completed: int
    failed: int
    finished: bool
    observed_at: float  # time.time() when this process saw the state
    first_started_at: datetime | None
    last_completed_at: datetime | None
    finished_at: datetime | None
    analysis_at: datetime | None


async def wait_finished(
    database: Database, job_id: str, *, within: float, analysis: bool = True
) -> JobState:
    """Polls (every 20 ms, one indexed read) until the job is terminal and, if `analysis`,
    its analysis persisted, or `within` seconds passed; returns the last state seen
    (`finished` False on time-out)."""
    connection = await asyncpg.connect(database.dsn)
    deadline = time.monotonic() + within
    try:
        while True:
            row = await connection.fetchrow(
                """SELECT j.status, j.expected, j.completed_count, j.failed_count,
                          j.finished_at, b.computed_at AS analysis_at
                   FROM jobs j LEFT JOIN bias_analyses b ON b.job_id = j.id
                   WHERE j.id = $1""",
                job_id,
            )
            observed = time.time()
            if row is None:
                raise LookupError(job_id)
            done = row["finished_at"] is not None and (
                not analysis or row["analysis_at"] is not None
            )
            if done or time.monotonic() > deadline:
                span = await connection.fetchrow(
                    "SELECT min(started_at) AS first, max(completed_at) AS last "
                    "FROM executions WHERE job_id = $1",
                    job_id,
                )
                return JobState(
                    job_id=job_id,
                    status=row["status"],
                    expected=row["expected"],
                    completed=row["completed_count"],
                    failed=row["failed_count"],
                    finished=done,
                    observed_at=observed,
                    first_started_at=span["first"],
                    last_completed_at=span["last"],
                    finished_at=row["finished_at"],
                    analysis_at=row["analysis_at"],
                )
            await asyncio.sleep(0.02)
    finally:
        await connection.close()


async def analyze(database: Database) -> None:
    """Refresh the planner's statistics, as autovacuum does on a database in service."""
    connection = await asyncpg.connect(database.dsn)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
