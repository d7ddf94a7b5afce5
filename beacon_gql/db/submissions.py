"""Storage for the submission workflow: job rows, execution rows, nonces, idempotency keys.

The rows of a new job are built by jobs/ (which knows the plan and the prompts); this
module only reads and inserts them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import CompromisedKey, Execution, IdempotencyKey, Job, UsedNonce


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


@dataclass(frozen=True)
class NewJob:
    """A job's rows, built by the submission service: the job, its nonce, its idempotency
    key if it has one, and one row per expected execution."""

    job: Job
    nonce: UsedNonce
    idempotency_key: IdempotencyKey | None
    executions: Sequence[Mapping[str, Any]]


async def insert_job(session: AsyncSession, new: NewJob) -> Job:
    """All of a new job's rows, in the caller's transaction: all of them or none."""
    session.add(new.job)
    # Without relationship() mappings the unit of work does not order inserts by foreign
    # key, so the job goes in first.
    await session.flush()
    session.add(new.nonce)
    if new.idempotency_key is not None:
        session.add(new.idempotency_key)
    await session.flush()
    await session.execute(insert(Execution), list(new.executions))
    return new.job
