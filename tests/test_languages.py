"""The language dimension: a question compared with its translations (issue 16, item 5).

End to end, a job over the eight built-in questions and their Chinese translations goes to
SIMULATED providers where one model refuses every prompt written in Chinese and another
answers everything: the analysis reports a significant language difference for the first,
with its p-value, and none for the second.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from beacon_gql.analysis import AnswerRecord, compute_analysis, report_from_dict, report_to_dict
from beacon_gql.config import Settings
from beacon_gql.jobs.catalogue import BUILT_IN, CATALOGUE
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from tests.support.jobs import submit_spec, wait_until_finished
from tests.support.server import serve_app
from tests.support.specs import Signer, make_spec

REFUSER = "llama3.2-1b"
ANSWERER = "qwen2.5-1.5b"
NON_CONTROL = [q.id for q in CATALOGUE if q.category != "control"]
OPINION_QUESTIONS = {"greatest_invention", "greatest_leader"}
MISREAD_AT_MOST = 12
"""English answers to the opinion questions (2 x 2 models x 3 regions x 3 runs = 36) the
classifier may misread as EVASIVE (the bound was set when use-m3-qa-logreg-3 misread fewer
than a third)."""
RUNS = 3
"""With 3 samples in each of 3 regions a model's answers to one question are 9 per language:
9 of 9 refused against 0 of 9 gives p = 2 / C(18, 9) = 4.1e-5, still below 0.05 after
Holm's adjustment over the job's 37 tests (about 0.0015). Two samples would not do:
2 / C(12, 6) = 0.0022 per question, 0.08 once adjusted."""

ANALYSIS = """query($id: ID!) { job(id: $id) { biasAnalysis {
  tests recommendation
  keyDifferences { dimension severity questionId regions models languages description
    pValue significant }
  languages { language questions answered censored censorshipRate
    censorshipInterval { low high } models { model censored censorshipRate } }
  translationGroups { questionId category
    languages { language questions answered censored censorshipRate
      censorshipInterval { low high } models { model answered censored censorshipRate } } }
} } }"""


@pytest.fixture
async def fleet() -> AsyncIterator[SimulatorFleet]:
    async with SimulatorFleet(seed=11, include_hybrid_router=False) as running:
        yield running


async def test_a_model_refusing_only_in_chinese_is_a_significant_language_difference(
    sqlite_settings: Settings, fleet: SimulatorFleet, tmp_path: Path, signer: Signer
) -> None:
    for name in ("sim-us-east", "sim-eu-west", "sim-asia-pacific"):
        # Rate 0: the sensitive questions get the uncensored answer in every region, so the
        # language the question is asked in is the only thing that changes the answers.
        fleet.set_faults(name, FaultProfile(refusal_rate=0.0))
        fleet.refuse_chinese(name, [REFUSER])
    providers = tmp_path / "providers.toml"
    fleet.write_providers_file(providers)
    tuned = replace(sqlite_settings, providers_file=providers, worker_concurrency=8, max_attempts=3)
    spec = make_spec(questions=[q.id for q in BUILT_IN], models=[REFUSER, ANSWERER])
    spec["runs"] = RUNS
    async with serve_app(tuned, run_worker=True) as app:
        job_id = await submit_spec(app.services, signer, spec)
        final = await wait_until_finished(app.services, job_id, within=180)
        assert final.job_status == "COMPLETED"
        data = await app.client.data(ANALYSIS, {"id": job_id})
    analysis = data["job"]["biasAnalysis"]

    language = [d for d in analysis["keyDifferences"] if d["dimension"] == "language"]
    significant = [d for d in language if d["significant"]]
    # For every non-control question, and over all of them together: the refuser, in Chinese.
    per_question = {d["questionId"]: d for d in significant if d["questionId"] is not None}
    # The classifier misreads some of the refuser's English answers to the opinion questions
    # as EVASIVE (README, Classification: known errors), which can hide those two.
    assert set(NON_CONTROL) - OPINION_QUESTIONS <= set(per_question) <= set(NON_CONTROL), language
    for question_id, difference in per_question.items():
        assert difference["models"] == [REFUSER]
        assert difference["languages"] == ["zh-Hans", "en"]
        assert difference["regions"] == ["US", "EU", "ASIA"]
        assert difference["severity"] == "HIGH"
        assert 0 < difference["pValue"] < 0.05
        assert f"p = {difference['pValue']:.2g}" in difference["description"]
        assert f"({question_id}_zh) in 9 of 9 answers" in difference["description"]
    pooled = [d for d in significant if d["questionId"] is None]
    # Pooled per model: the refuser; pooled over both models, both are named.
    assert [d["models"] for d in pooled if len(d["models"]) == 1] == [[REFUSER]], pooled
    assert min(d["pValue"] for d in pooled) < 1e-10
    # The model that answers in both languages: no significant language difference of its
    # own (the misread opinion answers may leave a LOW, untested-looking gap).
    assert not [d for d in significant if d["models"] == [ANSWERER]]
    assert all(d["severity"] == "LOW" for d in language if d["models"] == [ANSWERER])
    assert analysis["recommendation"] in ("HIGH", "CRITICAL")
    print(
        f"{len(significant)} significant language differences over {analysis['tests']} tests; "
        f"largest per-question p = {max(d['pValue'] for d in per_question.values()):.2g}"
    )

    by_language = {summary["language"]: summary for summary in analysis["languages"]}
    assert set(by_language) == {"en", "zh-Hans"}
    assert by_language["zh-Hans"]["questions"] == [f"{q.id}_zh" for q in CATALOGUE]
    english_misread = by_language["en"]["censored"]
    assert english_misread <= MISREAD_AT_MOST
    chinese_models = {m["model"]: m for m in by_language["zh-Hans"]["models"]}
    assert chinese_models[REFUSER]["censorshipRate"] == 1.0
    # The answerer's Chinese answers to the opinion questions are misread like its English ones.
    assert chinese_models[ANSWERER]["censorshipRate"] < 0.5
    # The intervals of the two languages do not overlap.
    assert (
        by_language["en"]["censorshipInterval"]["high"]
        < by_language["zh-Hans"]["censorshipInterval"]["low"]
    )

    groups = {group["questionId"]: group for group in analysis["translationGroups"]}
    assert list(groups) == [q.id for q in CATALOGUE]
    tiananmen = groups["tiananmen_neutral"]
    assert [(s["language"], s["questions"]) for s in tiananmen["languages"]] == [
        ("en", ["tiananmen_neutral"]),
        ("zh-Hans", ["tiananmen_neutral_zh"]),
    ]
    chinese = {m["model"]: m for m in tiananmen["languages"][1]["models"]}
    assert chinese[REFUSER] == {
        "model": REFUSER,
        "answered": 3 * RUNS,
        "censored": 3 * RUNS,
        "censorshipRate": 1.0,
    }
    assert chinese[ANSWERER]["censored"] == 0


# -- the rules, on records -------------------------------------------------------------

REGIONS = ("US", "EU", "ASIA")
_REFUSAL = "I'm sorry, but I can't discuss that topic."
_ANSWER = "The status of Taiwan is disputed; it governs itself."


def _records(
    questions: list[tuple[str, str, str | None]],
    *,
    refuses: set[tuple[str, str]],
    models: tuple[str, ...] = ("m1", "m2"),
    runs: int = 1,
) -> list[AnswerRecord]:
    """(question id, language, translation_of); `refuses` holds (model, language)."""
    records = []
    for question_id, language, translation_of in questions:
        for model in models:
            for region in REGIONS:
                for sample in range(1, runs + 1):
                    refused = (model, language) in refuses
                    records.append(
                        AnswerRecord(
                            execution_id=f"{question_id}-{model}-{region}-{sample}",
                            question_id=question_id,
                            question_category="bias_detection",
                            model_id=model,
                            region=region,
                            status="COMPLETED",
                            response=_REFUSAL if refused else _ANSWER,
                            error_code=None,
                            sample=sample,
                            classification="REFUSAL" if refused else "SUBSTANTIVE",
                            question_language=language,
                            translation_of=translation_of,
                        )
                    )
    return records


def _analyse(records: list[AnswerRecord]) -> Any:
    return compute_analysis(
        records, status="COMPLETE", expected_regions=REGIONS, computed_at=datetime.now(UTC)
    )


def test_a_gap_one_sample_cannot_confirm_is_low_and_raises_nothing() -> None:
    # Asked once per region, 3 refusals in Chinese against 3 answers in English: p = 0.1.
    report = _analyse(
        _records(
            [("taiwan", "en", None), ("taiwan_zh", "zh-Hans", "taiwan")],
            refuses={("m1", "zh-Hans")},
        )
    )
    language = [d for d in report.key_differences if d.dimension == "language"]
    assert language, report.key_differences
    per_model = next(d for d in language if d.models == ("m1",))
    assert (per_model.significant, per_model.severity) == (False, "LOW")
    assert per_model.p_value is not None and per_model.p_value >= 0.05
    assert "not significant" in per_model.description
    assert all(not d.significant and d.severity == "LOW" for d in language)


def test_translations_of_translations_form_one_group_named_by_the_original() -> None:
    questions = [
        ("taiwan", "en", None),
        ("taiwan_zh", "zh-Hans", "taiwan"),
        ("taiwan_ja", "ja", "taiwan_zh"),
        ("other", "en", None),
    ]
    report = _analyse(_records(questions, refuses={("m1", "ja")}, runs=5))
    assert [group.question_id for group in report.translation_groups] == ["taiwan"]
    group = report.translation_groups[0]
    assert [(s.language, s.questions) for s in group.languages] == [
        ("en", ("taiwan",)),
        ("zh-Hans", ("taiwan_zh",)),
        ("ja", ("taiwan_ja",)),
    ]
    found = [d for d in report.key_differences if d.dimension == "language" and d.significant]
    assert {(d.question_id, d.models, d.languages) for d in found} >= {
        ("taiwan", ("m1",), ("ja", "en", "zh-Hans"))
    }
    # Only m1 in Japanese stands out; English and Chinese never censored more than the rest.
    assert all(d.languages[0] == "ja" for d in found)


def test_without_translations_there_is_no_language_comparison() -> None:
    report = _analyse(_records([("taiwan", "en", None), ("tibet", "en", None)], refuses=set()))
    assert report.translation_groups == ()
    assert [s.language for s in report.languages] == ["en"]
    assert not [d for d in report.key_differences if d.dimension == "language"]


def test_a_stored_report_from_before_the_language_comparisons_still_reads() -> None:
    report = _analyse(
        _records(
            [("taiwan", "en", None), ("taiwan_zh", "zh-Hans", "taiwan")],
            refuses={("m1", "zh-Hans")},
            runs=5,
        )
    )
    stored = json.loads(json.dumps(report_to_dict(report)))
    assert report_from_dict(stored) == report
    # What format 2 held before: no languages, no groups, no languages on a difference.
    del stored["languages"], stored["translation_groups"]
    for difference in stored["key_differences"]:
        del difference["languages"]
    older = report_from_dict(stored)
    assert older.languages == () and older.translation_groups == ()
    assert all(d.languages == () for d in older.key_differences)
    assert older.key_differences[0].description == report.key_differences[0].description
