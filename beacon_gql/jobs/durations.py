"""Timeouts as the predecessor wrote them: Go durations, as nanoseconds or as text."""

from __future__ import annotations

import re

from beacon_gql.errors import BadUserInput

_GO_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns))+$")
_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600.0


def parse_timeout(value: object, field: str) -> float:
    """Seconds from a Go `time.Duration`: a JSON number is nanoseconds, text is like "90s"."""
    if isinstance(value, bool):
        raise BadUserInput(f"{field} must be a duration, got a boolean", field=field)
    if isinstance(value, int | float):
        seconds = float(value) / 1e9
    elif isinstance(value, str) and _GO_DURATION.match(value.strip()):
        seconds = sum(
            float(amount) * _UNIT_SECONDS[unit] for amount, unit in _PART.findall(value.strip())
        )
    else:
        raise BadUserInput(
            f"{field} must be nanoseconds (a number, as Go writes a duration) or text like "
            f'"90s" or "10m", got {value!r}',
            field=field,
        )
    if not 1.0 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise BadUserInput(
            f"{field} must be between 1 second and 7 days, got {seconds:g} seconds "
            "(a number is read as nanoseconds)",
            field=field,
        )
    return seconds
