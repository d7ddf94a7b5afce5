"""Questions brought by researchers: read from JSON Lines or CSV, checked field by field.

Pure: no database. Every error names where the bad value is ("line 3" of a file,
"questions[2]" of the mutation) and the field, and the first error stops the import, so a
file is imported whole or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from beacon_gql.errors import BadUserInput

FIELDS = ("id", "text", "category", "language", "translation_of")
REQUIRED = ("id", "text", "category", "language")
MAX_TEXT = 4000
MAX_QUESTIONS_PER_IMPORT = 20_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_CATEGORY = re.compile(r"^\S(.{0,62}\S)?$")
# A BCP 47 language tag, loosely: "en", "zh-Hans", "pt-BR", "yue".
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class QuestionRecord:
    id: str
    text: str
    category: str
    language: str
    translation_of: str | None
    where: str
    """Where it came from, for error messages: "line 3", "questions[2]"."""


class QuestionImportError(BadUserInput):
    """Names the record and the field; nothing was imported."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        super().__init__(f"{where}, field {field}: {problem}; nothing was imported", field=field)
        self.where = where


def check_record(raw: Mapping[str, object], where: str) -> QuestionRecord:
    unknown = [key for key in raw if key not in FIELDS]
    if unknown:
        raise QuestionImportError(
            where, str(unknown[0]), f"unknown field; the fields are {', '.join(FIELDS)}"
        )
    values: dict[str, str | None] = {}
    for field in FIELDS:
        value = raw.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field in REQUIRED:
                raise QuestionImportError(where, field, "missing or empty")
            values[field] = None
            continue
        if not isinstance(value, str):
            raise QuestionImportError(where, field, f"must be a string, got {value!r}")
        values[field] = value
    question_id = values["id"] or ""
    if not _ID.match(question_id):
        raise QuestionImportError(
            where,
            "id",
            f"{question_id!r} is not a question id (letters, digits and . _ : -, at most 64, "
            "starting with a letter or digit)",
        )
    text = (values["text"] or "").strip()
    if len(text) > MAX_TEXT:
        raise QuestionImportError(where, "text", f"longer than {MAX_TEXT} characters")
    category = values["category"] or ""
    if not _CATEGORY.match(category):
        raise QuestionImportError(
            where, "category", f"{category!r}: at most 64 characters, no surrounding spaces"
        )
    language = values["language"] or ""
    if not _LANGUAGE.match(language):
        raise QuestionImportError(
            where, "language", f"{language!r} is not a language tag such as en, zh-Hans, pt-BR"
        )
    translation_of = values["translation_of"]
    if translation_of is not None and translation_of == question_id:
        raise QuestionImportError(where, "translation_of", "a question is not its own translation")
    return QuestionRecord(
        id=question_id,
        text=text,
        category=category,
        language=language,
        translation_of=translation_of,
        where=where,
    )


def check_batch(records: Sequence[QuestionRecord]) -> None:
    """What no single record shows: duplicate ids, too many questions."""
    if not records:
        raise BadUserInput("no question to import", field="questions")
    if len(records) > MAX_QUESTIONS_PER_IMPORT:
        raise BadUserInput(
            f"at most {MAX_QUESTIONS_PER_IMPORT} questions per import, got {len(records)}",
            field="questions",
        )
    first: dict[str, QuestionRecord] = {}
    for record in records:
        earlier = first.setdefault(record.id, record)
        if earlier is not record:
            raise QuestionImportError(
                record.where, "id", f"{record.id!r} is also on {earlier.where}"
            )


def parse_json_lines(text: str) -> list[QuestionRecord]:
    records = []
    # Lines end at "\n" only: `str.splitlines` also splits at U+2028, U+0085 and other
    # characters a JSON string may hold unescaped, which would cut a question in two.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            raw = json.loads(line)
        except ValueError as error:
            raise BadUserInput(f"{where}: not JSON ({error}); nothing was imported") from None
        if not isinstance(raw, dict):
            raise BadUserInput(f"{where}: expected a JSON object; nothing was imported")
        records.append(check_record(raw, where))
    check_batch(records)
    return records


def parse_csv(text: str) -> list[QuestionRecord]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    for field in header:
        if field not in FIELDS:
            raise QuestionImportError(
                "line 1", field, f"unknown column; the columns are {', '.join(FIELDS)}"
            )
    records = []
    for row in reader:
        # line_num counts physical lines, so a quoted multi-line text keeps numbers right.
        where = f"line {reader.line_num}"
        if None in row:
            raise QuestionImportError(where, "(extra)", "more values than columns")
        records.append(check_record({k: v for k, v in row.items() if k is not None}, where))
    check_batch(records)
    return records


def parse_file(path: Path) -> list[QuestionRecord]:
    """JSON Lines (.jsonl, .ndjson, .json) or CSV (.csv); other names by their first
    character ("{" is JSON Lines)."""
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_csv(text)
    if suffix in (".jsonl", ".ndjson", ".json") or text.lstrip().startswith("{"):
        return parse_json_lines(text)
    return parse_csv(text)


def records_from_inputs(inputs: Iterable[Mapping[str, object]]) -> list[QuestionRecord]:
    """The mutation's `questions`, checked as a file's lines are."""
    records = [check_record(raw, f"questions[{index}]") for index, raw in enumerate(inputs)]
    check_batch(records)
    return records
