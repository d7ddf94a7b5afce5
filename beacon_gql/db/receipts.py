"""Storage for receipts: a job's executions in Merkle order, receipts signed after the fact,
and the job's signed root."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import Execution, Job, ReceiptRoot

# Cleared when an execution goes back to the queue: its next ending gets a new receipt.
NO_RECEIPT = {"receipt_payload": None, "receipt_signature": None, "receipt_key_id": None}


async def executions_in_order(session: AsyncSession, job_id: str) -> Sequence[Execution]:
    """Every execution of the job by position: the order of the leaves."""
    statement = select(Execution).where(Execution.job_id == job_id).order_by(Execution.position)
    return (await session.scalars(statement)).all()


async def store_late_receipts(
    session: AsyncSession, receipts: Sequence[tuple[str, str, str, str, str]]
) -> None:
    """(execution id, status, payload, signature, key id) for executions that ended without
    one (cancelled, timed out, lease lost); one already there is kept, and so is a row no
    longer in the status signed (a retry sent it back to the queue meanwhile)."""
    if not receipts:
        return
    statement = (
        update(Execution)
        .where(
            Execution.id == bindparam("execution_id"),
            Execution.status == bindparam("signed_status"),
            Execution.receipt_payload.is_(None),
        )
        .values(
            receipt_payload=bindparam("payload"),
            receipt_signature=bindparam("signature"),
            receipt_key_id=bindparam("key_id"),
        )
    )
    connection = await session.connection()
    await connection.execute(
        statement,
        [
            {"execution_id": e, "signed_status": t, "payload": p, "signature": s, "key_id": k}
            for e, t, p, s, k in receipts
        ],
    )


async def get_root(session: AsyncSession, job_id: str) -> ReceiptRoot | None:
    return await session.get(ReceiptRoot, job_id)


async def save_root(
    session: AsyncSession,
    *,
    job_id: str,
    root: str,
    leaves: int,
    signature: str,
    key_id: str,
    signed_at: datetime,
) -> None:
    await session.execute(delete(ReceiptRoot).where(ReceiptRoot.job_id == job_id))
    session.add(
        ReceiptRoot(
            job_id=job_id,
            root=root,
            leaves=leaves,
            signature=signature,
            key_id=key_id,
            signed_at=signed_at,
        )
    )


async def forget_root(session: AsyncSession, job_id: str) -> None:
    await session.execute(delete(ReceiptRoot).where(ReceiptRoot.job_id == job_id))


async def job_status(session: AsyncSession, job_id: str) -> str | None:
    return await session.scalar(select(Job.status).where(Job.id == job_id))
