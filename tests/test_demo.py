"""`beacon-gql demo` as a new user runs it: readable log lines, then one line saying how the
example job ended and where to look."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import httpx

from tests.support.processes import free_port

FINISHED = re.compile(
    r"^job (\S+) COMPLETED: 36 of 36 completed, censorship (\d+)%; see (http://\S+/jobs/\1)$"
)
TEXT_LOG = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO |WARN |ERROR|CRIT ) \w+ ")


async def test_the_demo_logs_text_and_ends_with_a_line_about_its_job(tmp_path: Path) -> None:
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beacon_gql.cli",
        "demo",
        "--port",
        str(port),
        "--state",
        str(tmp_path / "state"),
        cwd=tmp_path,
        # What a terminal gets (stderr is a pipe here, so it is asked for).
        env={**clean, "BEACON_LOG_FORMAT": "text"},
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(90):
            while (found := FINISHED.match(lines[-1] if lines else "")) is None:
                raw = await process.stderr.readline()
                assert raw, "the demo exited early:\n" + "\n".join(lines)
                lines.append(raw.decode().rstrip("\n"))
        async with httpx.AsyncClient() as http:
            page = await http.get(found.group(3))
        assert page.status_code == 200
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)

    logs = [line for line in lines if TEXT_LOG.match(line)]
    assert any("attempt finished" in line and "outcome=COMPLETED" in line for line in logs)
    assert not any(line.startswith("{") for line in lines), "a JSON log line on a terminal"
    assert any(
        f"dashboard  http://127.0.0.1:{port}/jobs/{found.group(1)}" in line for line in lines
    )
