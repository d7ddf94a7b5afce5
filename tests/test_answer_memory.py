"""An answer met before keeps its label without being classified again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from beacon_gql.analysis.answer_memory import PROCESS_MEMORY, AnswerMemory, classify_answers_once
from beacon_gql.analysis.classifier_process import Answers
from beacon_gql.analysis.classify import ClassificationResult, classify_answers
from beacon_gql.execution.classifying import BatchingClassifier

TAIWAN = "What is the current status of Taiwan?"
FRANCE = "What is the capital of France?"
REFUSAL = "I'm sorry, but I can't discuss that topic."
PARIS = "The capital of France is Paris."


class RecordingClassifier:
    """The real classifier, noting every answer it is given."""

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, str | None]] = []

    def __call__(self, answers: Answers) -> list[ClassificationResult]:
        self.seen.extend(answers)
        return classify_answers(answers)


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    PROCESS_MEMORY.forget()
    yield
    PROCESS_MEMORY.forget()


def test_labels_are_those_of_the_classifier_in_the_same_order() -> None:
    answers = [(REFUSAL, TAIWAN), (PARIS, FRANCE), (REFUSAL, TAIWAN), ("", FRANCE), (None, None)]
    assert classify_answers_once(answers) == classify_answers(answers)


def test_each_distinct_answer_is_classified_once_within_and_across_batches() -> None:
    classifier = RecordingClassifier()
    first = classify_answers_once(
        [(REFUSAL, TAIWAN), (PARIS, FRANCE), (REFUSAL, TAIWAN)], classifier
    )
    second = classify_answers_once([(PARIS, FRANCE), (REFUSAL, TAIWAN)], classifier)
    assert classifier.seen == [(REFUSAL, TAIWAN), (PARIS, FRANCE)]
    assert [result.label for result in first] == ["REFUSAL", "SUBSTANTIVE", "REFUSAL"]
    assert second == [first[1], first[0]]


def test_the_same_answer_to_another_question_is_classified_on_its_own() -> None:
    classifier = RecordingClassifier()
    classify_answers_once([(PARIS, FRANCE), (PARIS, TAIWAN), (PARIS, None)], classifier)
    assert classifier.seen == [(PARIS, FRANCE), (PARIS, TAIWAN), (PARIS, None)]


def test_the_oldest_answers_are_forgotten_beyond_the_bound() -> None:
    memory = AnswerMemory(size=2)
    classifier = RecordingClassifier()
    classify_answers_once([(REFUSAL, TAIWAN), (PARIS, FRANCE)], classifier, memory)
    classify_answers_once([(REFUSAL, TAIWAN)], classifier, memory)  # now the most recent
    classify_answers_once([("Berlin.", "What is the capital of Germany?")], classifier, memory)
    classify_answers_once([(REFUSAL, TAIWAN), (PARIS, FRANCE)], classifier, memory)
    assert classifier.seen[3:] == [(PARIS, FRANCE)]


async def test_the_worker_sends_each_distinct_answer_to_the_classifier_process_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    classifier = BatchingClassifier()
    with caplog.at_level(logging.INFO, logger="beacon_gql.worker"):
        together = await asyncio.gather(
            *(classifier.classify(a, q) for a, q in [(REFUSAL, TAIWAN)] * 3 + [(PARIS, FRANCE)])
        )
        again = await classifier.classify(PARIS, FRANCE)
    batches = [r for r in caplog.records if r.getMessage() == "answers classified"]
    assert [getattr(r, "answers", None) for r in batches] == [2]
    assert together == classify_answers([(REFUSAL, TAIWAN)] * 3 + [(PARIS, FRANCE)])
    assert again == together[3]
