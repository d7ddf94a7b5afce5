# ruff: noqa: E501
"""Compose the evaluation set `answers.jsonl` from the hand-written pieces.

    python tests/data/classification/compose.py

Written for this project (beacon_gql), MIT licence. Deterministic (seeded). The split is
by question AND by phrasing: every third question of each language, and every third item of
each pool of refusals, disclaimers, hedges, generalities and deflections, is held out, and a
held-out answer is built only from held-out pieces, so the held-out part asks questions and
uses phrasings that the training part never shows.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pieces_a  # noqa: E402
import pieces_b  # noqa: E402
import pieces_c  # noqa: E402
import pieces_d  # noqa: E402

SOURCE = "written for this project (beacon_gql), MIT licence"
LANGUAGES = {
    "en": (pieces_a, "EN", " "),
    "zh": (pieces_a, "ZH", ""),
    "zh-Hant": (pieces_a, "ZH_HANT", ""),
    "es": (pieces_b, "ES", " "),
    "fr": (pieces_b, "FR", " "),
    "de": (pieces_b, "DE", " "),
    "ru": (pieces_c, "RU", " "),
    "ja": (pieces_c, "JA", ""),
    "ar": (pieces_c, "AR", " "),
}

HTML_PAGES = [
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>",
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p></body></html>',
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>504 Gateway Time-out</title>\n</head><body>\n<h1>Gateway Time-out</h1>\n<p>The gateway did not receive a timely response from the upstream server.</p>\n</body></html>',
    "<html><body><h2>Error 429 - Too Many Requests</h2><p>Cloud gateway rate limit reached. Retry after 60 seconds.</p></body></html>",
]
ERROR_STRINGS = [
    "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total capacity; 21.10 GiB already allocated)",
    "Internal Server Error",
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
    "Error: model 'qwen2.5:7b' not found, try pulling it first",
    "RuntimeError: probability tensor contains either `inf`, `nan` or element < 0",
    "503 Service Unavailable: the model is currently loading, please retry",
    'Traceback (most recent call last):\n  File "/app/server.py", line 88, in generate\n    out = model(**inputs)\ntorch.OutOfMemoryError: CUDA out of memory.',
    "error: context length exceeded (4096 tokens)",
]
JSON_ERRORS = [
    '{"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "code": null}}',
    '{"error":"rate limit exceeded","retry_after":30}',
    '{"object": "error", "message": "This model\'s maximum context length is 4096 tokens.", "type": "BadRequestError", "code": 400}',
    '{"detail":"Internal Server Error"}',
    '{"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}',
]
TEMPLATE_LEAKS = [
    "<|im_end|>\n<|im_start|>user\nThanks! Can you tell me more?<|im_end|>\n<|im_start|>assistant\n",
    "</s>[INST] Tell me more [/INST]",
    "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n",
    "<end_of_turn>\n<start_of_turn>user\n",
    "<|endoftext|><|im_start|>",
]
GARBAGE = [
    "ÃƒÂ©Ã¢â‚¬â„¢Ã‚Â¢ ÃƒÂ¨Ã‚Â¯Ã‚Â´ Ã¢â‚¬Å“Ã¢â‚¬Â ÃƒÂ¤Ã‚Â¸Ã‚Â",
    "\ufffd\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd \ufffd\ufffd",
    "ref_xt 0x7f3a2c ]]}} ;;;; ##@@ assistant_token_ ___ 00000 ####",
    "ings ofthe re ation__ ,, .. the of of a in ;; ]] zzq",
    "...",
    ")]}'",
]


def _pools(module: Any, prefix: str) -> dict[str, list[Any]]:
    names = (
        "QUESTIONS",
        "REFUSALS",
        "REFUSAL_AFTER_BACKGROUND",
        "DISCLAIMERS",
        "HEDGES",
        "GENERALITIES",
        "DEFLECTIONS",
    )
    return {name: getattr(module, f"{prefix}_{name}") for name in names}


def _split(items: list[Any], held_out: bool) -> list[Any]:
    return [item for index, item in enumerate(items) if (index % 3 == 2) == held_out]


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def _first_sentence(text: str) -> str:
    parts = [part for part in _SENTENCE_END.split(text) if part.strip()]
    return parts[0].strip()


def compose() -> list[dict[str, Any]]:
    rng = random.Random(15)
    rows: list[dict[str, Any]] = []
    for language, (module, prefix, space) in LANGUAGES.items():
        pools = _pools(module, prefix)
        for held_out in (False, True):
            split = "heldout" if held_out else "train"
            pick = {name: _split(items, held_out) for name, items in pools.items()}
            questions = pick["QUESTIONS"]
            for number, (qid, question, answer, official) in enumerate(questions):

                def add(
                    label: str,
                    text: str,
                    case: str,
                    *,
                    qid: str = qid,
                    question: str = question,
                    language: str = language,
                    split: str = split,
                ) -> None:
                    rows.append(
                        {
                            "id": f"{qid}-{case}",
                            "question": question,
                            "answer": text,
                            "language": language,
                            "label": label,
                            "case": case,
                            "split": split,
                            "source": SOURCE,
                        }
                    )

                join = space.join
                background = _first_sentence(answer)
                add("SUBSTANTIVE", answer, "plain")
                add("SUBSTANTIVE", join([rng.choice(pick["DISCLAIMERS"]), answer]), "disclaimer")
                add("SUBSTANTIVE", join([answer, rng.choice(pick["HEDGES"])]), "hedge")
                add(
                    "SUBSTANTIVE",
                    join([_first_sentence(rng.choice(pick["GENERALITIES"])), answer]),
                    "perspectives-then-substance",
                )
                add("REFUSAL", rng.choice(pick["REFUSALS"]), "refusal")
                long_refusal = max(pick["REFUSALS"], key=len)
                add(
                    "REFUSAL",
                    long_refusal if number % 2 else rng.choice(pick["REFUSALS"]),
                    "polite-refusal",
                )
                add(
                    "REFUSAL",
                    join([background, rng.choice(pick["REFUSAL_AFTER_BACKGROUND"])]),
                    "background-then-refusal",
                )
                add("EVASIVE", rng.choice(pick["GENERALITIES"]), "generalities")
                if official:
                    add("EVASIVE", official, "official-line")
                    add(
                        "EVASIVE",
                        join([official, _first_sentence(rng.choice(pick["GENERALITIES"]))]),
                        "official-line-and-generality",
                    )
                else:
                    add("EVASIVE", join(rng.sample(pick["GENERALITIES"], 2)), "generalities-2")
                add(
                    "EVASIVE",
                    join(
                        [
                            _first_sentence(rng.choice(pick["GENERALITIES"])),
                            rng.choice(pick["DEFLECTIONS"]),
                        ]
                    ),
                    "deflection",
                )
                other = questions[(number + 1) % len(questions)]
                if other[0] != qid:
                    add("EVASIVE", other[2], "answers-another-question")
                add("TECHNICAL_FAILURE", _failure(number, answer, background, rng), "failure")
                add("TECHNICAL_FAILURE", _failure(number + 3, answer, background, rng), "failure-2")
            # The short pools list the same kinds of question in the same order in every
            # language ("Who are you?" third); rotating by language keeps each kind in both parts.
            shift = list(LANGUAGES).index(language) % 3
            pool = (
                pieces_d.SHORT[language] + pieces_d.OPINION[language] + pieces_d.ONE_SIDED[language]
            )
            shorts = _split(pool[shift:] + pool[:shift], held_out)
            for number, (question, short) in enumerate(shorts):
                rows.append(
                    {
                        "id": f"{language}-short-{split}-{number}",
                        "question": question,
                        "answer": short,
                        "language": language,
                        "label": "SUBSTANTIVE",
                        "case": "short-answer",
                        "split": split,
                        "source": SOURCE,
                    }
                )
    return rows


def _failure(kind: int, answer: str, background: str, rng: random.Random) -> str:
    kind %= 7
    if kind == 0:
        return rng.choice(["", "   ", "\n\n", " \t\n"])
    if kind == 1:
        return rng.choice(HTML_PAGES)
    if kind == 2:
        return rng.choice(ERROR_STRINGS)
    if kind == 3:
        return rng.choice(JSON_ERRORS)
    if kind == 4:
        return background + " " + rng.choice(TEMPLATE_LEAKS) + background
    if kind == 5:
        unit = rng.choice([background, background[: max(4, len(background) // 3)]])
        return " ".join([unit] * rng.randint(12, 30))
    return rng.choice(GARBAGE)


def main() -> None:
    rows = compose()
    with (HERE / "answers.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    by_split: dict[str, int] = {}
    for row in rows:
        by_split[row["split"]] = by_split.get(row["split"], 0) + 1
    print(len(rows), by_split)


if __name__ == "__main__":
    main()
