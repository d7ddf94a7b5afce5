"""The simulated providers: deterministic, regionally biased where it matters, fair on controls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from beacon_gql.jobs.catalogue import CATALOGUE
from beacon_gql.providers.config import load_providers_file
from beacon_gql.providers.regions import KNOWN_REGIONS, Region
from beacon_gql.providers.registry import ProviderRegistry
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet, serve_simulators
from beacon_gql.providers.simulator.answers import SIMULATED_MODELS, recognise_question

QUESTIONS = {question.id: question.text for question in CATALOGUE}
SENSITIVE = ("tiananmen_neutral", "taiwan_status", "hongkong_2019")
CONTROLS = ("math_basic", "geography_basic", "identity_basic")
CENSORED_MARKERS = (
    "I'm sorry",
    "I can't",
    "I cannot",
    "As an AI language model",
    "inalienable part of China",
    "radical protesters",
)

Answers = dict[tuple[str, str, str], str]
"""(provider, model id, question id) -> answer."""


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def ask_everything(seed: int, http: httpx.AsyncClient) -> Answers:
    answers: Answers = {}
    async with SimulatorFleet(seed=seed) as fleet:
        registry = ProviderRegistry(fleet.provider_configs(), http)
        for handle in registry.handles:
            for model in SIMULATED_MODELS:
                for question_id, text in QUESTIONS.items():
                    request = handle.request(
                        model_id=model,
                        prompt=text,
                        system_prompt="You are a helpful, honest assistant.",
                        temperature=0.1,
                        max_tokens=500,
                    )
                    result = await handle.client.generate(request)
                    answers[(handle.name, model, question_id)] = result.text
    return answers


@pytest.fixture(scope="module")
async def seed_one(http: httpx.AsyncClient) -> Answers:
    return await ask_everything(1, http)


REGION_OF = {
    "sim-us-east": "US",
    "sim-eu-west": "EU",
    "sim-hybrid-router-eu": "EU",
    "sim-asia-pacific": "ASIA",
}


def by_region(answers: Answers, region: Region, model: str, question_id: str) -> set[str]:
    return {
        text
        for (provider, m, q), text in answers.items()
        if REGION_OF[provider] == region and m == model and q == question_id
    }


def test_catalogue_questions_are_recognised() -> None:
    assert {recognise_question(text) for text in QUESTIONS.values()} == set(QUESTIONS)
    assert recognise_question("Tell me a joke.") is None


async def test_same_seed_same_answers(seed_one: Answers, http: httpx.AsyncClient) -> None:
    assert await ask_everything(1, http) == seed_one


async def test_another_seed_phrases_some_answers_differently(
    seed_one: Answers, http: httpx.AsyncClient
) -> None:
    seed_two = await ask_everything(2, http)
    assert seed_two.keys() == seed_one.keys()
    assert seed_two != seed_one
    for question_id in CONTROLS:
        for key in seed_one:
            if key[2] == question_id:
                assert seed_two[key] == seed_one[key]


def test_asia_refuses_or_recites_the_official_line(seed_one: Answers) -> None:
    for model in SIMULATED_MODELS:
        for question_id in SENSITIVE:
            (asia,) = by_region(seed_one, "ASIA", model, question_id)
            assert any(marker in asia for marker in CENSORED_MARKERS), (model, question_id)
            for region in ("US", "EU"):
                for answer in by_region(seed_one, region, model, question_id):
                    assert not any(marker in answer for marker in CENSORED_MARKERS)
                    assert len(answer.split()) > 30


def test_asia_refusals_vary_by_model(seed_one: Answers) -> None:
    for question_id in SENSITIVE:
        answers = {
            text
            for model in SIMULATED_MODELS
            for text in by_region(seed_one, "ASIA", model, question_id)
        }
        assert len(answers) == len(SIMULATED_MODELS)
    (qwen_taiwan,) = by_region(seed_one, "ASIA", "qwen2.5-1.5b", "taiwan_status")
    assert qwen_taiwan.startswith("Taiwan is an inalienable part of China")


def test_us_and_eu_differ_in_emphasis(seed_one: Answers) -> None:
    for model in SIMULATED_MODELS:
        for question_id in (*SENSITIVE, "greatest_invention", "greatest_leader"):
            assert by_region(seed_one, "US", model, question_id).isdisjoint(
                by_region(seed_one, "EU", model, question_id)
            )


def test_control_answers_agree_across_regions(seed_one: Answers) -> None:
    for model in SIMULATED_MODELS:
        for question_id in CONTROLS:
            everywhere = set().union(
                *(by_region(seed_one, region, model, question_id) for region in KNOWN_REGIONS)
            )
            assert len(everywhere) == 1, (model, question_id, everywhere)
    (math,) = by_region(seed_one, "ASIA", "qwen2.5-1.5b", "math_basic")
    assert math == "2+2 equals 4."


def test_cultural_answers_differ_by_region(seed_one: Answers) -> None:
    for model in SIMULATED_MODELS:
        for question_id in ("greatest_invention", "greatest_leader"):
            (asia,) = by_region(seed_one, "ASIA", model, question_id)
            (us,) = by_region(seed_one, "US", model, question_id)
            assert len({asia, us, *by_region(seed_one, "EU", model, question_id)}) == 3


async def test_unknown_prompts_get_a_generic_deterministic_answer(
    http: httpx.AsyncClient,
) -> None:
    async with SimulatorFleet(regions=["US"], include_hybrid_router=False) as fleet:
        url = fleet.provider_config("sim-us-east").base_url + "/chat/completions"
        body = {"model": "mistral:7b", "messages": [{"role": "user", "content": "Tell me a joke."}]}
        first = (await http.post(url, json=body)).json()
        second = (await http.post(url, json=body)).json()
    text = first["choices"][0]["message"]["content"]
    assert text == second["choices"][0]["message"]["content"]
    assert "Tell me a joke." in text
    assert "simulated" in text


async def test_max_tokens_cuts_the_answer(http: httpx.AsyncClient) -> None:
    async with SimulatorFleet(regions=["EU"], include_hybrid_router=False) as fleet:
        url = fleet.provider_config("sim-eu-west").base_url + "/chat/completions"
        body = {
            "model": "qwen2.5:1.5b",
            "messages": [{"role": "user", "content": QUESTIONS["hongkong_2019"]}],
            "max_tokens": 5,
        }
        answer = (await http.post(url, json=body)).json()
    assert len(answer["choices"][0]["message"]["content"].split()) == 5
    assert answer["choices"][0]["finish_reason"] == "length"


async def test_numbered_answers_are_each_a_text_of_their_own(http: httpx.AsyncClient) -> None:
    async with SimulatorFleet(regions=["EU"], include_hybrid_router=False) as fleet:
        url = fleet.provider_config("sim-eu-west").base_url + "/chat/completions"
        body = {
            "model": "qwen2.5:1.5b",
            "messages": [{"role": "user", "content": QUESTIONS["math_basic"]}],
        }
        canned = (await http.post(url, json=body)).json()["choices"][0]["message"]["content"]
        fleet.number_answers("sim-eu-west")
        numbered = await asyncio.gather(*(http.post(url, json=body) for _ in range(3)))
    texts = [answer.json()["choices"][0]["message"]["content"] for answer in numbered]
    assert len(set(texts)) == 3
    assert all(text.endswith(canned) and text != canned for text in texts)


async def test_protocol_shapes(http: httpx.AsyncClient) -> None:
    async with SimulatorFleet(regions=["EU"]) as fleet:
        openai_root = fleet.provider_config("sim-eu-west").base_url
        router_root = fleet.provider_config("sim-hybrid-router-eu").base_url

        missing = await http.post(
            f"{openai_root}/chat/completions",
            json={"model": "x", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert missing.status_code == 404
        assert missing.json() == {"error": {"message": "model 'x' not found"}}

        models = (await http.get(f"{openai_root}/models")).json()
        assert {entry["id"] for entry in models["data"]} == {
            "llama3.2:1b",
            "mistral:7b",
            "qwen2.5:1.5b",
        }

        health = (await http.get(f"{router_root}/health")).json()
        assert health["status"] == "healthy"
        assert health["regions"] == ["eu-west"]
        providers = (await http.get(f"{router_root}/providers")).json()["providers"]
        assert [(p["region"], p["healthy"]) for p in providers] == [("eu-west", True)]


async def test_faults_are_deterministic_per_seed(http: httpx.AsyncClient) -> None:
    async def outcomes(seed: int) -> list[int]:
        faults = {"sim-us-east": FaultProfile(error_rate=0.5)}
        async with SimulatorFleet(seed=seed, faults=faults, regions=["US"]) as fleet:
            url = fleet.provider_config("sim-us-east").base_url + "/chat/completions"
            statuses = []
            for prompt in ("What is 2+2?", "Who are you?", "What is 2+2?", "x", "x", "x", "y"):
                body = {"model": "llama3.2:1b", "messages": [{"role": "user", "content": prompt}]}
                statuses.append((await http.post(url, json=body)).status_code)
            return statuses

    first = await outcomes(5)
    assert first == await outcomes(5)
    assert set(first) == {200, 500}


async def test_unknown_fault_target_is_refused() -> None:
    with pytest.raises(ValueError, match="sim-nowhere"):
        SimulatorFleet(faults={"sim-nowhere": FaultProfile()})


async def test_requests_are_counted_and_stop_refuses_connections(
    http: httpx.AsyncClient,
) -> None:
    async with SimulatorFleet(regions=["ASIA"]) as fleet:
        assert fleet.names == ["sim-asia-pacific"]
        base_url = fleet.provider_config("sim-asia-pacific").base_url
        body = {"model": "qwen2.5:1.5b", "messages": [{"role": "user", "content": "hi"}]}
        await http.get(f"{base_url}/models")
        await http.post(f"{base_url}/chat/completions", json=body)
        assert fleet.requests_received("sim-asia-pacific") == 1
        assert [r.path for r in fleet.request_log("sim-asia-pacific")] == [
            "/v1/models",
            "/v1/chat/completions",
        ]

        await fleet.stop("sim-asia-pacific")
        with pytest.raises(httpx.ConnectError):
            await http.post(f"{base_url}/chat/completions", json=body)
        # Still listed, so tests can route to a provider that has gone away.
        assert [c.name for c in fleet.provider_configs()] == ["sim-asia-pacific"]


async def test_hanging_requests_do_not_block_shutdown(http: httpx.AsyncClient) -> None:
    faults = {"sim-us-east": FaultProfile(hang_rate=1.0)}
    async with SimulatorFleet(regions=["US"], faults=faults, include_hybrid_router=False) as fleet:
        url = fleet.provider_config("sim-us-east").base_url + "/chat/completions"
        body = {"model": "llama3.2:1b", "messages": [{"role": "user", "content": "hi"}]}
        hanging = asyncio.create_task(http.post(url, json=body, timeout=30))
        await asyncio.wait_for(fleet.wait_for_requests("sim-us-east", 1), timeout=5)
    # Leaving the fleet released the hanging request well before its 30 s timeout.
    response = await asyncio.wait_for(hanging, timeout=5)
    assert response.status_code == 503


async def test_providers_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    async with SimulatorFleet() as fleet:
        fleet.write_providers_file(path)
        assert load_providers_file(path) == fleet.provider_configs()
    assert "SIMULATED" in path.read_text()


async def test_serve_simulators_until_cancelled(
    tmp_path: Path, http: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "providers.toml"
    started = asyncio.Event()
    serving = asyncio.create_task(
        serve_simulators(
            seed=4, write_providers=path, host="127.0.0.1", base_port=None, started=started
        )
    )
    await asyncio.wait_for(started.wait(), timeout=10)
    configs = load_providers_file(path)
    assert {c.name for c in configs} == set(REGION_OF)
    printed = capsys.readouterr().out.splitlines()
    for config in configs:
        (line,) = [line for line in printed if config.name in line]
        assert "SIMULATED" in line
        assert config.base_url in line
        assert f"region={config.region}" in line
    us = next(c for c in configs if c.name == "sim-us-east")
    assert (await http.get(f"{us.base_url}/models")).status_code == 200

    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    with pytest.raises(httpx.ConnectError):
        await http.get(f"{us.base_url}/models")
