"""When a failed attempt is worth another, and how long to wait before it."""

from __future__ import annotations

import random
from dataclasses import dataclass

BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0
"""The ceiling of our own backoff; a provider's Retry-After is not cut to it."""
MAX_RETRY_AFTER_SECONDS = 3600.0
"""The longest Retry-After honoured for a job without a deadline: a provider asking for
more is as good as down for it, and the execution fails rather than sitting in the queue."""


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay_seconds: float
    why_not: str | None = None
    """Why a transient failure is not retried, when the reason is worth telling the user."""


def decide_retry(
    *,
    code: str,
    transient: bool,
    attempt: int,
    max_attempts: int,
    retry_after: float | None,
    other_provider_available: bool,
    rng: random.Random,
    seconds_to_deadline: float | None = None,
) -> RetryDecision:
    """Exponential backoff with full jitter, for transient failures only.

    A malformed answer gets one more try, not more: a model that answers garbage twice will
    keep doing so. A refused connection with another provider in the region fails over at
    once, since waiting would not make the dead one come back sooner. A provider's
    Retry-After is honoured in full, unless the wait would end past the job's deadline
    (`seconds_to_deadline`, None without one): then the attempt is the last.
    """
    if not transient or attempt >= max_attempts:
        return RetryDecision(retry=False, delay_seconds=0.0)
    if code == "BAD_PROVIDER_RESPONSE" and attempt >= 2:
        return RetryDecision(retry=False, delay_seconds=0.0)
    if code == "PROVIDER_UNREACHABLE" and other_provider_available:
        return RetryDecision(retry=True, delay_seconds=0.0)
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
    delay = rng.uniform(0, ceiling)
    if retry_after is None:
        return RetryDecision(retry=True, delay_seconds=delay)
    limit = MAX_RETRY_AFTER_SECONDS if seconds_to_deadline is None else seconds_to_deadline
    if retry_after >= limit:
        where = "the job's deadline" if seconds_to_deadline is not None else "the longest wait"
        return RetryDecision(
            retry=False,
            delay_seconds=0.0,
            why_not=f"the provider's Retry-After ({retry_after:g} s) goes past {where} "
            f"({max(limit, 0.0):.3g} s away)",
        )
    return RetryDecision(retry=True, delay_seconds=max(delay, retry_after))
