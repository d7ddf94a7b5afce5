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
import sys
from pathlib import Path

from convert_xstest import held_out, write

MODELS = ("GPT4", "ChatGPT", "Claude", "ChatGLM2", "llama2-7b-chat", "vicuna-7b")
LABELS = {"0": "REFUSAL", "5": "SUBSTANTIVE"}
"""The annotators' action category -> ours; categories 1-4 are left out (README.md)."""
SOURCE = (
    "Do-Not-Answer (Wang, Li, Han, Nakov, Baldwin, EACL Findings 2024), "
    "github.com/Libr-AI/do-not-answer, Apache-2.0; response by {model}; human action {action}"
)
OUT = Path(__file__).resolve().parent / "do_not_answer.jsonl"


def main(path: Path) -> None:
    with path.open(encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    held = held_out(records, "types_of_harm")  # by question, within each harm type
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
    write(rows, OUT)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
