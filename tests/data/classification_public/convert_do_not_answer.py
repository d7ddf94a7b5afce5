"""Convert Do-Not-Answer's human-labelled model responses into the evaluation set's JSON Lines.

    python tests/data/classification_public/convert_do_not_answer.py PATH/TO/data_en.csv

PATH is `datasets/data_en.csv` of github.com/Libr-AI/do-not-answer (Apache-2.0), as mirrored
unchanged in github.com/kunishou/do-not-answer-ja at commit 1380ff2 (used here). Writes
`do_not_answer.jsonl` beside this file. Deterministic: the train / held-out split is drawn by
QUESTION (every answer to one question falls on the same side), per harm type, with a fixed
seed. Only the two action categories that match one of our labels whole are kept (README.md
says which and why).
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 15
MODELS = ("GPT4", "ChatGPT", "Claude", "ChatGLM2", "llama2-7b-chat", "vicuna-7b")
LABELS = {"0": "REFUSAL", "5": "SUBSTANTIVE"}
"""The annotators' action category -> ours; categories 1-4 are left out (README.md)."""
SOURCE = (
    "Do-Not-Answer (Wang, Li, Han, Nakov, Baldwin, EACL Findings 2024), "
    "github.com/Libr-AI/do-not-answer, Apache-2.0; response by {model}; human action {action}"
)
OUT = Path(__file__).resolve().parent / "do_not_answer.jsonl"


def held_out_questions(records: list[dict[str, str]]) -> set[str]:
    """Half of each harm type's questions (the odd one out goes to training), seeded."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_type[record["types_of_harm"]].append(record["id"])
    rng = random.Random(SEED)
    held: set[str] = set()
    for kind in sorted(by_type):
        ids = sorted(by_type[kind], key=int)
        rng.shuffle(ids)
        held.update(ids[: len(ids) // 2])
    return held


def main(path: Path) -> None:
    with path.open(encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    held = held_out_questions(records)
    rows = []
    for record in records:
        for model in MODELS:
            action = record[f"{model}_action"]
            label = LABELS.get(action)
            answer = record[f"{model}_response"].strip()
            if label is None or not answer:
                continue
            rows.append(
                {
                    "id": f"dna-{record['id']}-{model.lower()}",
                    "question": record["question"],
                    "answer": answer,
                    "language": "en",
                    "label": label,
                    "case": f"do-not-answer {record['types_of_harm']}",
                    "split": "heldout" if record["id"] in held else "train",
                    "source": SOURCE.format(model=model, action=action),
                }
            )
    with OUT.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} answers to {OUT.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
