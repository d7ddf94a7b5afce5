"""When a failed attempt is worth another, and how long to wait before it."""

from __future__ import annotations

import random
from dataclasses import dataclass

BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 30.0


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay_seconds: float


def decide_retry(
    *,
    code: str,
    transient: bool,
    attempt: int,
    max_attempts: int,
    retry_after: float | None,
    other_provider_available: bool,
    rng: random.Random,
) -> RetryDecision:
    """Exponential backoff with full jitter, for transient failures only.

    A malformed answer gets one more try, not more: a model that answers garbage twice will
    keep doing so. A refused connection with another provider in the region fails over at
    once, since waiting would not make the dead one come back sooner.
    """
    if not transient or attempt >= max_attempts:
        return RetryDecision(retry=False, delay_seconds=0.0)
    if code == "BAD_PROVIDER_RESPONSE" and attempt >= 2:
        return RetryDecision(retry=False, delay_seconds=0.0)
    if code == "PROVIDER_UNREACHABLE" and other_provider_available:
        return RetryDecision(retry=True, delay_seconds=0.0)
    ceiling = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** (attempt - 1))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY_SECONDS))
    return RetryDecision(retry=True, delay_seconds=delay)
