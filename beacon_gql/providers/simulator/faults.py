"""Faults a simulated provider injects, decided per request from a hash, not from the clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beacon_gql.providers.simulator.deterministic import stable_fraction

Fault = Literal["hang", "rate_limit", "error", "malformed", "oversized", "not_json_typed"]

# When several rates are set, the first fault drawn in this order wins.
_FAULT_ORDER: tuple[Fault, ...] = (
    "hang",
    "rate_limit",
    "error",
    "malformed",
    "oversized",
    "not_json_typed",
)

OVERSIZED_BYTES = 50 * 1024 * 1024
"""How much an oversized answer sends: a model ignoring max_tokens, or a hostile endpoint."""


@dataclass
class FaultProfile:
    """Per-provider fault rates in [0, 1]; 1.0 makes the fault happen on every request."""

    latency_ms: float = 0
    latency_jitter_ms: float = 0
    """Each answer's latency is latency_ms give or take up to this, drawn per request."""
    error_rate: float = 0
    rate_limit_rate: float = 0
    retry_after_s: float = 1
    hang_rate: float = 0
    malformed_rate: float = 0
    oversized_rate: float = 0
    """An answer of OVERSIZED_BYTES, well-formed JSON, streamed."""
    not_json_typed_rate: float = 0
    """A well-formed answer whose Content-Type says text/html."""
    refusal_rate: float | None = None
    """None: the sensitive catalogue questions get the region's usual answers. A number:
    each answered request for one of them is refused with this probability (drawn from the
    seed and how many times the provider was asked before, so a rerun refuses as often) and
    otherwise gets the uncensored answer, whatever the region: the rate alone decides how
    much the provider censors, for tests of the analysis's statistics."""

    def latency_s(
        self, *, seed: int, provider: str, model: str, prompt: str, attempt: int
    ) -> float:
        """This request's latency: the same for the same request, in every run."""
        if self.latency_jitter_ms <= 0:
            return self.latency_ms / 1000
        spread = stable_fraction(seed, provider, model, prompt, attempt, "latency") * 2 - 1
        return max(0.0, self.latency_ms + spread * self.latency_jitter_ms) / 1000

    def rate_of(self, fault: Fault) -> float:
        return {
            "hang": self.hang_rate,
            "rate_limit": self.rate_limit_rate,
            "error": self.error_rate,
            "malformed": self.malformed_rate,
            "oversized": self.oversized_rate,
            "not_json_typed": self.not_json_typed_rate,
        }[fault]


def choose_fault(
    profile: FaultProfile, *, seed: int, provider: str, model: str, prompt: str, attempt: int
) -> Fault | None:
    """The fault for this request, if any.

    `attempt` counts earlier requests for the same model and prompt, so a retry draws
    afresh (and may succeed) while a rerun with the same seed fails the same way.
    """
    for fault in _FAULT_ORDER:
        if stable_fraction(seed, provider, model, prompt, attempt, fault) < profile.rate_of(fault):
            return fault
    return None
