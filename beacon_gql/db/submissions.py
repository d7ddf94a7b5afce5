"""Storage for the submission workflow: job rows, execution rows, nonces, idempotency keys."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import CompromisedKey, Execution, IdempotencyKey, Job, UsedNonce
from beacon_gql.execution.prompts import build_prompt
from beacon_gql.jobs.spec import JobPlan, model_regions_summary


async def find_idempotent_job(session: AsyncSession, key: str) -> tuple[Job, str] | None:
    row = (
        await session.execute(
            select(Job, IdempotencyKey.spec_digest)
            .join(IdempotencyKey, IdempotencyKey.job_id == Job.id)
            .where(IdempotencyKey.key == key)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def compromise_reason(session: AsyncSession, public_key: str) -> str | None:
    record = await session.get(CompromisedKey, public_key)
    return None if record is None else record.reason


async def nonce_used(session: AsyncSession, public_key: str, nonce: str) -> bool:
    return await session.get(UsedNonce, (public_key, nonce)) is not None


async def signature_with_same_r(
    session: AsyncSession, public_key: str, signature_r: str, signature: str
) -> bool:
    """Whether another signature by this key shares its R: proof the key's nonce was reused."""
    found = await session.scalar(
        select(UsedNonce.nonce)
        .where(UsedNonce.public_key == public_key)
        .where(UsedNonce.signature_r == signature_r)
        .where(UsedNonce.signature != signature)
        .limit(1)
    )
    return found is not None


async def mark_compromised(session: AsyncSession, public_key: str, reason: str) -> None:
    if await session.get(CompromisedKey, public_key) is None:
        session.add(CompromisedKey(public_key=public_key, reason=reason))


async def create_job(
    session: AsyncSession,
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
) -> Job:
    """The job, every expected execution row, the nonce and the idempotency key, in the
    caller's transaction: all of them or none."""
    job = Job(
        id=str(uuid.uuid4()),
        status="QUEUED",
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
        provider_timeout_seconds=plan.provider_timeout_seconds,
        deadline_at=None
        if plan.timeout_seconds is None
        else now + timedelta(seconds=plan.timeout_seconds),
        expected=plan.expected,
        pending_count=plan.expected,
        running_count=0,
        completed_count=0,
        failed_count=0,
        cancelled_count=0,
        event_sequence=0,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    # Without relationship() mappings the unit of work does not order inserts by foreign
    # key, so the job goes in first.
    await session.flush()
    session.add(
        UsedNonce(
            public_key=public_key,
            nonce=plan.nonce,
            signature_r=signature_r,
            signature=signature,
            job_id=job.id,
            seen_at=now,
        )
    )
    if idempotency is not None:
        key, digest = idempotency
        session.add(IdempotencyKey(key=key, job_id=job.id, spec_digest=digest, created_at=now))
    await session.flush()
    rows = []
    for position, (question_id, model_id, region) in enumerate(plan.cells()):
        prompt, system_prompt = build_prompt(question_texts[question_id])
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "job_id": job.id,
                "question_id": question_id,
                "model_id": model_id,
                "region": region,
                "position": position,
                "status": "PENDING",
                "attempts": 0,
                "prompt": prompt,
                "system_prompt": system_prompt,
                "temperature": plan.temperature,
                "max_tokens": plan.max_tokens,
                "available_at": now,
                "created_at": now,
            }
        )
    await session.execute(insert(Execution), rows)
    return job
