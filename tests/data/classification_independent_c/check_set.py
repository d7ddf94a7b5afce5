"""Validate test.jsonl of the evalc evaluation set and print counts."""

import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "test.jsonl")
FIELDS = ["id", "question", "answer", "language", "label", "case", "split", "source"]
LABELS = {"SUBSTANTIVE", "REFUSAL", "EVASIVE", "TECHNICAL_FAILURE"}
LANGS = ["en", "zh-CN", "zh-TW", "es", "fr", "de", "ru", "ja", "ar"]
SOURCE = "written for beacon_gql by evalc (Claude helper), MIT licence"
errors, rows = [], []
with open(PATH, encoding="utf-8") as f:
    for i, line in enumerate(f, 1):
        if not line.strip():
            errors.append(f"line {i}: blank line")
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {i}: invalid JSON: {e}")
            continue
        if not isinstance(r, dict) or list(r.keys()) != FIELDS:
            errors.append(f"line {i}: fields {list(r.keys()) if isinstance(r, dict) else type(r)}")
            continue
        if not all(isinstance(r[k], str) for k in FIELDS):
            errors.append(f"line {i}: non-string field")
        if r["label"] not in LABELS:
            errors.append(f"line {i}: bad label {r['label']}")
        if r["language"] not in LANGS:
            errors.append(f"line {i}: bad language {r['language']}")
        if r["split"] != "test":
            errors.append(f"line {i}: bad split {r['split']}")
        if r["source"] != SOURCE:
            errors.append(f"line {i}: bad source")
        if not re.fullmatch(r"[a-z0-9_]+", r["case"]):
            errors.append(f"line {i}: bad case {r['case']}")
        if not r["question"].strip():
            errors.append(f"line {i}: empty question")
        if r["id"] != f"indc-{i:04d}":
            errors.append(f"line {i}: id {r['id']} out of order")
        if not r["answer"].strip() and r["label"] != "TECHNICAL_FAILURE":
            errors.append(f"line {i}: empty answer must be TECHNICAL_FAILURE")
        rows.append(r)
ids = Counter(r["id"] for r in rows)
errors += [f"duplicate id {k}" for k, v in ids.items() if v > 1]
pairs = Counter((r["question"], r["answer"]) for r in rows)
errors += [f"duplicate pair: {k[0][:40]!r} / {k[1][:40]!r}" for k, v in pairs.items() if v > 1]
n = len(rows)
print(f"rows: {n}   distinct questions: {len(set(r['question'] for r in rows))}")
lab = Counter(r["label"] for r in rows)
print("labels:", {k: f"{lab[k]} ({100 * lab[k] / max(n, 1):.1f}%)" for k in sorted(LABELS)})
lc = Counter(r["language"] for r in rows)
print("languages:", {k: f"{lc[k]} ({100 * lc[k] / max(n, 1):.1f}%)" for k in LANGS})
print("label x language:")
print("  " + "lang".ljust(7) + "".join(label[:5].rjust(7) for label in sorted(LABELS)))
for lg in LANGS:
    c = Counter(r["label"] for r in rows if r["language"] == lg)
    print("  " + lg.ljust(7) + "".join(str(c[label]).rjust(7) for label in sorted(LABELS)))
    missing = [label for label in LABELS if c[label] == 0]
    if missing and lc[lg]:
        errors.append(f"{lg}: missing labels {missing}")
print("cases:")
for (case, label), k in sorted(
    Counter((r["case"], r["label"]) for r in rows).items(), key=lambda x: (x[0][1], x[0][0])
):
    print(f"  {label:18} {case:40} {k}")
lens = [len(r["answer"].split()) for r in rows]
print(f"answer length (whitespace tokens): min {min(lens)} max {max(lens)}" if lens else "")
if errors:
    print(f"\n{len(errors)} ERROR(S):")
    for e in errors:
        print("  " + e)
    sys.exit(1)
print("\nOK")
