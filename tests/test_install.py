"""The package as a user installs it: `pip install <checkout>` (not editable) and a wheel
built from it, each in a fresh virtual environment, run from an empty folder.

The fresh environments see this test environment's third-party packages through a .pth
file (nothing is downloaded), but not its editable beacon_gql: each imports its own copy.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.databases import fresh_postgres_database
from tests.support.processes import free_port

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120.0


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_copy(destination: Path) -> Path:
    """The checkout's files as a clone has them: tracked, plus new files not ignored."""
    listed = run(
        "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPOSITORY
    )
    for name in filter(None, listed.split("\0")):
        source = REPOSITORY / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def fresh_venv(path: Path) -> Path:
    """A virtual environment that borrows this one's dependencies; its python."""
    run(sys.executable, "-m", "venv", "--without-pip", path)
    python = path / "bin" / "python"
    purelib = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    # A plain path line: the .pth files over there (the editable beacon_gql's) are not run.
    (purelib / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def pip_install(python: Path, target: Path) -> None:
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        target,
    )


@pytest.fixture(scope="module", params=["checkout", "wheel"])
def installed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh environment with beacon-gql installed from a clean copy of
    the checkout, or from a wheel built from it."""
    root = tmp_path_factory.mktemp(f"install-{request.param}")
    source = clean_copy(root / "source")
    python = fresh_venv(root / "venv")
    if request.param == "wheel":
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            root / "dist",
            source,
        )
        [wheel] = (root / "dist").glob("beacon_gql-*.whl")
        pip_install(python, wheel)
    else:
        pip_install(python, source)
    shutil.rmtree(source)
    return python.parent


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    return {**env, "PYTHONPATH": "", **values}


def test_the_installed_package_is_its_own_and_carries_its_migrations(
    installed: Path, tmp_path: Path
) -> None:
    shown = run(
        installed / "python",
        "-c",
        "import beacon_gql.db.migrate as m; print(m.__file__); print(m.migrations_dir()); "
        "print(m.head_revision())",
        cwd=tmp_path,
    ).split("\n")
    venv = installed.parent
    assert Path(shown[0]).is_relative_to(venv), shown[0]
    assert Path(shown[1]) == Path(shown[0]).parents[1] / "migrations"
    assert shown[2]


async def wait_ready(base_url: str, process: asyncio.subprocess.Process) -> httpx.Response:
    async with httpx.AsyncClient() as http, asyncio.timeout(60):
        while True:
            if process.returncode is not None:
                raise AssertionError(f"the server exited with {process.returncode}")
            try:
                response = await http.get(f"{base_url}/ready")
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            # Connection refused until uvicorn binds.
            await asyncio.sleep(0.1)


@asynccontextmanager
async def running(
    command: list[str | Path], cwd: Path, env: dict[str, str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=cwd, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            async with asyncio.timeout(30):
                await process.wait()


@pytest.mark.postgres
async def test_migrate_then_serve_on_a_fresh_postgres_database(
    installed: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    async with fresh_postgres_database(migrated=False) as url:
        # A deployment names its receipt signing key (shared by its processes); the folder
        # served from stays as it was.
        env = environment(
            BEACON_DATABASE_URL=url,
            BEACON_SIGNING_KEY_FILE=str(tmp_path / "keys" / "signing-key.json"),
        )
        said = run(installed / "beacon-gql", "rotate-signing-key", cwd=empty, env=env)
        assert "created" in said, said
        migrate = await asyncio.create_subprocess_exec(
            installed / "beacon-gql",
            "migrate",
            cwd=empty,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(TIMEOUT_S):
            said, _ = await migrate.communicate()
        assert migrate.returncode == 0, said.decode()
        port = free_port()
        command: list[str | Path] = [installed / "beacon-gql", "serve", "--port", str(port)]
        async with running(command, empty, env, tmp_path / "serve.log") as server:
            ready = await wait_ready(f"http://127.0.0.1:{port}", server)
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "broadcast": "ok"}}
    assert list(empty.iterdir()) == []


async def test_demo_finishes_its_job_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    port = free_port()
    log = tmp_path / "demo.log"
    command: list[str | Path] = [installed / "beacon-gql", "demo", "--port", str(port)]
    async with running(command, empty, environment(), log) as demo:
        async with asyncio.timeout(60):
            while not (found := re.search(r"job\s+([0-9a-f-]{36}):", log.read_text())):
                assert demo.returncode is None, log.read_text()
                await asyncio.sleep(0.1)
        watch = await asyncio.create_subprocess_exec(
            installed / "beacon-gql",
            "watch",
            found.group(1),
            "--url",
            f"http://127.0.0.1:{port}/graphql",
            cwd=empty,
            env=environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(TIMEOUT_S):
            output, _ = await watch.communicate()
    assert watch.returncode == 0, output.decode()
    assert (empty / ".beacon" / "beacon.db").is_file()
