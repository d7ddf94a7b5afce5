"""The CLI explains itself: help for every option, its default, the variables, the version,
the configuration in effect, and mistakes in the researcher's files said precisely."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from beacon_gql.cli.main import build_parser
from beacon_gql.config import VARIABLES, load_settings
from tests.support.specs import make_spec


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    return subprocess.run(
        [sys.executable, "-m", "beacon_gql.cli", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_option_of_every_command_has_help_and_shows_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one line an option: no wrapping inside a default
    parser = build_parser()
    commands = subcommands(parser)
    assert {"serve", "worker", "migrate", "config", "sign", "watch", "simulate", "demo"} <= set(
        commands
    )
    for name, command in [("beacon-gql", parser), *commands.items()]:
        shown = command.format_help()
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            where = f"{name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and action.help.strip(), f"{where} has no help text"
            if not (action.default is None or action.default is False) and (
                action.default != argparse.SUPPRESS
            ):
                said = f"(default: {action.default})" in shown or "(default: $" in action.help
                assert said, where


def test_every_variable_the_settings_read_is_listed() -> None:
    read = set(re.findall(r'"(BEACON_[A-Z_]+)"', inspect.getsource(load_settings)))
    assert read == {variable.name for variable in VARIABLES}


def test_help_names_every_variable_and_the_config_command(tmp_path: Path) -> None:
    done = run_cli("--help", cwd=tmp_path)
    text = " ".join(done.stdout.split())
    for variable in VARIABLES:
        assert variable.name in text
    assert "`beacon-gql config` prints the values in effect" in text
    assert "exit status:" in text


def test_version(tmp_path: Path) -> None:
    done = run_cli("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith("beacon-gql 0.")


def test_config_shows_the_values_in_effect_with_secrets_masked(tmp_path: Path) -> None:
    done = run_cli(
        "config",
        cwd=tmp_path,
        BEACON_DATABASE_URL="postgresql://beacon:hunter2@db.example.org/beacon",
        BEACON_READ_TOKEN="read-secret",
        BEACON_WORKER_CONCURRENCY="4",
    )
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()}
    assert set(lines) == {variable.name for variable in VARIABLES}
    assert "hunter2" not in done.stdout and "read-secret" not in done.stdout
    assert (
        "postgresql+asyncpg://beacon:***@db.example.org/beacon  (set"
        in lines["BEACON_DATABASE_URL"]
    )
    assert "****  (set" in lines["BEACON_READ_TOKEN"]
    assert " 4  (set" in lines["BEACON_WORKER_CONCURRENCY"]
    assert " 3  (default" in lines["BEACON_MAX_ATTEMPTS"]


def test_sign_says_what_it_wrote_and_json_mistakes_name_file_and_place(tmp_path: Path) -> None:
    assert run_cli("keygen", "--kid", "alice", cwd=tmp_path).returncode == 0
    (tmp_path / "spec.json").write_text(json.dumps(make_spec()))

    done = run_cli("sign", "spec.json", "-o", "signed.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("signed spec.json with key 'alice' (beacon-key.json)")
    assert done.stderr.rstrip().endswith("wrote signed.json")
    assert json.loads((tmp_path / "signed.json").read_text())["signature"]

    (tmp_path / "broken.json").write_text('{"id": "x",\n')
    done = run_cli("sign", "broken.json", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "beacon-gql: broken.json: line 2, column 1: "
        "expecting property name enclosed in double quotes\n"
    )
    assert done.stdout == ""


def test_export_schema_without_output_writes_to_stdout(tmp_path: Path) -> None:
    done = run_cli("export-schema", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checked_in = Path(__file__).resolve().parents[1] / "schema.graphql"
    assert done.stdout == checked_in.read_text()
    assert list(tmp_path.iterdir()) == []


def test_a_usage_mistake_is_one_line(tmp_path: Path) -> None:
    done = run_cli("watch", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "beacon-gql watch: the following arguments are required: JOB_ID "
        "(see beacon-gql watch --help)"
    ]
