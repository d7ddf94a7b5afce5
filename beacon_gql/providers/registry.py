"""The configured providers, their health, and which of them may serve an execution.

Routing never leaves the execution's region: the predecessor let any region answer when
names did not match, which silently destroyed the comparison a job exists to make.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import httpx

from beacon_gql.providers.client import (
    GenerationRequest,
    GenerationResult,
    ProviderCallError,
    ProviderClient,
)
from beacon_gql.providers.config import ProviderConfig, load_providers_file
from beacon_gql.providers.health import ProviderHealth
from beacon_gql.providers.kinds import make_client
from beacon_gql.providers.regions import KNOWN_REGIONS, Region

logger = logging.getLogger(__name__)

NoRouteCode = Literal["NO_PROVIDER_IN_REGION", "MODEL_NOT_SERVED"]


class NoRouteError(Exception):
    def __init__(self, code: NoRouteCode, message: str) -> None:
        super().__init__(message)
        self.code: NoRouteCode = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class ProviderStatus:
    name: str
    region: Region
    kind: str
    models: list[str]
    """Job model ids, sorted."""
    healthy: bool
    last_error: str | None
    last_error_at: datetime | None
    latency_ms: float | None
    base_url: str
    consecutive_failures: int
    last_checked_at: datetime | None


class ProviderHandle:
    """One provider as the engine uses it: its config, its client, its concurrency bound."""

    def __init__(self, config: ProviderConfig, client: ProviderClient) -> None:
        self.config = config
        self.client = client
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._in_flight = 0

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def has_free_slot(self) -> bool:
        return self._in_flight < self.config.max_concurrency

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Waits until fewer than `max_concurrency` calls to this provider are in flight."""
        async with self._slots:
            self._in_flight += 1
            try:
                yield
            finally:
                self._in_flight -= 1

    def request(
        self,
        *,
        model_id: str,
        prompt: str,
        system_prompt: str | None,
        temperature: float,
        max_tokens: int,
        top_p: float | None = None,
    ) -> GenerationRequest:
        """The request for job model `model_id`, named as this endpoint knows it."""
        return GenerationRequest(
            model=self.config.models[model_id],
            prompt=prompt,
            system_prompt=system_prompt,
            temperature=temperature,
            max_tokens=max_tokens,
            region=self.config.region,
            top_p=top_p,
        )

    def __repr__(self) -> str:
        return f"<ProviderHandle {self.name} {self.config.region} {self.config.kind}>"


