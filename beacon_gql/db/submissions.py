"""Storage for the submission workflow: job rows, execution rows, nonces, idempotency keys.

The rows of a new job are built by jobs/ (which knows the plan and the prompts); this
module only reads and inserts them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import (
    CompromisedKey,
    Execution,
    IdempotencyKey,
    Job,
    SignatureCommitment,
    UsedNonce,
)


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


async def commit_to_r(
    session: AsyncSession, public_key: str, signature_r: str, signature: str, now: datetime
) -> str | None:
    """Records `signature` as the one signature of this key with this R, in the caller's
    transaction; returns the signature recorded before if there was one.

    An insert that ignores a conflict, then a read: on PostgreSQL a concurrent transaction
    holding the same (key, R) makes the insert wait for its end, so of two submissions at
    the same moment the second sees the first's signature, never nothing.
    """
    values = {
        "public_key": public_key,
        "signature_r": signature_r,
        "signature": signature,
        "seen_at": now,
    }
    if await _insert_unless_present(session, SignatureCommitment, values):
        return None
    return await session.scalar(
        select(SignatureCommitment.signature).where(
            SignatureCommitment.public_key == public_key,
            SignatureCommitment.signature_r == signature_r,
        )
    )


async def mark_compromised(
    session: AsyncSession, public_key: str, reason: str, now: datetime
) -> None:
    """Idempotent, and safe when two submissions catch the same key at once."""
    await _insert_unless_present(
        session, CompromisedKey, {"public_key": public_key, "reason": reason, "detected_at": now}
    )


async def _insert_unless_present(
    session: AsyncSession,
    table: type[SignatureCommitment] | type[CompromisedKey],
    values: dict[str, Any],
) -> bool:
    """Inserts the row unless its primary key is taken; whether it did."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = await session.execute(dialect.insert(table).values(values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0) == 1)


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
