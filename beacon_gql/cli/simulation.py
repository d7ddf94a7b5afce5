"""`--latency` and `--faults` of `simulate` and `demo`: how slow and how unreliable the
SIMULATED providers are, so `watch` and the dashboard have something to show."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from beacon_gql.providers.simulator import FaultProfile

# --faults names -> FaultProfile fields; `429` is what people call a rate limit.
_RATES = {
    "error": "error_rate",
    "rate_limit": "rate_limit_rate",
    "429": "rate_limit_rate",
    "hang": "hang_rate",
    "malformed": "malformed_rate",
}
FAULTS_HELP = (
    "comma-separated NAME=RATE (0 to 1) of each simulated provider's requests: error "
    "(HTTP 500), 429 (rate limited; retry_after=SECONDS sets its Retry-After), hang (no "
    "answer until the client gives up), malformed (an answer that is not one); "
    "e.g. error=0.1,429=0.05,hang=0.02,malformed=0.02"
)
LATENCY_HELP = (
    "MS or MS:JITTER: each simulated answer takes MS milliseconds, give or take JITTER "
    "(half of MS unless given)"
)


@dataclass(frozen=True)
class Latency:
    ms: float = 0.0
    jitter_ms: float = 0.0


def latency(text: str) -> Latency:
    mean, _, jitter = text.partition(":")
    try:
        ms = float(mean)
        jitter_ms = float(jitter) if jitter else ms / 2
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MS or MS:JITTER, got {text!r}") from None
    if ms < 0 or jitter_ms < 0:
        raise argparse.ArgumentTypeError(f"latency and jitter cannot be negative: {text!r}")
    return Latency(ms, min(jitter_ms, ms))


def faults(text: str) -> dict[str, float]:
    chosen: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, value = item.partition("=")
        name = name.strip().lower()
        if not equals or (name not in _RATES and name != "retry_after"):
            known = ", ".join([*_RATES, "retry_after"])
            raise argparse.ArgumentTypeError(f"{item!r} is not NAME=VALUE with NAME one of {known}")
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: {value!r} is not a number") from None
        if name == "retry_after":
            if number < 0:
                raise argparse.ArgumentTypeError(f"{item!r}: seconds cannot be negative")
            chosen["retry_after_s"] = number
        elif not 0 <= number <= 1:
            raise argparse.ArgumentTypeError(f"{item!r}: a rate is between 0 and 1")
        else:
            chosen[_RATES[name]] = number
    return chosen


def fault_profile(delay: Latency | None, rates: dict[str, float] | None) -> FaultProfile:
    delay = delay or Latency()
    return FaultProfile(latency_ms=delay.ms, latency_jitter_ms=delay.jitter_ms, **(rates or {}))