class ProviderRegistry:
    def __init__(self, configs: Sequence[ProviderConfig], http: httpx.AsyncClient) -> None:
        self._handles: dict[str, ProviderHandle] = {}
        self._health: dict[str, ProviderHealth] = {}
        for config in configs:
            if config.name in self._handles:
                raise ValueError(f"duplicate provider name {config.name!r}")
            self._handles[config.name] = ProviderHandle(config, make_client(config, http))
            self._health[config.name] = ProviderHealth()
        self.health_checked = asyncio.Event()
        """Set once a round of health checks has completed: statuses before it are guesses."""

    @classmethod
    def from_file(cls, path: Path, http: httpx.AsyncClient) -> ProviderRegistry:
        return cls(load_providers_file(path), http)

    @property
    def handles(self) -> list[ProviderHandle]:
        return list(self._handles.values())

    def handle(self, name: str) -> ProviderHandle:
        """Raises KeyError for a name that is not configured."""
        return self._handles[name]

    def route(self, region: Region, model_id: str) -> list[ProviderHandle]:
        """Providers of exactly `region` serving `model_id`, best first.

        Healthy before unhealthy (unhealthy ones stay listed as a last resort), then lowest
        recent latency; a provider never measured comes first among its peers so it gets
        measured. Raises NoRouteError; never returns another region's provider.
        """
        in_region = [h for h in self._handles.values() if h.config.region == region]
        if not in_region:
            raise NoRouteError(
                "NO_PROVIDER_IN_REGION", f"no provider is configured in region {region}"
            )
        serving = [h for h in in_region if model_id in h.config.models]
        if not serving:
            served = ", ".join(sorted(self.models_served(region))) or "none"
            raise NoRouteError(
                "MODEL_NOT_SERVED",
                f"no provider in region {region} serves model {model_id!r} (served: {served})",
            )
        return sorted(serving, key=self._rank)

    def _rank(self, handle: ProviderHandle) -> tuple[bool, float, str]:
        health = self._health[handle.name]
        latency = -1.0 if health.latency_s is None else health.latency_s
        return (not health.healthy, latency, handle.name)

    def models_served(self, region: Region) -> set[str]:
        return {
            model_id
            for handle in self._handles.values()
            if handle.config.region == region
            for model_id in handle.config.models
        }

    async def generate(
        self, handle: ProviderHandle, request: GenerationRequest
    ) -> GenerationResult:
        """One attempt through `handle`: waits for a slot, calls, records the outcome."""
        async with handle.slot():
            started = time.monotonic()
            try:
                result = await handle.client.generate(request)
            except ProviderCallError as error:
                self.record_failure(handle.name, error)
                raise
            self.record_success(handle.name, time.monotonic() - started)
            return result

    def record_success(self, name: str, latency_s: float) -> None:
        health = self._health[name]
        was_healthy = health.healthy
        health.record_success(latency_s)
        if not was_healthy:
            logger.info("provider %s is healthy again", name)

    def record_failure(self, name: str, error: ProviderCallError) -> None:
        health = self._health[name]
        was_healthy = health.healthy
        health.record_failure(error)
        if was_healthy and not health.healthy:
            logger.warning(
                "provider %s marked unhealthy after %d consecutive failures; last: %s",
                name,
                health.consecutive_failures,
                error,
            )

    async def check_all_health(self) -> None:
        await asyncio.gather(*(self._check(handle) for handle in self._handles.values()))
        self.health_checked.set()

    async def _check(self, handle: ProviderHandle) -> None:
        health = self._health[handle.name]
        was_healthy = health.healthy
        try:
            await handle.client.check_health()
        except ProviderCallError as error:
            health.record_check_failed(error)
            if was_healthy:
                logger.warning("provider %s failed its health check: %s", handle.name, error)
        else:
            health.record_check_passed()
            if not was_healthy:
                logger.info("provider %s passed its health check", handle.name)

    async def run_health_checks(self, interval_s: float, stop: asyncio.Event) -> None:
        """Checks every provider each `interval_s` until `stop` is set; returns promptly then."""
        stopped = asyncio.ensure_future(stop.wait())
        checks: asyncio.Future[None] | None = None
        try:
            while not stop.is_set():
                checks = asyncio.ensure_future(self.check_all_health())
                await asyncio.wait({checks, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    return
                if checks.exception() is not None:
                    logger.error("provider health checks failed", exc_info=checks.exception())
                await asyncio.wait({stopped}, timeout=interval_s)
        finally:
            stopped.cancel()
            if checks is not None and not checks.done():
                checks.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checks

    def statuses(self, region: Region | None = None) -> list[ProviderStatus]:
        """Every provider (or those of `region`), by region then name."""
        handles = sorted(
            (h for h in self._handles.values() if region is None or h.config.region == region),
            key=lambda h: (KNOWN_REGIONS.index(h.config.region), h.name),
        )
        return [self._status(handle) for handle in handles]

    def _status(self, handle: ProviderHandle) -> ProviderStatus:
        config = handle.config
        health = self._health[handle.name]
        return ProviderStatus(
            name=config.name,
            region=config.region,
            kind=config.kind,
            models=sorted(config.models),
            healthy=health.healthy,
            last_error=health.last_error,
            last_error_at=health.last_error_at,
            latency_ms=None if health.latency_s is None else health.latency_s * 1000,
            base_url=config.base_url,
            consecutive_failures=health.consecutive_failures,
            last_checked_at=health.last_checked_at,
        )
