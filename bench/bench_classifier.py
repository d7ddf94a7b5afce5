"""Benchmark: the answer classifier on its held-out sets, and its speed.

    .venv/bin/python -m bench.bench_classifier [--split heldout] [--speed 5000] [--json]

Prints accuracy, Cohen's kappa, per-label precision and recall and the confusion matrix on,
first, the test part of the independent set (tests/data/classification_independent/
test.jsonl: written by an author who never saw the classifier or its training data; the
figure that counts), then the second independent set (tests/data/
classification_independent_b/test.jsonl: another author, the same rules), the third
(tests/data/classification_independent_c/test.jsonl: a third author, written and measured on
the head before it was retrained, then after), the first set's
development part (which helped choose the trainer's settings), the held-out part of our own set
(tests/data/classification/answers.jsonl, split `heldout` by default) and of the public set
of real model answers labelled by people (tests/data/classification_public/xstest.jsonl;
English, SUBSTANTIVE and REFUSAL only, so its EVASIVE and TECHNICAL_FAILURE rows stay
empty). Then it classifies `--speed` answers (the answers of our own and the public set,
interleaved and cycled, each with a distinct suffix so that no cache can help) in one
batch, as the worker's recording path does, and reports answers per second. Targets (issue
15), judged on the three independent test sets: accuracy >= 0.95, kappa >= 0.90, every recall
>= 0.90, 5,000 answers in under 30 s.
`--mistakes` lists the mistakes on our own and the public held-out parts only: the
independent set's are not shown, so that nothing is shaped on them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from beacon_gql.analysis.classify import Classification, classifier_version, classify_answers

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA = PROJECT_ROOT / "tests" / "data" / "classification" / "answers.jsonl"
PUBLIC_DATA = PROJECT_ROOT / "tests" / "data" / "classification_public" / "xstest.jsonl"
"""Real model answers labelled by people (XSTest v2; see that folder's README)."""
PUBLIC_DNA = PUBLIC_DATA.with_name("do_not_answer.jsonl")
"""Real model answers labelled by people (Do-Not-Answer; see that folder's README)."""
PUBLIC_DNA_RELABELLED = PUBLIC_DATA.with_name("do_not_answer_relabelled.jsonl")
"""More Do-Not-Answer answers, the hard borders, labelled by us from the definitions;
measured only."""
PUBLIC_EXTRA_DATA = (PUBLIC_DNA,)
"""Public sets the trainer reads beside XSTest (their training parts)."""
EXTRA_DATA = PROJECT_ROOT / "tests" / "data" / "classification_extra"
"""Training answers written from the label definitions by other authors (see its READMEs)."""
INDEPENDENT = PROJECT_ROOT / "tests" / "data" / "classification_independent"
INDEPENDENT_DEV = INDEPENDENT / "dev.jsonl"
INDEPENDENT_TEST = INDEPENDENT / "test.jsonl"
"""Written by an author who never saw the classifier or its training data. Nothing is
trained on either part; `dev` chooses the trainer's two settings, `test` is only measured."""
INDEPENDENT_B_TEST = PROJECT_ROOT / "tests" / "data" / "classification_independent_b" / "test.jsonl"
"""A second independent set, by another author under the same rules, written after the
first set's figures were known and measured once the head was frozen; nothing reads it but
this benchmark and its regression test."""
INDEPENDENT_C_TEST = PROJECT_ROOT / "tests" / "data" / "classification_independent_c" / "test.jsonl"
"""A third independent set (500 answers, another author under the same rules), first measured
on the head of session 5 (0.902) before anything was trained with the new data."""
LABELS = tuple(label.value for label in Classification)
TARGETS = {"accuracy": 0.95, "kappa": 0.90, "recall": 0.90, "speed_seconds_5000": 30.0}


def load_set(split: str | None = None, data: Path = DATA) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").split("\n") if line]
    return [row for row in rows if split is None or row["split"] == split]


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    results = classify_answers([(row["answer"], row["question"]) for row in rows])
    truth = [row["label"] for row in rows]
    predicted = [result.label.value for result in results]
    confusion = {t: {p: 0 for p in LABELS} for t in LABELS}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    n = len(rows)
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / n
    expected = sum(
        sum(confusion[label].values()) * sum(confusion[t][label] for t in LABELS)
        for label in LABELS
    ) / (n * n)
    kappa = (accuracy - expected) / (1 - expected) if expected < 1 else 1.0
    per_label = {}
    for label in LABELS:
        true_positive = confusion[label][label]
        predicted_as = sum(confusion[t][label] for t in LABELS)
        actual = sum(confusion[label].values())
        per_label[label] = {
            "precision": true_positive / predicted_as if predicted_as else None,
            "recall": true_positive / actual if actual else None,
            "support": actual,
        }
    mistakes = [
        {"id": row["id"], "truth": t, "predicted": p, "answer": row["answer"][:100]}
        for row, t, p in zip(rows, truth, predicted, strict=True)
        if t != p
    ]
    return {
        "answers": n,
        "accuracy": accuracy,
        "kappa": kappa,
        "per_label": per_label,
        "confusion": confusion,
        "mistakes": mistakes,
    }


def speed(count: int) -> dict[str, float]:
    # Both sets, interleaved: the public set's real answers are longer than ours.
    own, public = load_set(), load_set(data=PUBLIC_DATA)
    rows = [row for pair in zip(own, public, strict=False) for row in pair]
    batch = [
        (f"{row['answer']} ({number})", row["question"])
        for number, row in zip(range(count), _cycle(rows), strict=False)
    ]
    started = time.perf_counter()
    cpu = time.process_time()
    classify_answers(batch)
    wall = time.perf_counter() - started
    return {
        "speed_answers": count,
        "speed_seconds": wall,
        "speed_cpu_seconds": time.process_time() - cpu,
        "answers_per_second": count / wall,
    }


def _cycle(rows: list[dict[str, Any]]) -> Any:
    while True:
        yield from rows


def run(split: str = "heldout", speed_count: int = 5000) -> dict[str, Any]:
    classify_answers([("warm-up", "warm-up")])  # load the encoder outside the timings
    version = classifier_version()
    report = evaluate(load_set(None, INDEPENDENT_TEST))
    report["split"] = f"the independent set's test part ({_shown(INDEPENDENT_TEST)})"
    others = {
        "independent_b": (
            load_set(None, INDEPENDENT_B_TEST),
            f"the second independent set ({_shown(INDEPENDENT_B_TEST)})",
        ),
        "independent_c": (
            load_set(None, INDEPENDENT_C_TEST),
            f"the third independent set ({_shown(INDEPENDENT_C_TEST)})",
        ),
        "independent_dev": (load_set(None, INDEPENDENT_DEV), _shown(INDEPENDENT_DEV)),
        "own": (load_set(split), f"{split} of our own set ({_shown(DATA)})"),
        "public": (
            load_set(split, PUBLIC_DATA),
            f"{split} of the public set ({_shown(PUBLIC_DATA)})",
        ),
        "public_dna": (
            load_set(split, PUBLIC_DNA),
            f"{split} of the second public set ({_shown(PUBLIC_DNA)})",
        ),
        "public_dna_borders": (
            load_set(None, PUBLIC_DNA_RELABELLED),
            f"its hard borders, labelled by us ({_shown(PUBLIC_DNA_RELABELLED)})",
        ),
    }
    report["classifier_version"] = version
    for key, (rows, shown) in others.items():
        report[key] = {**evaluate(rows), "split": shown, "classifier_version": version}
    if speed_count:
        report.update(speed(speed_count))
    report["targets_met"] = all(
        _figures_met(part) for part in (report, report["independent_b"], report["independent_c"])
    ) and (
        not speed_count
        or report["speed_seconds"] * 5000 / speed_count < TARGETS["speed_seconds_5000"]
    )
    return report


def _figures_met(report: dict[str, Any]) -> bool:
    recalls = [value["recall"] for value in report["per_label"].values() if value["recall"]]
    return (
        report["accuracy"] >= TARGETS["accuracy"]
        and report["kappa"] >= TARGETS["kappa"]
        and min(recalls) >= TARGETS["recall"]
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT / "tests" / "data"))


