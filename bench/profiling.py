"""Sampling profiles of a child process with py-spy (`pip install py-spy`), summarised.

`python -m bench --profile` records one profile per benchmark whose target is missed (the
process under test, while the load runs) into bench/results/profiles/, and puts the top
frames into the JSON. Without py-spy the profiles are skipped, nothing else changes.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.common import RESULTS_DIR, log

PROFILE_DIR = RESULTS_DIR / "profiles"


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else None


@dataclass
class Recording:
    name: str
    process: subprocess.Popen[bytes]
    output: Path

    def finish(self, timeout: float = 60.0) -> dict[str, object] | None:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            return None
        if not self.output.exists():
            log(f"profile {self.name}: py-spy wrote nothing")
            return None
        return summarise(self.output)


def start(name: str, pid: int, seconds: float, *, rate: int = 200) -> Recording | None:
    """Samples `pid` for `seconds` in the background; None when py-spy is not installed."""
    binary = py_spy()
    if binary is None:
        log("py-spy is not installed (pip install py-spy): no profile")
        return None
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    output = PROFILE_DIR / f"{name}.txt"
    output.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Recording(name, process, output)


def _frame_name(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)".
    function, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path, _, _line = where.rpartition(":")
    for marker in ("site-packages/", "/work/main/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "lib/python3.":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    return f"{function} ({path})"


def summarise(path: Path, top: int = 25) -> dict[str, object]:
    """Inclusive and self share of samples per function, from py-spy's collapsed stacks."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    idle = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(frame) for frame in stack.split(";") if frame]
        total += count
        if frames and frames[-1].startswith(("select (", "poll (", "epoll_wait", "_run_once")):
            idle += count
        for name in set(frames):
            inclusive[name] += count
        if frames:
            own[frames[-1]] += count
    if total == 0:
        return {"samples": 0}

    def shares(counter: collections.Counter[str]) -> list[list[object]]:
        return [[name, round(count / total, 4)] for name, count in counter.most_common(top)]

    return {
        "samples": total,
        "file": str(path.resolve().relative_to(RESULTS_DIR.parent.parent)),
        "idle_share": round(idle / total, 4),
        "top_inclusive": shares(inclusive),
        "top_self": shares(own),
    }
