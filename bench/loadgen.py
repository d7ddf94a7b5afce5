"""A closed-loop HTTP load generator on loopback: fixed concurrency, bounded in time and count.

`wrk` (Debian: `apt-get install -y wrk`) when it is installed: written in C, it leaves the
CPU to the servers under test, which matters on a 2-core machine. Otherwise this module run
as its own process: an httpx-based async generator,

    python -m bench.loadgen --url URL --body-file F --concurrency 16 --duration 8

Both POST the same JSON body over keep-alive connections and report requests/s and
latency percentiles of every request that got a 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MAX_REQUESTS = 200_000

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[%(body)s]==]
done = function(summary, latency, requests)
  io.write(string.format(
    "WRK_JSON {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"bytes\\":%%d," ..
    "\\"connect_errors\\":%%d," ..
    "\\"read_errors\\":%%d,\\"write_errors\\":%%d,\\"status_errors\\":%%d,\\"timeouts\\":%%d," ..
    "\\"p50_us\\":%%d,\\"p90_us\\":%%d,\\"p99_us\\":%%d,\\"max_us\\":%%d}\\n",
    summary.requests, summary.duration, summary.bytes, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python-httpx"


def run_load(
    url: str, body: str, *, concurrency: int, duration: float, timeout: float = 30.0
) -> dict[str, Any]:
    """Drives `url` for `duration` seconds; returns requests/s, latency (ms), errors."""
    if shutil.which("wrk"):
        return _run_wrk(url, body, concurrency=concurrency, duration=duration, timeout=timeout)
    return _run_python(url, body, concurrency=concurrency, duration=duration, timeout=timeout)


def _run_wrk(
    url: str, body: str, *, concurrency: int, duration: float, timeout: float
) -> dict[str, Any]:
    if "]==]" in body:
        raise ValueError("body cannot be embedded in the wrk script")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % {"body": body})
    try:
        completed = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(duration))}s",
                f"--timeout={round(timeout)}s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=duration + timeout + 30,
            check=False,
        )
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next(
        (line for line in completed.stdout.splitlines() if line.startswith("WRK_JSON ")), None
    )
    if line is None:
        raise RuntimeError(f"wrk failed: {completed.stdout}\n{completed.stderr}")
    raw = json.loads(line.removeprefix("WRK_JSON "))
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[key] for key in raw if key.endswith("_errors") or key == "timeouts")
    ok = raw["requests"] - raw["status_errors"]
    return {
        "generator": "wrk",
        "concurrency": concurrency,
        "seconds": seconds,
        "requests": raw["requests"],
        "errors": errors,
        "requests_per_s": ok / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "bytes_per_response": raw["bytes"] / max(1, raw["requests"]),
    }


def _run_python(
    url: str, body: str, *, concurrency: int, duration: float, timeout: float
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as body_file:
        body_file.write(body)
    try:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.loadgen",
                "--url",
                url,
                "--body-file",
                body_file.name,
                "--concurrency",
                str(concurrency),
                "--duration",
                str(duration),
                "--timeout",
                str(timeout),
            ],
            capture_output=True,
            text=True,
            timeout=duration + timeout + 30,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
    finally:
        Path(body_file.name).unlink(missing_ok=True)
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed: {completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


async def _generate(
    url: str, body: bytes, concurrency: int, duration: float, request_timeout: float
) -> dict[str, Any]:
    import httpx

    from bench.common import percentile

    latencies: list[float] = []
    errors = 0
    received = 0
    stop_at = time.perf_counter() + duration
    count = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=request_timeout) as http:

        async def loop() -> None:
            nonlocal errors, received, count
            while time.perf_counter() < stop_at and count < MAX_REQUESTS:
                count += 1
                started = time.perf_counter()
                try:
                    response = await http.post(url, content=body, headers=headers)
                except httpx.HTTPError:
                    errors += 1
                    continue
                if response.status_code != 200:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                received += len(response.content)

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    return {
        "generator": "python-httpx",
        "concurrency": concurrency,
        "seconds": seconds,
        "requests": len(latencies) + errors,
        "errors": errors,
        "requests_per_s": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (max(latencies) if latencies else float("nan")) * 1000,
        "bytes_per_response": received / max(1, len(latencies)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    body = Path(args.body_file).read_bytes()
    result = asyncio.run(
        _generate(args.url, body, args.concurrency, min(args.duration, 120.0), args.timeout)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
