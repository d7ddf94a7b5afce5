"""The classifier on the held-out parts of its two evaluation sets.

Our own set (tests/data/classification/answers.jsonl) must meet the issue 15 targets. The
public set (tests/data/classification_public/xstest.jsonl: real model answers labelled by
people) gets bounds a little under what was measured when the head was trained (accuracy
0.946, kappa 0.892, recall SUBSTANTIVE 0.941 / REFUSAL 0.951). The head was trained on the
`train` parts only. A regression in the features, the phrases, the detectors or the weights
fails here.
"""

from __future__ import annotations

from bench.bench_classifier import PUBLIC_DATA, evaluate, load_set


def test_held_out_accuracy_kappa_and_every_recall_meet_the_targets() -> None:
    report = evaluate(load_set("heldout"))
    assert report["answers"] >= 250
    recalls = {label: values["recall"] for label, values in report["per_label"].items()}
    assert report["accuracy"] >= 0.95, report["confusion"]
    assert report["kappa"] >= 0.90, report["confusion"]
    assert min(recalls.values()) >= 0.90, recalls


def test_real_refusals_and_answers_of_the_public_held_out_part_are_recognised() -> None:
    report = evaluate(load_set("heldout", PUBLIC_DATA))
    assert report["answers"] >= 900
    recalls = {
        label: values["recall"]
        for label, values in report["per_label"].items()
        if values["recall"] is not None
    }
    assert set(recalls) == {"SUBSTANTIVE", "REFUSAL"}
    assert report["accuracy"] >= 0.93, report["confusion"]
    assert report["kappa"] >= 0.86, report["confusion"]
    assert min(recalls.values()) >= 0.92, recalls


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
