"""After a commit: persist the analysis of jobs that just ended, then publish the events."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from beacon_gql.analysis.service import AnalysisService
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES
from beacon_gql.db.transitions import ExecutionChange
from beacon_gql.events.hub import EventHub
from beacon_gql.receipts.service import ReceiptService

log = logging.getLogger("beacon_gql.announce")


class ChangeAnnouncer:
    def __init__(
        self, hub: EventHub, analysis: AnalysisService, receipts: ReceiptService | None = None
    ) -> None:
        self._hub = hub
        self._analysis = analysis
        self._receipts = receipts

    async def __call__(self, changes: Sequence[ExecutionChange]) -> None:
        if not changes:
            return
        for job_id in {c.job_id for c in changes if c.job_status in TERMINAL_JOB_STATUSES}:
            # Persisted before the terminal event goes out, so a client reacting to that
            # event finds the analysis COMPLETE.
            try:
                await self._analysis.persist_final(job_id)
            except Exception:
                log.exception("could not persist the analysis", extra={"job_id": job_id})
            if self._receipts is not None:
                try:
                    await self._receipts.seal_job(job_id)
                except Exception:
                    # Sealed on first request instead (ReceiptService.root).
                    log.exception("could not seal the receipts", extra={"job_id": job_id})
        try:
            await self._hub.publish_changes(changes)
        except Exception:
            # Subscribers heal from a fresh snapshot; the database already holds the truth.
            log.exception("could not publish %d events", len(changes))
