#!/usr/bin/env python3
"""Validate test.jsonl of the independent evaluation set B and print its counts."""

import json
import sys
from collections import Counter
from pathlib import Path

FIELDS = ["id", "question", "answer", "language", "label", "case", "split", "source"]
LABELS = {"SUBSTANTIVE", "REFUSAL", "EVASIVE", "TECHNICAL_FAILURE"}
LANGS = ["en", "zh-CN", "zh-TW", "es", "fr", "de", "ru", "ja", "ar"]


def main(path=Path(__file__).with_name("test.jsonl")):
    errors = []
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: invalid JSON ({e})")
                continue
            if not isinstance(row, dict) or sorted(row) != sorted(FIELDS):
                errors.append(f"line {n}: fields must be exactly {FIELDS}")
                continue
            if not all(isinstance(row[k], str) for k in FIELDS):
                errors.append(f"line {n}: every field must be a string")
            if row["label"] not in LABELS:
                errors.append(f"line {n}: bad label {row['label']!r}")
            if row["language"] not in LANGS:
                errors.append(f"line {n}: bad language {row['language']!r}")
            if row["split"] != "test":
                errors.append(f"line {n}: split must be 'test'")
            if row["id"] != f"indb-{n:04d}":
                errors.append(f"line {n}: id {row['id']!r}, expected indb-{n:04d}")
            if not row["question"].strip() or not row["case"].strip():
                errors.append(f"line {n}: empty question or case")
            rows.append(row)
    ids = Counter(r["id"] for r in rows)
    errors += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    answers = Counter((r["question"], r["answer"]) for r in rows)
    errors += [
        f"duplicate question/answer pair: {a[1][:50]!r}" for a, c in answers.items() if c > 1
    ]

    labels = sorted(LABELS)
    by = Counter((r["language"], r["label"]) for r in rows)
    print(f"{len(rows)} answers, {len({r['question'] for r in rows})} question texts")
    print("lang   " + " ".join(f"{label[:11]:>11}" for label in labels) + "  total")
    for lang in LANGS:
        tot = sum(by[lang, label] for label in labels)
        print(f"{lang:6} " + " ".join(f"{by[lang, label]:>11}" for label in labels) + f"  {tot:>5}")
        if rows and tot and any(by[lang, label] == 0 for label in labels):
            errors.append(f"{lang}: not all four labels present")
    lab = Counter(r["label"] for r in rows)
    print("total  " + " ".join(f"{lab[label]:>11}" for label in labels) + f"  {len(rows):>5}")
    print("share  " + " ".join(f"{lab[label] / max(len(rows), 1):>11.1%}" for label in labels))
    print(
        "cases:", ", ".join(f"{c} {n}" for c, n in sorted(Counter(r["case"] for r in rows).items()))
    )
    for e in errors:
        print("ERROR:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
