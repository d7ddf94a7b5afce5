"""The real execution pipeline in child processes: SIMULATED providers, and a
`beacon-gql worker` (claim, call, record, publish over PostgreSQL NOTIFY)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.common import Child, Database, beacon_command, child, log


@dataclass
class Pipeline:
    simulator: Child
    worker: Child
    providers_file: Path


def _wait_for_line(proc: Child, text: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        if text in proc.log_path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{proc.name} did not print {text!r} within {within} s:\n{proc.tail()}")


@contextlib.contextmanager
def simulator(
    name: str,
    work_dir: Path,
    *,
    latency_ms: float,
    max_concurrency: int,
    distinct_answers: bool = False,
) -> Iterator[tuple[Child, Path]]:
    providers_file = work_dir / f"providers-{name}.toml"
    command = [
        *_python("-m", "bench.simulator_proc"),
        "--providers-out",
        str(providers_file),
        "--latency-ms",
        str(latency_ms),
        "--max-concurrency",
        str(max_concurrency),
        *(["--distinct-answers"] if distinct_answers else []),
    ]
    with child(f"simulator-{name}", command) as sim:
        _wait_for_line(sim, "READY", 30)
        yield sim, providers_file


@contextlib.contextmanager
def worker(
    name: str,
    database: Database,
    providers_file: Path,
    *,
    concurrency: int,
    log_level: str = "INFO",
) -> Iterator[Child]:
    env = {
        "BEACON_DATABASE_URL": database.sqlalchemy_url,
        "BEACON_BROADCAST_URL": database.dsn,
        "BEACON_PROVIDERS_FILE": str(providers_file),
        "BEACON_WORKER_CONCURRENCY": str(concurrency),
        "BEACON_LOG_LEVEL": log_level,
    }
    with child(f"worker-{name}", beacon_command("worker"), env=env) as proc:
        _wait_for_line(proc, "worker started", 30)
        yield proc


@contextlib.contextmanager
def pipeline(
    name: str,
    database: Database,
    work_dir: Path,
    *,
    latency_ms: float,
    concurrency: int,
    log_level: str = "INFO",
    distinct_answers: bool = False,
) -> Iterator[Pipeline]:
    log(f"pipeline {name}: simulator latency {latency_ms:g} ms, worker concurrency {concurrency}")
    with (
        simulator(
            name,
            work_dir,
            latency_ms=latency_ms,
            max_concurrency=max(64, concurrency),
            distinct_answers=distinct_answers,
        ) as (sim, providers_file),
        worker(name, database, providers_file, concurrency=concurrency, log_level=log_level) as w,
    ):
        yield Pipeline(simulator=sim, worker=w, providers_file=providers_file)


def _python(*args: str) -> list[str]:
    import sys

    return [sys.executable, *args]
