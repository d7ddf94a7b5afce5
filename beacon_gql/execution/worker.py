"""The worker: claims executions, calls providers outside any transaction, records outcomes.

Any number of workers, in any number of processes, share one database: a claim is a
status change with a lease, and every outcome is recorded only if the claim still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from beacon_gql.analysis.classify import ClassificationResult
from beacon_gql.db import queue
from beacon_gql.db.engine import SessionFactory
from beacon_gql.db.models import Execution, Job
from beacon_gql.db.statuses import ExecutionStatus
from beacon_gql.db.transitions import ExecutionChange
from beacon_gql.execution.retry import decide_retry
from beacon_gql.execution.settler import Settler
from beacon_gql.providers.client import ProviderCallError
from beacon_gql.providers.regions import Region
from beacon_gql.providers.registry import NoRouteError, ProviderHandle, ProviderRegistry
from beacon_gql.receipts.service import ReceiptService
from beacon_gql.telemetry import record_attempt

log = logging.getLogger("beacon_gql.worker")

IDLE_POLL_SECONDS = 0.25
MAINTENANCE_SECONDS = 1.0
DATABASE_RETRY_SECONDS = 1.0
# A hung provider is cut off by its own timeout; this margin only guards against a client
# that ignores it.
TIMEOUT_MARGIN_SECONDS = 5.0
# The least time before the job's deadline worth starting a provider call in.
MIN_CALL_SECONDS = 0.1
# Finished attempts that may wait, per provider slot, for their classification and commit.
# The classifier runs one batch at a time and takes every answer waiting (up to
# classifying.MAX_BATCH): room for several slots' worth keeps its batches large, where the
# encoder costs least per answer (about 4 ms at 64, 11 ms at 8 on this machine).
WAITING_PER_SLOT = 3


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 16
    lease_seconds: float = 30.0
    max_attempts: int = 3


@dataclass(frozen=True)
class Outcome:
    """What one attempt ended with, before it is written."""

    ending: queue.Ending
    attempt: queue.AttemptRecord
    log_fields: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """A provider's answer, still to be classified: that happens after the attempt has given
    its provider slot back, so the next call is not kept waiting for the model."""

    text: str
    question: str
    provider_id: str
    completed_at: datetime
    duration_ms: int
    attempt: queue.AttemptRecord
    log_fields: dict[str, Any]

    def labelled(self, classification: ClassificationResult) -> Outcome:
        return Outcome(
            ending=queue.Answered(
                response=self.text,
                provider_id=self.provider_id,
                classification=classification.label.value,
                classification_evidence=list(classification.evidence),
                classification_confidence=classification.confidence,
                classifier_version=classification.version,
                meaning_vector=classification.vector,
                completed_at=self.completed_at,
                duration_ms=self.duration_ms,
            ),
            attempt=self.attempt,
            log_fields=self.log_fields,
        )


Announcer = Callable[[Sequence[ExecutionChange]], Awaitable[None]]
Classifier = Callable[[str, str | None], Awaitable[ClassificationResult]]
"""(answer, question) -> its classification; run off the event loop (`classifying`)."""


def _now() -> datetime:
    return datetime.now(UTC)


class Worker:
    def __init__(
        self,
        sessions: SessionFactory,
        registry: ProviderRegistry,
        *,
        announce: Announcer,
        classify: Classifier,
        settings: WorkerSettings,
        work_signal: asyncio.Event | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
        serialize_writes: bool = False,
        receipts: ReceiptService | None = None,
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._announcer = announce
        self._classify = classify
        self._settings = settings
        self._work_signal = work_signal or asyncio.Event()
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self._rng = rng or random.Random()
        self._inflight: set[asyncio.Task[None]] = set()
        # Provider calls under way: the concurrency bounds these. An attempt whose call has
        # returned gives its slot back while its answer waits to be classified and its
        # result for the next batched commit, so the providers stay busy; at most
        # WAITING_PER_SLOT times as many may wait (see there).
        self._calling = 0
        self._slot_freed = asyncio.Event()
        # The same, by region: a region's executions are claimed only while its providers
        # have a free slot here, so RUNNING means a call under way, not a wait for a slot.
        self._calling_in: Counter[str] = Counter()
        # A region's attempts not yet recorded (calling, or answered and waiting for their
        # label and commit): at most twice its slots, so that its RUNNING executions are its
        # calls and, at most as many again, answers about to be written.
        self._held_in: Counter[str] = Counter()
        # Executions whose attempt is under way here: the only leases this worker renews.
        self._working: set[str] = set()
        # Tokens of claims whose transaction failed without saying whether it committed (the
        # connection was lost at COMMIT, as a database restart does): a claim that did commit
        # holds executions that nobody would call until their lease ran out, to be called
        # then a second time. Looked up by token once the database answers again.
        self._unsure_claims: list[str] = []
        # SQLite has one writer at a time and makes the others retry on a timer, which
        # starves some; taking turns here in FIFO order keeps recording prompt and fair.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if serialize_writes else None
        self._jobs: dict[str, Job] = {}
        self._job_read = asyncio.Lock()
        self._last_maintenance = 0.0
        self._last_renewal = 0.0
        self._receipts = receipts
        # Results are recorded in batches, and a result waits at most one lease for the
        # database before its claim is left to expire.
        self._settler = Settler(
            sessions,
            announce,
            write_turn=self._write_turn,
            max_batch=max(1, settings.concurrency),
            give_up_after_seconds=settings.lease_seconds,
            receipts=receipts,
        )

    def _write_turn(self) -> contextlib.AbstractAsyncContextManager[object]:
        return self._write_lock if self._write_lock is not None else contextlib.nullcontext()

    # ---- the loop -------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker started", extra={"worker_id": self.worker_id})
        settling = asyncio.create_task(self._settler.run(), name=f"{self.worker_id}-settler")
        try:
            while not stop.is_set():
                try:
                    # First: a claim found to hold must be renewed, not expired, by _maintain.
                    await self._resolve_unsure_claims()
                    await self._maintain()
                    claimed = await self._claim_and_start()
                except Exception:
                    log.exception(
                        "worker loop error; retrying", extra={"worker_id": self.worker_id}
                    )
                    claimed = 0
                    await self._wait(stop, DATABASE_RETRY_SECONDS)
                    continue
                if claimed == 0 or self._free_slots() == 0:
                    await self._wait(stop, IDLE_POLL_SECONDS)
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            settling.cancel()
            await asyncio.gather(settling, return_exceptions=True)
            log.info("worker stopped", extra={"worker_id": self.worker_id})

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        waiters: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._work_signal.wait()),
        ]
        if self._inflight or self._free_slots() == 0:
            # An attempt that ends, or a call that returns, frees a slot or room in its
            # region: claim again then.
            self._slot_freed.clear()
            waiters.append(asyncio.ensure_future(self._slot_freed.wait()))
        _, pending = await asyncio.wait(waiters, timeout=seconds, return_when="FIRST_COMPLETED")
        for future in pending:
            future.cancel()
        self._work_signal.clear()

    async def _maintain(self) -> None:
        clock = time.monotonic()
        if clock - self._last_renewal >= self._settings.lease_seconds / 3:
            async with self._write_turn(), self._sessions() as session:
                await queue.renew_leases(
                    session,
                    worker_id=self.worker_id,
                    execution_ids=self._working,
                    lease_seconds=self._settings.lease_seconds,
                    now=_now(),
                )
                await session.commit()
            # Only once done: after a failed renewal (the database away) the first thing done
            # when it is back is renewing, before expire_leases below could take this
            # worker's own executions away from it.
            self._last_renewal = clock
        if clock - self._last_maintenance < MAINTENANCE_SECONDS:
            return
        self._last_maintenance = clock
        now = _now()
        async with self._write_turn(), self._sessions() as session:
            changes = await queue.expire_leases(
                session, now=now, max_attempts=self._settings.max_attempts
            )
            await session.commit()
        await self._announce(changes)
        async with self._sessions() as session:
            overdue = await queue.overdue_job_ids(session, now)
        for job_id in overdue:
            async with self._write_turn(), self._sessions() as session:
                changes = await queue.fail_unfinished(
                    session,
                    job_id=job_id,
                    code="JOB_TIMEOUT",
                    message="the job's deadline (constraints.timeout) passed before this "
                    "execution finished",
                    stage="deadline",
                    now=now,
                )
                await session.commit()
            await self._announce(changes)

    async def _claim_and_start(self) -> int:
        free = self._free_slots()
        if free <= 0:
            return 0
        room = self._room_by_region()
        open_regions = [region for region, slots in room.items() if slots > 0]
        # No more than the region with the least room can take: the claim does not say which
        # regions its rows will come from.
        limit = min([free, *(room[region] for region in open_regions)])
        token = f"{self.worker_id}:{uuid.uuid4().hex}"
        try:
            async with self._write_turn(), self._sessions() as session:
                changes = await queue.claim(
                    session,
                    worker_id=self.worker_id,
                    claim_token=token,
                    limit=limit,
                    lease_seconds=self._settings.lease_seconds,
                    now=_now(),
                    open_regions=open_regions,
                    served_regions=list(room),
                )
                await session.commit()
        except Exception:
            # Rolled back, or committed with the answer lost: the token tells which.
            self._unsure_claims.append(token)
            raise
        await self._announce(changes)
        self._start([change.execution for change in changes], token)
        return len(changes)

    def _start(self, executions: Sequence[Execution], token: str) -> None:
        self._working.update(execution.id for execution in executions)
        for execution in executions:
            self._calling += 1
            self._calling_in[execution.region] += 1
            self._held_in[execution.region] += 1
            task = asyncio.create_task(self._run_one(execution, token))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            task.add_done_callback(lambda _: self._slot_freed.set())

    async def _resolve_unsure_claims(self) -> None:
        """Runs what the claims of `_unsure_claims` took if they committed after all. Their
        slots are still free: no claim was made since (this comes first, and raises while
        the database is away), and the only change meanwhile is attempts ending."""
        while self._unsure_claims:
            token = self._unsure_claims[0]
            async with self._sessions() as session:
                held = await queue.claimed_with(session, token)
            self._unsure_claims.pop(0)
            if held:
                # The claim's own events were never published: the attempts' endings
                # carry the job's progress.
                log.warning(
                    "a claim whose commit went unanswered had committed; running its executions",
                    extra={"worker_id": self.worker_id, "executions": len(held)},
                )
                self._start(held, token)

    def _room_by_region(self) -> dict[str, int]:
        """Calls each served region's providers can still start here."""
        slots: Counter[str] = Counter()
        for handle in self._registry.handles:
            slots[handle.config.region] += handle.config.max_concurrency
        return {
            region: max(0, min(n - self._calling_in[region], 2 * n - self._held_in[region]))
            for region, n in slots.items()
        }

    def _free_slots(self) -> int:
        concurrency = self._settings.concurrency
        waiting_room = (1 + WAITING_PER_SLOT) * concurrency - len(self._inflight)
        return max(0, min(concurrency - self._calling, waiting_room))

    async def _announce(self, changes: Sequence[ExecutionChange]) -> None:
        await self._announcer(changes)

    # ---- one execution --------------------------------------------------------------

    async def _job(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is not None and not _deadline_passed(job):
            return job
        # A claim starts many attempts of a new job at once: one of them reads it.
        async with self._job_read:
            job = self._jobs.get(job_id)
            # A cached deadline that has passed may have been extended by a retry: re-read.
            if job is None or _deadline_passed(job):
                async with self._sessions() as session:
                    job = await session.get(Job, job_id)
                if job is None:
                    raise LookupError(job_id)
                self._jobs[job_id] = job
        return job

    async def _run_one(self, execution: Execution, token: str) -> None:
        try:
            try:
                ended = await self._attempt(execution, token)
            finally:
                self._calling -= 1
                self._calling_in[execution.region] -= 1
                self._slot_freed.set()
            if isinstance(ended, Answer):
                # Outside any transaction and off the event loop, batched with the other
                # answers waiting (see `classifying`); the label is recorded with the answer.
                ended = ended.labelled(await self._classify(ended.text, ended.question))
            await self._record(execution, token, ended)
        except Exception:
            # The lease expires and another attempt takes the execution; nothing is lost.
            log.exception(
                "attempt crashed",
                extra={"execution_id": execution.id, "job_id": execution.job_id},
            )
        finally:
            self._working.discard(execution.id)
            self._held_in[execution.region] -= 1

    def _pick_provider(
        self, candidates: list[ProviderHandle], execution: Execution
    ) -> ProviderHandle:
        untried = [h for h in candidates if h.config.name != execution.error_provider_id]
        ranked = untried or candidates
        # The best one with a free slot: the region was claimed from for its free slots.
        return next((h for h in ranked if h.has_free_slot), ranked[0])

    async def _attempt(self, execution: Execution, token: str) -> Outcome | Answer:
        job = await self._job(execution.job_id)
        started = _now()
        clock = time.monotonic()
        base = {
            "job_id": execution.job_id,
            "execution_id": execution.id,
            "region": execution.region,
            "model": execution.model_id,
            "attempt": execution.attempts,
            "worker_id": self.worker_id,
        }
        try:
            candidates = self._registry.route(cast(Region, execution.region), execution.model_id)
        except NoRouteError as unroutable:
            return self._failure(
                execution,
                token,
                started,
                clock,
                base,
                code=unroutable.code,
                message=unroutable.message,
                stage="routing",
                transient=False,
                provider=None,
                http_status=None,
                retry_after=None,
                alternatives=False,
            )
        handle = self._pick_provider(candidates, execution)
        timeout = handle.config.timeout_seconds
        if job.provider_timeout_seconds is not None:
            timeout = min(timeout, job.provider_timeout_seconds)
        deadline_cuts = False
        if job.deadline_at is not None:
            left = (job.deadline_at - started).total_seconds()
            if left < MIN_CALL_SECONDS:
                # No call starts that could not finish before the deadline: it would be paid
                # for and thrown away.
                return self._deadline_failure(
                    execution, token, started, clock, base, _DEADLINE_BEFORE_CALL, provider=None
                )
            deadline_cuts = left < timeout
            timeout = min(timeout, left)
        request = handle.request(
            model_id=execution.model_id,
            prompt=execution.prompt,
            system_prompt=execution.system_prompt,
            temperature=execution.temperature,
            max_tokens=execution.max_tokens,
            top_p=execution.top_p,
        )
        # The provider's own timeout is enforced by its client; a shorter one from the job
        # (or its deadline) only by this guard.
        guard = (
            timeout
            if timeout < handle.config.timeout_seconds
            else (timeout + TIMEOUT_MARGIN_SECONDS)
        )
        failure: ProviderCallError | None = None
        try:
            async with asyncio.timeout(guard):
                result = await self._registry.generate(handle, request)
        except ProviderCallError as raised:
            failure = raised
        except TimeoutError:
            if deadline_cuts:
                # Cut off by the job's deadline, not by a slow provider: the provider keeps
                # its good name and the execution fails as the job does.
                return self._deadline_failure(
                    execution,
                    token,
                    started,
                    clock,
                    base,
                    _deadline_during_call(timeout),
                    provider=handle.config.name,
                )
            failure = ProviderCallError(
                "PROVIDER_TIMEOUT", f"no answer within {timeout:g} s", transient=True
            )
            self._registry.record_failure(handle.config.name, failure)
        if failure is not None:
            return self._failure(
                execution,
                token,
                started,
                clock,
                base,
                code=failure.code,
                message=failure.message,
                stage=_stage(failure.code),
                transient=failure.transient,
                provider=handle.config.name,
                http_status=failure.http_status,
                retry_after=failure.retry_after,
                alternatives=len(candidates) > 1,
                deadline_at=job.deadline_at,
                partial_response=failure.partial_body,
            )
        seconds = time.monotonic() - clock
        duration_ms = int(seconds * 1000)
        record_attempt(
            provider=handle.config.name,
            region=execution.region,
            outcome="COMPLETED",
            seconds=seconds,
        )
        return Answer(
            text=result.text,
            question=execution.prompt,
            provider_id=handle.config.name,
            completed_at=_now(),
            duration_ms=duration_ms,
            attempt=queue.AttemptRecord(
                execution_id=execution.id,
                attempt=execution.attempts,
                claim_token=token,
                provider_id=handle.config.name,
                started_at=started,
                duration_ms=duration_ms,
                outcome=ExecutionStatus.COMPLETED,
                http_status=result.http_status,
                message=None,
            ),
            log_fields={
                **base,
                "provider": handle.config.name,
                "outcome": ExecutionStatus.COMPLETED.value,
                "duration_ms": duration_ms,
                "http_status": result.http_status,
            },
        )

    def _deadline_failure(
        self,
        execution: Execution,
        token: str,
        started: datetime,
        clock: float,
        base: dict[str, Any],
        message: str,
        *,
        provider: str | None,
    ) -> Outcome:
        """JOB_TIMEOUT: the job's deadline, not the provider, ended this attempt."""
        return self._failure(
            execution,
            token,
            started,
            clock,
            base,
            code="JOB_TIMEOUT",
            message=message,
            stage="deadline",
            transient=False,
            provider=provider,
            http_status=None,
            retry_after=None,
            alternatives=False,
        )

    def _failure(
        self,
        execution: Execution,
        token: str,
        started: datetime,
        clock: float,
        base: dict[str, Any],
        *,
        code: str,
        message: str,
        stage: str,
        transient: bool,
        provider: str | None,
        http_status: int | None,
        retry_after: float | None,
        alternatives: bool,
        deadline_at: datetime | None = None,
        partial_response: str | None = None,
    ) -> Outcome:
        seconds = time.monotonic() - clock
        duration_ms = int(seconds * 1000)
        now = _now()
        decision = decide_retry(
            code=code,
            transient=transient,
            attempt=execution.attempts,
            max_attempts=self._settings.max_attempts,
            retry_after=retry_after,
            other_provider_available=alternatives,
            rng=self._rng,
            seconds_to_deadline=None
            if deadline_at is None
            else (deadline_at - now).total_seconds(),
        )
        if decision.why_not is not None:
            message = f"{message}; not retried: {decision.why_not}"
        record_attempt(
            provider=provider,
            region=execution.region,
            outcome=code,
            seconds=seconds,
            retried=decision.retry,
        )
        error = queue.AttemptError(
            code=code, message=message, stage=stage, transient=transient, provider_id=provider
        )
        ending: queue.Ending = (
            queue.Retrying(error, available_at=now + timedelta(seconds=decision.delay_seconds))
            if decision.retry
            else queue.Failed(
                error,
                completed_at=now,
                duration_ms=duration_ms,
                partial_response=partial_response,
            )
        )
        return Outcome(
            ending=ending,
            attempt=queue.AttemptRecord(
                execution_id=execution.id,
                attempt=execution.attempts,
                claim_token=token,
                provider_id=provider,
                started_at=started,
                duration_ms=duration_ms,
                outcome=code,
                http_status=http_status,
                message=message,
            ),
            log_fields={
                **base,
                "provider": provider,
                "outcome": code,
                "duration_ms": duration_ms,
                "http_status": http_status,
                "transient": transient,
                "retry_in_s": round(decision.delay_seconds, 3) if decision.retry else None,
                "error": message,
            },
        )

    async def _record(self, execution: Execution, token: str, outcome: Outcome) -> None:
        facts = None
        if self._receipts is not None and not isinstance(outcome.ending, queue.Retrying):
            facts = await self._receipts.facts(execution, await self._job(execution.job_id))
        held = await self._settler.settle(
            queue.Settlement(execution.id, token, outcome.ending, outcome.attempt), facts
        )
        if not held:
            log.warning(
                "attempt result discarded: the claim no longer holds (cancelled, timed out "
                "or lease expired)",
                extra={**outcome.log_fields, "outcome": "DISCARDED"},
            )
            return
        level = logging.INFO if isinstance(outcome.ending, queue.Answered) else logging.WARNING
        log.log(level, "attempt finished", extra=outcome.log_fields)


def _deadline_passed(job: Job) -> bool:
    return job.deadline_at is not None and job.deadline_at < _now()


def _stage(code: str) -> str:
    if code in ("BAD_PROVIDER_RESPONSE", "RESPONSE_TOO_LARGE"):
        return "response_parsing"
    return "provider_call"


_DEADLINE_BEFORE_CALL = (
    "the job's deadline (constraints.timeout) left too little time to call a provider"
)


def _deadline_during_call(seconds: float) -> str:
    return (
        f"the job's deadline (constraints.timeout) passed during the provider call "
        f"({seconds:.3g} s were left when it started)"
    )


@contextlib.asynccontextmanager
async def running_worker(worker: Worker) -> Any:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name=worker.worker_id)
    try:
        yield worker
    finally:
        stop.set()
        await task
