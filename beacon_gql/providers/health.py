"""What one process has recently seen of a provider: healthy or not, how fast, last error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from beacon_gql.providers.client import ProviderCallError

UNHEALTHY_AFTER_FAILURES = 3
"""Consecutive transient failures before a provider is ranked behind healthy ones."""

LATENCY_SMOOTHING = 0.3
"""Weight of the newest latency in the moving average: recent calls matter most, one slow
answer does not reorder the providers."""


@dataclass
class ProviderHealth:
    healthy: bool = True
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_at: datetime | None = None
    latency_s: float | None = None
    """Exponentially weighted moving average of successful generations; None until one."""
    last_checked_at: datetime | None = None

    def record_success(self, latency_s: float) -> None:
        self.healthy = True
        self.consecutive_failures = 0
        if self.latency_s is None:
            self.latency_s = latency_s
        else:
            self.latency_s += LATENCY_SMOOTHING * (latency_s - self.latency_s)

    def record_failure(self, error: ProviderCallError, *, now: datetime | None = None) -> None:
        self._remember(error, now)
        # A permanent failure (unknown model, bad key) says nothing about the endpoint's
        # availability; retrying elsewhere would not help either.
        if not error.transient:
            return
        self.consecutive_failures += 1
        if self.consecutive_failures >= UNHEALTHY_AFTER_FAILURES:
            self.healthy = False

    def record_check_passed(self, *, now: datetime | None = None) -> None:
        self.last_checked_at = now or datetime.now(UTC)
        self.healthy = True
        self.consecutive_failures = 0

    def record_check_failed(self, error: ProviderCallError, *, now: datetime | None = None) -> None:
        # A failed probe is direct evidence, unlike one failed generation among many.
        self._remember(error, now)
        self.last_checked_at = self.last_error_at
        self.healthy = False

    def _remember(self, error: ProviderCallError, now: datetime | None) -> None:
        self.last_error = str(error)
        self.last_error_at = now or datetime.now(UTC)
