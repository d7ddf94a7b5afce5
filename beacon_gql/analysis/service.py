"""The analysis lifecycle: PENDING before any answer, PARTIAL while the job runs,
COMPLETE persisted once when the job ends and loaded, never recomputed, after that."""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import UTC, datetime

from strawberry.dataloader import DataLoader

from beacon_gql.analysis.answer_memory import classify_answers_once
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
from beacon_gql.db.models import Job
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES
from beacon_gql.errors import NotFound
from beacon_gql.jobs.strict_json import is_storable_text

log = logging.getLogger("beacon_gql.analysis")


# Decoded persisted reports kept per process (a 5,016-execution job's is about 1 MB of
# objects): decoding one took as long as the rest of a small job's query.
REMEMBERED_REPORTS = 64


class AnalysisService:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        # job id -> (computed_at of the persisted record, its decoded report). A record is
        # replaced only with a new computed_at (save_record), so the pair is its version.
        self._decoded: OrderedDict[str, tuple[datetime, BiasAnalysisReport]] = OrderedDict()
        # job id -> ((event sequence, status) of the job, the analysis computed at it). Every
        # change to a running job's executions bumps its event sequence in the same
        # transaction, so the pair is the version of what the analysis is computed from; a
        # dashboard polling a 5,000-execution job recomputed it (0.6 s) on every query.
        self._running: OrderedDict[str, tuple[tuple[int, str], BiasAnalysisReport]]
        self._running = OrderedDict()

    def _remembered(self, job_id: str, computed_at: datetime | None) -> BiasAnalysisReport | None:
        found = self._decoded.get(job_id)
        if found is None or computed_at is None or found[0] != computed_at:
            return None
        self._decoded.move_to_end(job_id)
        return found[1]

    def _remember(self, job_id: str, computed_at: datetime, report: BiasAnalysisReport) -> None:
        self._decoded[job_id] = (computed_at, report)
        self._decoded.move_to_end(job_id)
        while len(self._decoded) > REMEMBERED_REPORTS:
            self._decoded.popitem(last=False)

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
        self, job: Job, stamps: DataLoader[str, datetime | None] | None = None
    ) -> BiasAnalysisReport:
        """`stamps` gives the `computed_at` of a job's persisted analysis (batched across a
        request); a report this process decoded for that version is not read again."""
        if job.status in TERMINAL_JOB_STATUSES:
            if stamps is not None:
                remembered = self._remembered(job.id, await stamps.load(job.id))
                if remembered is not None:
                    return remembered
            async with self._sessions() as session:
                record = await store.get_record(session, job.id)
            if record is not None:
                try:
                    report = report_from_dict(record.report)
                except OutdatedReport:
                    # Stored before samples existed: the executions hold all it needs.
                    return await self._persist(job)
                self._remember(job.id, record.computed_at, report)
                return report
            # The process that finished the job stopped before persisting: do it now.
            return await self._persist(job)
        version = (job.event_sequence, job.status)
        known = self._running.get(job.id)
        if known is not None and known[0] == version:
            self._running.move_to_end(job.id)
            return known[1]
        finished = job.completed_count + job.failed_count + job.cancelled_count
        # The executions are read after the job: at least as new as `version`.
        report = await self._compute(job, "PARTIAL" if finished else "PENDING")
        self._running[job.id] = (version, report)
        self._running.move_to_end(job.id)
        while len(self._running) > REMEMBERED_REPORTS:
            self._running.popitem(last=False)
        return report

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
        # The model runs in its own process, outside any transaction, in one batch; each
        # distinct answer once.
        results = await classify_in_process(
            [(row.response, row.prompt) for row in rows], classify_answers_once
        )
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
        # New labels without an event: what this process computed before is outdated.
        self._running.pop(job_id, None)
        if job.status in TERMINAL_JOB_STATUSES:
            return await self._persist(job)
        return await self.for_job(job)
