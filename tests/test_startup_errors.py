"""Start-up mistakes, each made as a user would with a real `beacon-gql serve` process: one
line on stderr that says what to fix, no traceback, an exit status naming the kind of
failure, and nothing created on the way."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest

from beacon_gql.cli.failures import EXIT_ADDRESS, EXIT_DATABASE, EXIT_USAGE
from tests.support.databases import ADMIN_URL, postgres_wanted
from tests.support.processes import free_port

POSTGRES_SERVER = ADMIN_URL.rpartition("/")[0]


@dataclass
class Mistake:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    """Files the user has written (relative to the working folder) before starting."""
    exit_status: int = EXIT_USAGE
    says: tuple[str, ...] = ()


MISTAKES = [
    Mistake(
        "database server that does not answer",
        env={"BEACON_DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/beacon"},
        exit_status=EXIT_DATABASE,
        says=("cannot reach the PostgreSQL server", "Connection refused"),
    ),
    Mistake(
        "broadcast server that does not answer",
        env={"BEACON_BROADCAST_URL": f"redis://127.0.0.1:{free_port()}/0"},
        exit_status=EXIT_DATABASE,
        says=("cannot reach the broadcast server of BEACON_BROADCAST_URL", "refused"),
    ),
    Mistake(
        "database URL that is not a URL",
        env={"BEACON_DATABASE_URL": "foo"},
        says=("BEACON_DATABASE_URL must be a URL", "'foo'"),
    ),
    Mistake(
        "missing providers file",
        env={"BEACON_PROVIDERS_FILE": "providers.toml"},
        says=("providers.toml: cannot read providers file", "No such file"),
    ),
    Mistake(
        "providers file that is not TOML",
        env={"BEACON_PROVIDERS_FILE": "providers.toml"},
        files={"providers.toml": "[[provider]\nname = 'x'\n"},
        says=("providers.toml", "invalid TOML"),
    ),
    Mistake(
        "missing trusted-keys file",
        env={"BEACON_TRUSTED_KEYS_FILE": "trusted.json"},
        says=("trusted keys file trusted.json", "No such file"),
    ),
    Mistake(
        "trusted-keys file that is not JSON",
        env={"BEACON_TRUSTED_KEYS_FILE": "trusted.json"},
        files={"trusted.json": '[{"kid": "a",\n'},
        says=("trusted.json",),
    ),
    Mistake("port 0", args=("--port", "0"), says=("--port", "0 is outside 1-65535")),
    Mistake("port 70000", args=("--port", "70000"), says=("--port", "70000 is outside 1-65535")),
]


def serve(
    cwd: Path, env: dict[str, str], *args: str, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "beacon_gql.cli", "serve"]
    if not any(arg == "--port" for arg in args):
        command += ["--port", str(port or free_port())]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


async def database_exists(name: str) -> bool:
    connection = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        found = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await connection.close()
    return found is not None


def assert_one_clear_line(done: subprocess.CompletedProcess[str], mistake: Mistake) -> None:
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert lines[0].startswith("beacon-gql"), lines[0]
    for words in mistake.says:
        assert words in lines[0], lines[0]
    assert done.returncode == mistake.exit_status, done.stderr


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.name for m in MISTAKES])
def test_a_start_up_mistake_is_one_line_and_creates_nothing(
    mistake: Mistake, tmp_path: Path
) -> None:
    for name, text in mistake.files.items():
        (tmp_path / name).write_text(text)
    before = files_under(tmp_path)

    done = serve(tmp_path, mistake.env, *mistake.args)

    assert_one_clear_line(done, mistake)
    assert files_under(tmp_path) == before  # no .beacon/ folder, no SQLite file


async def test_a_database_that_does_not_exist_is_named_and_not_created(tmp_path: Path) -> None:
    if not postgres_wanted():
        pytest.skip("BEACON_TEST_POSTGRES=skip")
    name = f"beacon_missing_{uuid.uuid4().hex[:8]}"
    mistake = Mistake(
        "missing database",
        env={"BEACON_DATABASE_URL": f"{POSTGRES_SERVER}/{name}"},
        exit_status=EXIT_DATABASE,
        says=(f"'{name}' does not exist", f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}"),
    )
    done = await asyncio.to_thread(serve, tmp_path, mistake.env)
    assert_one_clear_line(done, mistake)
    assert not await database_exists(name)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_port_in_use_is_found_before_anything_is_created(taken_port: int, tmp_path: Path) -> None:
    done = serve(tmp_path, {}, port=taken_port)

    mistake = Mistake(
        "port in use", exit_status=EXIT_ADDRESS, says=(f"127.0.0.1:{taken_port} is already in use",)
    )
    assert_one_clear_line(done, mistake)
    assert files_under(tmp_path) == set()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    done = subprocess.run(
        [sys.executable, "-m", "beacon_gql.cli", "--debug", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env={**clean, "BEACON_PROVIDERS_FILE": "missing.toml"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" in done.stderr
    assert done.stderr.splitlines()[-1].startswith("beacon-gql: missing.toml")
    assert done.returncode == EXIT_USAGE


async def test_serving_on_is_said_once_listening_and_postgres_urls_work(
    postgres_database_url: str, tmp_path: Path
) -> None:
    """A plain postgresql:// URL, as people paste it, names the asyncpg driver implicitly."""
    pasted = postgres_database_url.replace("postgresql+asyncpg://", "postgres://")
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beacon_gql.cli",
        "serve",
        "--port",
        str(port),
        cwd=tmp_path,
        env={**clean, "BEACON_DATABASE_URL": pasted},
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    logged = []
    try:
        async with asyncio.timeout(60):
            while b"serving on" not in (line := await process.stderr.readline()):
                assert line, "the server exited without saying it serves"
                logged.append(json.loads(line))  # not a terminal: JSON lines
        assert f"http://127.0.0.1:{port}/graphql" in line.decode()
        # Said only once listening: the very first request is answered.
        async with httpx.AsyncClient() as http:
            response = await http.get(f"http://127.0.0.1:{port}/ready")
        assert response.json()["checks"]["database"] == "ok"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)
    # On PostgreSQL: no SQLite file (the receipts' default signing key is made, on purpose).
    assert not any(name.endswith(".db") for name in files_under(tmp_path))
    assert any(entry["msg"] == "worker started" for entry in logged)
