"""The three regions a job can ask for, and the many ways operators spell them.

The predecessor compared "US" with its router's "us-east", never matched, and let any
provider answer. Every region name that enters the system goes through `normalise_region`,
so comparisons are always between the three canonical names.
"""

from __future__ import annotations

import re
from typing import Literal

Region = Literal["US", "EU", "ASIA"]

KNOWN_REGIONS: tuple[Region, ...] = ("US", "EU", "ASIA")

_EXACT_ALIASES: dict[str, Region] = {
    "us": "US",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united-states": "US",
    "north-america": "US",
    "na": "US",
    "eu": "EU",
    "europe": "EU",
    "european-union": "EU",
    "asia": "ASIA",
    "apac": "ASIA",
    "asia-pacific": "ASIA",
    "asiapacific": "ASIA",
}

_DIRECTION = r"(east|west|central|north|south|northeast|northwest|southeast|southwest)"

# Cloud vendors' datacentre names: AWS "us-east-1", GCP "us-central1" / "europe-west4" /
# "asia-southeast1", Azure "eastus2" / "westeurope" / "southeastasia".
_PATTERNS: tuple[tuple[re.Pattern[str], Region], ...] = (
    (re.compile(rf"us(-gov)?-{_DIRECTION}(-?\d+)?"), "US"),
    (re.compile(r"(north|south|west|east)?(central)?us\d*"), "US"),
    (re.compile(rf"(eu|europe)-{_DIRECTION}(-?\d+)?"), "EU"),
    (re.compile(r"(north|west)europe"), "EU"),
    (re.compile(rf"(ap|asia|apac)-({_DIRECTION}|pacific)(-?\d+)?"), "ASIA"),
    (re.compile(r"(east|southeast)asia"), "ASIA"),
)


def normalise_region(name: str) -> Region | None:
    """The canonical region for `name` ("us-east-1" -> "US"), or None when it names none."""
    key = re.sub(r"[\s_]+", "-", name.strip().lower())
    if not key:
        return None
    if key in _EXACT_ALIASES:
        return _EXACT_ALIASES[key]
    for pattern, region in _PATTERNS:
        if pattern.fullmatch(key):
            return region
    return None
