"""Routing stays in the execution's region; ordering follows health, then latency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from beacon_gql.providers.client import ProviderCallError
from beacon_gql.providers.config import ProviderConfig
from beacon_gql.providers.regions import KNOWN_REGIONS, Region
from beacon_gql.providers.registry import NoRouteError, ProviderRegistry
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet

MODELS = ("llama3.2-1b", "mistral-7b", "qwen2.5-1.5b")


def config(name: str, region: Region, models: tuple[str, ...] = MODELS) -> ProviderConfig:
    return ProviderConfig(
        name=name,
        region=region,
        kind="openai",
        base_url=f"http://127.0.0.1:9/{name}/v1",
        api_key_env=None,
        models={model: model.replace("-", ":") for model in models},
        max_concurrency=2,
    )


def transient() -> ProviderCallError:
    return ProviderCallError("PROVIDER_HTTP_ERROR", "HTTP 500", transient=True, http_status=500)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def names(registry: ProviderRegistry, region: Region, model: str) -> list[str]:
    return [handle.name for handle in registry.route(region, model)]


async def test_route_never_leaves_the_region(http: httpx.AsyncClient) -> None:
    registry = ProviderRegistry(
        [
            config("us-a", "US"),
            config("us-b", "US", ("mistral-7b",)),
            config("eu-a", "EU"),
            config("asia-a", "ASIA", ("qwen2.5-1.5b",)),
        ],
        http,
    )
    # Even with every US provider unhealthy, US work never spills to another region.
    for _ in range(3):
        registry.record_failure("us-a", transient())
        registry.record_failure("us-b", transient())
    for region in KNOWN_REGIONS:
        for model in registry.models_served(region):
            assert {h.config.region for h in registry.route(region, model)} == {region}
    assert names(registry, "US", "mistral-7b") == ["us-a", "us-b"]
    assert names(registry, "US", "llama3.2-1b") == ["us-a"]


async def test_no_provider_in_region_versus_model_not_served(http: httpx.AsyncClient) -> None:
    registry = ProviderRegistry([config("us-a", "US"), config("eu-a", "EU", ("mistral-7b",))], http)

    with pytest.raises(NoRouteError) as no_region:
        registry.route("ASIA", "mistral-7b")
    assert no_region.value.code == "NO_PROVIDER_IN_REGION"
    assert "ASIA" in no_region.value.message

    with pytest.raises(NoRouteError) as no_model:
        registry.route("EU", "llama3.2-1b")
    assert no_model.value.code == "MODEL_NOT_SERVED"
    assert "llama3.2-1b" in no_model.value.message
    assert "mistral-7b" in no_model.value.message


async def test_ordering_by_health_then_latency_then_name(http: httpx.AsyncClient) -> None:
    registry = ProviderRegistry(
        [config("eu-c", "EU"), config("eu-b", "EU"), config("eu-a", "EU"), config("eu-d", "EU")],
        http,
    )
    # Never measured: by name.
    assert names(registry, "EU", "mistral-7b") == ["eu-a", "eu-b", "eu-c", "eu-d"]

    registry.record_success("eu-a", 0.9)
    registry.record_success("eu-b", 0.2)
    registry.record_success("eu-c", 0.5)
    # Unmeasured eu-d first so that it gets measured, then fastest first.
    assert names(registry, "EU", "mistral-7b") == ["eu-d", "eu-b", "eu-c", "eu-a"]
    registry.record_success("eu-d", 0.3)
    assert names(registry, "EU", "mistral-7b") == ["eu-b", "eu-d", "eu-c", "eu-a"]

    # Two transient failures leave eu-b healthy; the third ranks it last.
    registry.record_failure("eu-b", transient())
    registry.record_failure("eu-b", transient())
    assert names(registry, "EU", "mistral-7b")[0] == "eu-b"
    registry.record_failure("eu-b", transient())
    assert names(registry, "EU", "mistral-7b") == ["eu-d", "eu-c", "eu-a", "eu-b"]

    # One success makes it healthy again.
    registry.record_success("eu-b", 0.2)
    assert names(registry, "EU", "mistral-7b")[0] == "eu-b"


async def test_latency_is_a_moving_average(http: httpx.AsyncClient) -> None:
    registry = ProviderRegistry([config("us-a", "US"), config("us-b", "US")], http)
    registry.record_success("us-a", 0.1)
    registry.record_success("us-b", 0.2)
    registry.record_success("us-a", 1.0)  # one slow call: 0.1 + 0.3 * 0.9 = 0.37
    assert names(registry, "US", "mistral-7b") == ["us-b", "us-a"]
    (status_a, _) = registry.statuses("US")
    assert status_a.latency_ms == pytest.approx(370.0)


async def test_permanent_failures_do_not_make_a_provider_unhealthy(
    http: httpx.AsyncClient,
) -> None:
    registry = ProviderRegistry([config("us-a", "US")], http)
    missing = ProviderCallError("MODEL_NOT_SERVED", "HTTP 404", transient=False, http_status=404)
    for _ in range(5):
        registry.record_failure("us-a", missing)
    (status,) = registry.statuses()
    assert status.healthy
    assert status.last_error == "MODEL_NOT_SERVED: HTTP 404"
    assert status.last_error_at is not None


async def test_statuses_and_models_served(http: httpx.AsyncClient) -> None:
    registry = ProviderRegistry(
        [config("eu-a", "EU", ("mistral-7b",)), config("us-a", "US"), config("asia-a", "ASIA")],
        http,
    )
    assert [s.name for s in registry.statuses()] == ["us-a", "eu-a", "asia-a"]
    assert [s.name for s in registry.statuses("EU")] == ["eu-a"]
    (eu,) = registry.statuses("EU")
    assert (eu.region, eu.kind, eu.models, eu.healthy) == ("EU", "openai", ["mistral-7b"], True)
    assert (eu.last_error, eu.last_error_at, eu.latency_ms) == (None, None, None)
    assert eu.base_url == "http://127.0.0.1:9/eu-a/v1"
    assert registry.models_served("EU") == {"mistral-7b"}
    assert registry.models_served("US") == set(MODELS)


async def test_duplicate_names_are_refused(http: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        ProviderRegistry([config("x", "US"), config("x", "EU")], http)


async def test_slot_bounds_concurrency_per_provider(http: httpx.AsyncClient) -> None:
    registry = ProviderRegistry([config("us-a", "US")], http)  # max_concurrency=2
    handle = registry.handle("us-a")
    entered = asyncio.Event()

    async def third_call() -> None:
        async with handle.slot():
            entered.set()

    async with handle.slot(), handle.slot():
        assert (handle.in_flight, handle.has_free_slot) == (2, False)
        waiting = asyncio.create_task(third_call())
        for _ in range(5):  # let the task run as far as it can
            await asyncio.sleep(0)
        assert not entered.is_set()
    await asyncio.wait_for(entered.wait(), timeout=1)
    await waiting
    assert handle.in_flight == 0


async def test_simulated_traffic_stays_in_region(http: httpx.AsyncClient) -> None:
    async with SimulatorFleet(seed=3) as fleet:
        registry = ProviderRegistry(fleet.provider_configs(), http)
        before = {name: fleet.requests_received(name) for name in fleet.names}
        served: dict[Region, set[str]] = {region: set() for region in KNOWN_REGIONS}
        for region in KNOWN_REGIONS:
            for model in MODELS:
                for handle in registry.route(region, model):
                    request = handle.request(
                        model_id=model,
                        prompt="What is 2+2?",
                        system_prompt=None,
                        temperature=0.1,
                        max_tokens=500,
                    )
                    result = await registry.generate(handle, request)
                    assert result.text == "2+2 equals 4."
                    served[region].add(handle.name)
        received = {name: fleet.requests_received(name) - before[name] for name in fleet.names}

    assert served == {
        "US": {"sim-us-east"},
        "EU": {"sim-eu-west", "sim-hybrid-router-eu"},
        "ASIA": {"sim-asia-pacific"},
    }
    assert received == {
        "sim-us-east": 3,
        "sim-eu-west": 3,
        "sim-hybrid-router-eu": 3,
        "sim-asia-pacific": 3,
    }
    statuses = {status.name: status for status in registry.statuses()}
    assert all(status.latency_ms is not None for status in statuses.values())


async def test_generate_records_failures_and_health_checks_restore(
    http: httpx.AsyncClient,
) -> None:
    faults = {"sim-us-east": FaultProfile(error_rate=1.0)}
    async with SimulatorFleet(regions=["US"], faults=faults) as fleet:
        registry = ProviderRegistry(fleet.provider_configs(), http)
        (handle,) = registry.route("US", "mistral-7b")
        request = handle.request(
            model_id="mistral-7b",
            prompt="Who are you?",
            system_prompt=None,
            temperature=0.1,
            max_tokens=500,
        )
        for _ in range(3):
            with pytest.raises(ProviderCallError):
                await registry.generate(handle, request)
        (status,) = registry.statuses()
        assert not status.healthy
        assert status.consecutive_failures == 3
        assert status.last_error is not None and "HTTP 500" in status.last_error

        # The endpoint still answers its health route, so a check restores it.
        await registry.check_all_health()
        (status,) = registry.statuses()
        assert status.healthy
        assert status.last_checked_at is not None


async def test_background_health_checks_notice_a_vanished_provider(
    http: httpx.AsyncClient,
) -> None:
    async with SimulatorFleet(include_hybrid_router=False) as fleet:
        registry = ProviderRegistry(fleet.provider_configs(), http)
        await fleet.stop("sim-eu-west")
        stop = asyncio.Event()
        loop = asyncio.create_task(registry.run_health_checks(interval_s=3600, stop=stop))

        await asyncio.wait_for(registry.health_checked.wait(), timeout=5)
        healthy = {status.name: status.healthy for status in registry.statuses()}
        assert healthy == {"sim-us-east": True, "sim-eu-west": False, "sim-asia-pacific": True}
        (eu,) = registry.statuses("EU")
        assert eu.last_error is not None and eu.last_error.startswith("PROVIDER_UNREACHABLE")

        # Stopping does not wait out the hour-long interval.
        stop.set()
        await asyncio.wait_for(loop, timeout=1)
