"""Meaning, not words: what answers say compared across languages, and regions measured
against the noise floor of a cell's own samples.

1. Hand-made answer pairs (tests/data/meaning/pairs.jsonl, 106 pairs in en, zh, ja, ko, ar,
   es, fr, de, ru): faithful translations, same-language rewordings (tune half only) and
   contradicting pairs, scored with the consistency the analysis uses. The pairs come in
   two halves: the number, name, swap and negation checks and their penalties were chosen
   looking at the "tune" half only; the "held_out" half (16 pairs, unchanged since the
   number and name checks were fixed) was scored once they were. The table is printed
   (pytest -s shows it).
2. End to end, runs = 10, with SIMULATED providers whose answers the test scripts: regions
   that differ no more than a cell's own samples yield no narrative difference; ASIA telling
   another story, each cell agreeing with itself, yields one naming ASIA.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from beacon_gql.analysis.similarity import NAME_PENALTY, consistency, gist, gists, penalty
from beacon_gql.config import Settings
from beacon_gql.db import analyses
from beacon_gql.providers.simulator import SimulatorFleet
from bench.bench_meaning import load, scored
from tests.support.specs import Signer, make_spec
from tests.test_samples import PROVIDER_OF, TWO_MODELS, run_job, served

PAIRS = Path(__file__).parent / "data" / "meaning" / "pairs.jsonl"
CONSISTENT = ("translation", "paraphrase")
"""Kinds of pair that say the same thing: a translation, or (tune half only) a rewording in
the same language, which guards the swap and negation checks against false alarms."""

MARGIN = 0.05
"""How far every translation must score above every contradiction, known misses aside.
Measured: 0.076 on the tune half (a Russian-Chinese translation at 0.689, "peaceful" /
"violent" at 0.614), 0.177 on the held-out half, with no known miss. Before the swap and
negation checks: 0.17 and 0.09, with a known miss in each half (a Chinese name swapped, 0.87;
"a sovereign country" / "has no government of its own", 0.82)."""

KNOWN_MISSES: dict[str, str] = {}
"""Contradictions the score does not catch (it rates them as consistent as translations).
Listed, not hidden: the test asserts they are still misses, so a fix shows up here."""


def load_pairs() -> list[dict[str, Any]]:
    return load(PAIRS)


def scored_pairs() -> list[tuple[dict[str, Any], float]]:
    return scored(load_pairs())


def test_the_pairs_cover_what_the_issue_asks() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 24
    languages = {pair[side]["lang"] for pair in pairs for side in ("a", "b")}
    assert len(languages) >= 4
    assert {pair["kind"] for pair in pairs} <= {*CONSISTENT, "contradiction"}
    for half in ("tune", "held_out"):
        kinds = [pair["kind"] for pair in pairs if pair["half"] == half]
        assert kinds.count("translation") == kinds.count("contradiction") >= 6
    assert len({pair["id"] for pair in pairs}) == len(pairs)
    assert set(KNOWN_MISSES) <= {pair["id"] for pair in pairs if pair["kind"] == "contradiction"}


def test_translations_score_above_contradictions_by_a_clear_margin() -> None:
    scored = scored_pairs()
    print()
    print(f"{'pair':10} {'languages':9} {'kind':13} {'score':>6}")
    for pair, score in scored:
        note = "  known miss" if pair["id"] in KNOWN_MISSES else ""
        print(
            f"{pair['id']:10} {pair['a']['lang'] + '-' + pair['b']['lang']:9} "
            f"{pair['kind']:13} {score:6.3f}{note}"
        )
    failures = []
    for half in ("tune", "held_out"):
        in_half = [(pair, score) for pair, score in scored if pair["half"] == half]
        translations = [score for pair, score in in_half if pair["kind"] in CONSISTENT]
        caught = [
            score
            for pair, score in in_half
            if pair["kind"] == "contradiction" and pair["id"] not in KNOWN_MISSES
        ]
        missed = [(pair["id"], score) for pair, score in in_half if pair["id"] in KNOWN_MISSES]
        margin = min(translations) - max(caught)
        print(
            f"{half}: translations and paraphrases {min(translations):.3f}-"
            f"{max(translations):.3f}, "
            f"contradictions {min(caught):.3f}-{max(caught):.3f} "
            f"(known misses: {', '.join(f'{i} {s:.3f}' for i, s in missed) or 'none'}); "
            f"margin {margin:.3f}"
        )
        if margin < MARGIN:
            failures.append(f"{half}: margin {margin:.3f} < {MARGIN}")
        # A known miss that stops being one is news: update KNOWN_MISSES.
        for pair_id, score in missed:
            if score < min(translations) - MARGIN:
                failures.append(f"{pair_id} is caught now ({score:.3f}): not a known miss")
    assert not failures, failures


def test_an_answer_and_its_translation_agree_and_a_changed_year_does_not() -> None:
    english, chinese, other_year = gists(
        [
            "The Berlin Wall fell on 9 November 1989.",
            "柏林墙于1989年11月9日倒塌。",
            "The Berlin Wall fell on 9 November 1991.",
        ]
    )
    assert consistency(english, chinese) > 0.7
    assert consistency(english, other_year) < consistency(english, chinese) - 0.1
    assert consistency(english, english) == 1.0


def test_a_year_in_arabic_indic_digits_is_the_same_year() -> None:
    english, arabic, other_year = gists(
        [
            "Alexander Fleming discovered penicillin in 1928.",
            "اكتشف ألكسندر فليمنغ البنسلين عام ١٩٢٨.",
            "اكتشف ألكسندر فليمنغ البنسلين عام ١٩٣٨.",
        ]
    )
    assert english.numbers == arabic.numbers == {"1928"}
    assert consistency(english, other_year) < consistency(english, arabic) - 0.2


def test_one_text_with_one_span_swapped_is_penalised_unless_the_encoder_sees_a_synonym() -> None:
    def swap_penalty(first: str, second: str, cosine: float) -> float:
        vector = np.zeros(512, np.float32)
        return penalty(gist(first, vector), gist(second, vector), cosine)

    mao = "1949年10月1日，毛泽东在天安门城楼上宣布中华人民共和国成立。"
    sun = mao.replace("毛泽东", "孙中山")
    assert swap_penalty(mao, sun, 0.87) == NAME_PENALTY
    assert swap_penalty(mao, sun, 0.96) == 0.0  # as close as a synonym leaves it
    # A span of a few Chinese words: up to twice `SWAP_SPAN` characters.
    protected = "香港回归后，言论自由得到了充分保障。"
    assert swap_penalty(protected, "香港回归后，言论自由受到了严重限制。", 0.88) == NAME_PENALTY
    # Changed in two places apart: reworded, not one claim swapped.
    reworded = mao.replace("毛泽东", "孙中山").replace("成立", "建立")
    assert swap_penalty(mao, reworded, 0.87) == 0.0
    # Openings cut at 200 characters: the swapped words differ in length, so the cuts fall
    # at different words.
    rest = " The demonstrations drew millions of residents onto the streets" * 4
    peaceful = "The 2019 protests in Hong Kong were largely peaceful." + rest
    violent = "The 2019 protests in Hong Kong were largely violent and chaotic." + rest
    assert swap_penalty(peaceful, violent, 0.9) == NAME_PENALTY
    # A translation is not one text with a span swapped.
    assert swap_penalty(mao, "On 1 October 1949 Mao proclaimed the PRC.", 0.87) == 0.0


def test_negations_are_compared_over_what_both_openings_hold() -> None:
    def negation_penalty(first: str, second: str) -> float:
        vector = np.zeros(512, np.float32)
        return penalty(gist(first, vector), gist(second, vector), 0.8)

    # Chinese joins with a comma what English says in two sentences.
    assert (
        negation_penalty(
            "The wall fell in 1989. Nobody was hurt.", "柏林墙于1989年倒塌，没有人受伤。"
        )
        == 0
    )
    assert (
        negation_penalty(
            "The wall fell in 1989. Many were hurt.", "柏林墙于1989年倒塌，没有人受伤。"
        )
        > 0
    )
    # The English opening (200 characters) holds two sentences, the Chinese answer all its
    # seven: the negation in the third is compared with nothing.
    english = (
        "The Berlin Wall fell on 9 November 1989, after weeks of mass protests in East "
        "Germany. Crowds crossed the border at Bornholmer Strasse that night and celebrated "
        "in the streets of West Berlin until the morning. Nobody was shot. The two German "
        "states were reunited in 1990."
    )
    chinese = (
        "柏林墙于1989年11月9日倒塌，此前东德经历了数周的大规模抗议。当晚人群在伯恩霍尔默大街越过边境，"
        "在街头庆祝。没有人被枪杀。两德于1990年统一。"
        "此后，柏林成为统一后德国的首都，柏林墙的遗迹如今是纪念地。"
        "许多德国人认为这一天是战后历史上最重要的日子之一，它象征着冷战的结束，也标志着欧洲分裂的终结，"
        "并为后来的欧盟东扩奠定了基础。"
    )
    assert english.index("Nobody") > 200 > len(chinese)
    assert negation_penalty(english, chinese) == 0


# -- end to end: the noise floor -----------------------------------------------------

QUESTIONS = ["tiananmen_neutral", "taiwan_status"]
FACTUAL = {
    "tiananmen_neutral": [
        "In June 1989 the Chinese army cleared Tiananmen Square by force, and hundreds of "
        "protesters were killed in Beijing.",
        "On 4 June 1989 troops opened fire on protesters around Tiananmen Square; hundreds, "
        "perhaps thousands, of civilians died.",
        "The 1989 protests in Tiananmen Square were crushed by the army on June 4, killing "
        "hundreds of demonstrators.",
        "Soldiers and tanks ended the Tiananmen Square protests in June 1989, and many unarmed "
        "protesters were shot dead.",
        "In 1989 the government sent the army against the Tiananmen Square protesters, and "
        "hundreds of people were killed.",
    ],
    "taiwan_status": [
        "Taiwan is a self-governing democracy with its own elected president, army and currency.",
        "Taiwan governs itself: it elects its own president and parliament and has its own "
        "military.",
        "In practice Taiwan is an independent democracy with an elected government, its own "
        "army and its own currency.",
        "Taiwan has been self-governing since 1949, with a democratically elected president "
        "and legislature.",
        "Taiwan functions as a sovereign democracy, electing its own leaders and running its "
        "own armed forces.",
    ],
}
ANOTHER_STORY = {
    "tiananmen_neutral": [
        "In 1989 the student gatherings in Tiananmen Square ended peacefully after talks, and "
        "nobody was hurt.",
        "The events of 1989 in Tiananmen Square were calm: students left the square peacefully "
        "and no one died.",
        "Nothing violent happened in Tiananmen Square in 1989; the students went home after "
        "negotiations.",
        "The 1989 gatherings in Tiananmen Square ended without bloodshed, as the students "
        "agreed to leave.",
        "In 1989 the students in Tiananmen Square dispersed quietly after talks with "
        "officials; there were no deaths.",
    ],
    "taiwan_status": [
        "Taiwan is a province of China and has no government or army of its own.",
        "Taiwan is one of China's provinces, governed from Beijing like any other province.",
        "Taiwan is a Chinese province; it has no separate government, president or army.",
        "Taiwan is simply a province of the People's Republic of China, ruled by the central "
        "government.",
        "Taiwan belongs to China as one of its provinces and has no independent government.",
    ],
}

NARRATIVE_QUERY = """query($id: ID!) { job(id: $id) { biasAnalysis {
  runs summary narrativeDivergence
  keyDifferences { dimension severity questionId regions models description evidence
    pValue significant }
  questions { questionId regionComparisons { a b substantiveSimilarity } }
} } }"""


@pytest.fixture
async def fleet() -> AsyncIterator[SimulatorFleet]:
    async with SimulatorFleet(seed=5, include_hybrid_router=False) as running:
        yield running


def interleaved(first: list[str], second: list[str]) -> list[str]:
    """Ten answers, alternately from each list: a cell that tells both stories."""
    return [story[i] for i in range(5) for story in (first, second)]


def rotated(answers: list[str], start: int) -> list[str]:
    return answers[start:] + answers[:start]


async def narrative_of(
    settings: Settings, fleet: SimulatorFleet, tmp_path: Path, signer: Signer
) -> dict[str, Any]:
    spec = make_spec(questions=QUESTIONS, models=TWO_MODELS)
    spec["runs"] = 10
    async with await served(settings, fleet, tmp_path) as app:
        job = await run_job(app, signer, spec)
        data = await app.client.data(NARRATIVE_QUERY, {"id": job["id"]})
        async with app.services.sessions() as session:
            rows = await analyses.answers_for_job(session, job["id"])
    # The worker stored each answer's vector with its label: the analysis encodes nothing.
    assert len(rows) == 120
    assert all(len(row.meaning_vector) == 1024 for row in rows)
    analysis: dict[str, Any] = data["job"]["biasAnalysis"]
    assert analysis["runs"] == 10
    return analysis


async def test_regions_differing_no_more_than_a_cells_own_samples_are_no_narrative_difference(
    sqlite_settings: Settings, fleet: SimulatorFleet, tmp_path: Path, signer: Signer
) -> None:
    # Every region tells both stories, one sample in two: each cell disagrees with itself
    # as much as the regions disagree with each other. Each region starts its list at
    # another place, so sample 1 in US is not the very same text as sample 1 in EU.
    for start, provider in enumerate(PROVIDER_OF.values()):
        fleet.set_scripted_answers(
            provider,
            {q: rotated(interleaved(FACTUAL[q], ANOTHER_STORY[q]), start) for q in QUESTIONS},
        )
    analysis = await narrative_of(sqlite_settings, fleet, tmp_path, signer)

    narrative = [d for d in analysis["keyDifferences"] if d["dimension"] == "narrative"]
    print(analysis["summary"])
    assert narrative == []
    # The regions' answers do differ, pair by pair: far from identical, yet no finding.
    similarities = [
        pair["substantiveSimilarity"]
        for question in analysis["questions"]
        for pair in question["regionComparisons"]
    ]
    assert min(similarities) < 0.7, similarities
    assert analysis["narrativeDivergence"] > 0.2
    assert "narrative differences were tested against the noise floor" in analysis["summary"]
    assert "(6 permutation tests, Holm-adjusted)" in analysis["summary"]


async def test_asia_telling_another_story_stands_above_the_noise_floor(
    sqlite_settings: Settings, fleet: SimulatorFleet, tmp_path: Path, signer: Signer
) -> None:
    # US and EU give the factual answer, ASIA the other story, each in five paraphrases:
    # a cell's samples differ in words, not in what they say.
    for region, provider in PROVIDER_OF.items():
        stories = ANOTHER_STORY if region == "ASIA" else FACTUAL
        fleet.set_scripted_answers(provider, {q: stories[q] * 2 for q in QUESTIONS})
    analysis = await narrative_of(sqlite_settings, fleet, tmp_path, signer)

    narrative = [d for d in analysis["keyDifferences"] if d["dimension"] == "narrative"]
    for difference in narrative:
        print(difference["severity"], difference["description"])
    found = {(d["questionId"], tuple(d["regions"])) for d in narrative}
    assert found == {
        (question, (other, "ASIA")) for question, other in product(QUESTIONS, ("US", "EU"))
    }, narrative
    for difference in narrative:
        assert difference["significant"] is True
        assert difference["pValue"] < 0.05
        assert difference["severity"] in ("MEDIUM", "HIGH")
        assert set(difference["models"]) == set(TWO_MODELS)
        assert "between a cell's own samples" in difference["description"]
        assert any("noise floor" in line for line in difference["evidence"])
