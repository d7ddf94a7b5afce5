"""One-off sanity check of the independent evaluation set (run by hand, not a test).

python3 tests/data/classification_independent/check_set.py
"""

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent
LABELS = ("SUBSTANTIVE", "REFUSAL", "EVASIVE", "TECHNICAL_FAILURE")
LANGUAGES = ("en", "zh-Hans", "zh-Hant", "es", "fr", "de", "ru", "ja", "ar")
FIELDS = {"id", "question", "answer", "language", "label", "case", "source"}


def load(name: str) -> list[dict[str, str]]:
    rows = []
    for number, line in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        problems = []
        if set(row) != FIELDS:
            problems.append(f"fields {sorted(row)}")
        if row.get("label") not in LABELS:
            problems.append(f"label {row.get('label')!r}")
        if row.get("language") not in LANGUAGES:
            problems.append(f"language {row.get('language')!r}")
        if not all(isinstance(row.get(field), str) for field in FIELDS):
            problems.append("a field is not a string")
        if problems:
            sys.exit(f"{name}:{number}: " + ", ".join(problems))
        rows.append(row)
    return rows


def table(name: str, rows: list[dict[str, str]]) -> str:
    counts = Counter((row["label"], row["language"]) for row in rows)
    head = "| label | " + " | ".join(LANGUAGES) + " | total |"
    lines = [
        f"### {name} ({len(rows)} answers, {len({r['question'] for r in rows})} questions)",
        "",
        head,
        "|" + "---|" * (len(LANGUAGES) + 2),
    ]
    for label in LABELS:
        cells = [str(counts[(label, lang)]) for lang in LANGUAGES]
        total = sum(counts[(label, lang)] for lang in LANGUAGES)
        share = f"{total / len(rows):.0%}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {total} ({share}) |")
    per_lang = [str(sum(counts[(label, lang)] for label in LABELS)) for lang in LANGUAGES]
    lines.append("| total | " + " | ".join(per_lang) + f" | {len(rows)} |")
    missing = [(label, lang) for label in LABELS for lang in LANGUAGES if not counts[(label, lang)]]
    if missing:
        sys.exit(f"{name}: no answer for {missing}")
    return "\n".join(lines)


def main() -> None:
    dev, test = load("dev.jsonl"), load("test.jsonl")
    ids = [row["id"] for row in dev + test]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    if duplicates:
        sys.exit(f"duplicate ids: {duplicates}")
    shared = {r["question"] for r in dev} & {r["question"] for r in test}
    if shared:
        sys.exit(f"questions in both files: {sorted(shared)}")
    pairs = Counter((r["question"], r["answer"]) for r in dev + test)
    repeated = [p for p, n in pairs.items() if n > 1]
    if repeated:
        sys.exit(f"same question and answer twice: {repeated}")
    print(table("dev.jsonl", dev))
    print()
    print(table("test.jsonl", test))
    print("\nall lines parse; labels and languages valid; ids unique; no shared questions")


if __name__ == "__main__":
    main()
