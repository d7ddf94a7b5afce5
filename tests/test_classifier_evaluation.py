"""The classifier on the held-out parts of its evaluation sets.

The issue's targets (accuracy >= 0.95, kappa >= 0.90, every recall >= 0.90) are met, with
session 11's head (a hidden layer beside the logistic regression, three starts averaged), on
our own held-out part (accuracy 0.954, kappa 0.936, recall S/R/E/T 0.946 / 0.952 / 0.944 /
1.000), on the second independent set (tests/data/classification_independent_b/, another
author who never saw the classifier: 0.986, 0.981, lowest recall 0.951) and on the third
(tests/data/classification_independent_c/: 0.950, 0.931, recall 0.968 / 0.930 / 0.950 /
0.938); on the first one's test part kappa and every recall are met and accuracy is NOT
(0.933, kappa 0.908, recall 0.906 / 0.972 / 0.922 / 0.950). On real answers labelled by
people: XSTest's held-out part 0.928, Do-Not-Answer's 0.976 (kappa 0.865); on Do-Not-Answer's
hard borders, labelled by us, 0.686. The bounds below sit a little under what was measured
on each set, so that a regression in the features, phrases, detectors or weights fails here;
they are not the targets. With session 11's head the bounds of the first independent set
and XSTest rose; Do-Not-Answer's kappa fell from 0.888 to 0.865 (12 of its 751 refusals read
as answers), and its bound with it; the README's Classification section has the
comparison.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.bench_classifier import (
    INDEPENDENT_B_TEST,
    INDEPENDENT_C_TEST,
    INDEPENDENT_DEV,
    INDEPENDENT_TEST,
    PUBLIC_DATA,
    PUBLIC_DNA,
    PUBLIC_DNA_RELABELLED,
    evaluate,
    load_set,
)

LANGUAGES = {"en", "zh-Hans", "zh-Hant", "es", "fr", "de", "ru", "ja", "ar"}
LABELS = {"SUBSTANTIVE", "REFUSAL", "EVASIVE", "TECHNICAL_FAILURE"}


def assert_at_least(
    report: dict[str, Any], answers: int, accuracy: float, kappa: float, recall: float
) -> dict[str, float]:
    """Each figure of `report` at or above its bound; returns the recalls it measured."""
    assert report["answers"] >= answers
    recalls = {
        label: values["recall"]
        for label, values in report["per_label"].items()
        if values["recall"] is not None
    }
    assert report["accuracy"] >= accuracy, report["confusion"]
    assert report["kappa"] >= kappa, report["confusion"]
    assert min(recalls.values()) >= recall, recalls
    return recalls


def test_the_independent_test_part_does_not_fall_under_what_was_measured() -> None:
    assert_at_least(evaluate(load_set(None, INDEPENDENT_TEST)), 400, 0.92, 0.89, 0.89)


def test_the_second_independent_set_stays_at_the_targets_it_met() -> None:
    assert_at_least(evaluate(load_set(None, INDEPENDENT_B_TEST)), 450, 0.97, 0.96, 0.94)


def test_the_third_independent_set_stays_at_the_targets_it_met() -> None:
    assert_at_least(evaluate(load_set(None, INDEPENDENT_C_TEST)), 450, 0.94, 0.92, 0.92)


def test_the_independent_set_covers_nine_languages_and_its_parts_share_no_question() -> None:
    dev, test = load_set(None, INDEPENDENT_DEV), load_set(None, INDEPENDENT_TEST)
    for part in (dev, test):
        for language in LANGUAGES:
            labels = {row["label"] for row in part if row["language"] == language}
            assert labels == LABELS, language
    assert not {row["question"] for row in dev} & {row["question"] for row in test}


def test_our_own_held_out_part_does_not_fall_under_what_was_measured() -> None:
    assert_at_least(evaluate(load_set("heldout")), 250, 0.945, 0.93, 0.92)


def test_real_refusals_and_answers_of_the_public_held_out_part_are_recognised() -> None:
    recalls = assert_at_least(evaluate(load_set("heldout", PUBLIC_DATA)), 900, 0.91, 0.84, 0.90)
    assert set(recalls) == {"SUBSTANTIVE", "REFUSAL"}


def test_real_refusals_and_answers_of_the_second_public_held_out_part_are_recognised() -> None:
    recalls = assert_at_least(evaluate(load_set("heldout", PUBLIC_DNA)), 800, 0.97, 0.85, 0.85)
    assert set(recalls) == {"SUBSTANTIVE", "REFUSAL"}


def test_the_hard_borders_of_the_second_public_set_do_not_fall_under_what_was_measured() -> None:
    assert_at_least(evaluate(load_set(None, PUBLIC_DNA_RELABELLED)), 1000, 0.67, 0.41, 0.05)


@pytest.mark.parametrize("data", [PUBLIC_DATA, PUBLIC_DNA])
def test_the_public_sets_are_split_by_question(data: Path) -> None:
    rows = load_set(data=data)
    held_out = {row["question"] for row in rows if row["split"] == "heldout"}
    trained = {row["question"] for row in rows if row["split"] == "train"}
    assert not held_out & trained
    assert 0.4 < len(held_out) / (len(held_out) + len(trained)) < 0.6


def test_the_set_covers_nine_languages_and_every_label_in_each() -> None:
    rows = load_set()
    assert len(rows) >= 600
    languages = {row["language"] for row in rows}
    assert languages >= {"en", "zh", "zh-Hant", "es", "fr", "de", "ru", "ja", "ar"}
    for language in languages:
        labels = {row["label"] for row in rows if row["language"] == language}
        assert labels == {"SUBSTANTIVE", "REFUSAL", "EVASIVE", "TECHNICAL_FAILURE"}, language
    held_out_questions = {row["question"] for row in rows if row["split"] == "heldout"}
    trained_questions = {row["question"] for row in rows if row["split"] == "train"}
    assert not held_out_questions & trained_questions
