"""The rows a new job is stored as, built from its plan: the job with its counters at the
start, its nonce, its idempotency key, and one PENDING execution per sample of each cell
(`runs` of them) with the prompt it will send (built here, once, so retries cannot drift).
db/submissions inserts them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from beacon_gql.db.models import IdempotencyKey, Job, UsedNonce
from beacon_gql.db.statuses import COUNTER_COLUMNS, ExecutionStatus, JobStatus
from beacon_gql.db.submissions import NewJob
from beacon_gql.jobs.prompts import build_prompt
from beacon_gql.jobs.spec import JobPlan, model_regions_summary


def new_job_rows(
    *,
    plan: JobPlan,
    spec: Mapping[str, Any],
    public_key: str,
    key_id: str,
    signature: str,
    signature_r: str,
    question_texts: Mapping[str, str],
    idempotency: tuple[str, str] | None,
    now: datetime,
) -> NewJob:
    job_id = str(uuid.uuid4())
    # Every execution starts PENDING.
    counters = {column: 0 for column in COUNTER_COLUMNS.values()}
    counters[COUNTER_COLUMNS[ExecutionStatus.PENDING]] = plan.expected
    job = Job(
        id=job_id,
        status=JobStatus.QUEUED,
        spec=dict(spec),
        spec_id=plan.spec_id,
        benchmark_name=plan.benchmark_name,
        public_key=public_key,
        key_id=key_id,
        question_ids=list(plan.question_ids),
        models=model_regions_summary(plan.models),
        regions=list(plan.regions),
        min_regions=plan.min_regions,
        min_success_rate=plan.min_success_rate,
        temperature=plan.temperature,
        max_tokens=plan.max_tokens,
        top_p=plan.top_p,
        runs=plan.runs,
        provider_timeout_seconds=plan.provider_timeout_seconds,
        deadline_at=None
        if plan.timeout_seconds is None
        else now + timedelta(seconds=plan.timeout_seconds),
        expected=plan.expected,
        **counters,
        event_sequence=0,
        created_at=now,
        updated_at=now,
    )
    nonce = UsedNonce(
        public_key=public_key,
        nonce=plan.nonce,
        signature_r=signature_r,
        signature=signature,
        job_id=job_id,
        seen_at=now,
    )
    key = (
        None
        if idempotency is None
        else IdempotencyKey(
            key=idempotency[0], job_id=job_id, spec_digest=idempotency[1], created_at=now
        )
    )
    executions = []
    prompts = {
        question_id: build_prompt(question_texts[question_id]) for question_id in plan.question_ids
    }
    for position, (question_id, model_id, region, sample) in enumerate(plan.samples()):
        prompt, system_prompt = prompts[question_id]
        executions.append(
            {
                "id": str(uuid.uuid4()),
                "job_id": job_id,
                "question_id": question_id,
                "model_id": model_id,
                "region": region,
                "sample": sample,
                "position": position,
                "status": ExecutionStatus.PENDING,
                "attempts": 0,
                "prompt": prompt,
                "system_prompt": system_prompt,
                "temperature": plan.temperature,
                "max_tokens": plan.max_tokens,
                "top_p": plan.top_p,
                "available_at": now,
                "created_at": now,
            }
        )
    return NewJob(job=job, nonce=nonce, idempotency_key=key, executions=executions)
