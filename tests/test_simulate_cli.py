"""`beacon-gql simulate --latency --faults`: simulated providers as slow and unreliable as
asked, so watch and the dashboard have waits, retries and failures to show."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from beacon_gql.cli.failures import EXIT_ADDRESS
from beacon_gql.cli.simulation import Latency, faults, latency
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet

SIMULATE = [sys.executable, "-m", "beacon_gql.cli", "simulate"]


def test_latency_and_faults_are_read_as_written() -> None:
    assert latency("300") == Latency(300, 150)
    assert latency("300:40") == Latency(300, 40)
    assert faults("error=0.1, 429=0.05,hang=0.02,malformed=0.3,retry_after=2") == {
        "error_rate": 0.1,
        "rate_limit_rate": 0.05,
        "hang_rate": 0.02,
        "malformed_rate": 0.3,
        "retry_after_s": 2.0,
    }


def chat(model: str, prompt: str) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": prompt}]}


async def test_a_jittered_latency_varies_around_its_mean() -> None:
    profile = FaultProfile(latency_ms=200, latency_jitter_ms=100)
    async with SimulatorFleet(seed=2, faults={"sim-us-east": profile}) as fleet:
        base_url = fleet.provider_config("sim-us-east").base_url
        took = []
        async with httpx.AsyncClient(timeout=10) as http:
            for n in range(8):
                started = time.perf_counter()
                response = await http.post(
                    f"{base_url}/chat/completions", json=chat("llama3.2:1b", f"question {n}")
                )
                took.append(time.perf_counter() - started)
                assert response.status_code == 200
    assert min(took) >= 0.1
    assert max(took) < 0.3 + 0.25  # the mean plus the jitter, plus room for a loaded machine
    assert max(took) - min(took) > 0.03, took  # not one fixed delay


async def test_simulate_serves_providers_as_slow_and_faulty_as_asked(tmp_path: Path) -> None:
    providers = tmp_path / "providers.toml"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beacon_gql.cli",
        "simulate",
        "--write-providers",
        str(providers),
        "--latency",
        "250:0",
        "--faults",
        "429=1,retry_after=7",
        env=clean,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            while b"serving until stopped" not in (line := await process.stdout.readline()):
                assert line, "simulate exited early"
        configs = tomllib.loads(providers.read_text())["providers"]
        us = next(c for c in configs if c["name"] == "sim-us-east")
        async with httpx.AsyncClient(timeout=10) as http:
            started = time.perf_counter()
            response = await http.post(
                f"{us['base_url']}/chat/completions", json=chat("llama3.2:1b", "hello")
            )
            took = time.perf_counter() - started
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert took >= 0.25


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--faults", "eror=0.1", "'eror=0.1' is not NAME=VALUE with NAME one of error, "),
        ("--faults", "error=2", "'error=2': a rate is between 0 and 1"),
        ("--latency", "fast", "expected MS or MS:JITTER, got 'fast'"),
    ],
)
def test_a_mistaken_option_is_one_line(option: str, value: str, says: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [*SIMULATE, "--write-providers", "p.toml", option, value],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and says in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_taken_port_is_one_line_and_writes_no_providers_file(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [*SIMULATE, "--write-providers", "p.toml", "--base-port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == EXIT_ADDRESS, done.stderr
    assert done.stderr.splitlines() == [
        "beacon-gql: a port to listen on is already in use (Address already in use); "
        "pick another one"
    ]
    assert list(tmp_path.iterdir()) == []
