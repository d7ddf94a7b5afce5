from __future__ import annotations

import pytest

from beacon_gql.providers.regions import KNOWN_REGIONS, normalise_region


@pytest.mark.parametrize(
    "name",
    [
        "US",
        "us",
        "USA",
        "us-east",
        "US-EAST",
        "us-east-1",
        "us_east_1",
        "us-west",
        "us-west-2",
        "us-central",
        "us-central1",
        "north-america",
        "North America",
        "eastus2",
    ],
)
def test_us_aliases(name: str) -> None:
    assert normalise_region(name) == "US"


@pytest.mark.parametrize(
    "name",
    [
        "EU",
        "eu",
        "europe",
        "Europe",
        "eu-west",
        "eu-west-1",
        "eu-central",
        "eu-central-1",
        "eu-north",
        "europe-west4",
        "westeurope",
    ],
)
def test_eu_aliases(name: str) -> None:
    assert normalise_region(name) == "EU"


@pytest.mark.parametrize(
    "name",
    [
        "ASIA",
        "asia",
        "APAC",
        "apac",
        "asia-pacific",
        "Asia Pacific",
        "ap-southeast",
        "ap-southeast-1",
        "ap-northeast-1",
        "asia-east",
        "asia-east1",
        "asia-southeast1",
        "southeastasia",
    ],
)
def test_asia_aliases(name: str) -> None:
    assert normalise_region(name) == "ASIA"


@pytest.mark.parametrize(
    "name", ["", "  ", "mars", "us-mars", "eu-", "africa", "sa-east-1", "me-central-1", "usa-1x"]
)
def test_unknown_regions_are_none(name: str) -> None:
    assert normalise_region(name) is None


def test_canonical_names_are_fixed_points() -> None:
    assert KNOWN_REGIONS == ("US", "EU", "ASIA")
    for region in KNOWN_REGIONS:
        assert normalise_region(region) == region
