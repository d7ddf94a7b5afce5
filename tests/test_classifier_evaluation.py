"""The classifier on the held-out parts of its evaluation sets.

The issue's targets (accuracy >= 0.95, kappa >= 0.90, every recall >= 0.90) are NOT met on
the set that counts, the test part of the independent set (written by an author who never
saw the classifier or its training data): measured once, when the head was frozen, it gave
accuracy 0.883, kappa 0.837, recall SUBSTANTIVE 0.929 / REFUSAL 0.870 / EVASIVE 0.794 /
TECHNICAL_FAILURE 0.912. The bounds below sit a little under what was measured on each set,
so that a regression in the features, phrases, detectors or weights fails here; they are not
the targets.
"""

from __future__ import annotations

from bench.bench_classifier import (
    INDEPENDENT_DEV,
    INDEPENDENT_TEST,
    PUBLIC_DATA,
    evaluate,
    load_set,
)

LANGUAGES = {"en", "zh-Hans", "zh-Hant", "es", "fr", "de", "ru", "ja", "ar"}
LABELS = {"SUBSTANTIVE", "REFUSAL", "EVASIVE", "TECHNICAL_FAILURE"}


def test_the_independent_test_part_does_not_fall_under_what_was_measured() -> None:
    report = evaluate(load_set(None, INDEPENDENT_TEST))
    assert report["answers"] >= 400
    recalls = {label: values["recall"] for label, values in report["per_label"].items()}
    assert report["accuracy"] >= 0.87, report["confusion"]
    assert report["kappa"] >= 0.82, report["confusion"]
    assert min(recalls.values()) >= 0.78, recalls


def test_the_independent_set_covers_nine_languages_and_its_parts_share_no_question() -> None:
    dev, test = load_set(None, INDEPENDENT_DEV), load_set(None, INDEPENDENT_TEST)
    for part in (dev, test):
        for language in LANGUAGES:
            labels = {row["label"] for row in part if row["language"] == language}
            assert labels == LABELS, language
    assert not {row["question"] for row in dev} & {row["question"] for row in test}


def test_our_own_held_out_part_does_not_fall_under_what_was_measured() -> None:
    report = evaluate(load_set("heldout"))
    assert report["answers"] >= 250
    recalls = {label: values["recall"] for label, values in report["per_label"].items()}
    assert report["accuracy"] >= 0.89, report["confusion"]
    assert report["kappa"] >= 0.85, report["confusion"]
    assert min(recalls.values()) >= 0.85, recalls


def test_real_refusals_and_answers_of_the_public_held_out_part_are_recognised() -> None:
    report = evaluate(load_set("heldout", PUBLIC_DATA))
    assert report["answers"] >= 900
    recalls = {
        label: values["recall"]
        for label, values in report["per_label"].items()
        if values["recall"] is not None
    }
    assert set(recalls) == {"SUBSTANTIVE", "REFUSAL"}
    assert report["accuracy"] >= 0.89, report["confusion"]
    assert report["kappa"] >= 0.79, report["confusion"]
    assert min(recalls.values()) >= 0.86, recalls


def test_the_public_set_is_split_by_prompt() -> None:
    rows = load_set(data=PUBLIC_DATA)
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
