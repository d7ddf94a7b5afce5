"""What every benchmark shares: a fresh PostgreSQL database, child processes on loopback,
free ports, RSS, percentiles, and the command line of the child processes themselves.

Every child process is started by the benchmark that needs it and stopped by it, by pid, in
a `finally`; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
LOG_DIR = RESULTS_DIR / "logs"

ADMIN_URL = os.environ.get("BEACON_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
HOST = "127.0.0.1"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- the database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    name: str
    dsn: str  # libpq / asyncpg URL

    @property
    def sqlalchemy_url(self) -> str:
        return self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[Database]:
    """A new database `beacon_bench_<random>`, migrated to head; dropped afterwards."""
    from beacon_gql.db import migrate
    from beacon_gql.db.engine import create_engine

    name = f"beacon_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ADMIN_URL, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = ADMIN_URL.rpartition("/")
    database = Database(name=name, dsn=f"{base}/{name}")
    try:
        engine = create_engine(database.sqlalchemy_url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        yield database
    finally:
        admin = await asyncpg.connect(ADMIN_URL, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# ---- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def beacon_command(*args: str) -> list[str]:
    """`beacon-gql ARGS` from this interpreter's environment."""
    script = Path(sys.executable).parent / "beacon-gql"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "beacon_gql.cli", *args]


class Child:
    """One child process, its output in a log file, stopped by pid (SIGINT, then SIGKILL)."""

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path = PROJECT_ROOT,
    ) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 20) -> str:
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


@contextlib.contextmanager
def child(name: str, command: Sequence[str], **kwargs: object) -> Iterator[Child]:
    process = Child(name, command, **kwargs)  # type: ignore[arg-type]
    try:
        yield process
    finally:
        process.stop()


async def wait_http(url: str, proc: Child, *, within: float = 60.0, method: str = "GET") -> None:
    """Returns once `url` answers (any status below 500); raises if the process died."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
            try:
                response = await http.request(method, url)
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{proc.name} did not answer {url} within {within} s")
            await asyncio.sleep(0.1)


def rss_mib(pid: int) -> float:
    """Resident set size of `pid` in MiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def peak_rss_mib(pid: int) -> float:
    """The highest resident set size `pid` has had, in MiB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time consumed so far by `pid`."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def descendants_cpu_seconds(pid: int) -> float:
    """User + system CPU time consumed so far by the living descendants of `pid` (the
    worker's classifier process, for one)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    total = 0.0
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        pending.extend(children.get(child, []))
        try:
            total += cpu_seconds(child)
        except OSError:  # exited meanwhile
            continue
    return total


# ---- figures -------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; NaN when there are no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(values_s: Sequence[float]) -> dict[str, float]:
    return {
        "count": float(len(values_s)),
        "p50_ms": percentile(values_s, 50) * 1000,
        "p99_ms": percentile(values_s, 99) * 1000,
        "max_ms": (max(values_s) if values_s else float("nan")) * 1000,
        "mean_ms": (statistics.fmean(values_s) if values_s else float("nan")) * 1000,
    }


def serve_baseline(create_app: Callable[[str], Any], description: str) -> None:
    """A baseline server's command line (`--dsn`, `--host`, `--port`): uvicorn with the same
    options as `beacon-gql serve`, until it is stopped."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.dsn),
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="on",
        # As `beacon-gql serve` (cli/main.py): compressing every message per socket would
        # make the baseline pay for work the server it is compared with does not do.
        ws_per_message_deflate=False,
    )


def run_on_uvloop(main: Coroutine[Any, Any, None]) -> None:
    """Runs a child process's main coroutine on uvloop, as the servers it talks to run."""
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        runner = asyncio.Runner()
    with contextlib.suppress(KeyboardInterrupt), runner:
        runner.run(main)
