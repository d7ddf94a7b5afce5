"""The services one process runs, built from Settings, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from beacon_gql.analysis.classifier_process import stop as stop_classifier
from beacon_gql.analysis.classifier_process import warm_up as warm_up_classifier
from beacon_gql.analysis.classify import classify_answer
from beacon_gql.analysis.service import AnalysisService
from beacon_gql.config import Settings
from beacon_gql.db import migrate
from beacon_gql.db.engine import (
    SessionFactory,
    create_engine,
    create_read_connection_factory,
    create_read_session_factory,
    create_session_factory,
)
from beacon_gql.db.models import Job
from beacon_gql.db.statuses import Progress
from beacon_gql.errors import BadUserInput
from beacon_gql.events.broadcast import create_backend
from beacon_gql.events.hub import EventHub
from beacon_gql.execution.announce import ChangeAnnouncer
from beacon_gql.execution.classifying import BatchingClassifier
from beacon_gql.execution.worker import Worker, WorkerSettings
from beacon_gql.jobs.abuse import AuthFailureLimiter
from beacon_gql.jobs.catalogue_access import QuestionCatalogue
from beacon_gql.jobs.control import JobControl
from beacon_gql.jobs.persisted_documents import PersistedDocuments
from beacon_gql.jobs.progress_stream import ProgressStreams
from beacon_gql.jobs.reading import JobReader
from beacon_gql.jobs.response_cache import ResponseCache
from beacon_gql.jobs.shared_reads import SharedReads
from beacon_gql.jobs.submission import SubmissionService
from beacon_gql.jobs.trust import TrustStore
from beacon_gql.providers.config import load_providers_file
from beacon_gql.providers.http import provider_http_client
from beacon_gql.providers.regions import Region, normalise_region
from beacon_gql.providers.registry import ProviderRegistry
from beacon_gql.receipts.keys import load_keyring
from beacon_gql.receipts.service import ReceiptService

log = logging.getLogger("beacon_gql.services")

# Models a job may name when no providers file says which are served.
DEFAULT_MODELS = frozenset({"llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"})


def classify(text: str, question: str | None = None) -> tuple[str, list[str]]:
    """One answer's label and evidence (one encoder pass: batch with `classify_answers`)."""
    result = classify_answer(text, succeeded=True, question=question)
    return result.label.value, list(result.evidence)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    http: httpx.AsyncClient
    registry: ProviderRegistry
    trust: TrustStore
    hub: EventHub
    reader: JobReader
    catalogue: QuestionCatalogue
    analysis: AnalysisService
    submission: SubmissionService
    control: JobControl
    progress: ProgressStreams
    announcer: ChangeAnnouncer
    responses: ResponseCache
    receipts: ReceiptService
    persisted: PersistedDocuments
    work_signal: asyncio.Event = field(default_factory=asyncio.Event)
    classifier: BatchingClassifier = field(default_factory=BatchingClassifier)

    def known_models(self) -> frozenset[str]:
        served = {model for handle in self.registry.handles for model in handle.config.models}
        return frozenset(served) if served else DEFAULT_MODELS

    @staticmethod
    def normalise_region(name: str) -> Region:
        region = normalise_region(name)
        if region is None:
            raise BadUserInput(f"unknown region {name!r}; known regions are US, EU, ASIA")
        return region

    def new_worker(self) -> Worker:
        return Worker(
            self.sessions,
            self.registry,
            announce=self.announcer,
            classify=self.classifier.classify,
            settings=WorkerSettings(
                concurrency=self.settings.worker_concurrency,
                lease_seconds=self.settings.lease_seconds,
                max_attempts=self.settings.max_attempts,
            ),
            work_signal=self.work_signal,
            serialize_writes=self.settings.is_sqlite,
            receipts=self.receipts,
        )

    async def wake_workers(self) -> None:
        self.work_signal.set()
        try:
            await self.hub.announce_work()
        except Exception:
            log.warning("could not announce new work; workers will find it by polling")

    async def job_submitted(self, job: Job) -> None:
        """Wake the workers, and tell whoever follows the job list."""
        await self.wake_workers()
        try:
            await self.hub.publish_job_created(job.id, job.status, Progress.of(job))
        except Exception:
            log.warning("could not announce the new job %s to job-list followers", job.id)


