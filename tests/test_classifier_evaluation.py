"""The classifier on the held-out part of its evaluation set meets the issue 15 targets.

tests/data/classification/answers.jsonl; the head was trained on the `train` part only.
A regression in the features, the phrases, the detectors or the weights fails here.
"""

from __future__ import annotations

from bench.bench_classifier import evaluate, load_set


def test_held_out_accuracy_kappa_and_every_recall_meet_the_targets() -> None:
    report = evaluate(load_set("heldout"))
    assert report["answers"] >= 250
    recalls = {label: values["recall"] for label, values in report["per_label"].items()}
    assert report["accuracy"] >= 0.95, report["confusion"]
    assert report["kappa"] >= 0.90, report["confusion"]
    assert min(recalls.values()) >= 0.90, recalls


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
