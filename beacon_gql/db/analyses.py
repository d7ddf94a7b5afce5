"""Storage for analyses: the answers they are computed from, and the persisted result."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beacon_gql.db.models import BiasAnalysisRecord, Execution, Question


async def answers_for_job(session: AsyncSession, job_id: str) -> Sequence[Row[Any]]:
    statement = (
        select(
            Execution.id,
            Execution.question_id,
            Question.category,
            Execution.model_id,
            Execution.region,
            Execution.status,
            Execution.response,
            Execution.error_code,
            Execution.sample,
            Execution.classification,
            Execution.classification_evidence,
            Execution.prompt,
            Question.language,
            Question.translation_of,
            Execution.meaning_vector,
        )
        .join(Question, Question.id == Execution.question_id)
        .where(Execution.job_id == job_id)
        .order_by(Execution.position)
    )
    rows: Sequence[Row[Any]] = (await session.execute(statement)).all()  # type: ignore[assignment]
    return rows


async def get_record(session: AsyncSession, job_id: str) -> BiasAnalysisRecord | None:
    return await session.get(BiasAnalysisRecord, job_id)


async def save_record(
    session: AsyncSession,
    *,
    job_id: str,
    status: str,
    computed_at: datetime,
    report: dict[str, Any],
) -> None:
    await session.execute(delete(BiasAnalysisRecord).where(BiasAnalysisRecord.job_id == job_id))
    session.add(
        BiasAnalysisRecord(job_id=job_id, status=status, computed_at=computed_at, report=report)
    )


async def forget(session: AsyncSession, job_id: str) -> None:
    await session.execute(delete(BiasAnalysisRecord).where(BiasAnalysisRecord.job_id == job_id))


async def completed_answers(session: AsyncSession, job_id: str) -> Sequence[Row[Any]]:
    """(id, response, prompt) of every COMPLETED execution of the job: what is reclassified."""
    statement = select(Execution.id, Execution.response, Execution.prompt).where(
        Execution.job_id == job_id, Execution.status == "COMPLETED"
    )
    rows: Sequence[Row[Any]] = (await session.execute(statement)).all()  # type: ignore[assignment]
    return rows


async def store_classifications(
    session: AsyncSession,
    labels: Sequence[tuple[str, str, list[str], float, str, bytes | None]],
) -> None:
    """(execution id, label, evidence, confidence, classifier version, meaning vector) for
    each execution."""
    for execution_id, label, evidence, confidence, version, vector in labels:
        await session.execute(
            update(Execution)
            .where(Execution.id == execution_id, Execution.status == "COMPLETED")
            .values(
                classification=label,
                classification_evidence=evidence,
                classification_confidence=confidence,
                classifier_version=version,
                meaning_vector=vector,
            )
        )