def build_services(
    settings: Settings, engine: AsyncEngine | None = None, hub: EventHub | None = None
) -> Services:
    # The files first: a mistake in one is reported before a database file is made.
    configs = (
        [] if settings.providers_file is None else load_providers_file(settings.providers_file)
    )
    trust = (
        TrustStore.empty()
        if settings.trusted_keys_file is None
        else TrustStore.from_file(settings.trusted_keys_file)
    )
    engine = engine or create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    http = provider_http_client(configs)
    registry = ProviderRegistry(configs, http)
    hub = hub or EventHub(create_backend(settings.broadcast_url))
    reader = JobReader(create_read_session_factory(engine), create_read_connection_factory(engine))
    catalogue = QuestionCatalogue(sessions)
    analysis = AnalysisService(sessions)
    receipts = ReceiptService(sessions, load_keyring(settings.signing_key_file))
    announcer = ChangeAnnouncer(hub, analysis, receipts)
    services: Services
    work_signal = asyncio.Event()

    async def wake() -> None:
        await services.wake_workers()

    submission = SubmissionService(
        sessions,
        trust,
        catalogue,
        lambda: services.known_models(),
        max_spec_age_seconds=settings.max_spec_age_seconds,
        on_submitted=lambda _job: work_signal.set(),
        # In memory, per process (README, Security): each API process counts on its own.
        auth_failures=AuthFailureLimiter(
            settings.auth_failure_limit, settings.auth_failure_window_seconds
        ),
    )
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        http=http,
        registry=registry,
        trust=trust,
        hub=hub,
        reader=reader,
        catalogue=catalogue,
        analysis=analysis,
        submission=submission,
        control=JobControl(sessions, announcer, wake),
        progress=ProgressStreams(hub, reader),
        announcer=announcer,
        # A burst of hits on one job checks its version with one query.
        responses=ResponseCache(
            settings.response_cache_mib * 2**20, SharedReads(reader.versions).get
        ),
        receipts=receipts,
        persisted=PersistedDocuments(sessions, mode=settings.persisted_queries),
        work_signal=work_signal,
    )
    return services


@contextlib.asynccontextmanager
async def running_services(
    settings: Settings, *, run_worker: bool, auto_migrate: bool | None = None
) -> AsyncIterator[Services]:
    """Start everything a process needs; on exit stop it in reverse order."""
    # What can be missing or down is reached first, so that a start that fails makes
    # nothing (the default receipt key file, a migration): the database, the broadcast server.
    engine = create_engine(settings.database_url)
    hub = EventHub(create_backend(settings.broadcast_url))
    try:
        if not settings.is_sqlite:
            async with engine.connect():
                pass
        await hub.start()
    except BaseException:
        await engine.dispose()
        raise
    try:
        services = build_services(settings, engine=engine, hub=hub)
    except BaseException:
        await hub.stop()
        await engine.dispose()
        raise
    try:
        services.hub.on_work_announced(services.work_signal.set)
        if auto_migrate if auto_migrate is not None else settings.is_sqlite:
            await migrate.upgrade(services.engine)
        else:
            await migrate.require_current(services.engine)
    except BaseException:
        await services.hub.stop()
        await services.http.aclose()
        await services.engine.dispose()
        raise
    stop = asyncio.Event()
    background: list[asyncio.Task[None]] = []
    if services.registry.handles:
        background.append(
            asyncio.create_task(
                services.registry.run_health_checks(settings.health_check_interval_seconds, stop),
                name="provider-health",
            )
        )
    if run_worker:
        warm_up_classifier()
        worker = services.new_worker()
        background.append(asyncio.create_task(worker.run(stop), name=worker.worker_id))
    try:
        yield services
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await asyncio.to_thread(stop_classifier)
        await services.hub.stop()
        await services.http.aclose()
        await services.engine.dispose()