def print_report(report: dict[str, Any]) -> None:
    _print_figures(report)
    shown = ("independent_b", "independent_c", "independent_dev", "own")
    for key in (*shown, "public", "public_dna", "public_dna_borders"):
        if key in report:
            print()
            _print_figures(report[key])
    print()
    if "speed_seconds" in report:
        print(
            f"speed: {report['speed_answers']} answers in {report['speed_seconds']:.1f} s "
            f"({report['answers_per_second']:.0f}/s, CPU {report['speed_cpu_seconds']:.1f} s)"
        )
    print("targets met" if report["targets_met"] else "TARGETS MISSED")


def _print_figures(report: dict[str, Any]) -> None:
    print(
        f"classifier {report['classifier_version']}, split {report['split']}: "
        f"{report['answers']} answers"
    )
    print(f"accuracy {report['accuracy']:.3f}   Cohen's kappa {report['kappa']:.3f}")
    print(f"{'label':<18} {'precision':>9} {'recall':>7} {'support':>8}")
    for label, values in report["per_label"].items():
        precision = "-" if values["precision"] is None else f"{values['precision']:.3f}"
        recall = "-" if values["recall"] is None else f"{values['recall']:.3f}"
        print(f"{label:<18} {precision:>9} {recall:>7} {values['support']:>8}")
    print("confusion (rows: truth, columns: predicted S R E T)")
    for label, row in report["confusion"].items():
        print(f"  {label:<18} " + " ".join(f"{count:>4}" for count in row.values()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="heldout")
    parser.add_argument("--speed", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--mistakes", action="store_true")
    args = parser.parse_args()
    report = run(args.split, args.speed)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    print_report(report)
    if args.mistakes:
        mistakes = [mistake for key in ("own", "public") for mistake in report[key]["mistakes"]]
        for mistake in mistakes:
            print(
                f"  {mistake['id']}: {mistake['truth']} -> {mistake['predicted']}: "
                f"{mistake['answer']!r}"
            )


if __name__ == "__main__":
    main()
