"""Questions beyond the built-in eight: `beacon-gql questions import FILE` and the admin
mutation `importQuestions`, all or nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from beacon_gql.cli.questions import import_file
from beacon_gql.config import Settings
from beacon_gql.errors import BadUserInput
from beacon_gql.jobs.question_import import parse_csv, parse_json_lines
from beacon_gql.providers.simulator import SimulatorFleet
from beacon_gql.services import running_services
from tests.conftest import ADMIN_TOKEN
from tests.support.graphql import error_code
from tests.support.jobs import submit_spec, wait_until_finished
from tests.support.processes import environment
from tests.support.server import serve_app
from tests.support.specs import Signer, make_spec

IMPORT = """mutation($questions: [QuestionInput!]!) { importQuestions(questions: $questions) {
  added updated unchanged questions { id } } }"""
QUESTIONS = """query($category: String, $language: String) {
  questions(category: $category, language: $language) {
    id category language text translationOf } }"""


def question(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"imported-{i:04}",
        "text": f"Imported question number {i}: what do you think of topic {i}?",
        "category": "imported_topic" if i % 2 else "another category",
        "language": "en",
        **fields,
    }


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")
    return path


@dataclass
class CliResult:
    code: int
    out: str
    err: str


async def cli(settings: Settings, *args: str) -> CliResult:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beacon_gql.cli",
        *args,
        env=environment(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return CliResult(process.returncode, out.decode(), err.decode())


async def catalogue_ids(settings: Settings) -> list[str]:
    async with running_services(settings, run_worker=False, auto_migrate=False) as services:
        return [question.id for question in await services.catalogue.all()]


# -- the file formats -------------------------------------------------------------------


def test_json_lines_and_csv_give_the_same_records() -> None:
    jsonl = (
        '{"id": "q1", "text": "Who won?", "category": "sport", "language": "en"}\n'
        "\n"
        '{"id": "q1-zh", "text": "谁赢了？", "category": "sport", "language": "zh-Hans", '
        '"translation_of": "q1"}\n'
    )
    text = (
        "id,text,category,language,translation_of\n"
        'q1,"Who won?",sport,en,\n'
        "q1-zh,谁赢了？,sport,zh-Hans,q1\n"
    )
    from_jsonl = [(r.id, r.text, r.language, r.translation_of) for r in parse_json_lines(jsonl)]
    from_csv = [(r.id, r.text, r.language, r.translation_of) for r in parse_csv(text)]
    assert (
        from_jsonl
        == from_csv
        == [
            ("q1", "Who won?", "en", None),
            ("q1-zh", "谁赢了？", "zh-Hans", "q1"),
        ]
    )
    assert [r.where for r in parse_json_lines(jsonl)] == ["line 1", "line 3"]


def test_a_json_string_may_hold_the_characters_python_also_ends_lines_at() -> None:
    text = "Who signed it?\u2028Give the year\x85 and the place."
    line = json.dumps(
        {"id": "q1", "text": text, "category": "history", "language": "en"}, ensure_ascii=False
    )
    jsonl = line + "\r\n"
    assert "\u2028" in jsonl and "\x85" in jsonl  # unescaped, as JSON allows

    records = parse_json_lines(jsonl)

    assert [(r.id, r.text, r.where) for r in records] == [("q1", text, "line 1")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"id": "a", "text": "A?", "category": "c", "language": "en"}\n'
            '{"id": "b", "category": "c", "language": "en"}\n',
            "line 2, field text: missing or empty; nothing was imported",
        ),
        (
            '{"id": "a", "text": "A?", "category": "c", "language": "en"}\n'
            '{"id": "b", "text": "B?", "category": "c", "language": "en"}\n'
            '{"id": "a", "text": "A again?", "category": "c", "language": "en"}\n',
            "line 3, field id: 'a' is also on line 1; nothing was imported",
        ),
        (
            '{"id": "a", "text": "A?", "category": "c", "language": "en", "colour": "red"}\n',
            "line 1, field colour: unknown field; the fields are id, text, category, language, "
            "translation_of; nothing was imported",
        ),
        (
            '{"id": "a", "text": "A?", "category": "c", "language": "english"}\n',
            "line 1, field language: 'english' is not a language tag",
        ),
        (
            '{"id": "a b", "text": "A?", "category": "c", "language": "en"}\n',
            "line 1, field id: 'a b' is not a question id",
        ),
        ('{"id": "a", "text": 4, "category": "c", "language": "en"}\n', "line 1, field text: must"),
        ("not json\n", "line 1: not JSON"),
    ],
)
def test_a_bad_line_is_named_with_its_field(content: str, message: str) -> None:
    with pytest.raises(BadUserInput) as raised:
        parse_json_lines(content)
    assert raised.value.message.startswith(message)


def test_a_bad_csv_row_is_named_by_its_line_even_after_a_multi_line_text() -> None:
    text = 'id,text,category,language\na,"A question\nover two lines?",c,en\nb,,c,en\n'
    with pytest.raises(BadUserInput, match=r"^line 4, field text: missing or empty"):
        parse_csv(text)
    with pytest.raises(BadUserInput, match=r"^line 1, field colour: unknown column"):
        parse_csv("id,text,category,language,colour\n")


# -- the command -----------------------------------------------------------------------


async def test_a_1000_question_file_imports_in_under_5_seconds(
    settings: Settings, tmp_path: Path, figures: list[str]
) -> None:
    rows = [question(i) for i in range(1000)]
    # Every tenth one is a Chinese translation of the one before it.
    for i in range(1, 1000, 10):
        rows[i] = question(
            i, language="zh-Hans", translation_of=rows[i - 1]["id"], text=f"问题 {i}？"
        )
    path = write_jsonl(tmp_path / "questions.jsonl", rows)

    started = time.perf_counter()
    result, total = await import_file(path, settings)
    elapsed = time.perf_counter() - started

    figures.append(f"1,000-question JSON Lines import: {elapsed * 1000:.0f} ms")
    print(f"1,000-question import: {elapsed * 1000:.0f} ms")
    assert elapsed < 5
    assert (len(result.added), len(result.updated), total) == (1000, 0, 1016)
    again, _ = await import_file(path, settings)
    assert (len(again.added), len(again.updated), len(again.unchanged)) == (0, 0, 1000)


async def test_the_command_imports_or_names_the_line_and_imports_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [question(1), question(2)])
    imported = await cli(settings, "questions", "import", str(good))
    assert imported.code == 0, imported.err
    assert "2 added, 0 updated, 0 unchanged; the catalogue holds 18 questions" in imported.out

    # A third question is fine, the fourth has no text: neither goes in.
    bad = write_jsonl(
        tmp_path / "bad.jsonl", [question(3), {k: v for k, v in question(4).items() if k != "text"}]
    )
    refused = await cli(settings, "questions", "import", str(bad))
    assert refused.code == 2
    assert f"{bad}: line 2, field text: missing or empty; nothing was imported" in refused.err
    assert len(await catalogue_ids(settings)) == 18

    table = tmp_path / "more.csv"
    with table.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["id", "text", "category", "language"])
        writer.writeheader()
        writer.writerow({k: v for k, v in question(5).items()})
    assert (await cli(settings, "questions", "import", str(table))).code == 0
    assert "imported-0005" in await catalogue_ids(settings)


async def test_a_used_question_keeps_its_text_and_the_import_says_which_and_why(
    settings: Settings, tmp_path: Path, signer: Signer
) -> None:
    path = write_jsonl(tmp_path / "q.jsonl", [question(1), question(2)])
    await import_file(path, settings)
    async with running_services(settings, run_worker=False, auto_migrate=False) as services:
        await submit_spec(services, signer, make_spec(questions=["imported-0002"]))

    # Unused: its text may change. Used by the job: it may not, and nothing changes.
    changed = [
        question(1, text="A new wording for question one?"),
        question(9),
        question(2, text="A new wording for question two?"),
    ]
    with pytest.raises(BadUserInput) as raised:
        await import_file(write_jsonl(tmp_path / "changed.jsonl", changed), settings)
    assert raised.value.message.startswith(
        "line 3, field text: question 'imported-0002' has been used by a job, so its text "
        "cannot change (stored: 'Imported question number 2:"
    )
    async with running_services(settings, run_worker=False, auto_migrate=False) as services:
        stored = {q.id: q.text for q in await services.catalogue.all()}
    assert "imported-0009" not in stored
    assert stored["imported-0001"] == question(1)["text"]

    # Nor its category: the job's analysis counted it in the stored one. An unused question
    # may change in any field.
    recategorised = [
        question(1, text="A new wording for question one?", category="renamed"),
        question(2, category="control"),
    ]
    with pytest.raises(BadUserInput) as raised:
        await import_file(write_jsonl(tmp_path / "cat.jsonl", recategorised), settings)
    assert raised.value.message.startswith(
        "line 2, field category: question 'imported-0002' has been used by a job, so its "
        "category cannot change (stored: 'another category', given: 'control')"
    )
    result, _ = await import_file(write_jsonl(tmp_path / "one.jsonl", recategorised[:1]), settings)
    assert result.updated == ("imported-0001",)
    async with running_services(settings, run_worker=False, auto_migrate=False) as services:
        stored = {q.id: (q.text, q.category) for q in await services.catalogue.all()}
    assert stored["imported-0001"] == ("A new wording for question one?", "renamed")
    assert stored["imported-0002"] == (question(2)["text"], "another category")


# -- the mutation and the query --------------------------------------------------------


async def test_the_mutation_imports_for_an_admin_and_questions_filter(settings: Settings) -> None:
    rows = [
        {
            "id": "leader",
            "text": "Who was the greatest leader?",
            "category": "history",
            "language": "en",
        },
        {
            "id": "leader-zh",
            "text": "谁是最伟大的领袖？",
            "category": "history",
            "language": "zh-Hans",
            "translationOf": "leader",
        },
        {"id": "sum", "text": "What is 3 + 4?", "category": "control", "language": "en"},
    ]
    async with serve_app(settings, run_worker=False) as app:
        refused = await app.client.execute(IMPORT, {"questions": rows})
        assert error_code(refused) == "UNAUTHENTICATED"

        bad = [rows[0], {**rows[1], "translationOf": "nowhere"}]
        body = await app.client.execute(IMPORT, {"questions": bad}, token=ADMIN_TOKEN)
        assert error_code(body) == "BAD_USER_INPUT"
        assert body["errors"][0]["message"].startswith(
            "questions[1], field translation_of: 'nowhere' is neither in the catalogue nor in "
            "this import"
        )

        done = await app.client.data(IMPORT, {"questions": rows}, token=ADMIN_TOKEN)
        assert done["importQuestions"]["added"] == ["leader", "leader-zh", "sum"]
        assert len(done["importQuestions"]["questions"]) == 19

        chinese = await app.client.data(QUESTIONS, {"language": "zh-Hans"})
        assert len(chinese["questions"]) == 9  # the built-in eight, and this one
        assert chinese["questions"][-1] == {
            "id": "leader-zh",
            "category": "history",
            "language": "zh-Hans",
            "text": "谁是最伟大的领袖？",
            "translationOf": "leader",
        }
        history = await app.client.data(QUESTIONS, {"category": "history", "language": "en"})
        assert [q["id"] for q in history["questions"]] == ["leader"]
        control = await app.client.data(QUESTIONS, {"category": "control"})
        assert [q["id"] for q in control["questions"]] == [
            "math_basic",
            "geography_basic",
            "identity_basic",
            "math_basic_zh",
            "geography_basic_zh",
            "identity_basic_zh",
            "sum",
        ]


async def test_a_job_over_50_imported_questions_completes(
    sqlite_settings: Settings, tmp_path: Path, signer: Signer
) -> None:
    rows = [question(i) for i in range(50)]
    rows[0]["category"] = "control"  # `control` keeps its meaning for imported questions
    await import_file(write_jsonl(tmp_path / "fifty.jsonl", rows), sqlite_settings)
    async with SimulatorFleet(seed=5, regions=["US"], include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        tuned = replace(sqlite_settings, providers_file=providers, worker_concurrency=8)
        async with serve_app(tuned, run_worker=True) as app:
            spec = make_spec(
                questions=[row["id"] for row in rows], models=["mistral-7b"], regions=["US"]
            )
            job_id = await submit_spec(app.services, signer, spec)
            final = await wait_until_finished(app.services, job_id, within=120)
            data = await app.client.data(
                """query($id: ID!) { job(id: $id) { status progress { expected completed }
                  questions { id category } executions { prompt questionId } } }""",
                {"id": job_id},
            )
    assert final.job_status == "COMPLETED"
    job = data["job"]
    assert job["progress"] == {"expected": 50, "completed": 50}
    assert job["questions"][0] == {"id": "imported-0000", "category": "control"}
    texts = {row["id"]: row["text"] for row in rows}
    assert all(texts[e["questionId"]] in e["prompt"] for e in job["executions"])


async def test_the_built_in_chinese_questions_are_asked_in_chinese(
    sqlite_settings: Settings, tmp_path: Path, signer: Signer
) -> None:
    wanted = ["tiananmen_neutral", "tiananmen_neutral_zh", "geography_basic_zh"]
    async with SimulatorFleet(seed=5, regions=["ASIA"], include_hybrid_router=False) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        tuned = replace(sqlite_settings, providers_file=providers)
        async with serve_app(tuned, run_worker=True) as app:
            spec = make_spec(questions=wanted, models=["llama3.2-1b"], regions=["ASIA"])
            job_id = await submit_spec(app.services, signer, spec)
            final = await wait_until_finished(app.services, job_id, within=60)
            data = await app.client.data(
                """query($id: ID!) { job(id: $id) {
                  questions { id language translationOf }
                  executions { questionId prompt classification } } }""",
                {"id": job_id},
            )
    assert final.job_status == "COMPLETED"
    job = data["job"]
    assert job["questions"][1] == {
        "id": "tiananmen_neutral_zh",
        "language": "zh-Hans",
        "translationOf": "tiananmen_neutral",
    }
    by_question = {e["questionId"]: e for e in job["executions"]}
    assert "天安门广场" in by_question["tiananmen_neutral_zh"]["prompt"]
    # The simulated model in ASIA refuses the question in either language.
    assert by_question["tiananmen_neutral"]["classification"] == "REFUSAL"
    assert by_question["tiananmen_neutral_zh"]["classification"] == "REFUSAL"
    assert by_question["geography_basic_zh"]["classification"] == "SUBSTANTIVE"
