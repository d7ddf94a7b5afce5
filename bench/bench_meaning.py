"""Benchmark: how well the meaning score separates translations from contradictions.

    .venv/bin/python -m bench.bench_meaning [--json]

For each half of the hand-made answer pairs it prints the lowest score of a translation (or
same-language paraphrase), the highest of a contradiction, their margin, and how many
contradictions score at or above the lowest translation:

- `tune` and `held_out` (tests/data/meaning/pairs.jsonl): the pairs the score's checks were
  shaped on, and the ones kept aside while they were; tests/test_meaning.py asserts their
  margin.
- `fresh` (tests/data/meaning/pairs_fresh.jsonl): 40 pairs written by an author who never
  saw the score, its code or the other pairs, after the score was frozen (see that file's
  README). The figure that says how the score carries over to answers it was not shaped
  on. Target (issue 16): translations score as consistent and contradictions do not, with
  a clear margin.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from beacon_gql.analysis.similarity import consistency, gists

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "meaning"
CONSISTENT_KINDS = ("translation", "paraphrase")


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def scored(pairs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], float]]:
    """Each pair with the consistency of its two texts (encoded in one batch)."""
    items = gists([pair[side]["text"] for pair in pairs for side in ("a", "b")])
    return [
        (pair, consistency(items[2 * index], items[2 * index + 1]))
        for index, pair in enumerate(pairs)
    ]


def run() -> dict[str, Any]:
    scored_pairs = scored(load(PAIRS / "pairs.jsonl") + load(PAIRS / "pairs_fresh.jsonl"))
    pairs = [pair for pair, _ in scored_pairs]
    report: dict[str, Any] = {}
    for half in dict.fromkeys(pair["half"] for pair in pairs):
        consistent = [
            s for p, s in scored_pairs if p["half"] == half and p["kind"] in CONSISTENT_KINDS
        ]
        contradicting = [
            s for p, s in scored_pairs if p["half"] == half and p["kind"] == "contradiction"
        ]
        lowest = min(consistent)
        report[half] = {
            "pairs": len(consistent) + len(contradicting),
            "lowest_consistent": round(lowest, 3),
            "highest_contradiction": round(max(contradicting), 3),
            "margin": round(lowest - max(contradicting), 3),
            "contradictions_not_separated": sum(score >= lowest for score in contradicting),
            "contradictions": len(contradicting),
            "scores": {p["id"]: round(s, 3) for p, s in scored_pairs if p["half"] == half},
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = run()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for half, figures in report.items():
        print(
            f"{half:9} {figures['pairs']:3} pairs: translations from {figures['lowest_consistent']}"
            f", contradictions up to {figures['highest_contradiction']}, margin "
            f"{figures['margin']}; {figures['contradictions_not_separated']} of "
            f"{figures['contradictions']} contradictions at or above the lowest translation"
        )


if __name__ == "__main__":
    main()
