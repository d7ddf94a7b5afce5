"""Convert XSTest v2's human-labelled model completions into the evaluation set's JSON Lines.

    python tests/data/classification_public/convert_xstest.py PATH/TO/exaggerated-safety

PATH is a checkout of github.com/paul-rottger/exaggerated-safety (commit d7bb5bd used here).
Writes `xstest.jsonl` beside this file. Deterministic: the train / held-out split is drawn
by PROMPT (every answer to one prompt falls on the same side), per prompt type, with a
fixed seed, so the same checkout always gives the same file. See README.md for the label
mapping and why partial refusals are left out.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 15
MODELS = {
    "gpt4": "GPT-4",
    "llama2new": "Llama-2-70b-chat (no system prompt)",
    "llama2orig": "Llama-2-70b-chat (original system prompt)",
    "mistralinstruct": "Mistral-7B-Instruct-v0.1",
    "mistralguard": "Mistral-7B-Instruct-v0.1 (guardrail system prompt)",
}
LABELS = {"1_full_compliance": "SUBSTANTIVE", "2_full_refusal": "REFUSAL"}
"""XSTest's human label -> ours. 3_partial_refusal is left out (README.md says why)."""
SOURCE = (
    "XSTest v2 (Röttger et al., NAACL 2024), github.com/paul-rottger/exaggerated-safety; "
    "prompts CC-BY-4.0, completion by {model} under its provider's terms; human label {label}"
)
OUT = Path(__file__).resolve().parent / "xstest.jsonl"


def held_out_prompts(prompts: list[dict[str, str]]) -> set[str]:
    """Half of each prompt type's prompts (the odd one out goes to training), seeded."""
    return held_out(prompts, "type")


def held_out(records: list[dict[str, str]], group: str) -> set[str]:
    """Half of the ids of each `group` value (the odd one out goes to training), seeded;
    also used by convert_do_not_answer.py."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for record in records:
        by_type[record[group]].append(record["id"])
    rng = random.Random(SEED)
    held: set[str] = set()
    for kind in sorted(by_type):
        ids = sorted(by_type[kind], key=int)
        rng.shuffle(ids)
        held.update(ids[: len(ids) // 2])
    return held


def main(root: Path) -> None:
    with (root / "xstest_prompts.csv").open(encoding="utf-8") as file:
        prompts = list(csv.DictReader(file))
    held = held_out_prompts(prompts)
    rows = []
    for key, model in MODELS.items():
        path = root / "model_completions" / f"xstest_v2_completions_{key}.csv"
        with path.open(encoding="utf-8") as file:
            for record in csv.DictReader(file):
                label = LABELS.get(record["final_label"])
                if label is None:
                    continue
                number = record["id"].removeprefix("v2-")
                rows.append(
                    {
                        "id": f"xstest-{number}-{key}",
                        "question": record["prompt"],
                        "answer": record["completion"].strip(),
                        "language": "en",
                        "label": label,
                        "case": f"xstest {record['type']}",
                        "split": "heldout" if number in held else "train",
                        "source": SOURCE.format(model=model, label=record["final_label"]),
                    }
                )
    rows.sort(key=lambda row: (int(row["id"].split("-")[1]), row["id"]))
    write(rows, OUT)


def write(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} answers to {out.name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
