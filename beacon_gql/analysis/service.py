"""The analysis lifecycle: PENDING before any answer, PARTIAL while the job runs,
COMPLETE persisted once when the job ends and loaded, never recomputed, after that."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from strawberry.dataloader import DataLoader

from beacon_gql.analysis.classifier_process import classify_in_process
from beacon_gql.analysis.report import (
    AnswerRecord,
    BiasAnalysisReport,
    compute_analysis,
    report_from_dict,
    report_to_dict,
)
from beacon_gql.analysis.serialization import OutdatedReport
from beacon_gql.db import analyses as store
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import BiasAnalysisRecord, Job
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES
from beacon_gql.errors import NotFound
from beacon_gql.jobs.strict_json import is_storable_text

log = logging.getLogger("beacon_gql.analysis")


class AnalysisService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def _compute(self, job: Job, status: str) -> BiasAnalysisReport:
        async with self._sessions() as session:
            rows = await store.answers_for_job(session, job.id)
        answers = [
            AnswerRecord(
                execution_id=row.id,
                question_id=row.question_id,
                question_category=row.category,
                model_id=row.model_id,
                region=row.region,
                status=row.status,
                response=row.response,
                error_code=row.error_code,
                sample=row.sample,
                classification=row.classification,
                classification_evidence=tuple(row.classification_evidence or ()),
                question_text=row.prompt,
                question_language=row.language,
                translation_of=row.translation_of,
                vector=row.meaning_vector,
            )
            for row in rows
        ]
        return compute_analysis(
            answers,
            status=status,  # type: ignore[arg-type]
            expected_regions=list(job.regions),
            computed_at=datetime.now(UTC),
        )

    async def for_job(
        self, job: Job, loader: DataLoader[str, BiasAnalysisRecord | None] | None = None
    ) -> BiasAnalysisReport:
        if job.status in TERMINAL_JOB_STATUSES:
            record = await loader.load(job.id) if loader is not None else None
            if record is None:
                async with self._sessions() as session:
                    record = await store.get_record(session, job.id)
            if record is not None:
                try:
                    return report_from_dict(record.report)
                except OutdatedReport:
                    # Stored before samples existed: the executions hold all it needs.
                    return await self._persist(job)
            # The process that finished the job stopped before persisting: do it now.
            return await self._persist(job)
        finished = job.completed_count + job.failed_count + job.cancelled_count
        return await self._compute(job, "PARTIAL" if finished else "PENDING")

    async def _persist(self, job: Job) -> BiasAnalysisReport:
        report = await self._compute(job, "COMPLETE")
        async with self._sessions() as session:
            await store.save_record(
                session,
                job_id=job.id,
                status="COMPLETE",
                computed_at=report.computed_at,
                report=report_to_dict(report),
            )
            await session.commit()
        log.info("analysis persisted", extra={"job_id": job.id})
        return report

    async def _reclassify(self, job_id: str) -> None:
        """Label every answer of the job again with the current classifier version."""
        async with self._sessions() as session:
            rows = await store.completed_answers(session, job_id)
        if not rows:
            return
        # The model runs in its own process, outside any transaction, in one batch.
        results = await classify_in_process([(row.response, row.prompt) for row in rows])
        async with self._sessions() as session:
            await store.store_classifications(
                session,
                [
                    (row.id, result.label.value, list(result.evidence), result.confidence,
                     result.version, result.vector)
                    for row, result in zip(rows, results, strict=True)
                ],
            )  # fmt: skip
            await session.commit()
        log.info("answers reclassified", extra={"job_id": job_id, "answers": len(rows)})

    async def persist_final(self, job_id: str) -> None:
        """Called once the job reaches a terminal status; a second call changes nothing."""
        async with self._sessions() as session:
            job = await session.get(Job, job_id)
            existing = await store.get_record(session, job_id)
        if job is None or existing is not None or job.status not in TERMINAL_JOB_STATUSES:
            return
        await self._persist(job)

    async def recompute(self, job_id: str) -> BiasAnalysisReport:
        job = None
        if is_storable_text(job_id):  # else no job has it
            async with self._sessions() as session:
                job = await session.get(Job, job_id)
        if job is None:
            raise NotFound(f"no job with id {job_id!r}")
        await self._reclassify(job_id)
        if job.status in TERMINAL_JOB_STATUSES:
            return await self._persist(job)
        return await self.for_job(job)
