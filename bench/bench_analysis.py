"""Benchmark: the bias analysis of a 5,000-execution job, against a raw baseline.

The job: the 8 catalogue questions x 3 regions x 209 models = 5,016 executions, answers of
300-1,500 characters drawn from a Zipf-distributed vocabulary (as word frequencies are).
Each model gives nearly the same answer in every region (a few words changed), a third of
the models refuse the sensitive questions in ASIA, one model in ten answers in Chinese in
ASIA, and 3% of executions fail.

Every answer carries the label and the meaning vector the worker stored when it was recorded
(the classifier and its encoder run then, not in the analysis; bench/bench_classifier.py
measures them). The vectors here are synthetic, as encoding 5,000 answers would take a
minute of set-up: each model's answer a random unit vector, each region's a small
perturbation of it, a refusal one vector of its own; the analysis's cost does not depend on
their values. Baseline, measured in the
same run: normalising every answer, the one pass over every response text that any analysis
needs. The ratio says what the comparisons, metrics and report cost on top of it. Target:
`compute_analysis` well under 1 s.

    python bench/bench_analysis.py [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import accumulate

import numpy as np

from beacon_gql.analysis import AnswerRecord, compute_analysis
from beacon_gql.analysis.encoder import DIMENSIONS
from beacon_gql.analysis.similarity import gists, vector_bytes
from beacon_gql.analysis.text import normalise

QUESTIONS = (
    ("math_basic", "control"),
    ("geography_basic", "control"),
    ("identity_basic", "control"),
    ("tiananmen_neutral", "bias_detection"),
    ("taiwan_status", "bias_detection"),
    ("hongkong_2019", "bias_detection"),
    ("greatest_invention", "cultural_perspective"),
    ("greatest_leader", "cultural_perspective"),
)
REGIONS = ("US", "EU", "ASIA")
MODELS = tuple(f"model-{number:03}" for number in range(209))
REFUSALS = (
    "I'm sorry, but I can't discuss that topic.",
    "As an AI language model, I cannot provide answers to political questions of this kind.",
    "抱歉，我无法回答这个问题。",
)
CHINESE_SENTENCE = "这个问题涉及历史、政治和社会等多个方面，不同的学者有不同的解释和评价。"


def synthetic_job(seed: int = 7) -> list[AnswerRecord]:
    rng = random.Random(seed)
    vocabulary = [_pseudo_word(rng) for _ in range(6000)]
    cumulative_zipf = list(accumulate(1 / rank for rank in range(1, len(vocabulary) + 1)))

    def answer_text() -> list[str]:
        words: list[str] = []
        length, target = 0, rng.randint(300, 1500)
        while length < target:
            batch = rng.choices(vocabulary, cum_weights=cumulative_zipf, k=32)
            for word in batch:
                words.append(word + ("." if rng.random() < 0.07 else ""))
                length += len(word) + 1
                if length >= target:
                    break
        return words

    vectors = np.random.default_rng(seed)

    def unit(vector: np.ndarray) -> bytes:  # type: ignore[type-arg]
        return vector_bytes(vector / np.linalg.norm(vector))

    refusal_vector = unit(vectors.standard_normal(DIMENSIONS))
    records: list[AnswerRecord] = []
    for question_id, category in QUESTIONS:
        sensitive = category == "bias_detection"
        for model_number, model in enumerate(MODELS):
            base = answer_text()
            base_vector = vectors.standard_normal(DIMENSIONS)
            for region in REGIONS:
                words = list(base)
                for _ in range(len(words) // 20):  # the same model, a few words changed
                    words[rng.randrange(len(words))] = rng.choice(vocabulary)
                response: str | None = " ".join(words).capitalize()
                if region == "ASIA" and sensitive and model_number % 3 == 0:
                    response = REFUSALS[model_number % len(REFUSALS)]
                elif region == "ASIA" and model_number % 10 == 1:
                    response = CHINESE_SENTENCE * (len(words) // 40 + 1)
                failed = rng.random() < 0.03
                refused = response in REFUSALS
                records.append(
                    AnswerRecord(
                        execution_id=f"{question_id}/{model}/{region}",
                        question_id=question_id,
                        question_category=category,
                        model_id=model,
                        region=region,
                        status="FAILED" if failed else "COMPLETED",
                        response=None if failed else response,
                        error_code="PROVIDER_TIMEOUT" if failed else None,
                        classification=(
                            None if failed else "REFUSAL" if refused else "SUBSTANTIVE"
                        ),
                        vector=(
                            None
                            if failed
                            else refusal_vector
                            if refused
                            else unit(base_vector + 0.3 * vectors.standard_normal(DIMENSIONS))
                        ),
                    )
                )
    return records


def _pseudo_word(rng: random.Random) -> str:
    syllables = ("ka", "lo", "mi", "ne", "ru", "sa", "te", "vi", "do", "pe", "an", "or", "en")
    return "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))


def _timings(action: Callable[[], object], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return timings


def run(repeat: int = 5) -> dict[str, float]:
    """Time the analysis and its baselines; seconds, best and median of `repeat` runs."""
    answers = synthetic_job()
    computed_at = datetime.now(UTC)

    def analyse() -> object:
        return compute_analysis(
            answers, status="COMPLETE", expected_regions=REGIONS, computed_at=computed_at
        )

    def classify_all() -> object:  # the stored labels leave one pass over the texts
        return [normalise(answer.response or "") for answer in answers]

    stored = np.stack(
        [
            np.zeros(DIMENSIONS, np.float32)
            if a.vector is None
            else np.frombuffer(a.vector, np.float16).astype(np.float32)
            for a in answers
        ]
    )

    def vectorise_all() -> object:  # what reading the stored meanings costs
        return gists([a.response or "" for a in answers], stored)

    analysis = _timings(analyse, repeat)
    classification = _timings(classify_all, repeat)
    vectors = _timings(vectorise_all, repeat)
    return {
        "executions": float(len(answers)),
        "mean_response_chars": statistics.fmean(len(a.response or "") for a in answers),
        "analysis_best_s": min(analysis),
        "analysis_median_s": statistics.median(analysis),
        "baseline_classify_best_s": min(classification),
        "baseline_classify_median_s": statistics.median(classification),
        "baseline_vectors_best_s": min(vectors),
        "ratio_analysis_to_classify": min(analysis) / min(classification),
        "ratio_analysis_to_vectors": min(analysis) / min(vectors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    figures = run(arguments.repeat)
    if arguments.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"compute_analysis, {figures['executions']:.0f} executions "
        f"({figures['mean_response_chars']:.0f} chars per answer on average):\n"
        f"  analysis   best {figures['analysis_best_s'] * 1000:7.1f} ms   "
        f"median {figures['analysis_median_s'] * 1000:7.1f} ms\n"
        f"  baseline   normalise every answer: best "
        f"{figures['baseline_classify_best_s'] * 1000:7.1f} ms "
        f"-> analysis = {figures['ratio_analysis_to_classify']:.2f} x baseline\n"
        f"  reference  gists (stored vectors, numbers, names) of every answer: best "
        f"{figures['baseline_vectors_best_s'] * 1000:7.1f} ms "
        f"-> analysis = {figures['ratio_analysis_to_vectors']:.2f} x"
    )


if __name__ == "__main__":
    main()
