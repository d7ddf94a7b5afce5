"""`beacon-gql watch JOB_ID`: a job's live progress in the terminal, from `jobProgress`.

Every count of the overall bar is the server's (`progress`); nothing is computed client-side
but the per-region and per-model tallies, which come from the job's executions read on each
snapshot and moved on by each event's `execution`. A dropped connection is retried with
backoff; the subscription's first event after a reconnect is a fresh snapshot.

The rendering functions are pure (state in, lines out); the displays decide when to draw.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from beacon_gql.cli.client import BeaconClient, ClientError, ConnectionLost
from beacon_gql.db.statuses import TERMINAL_JOB_STATUSES, ExecutionStatus, JobStatus

EXIT_COMPLETED = 0
EXIT_UNSUCCESSFUL = 1
EXIT_ERROR = 2

PROGRESS_SUBSCRIPTION = """
subscription Watch($jobId: ID!) {
  jobProgress(jobId: $jobId) {
    sequence
    job { status }
    progress { expected pending running completed failed cancelled successRate }
    execution { id modelId region status lastError { code } }
  }
}
"""

JOB_CELLS = """
query WatchCells($id: ID!) {
  job(id: $id) {
    regions
    progress { expected pending running completed failed cancelled successRate }
    models { id }
    executions { id modelId region status lastError { code } }
  }
}
"""

ENDING = """
query WatchEnding($id: ID!) {
  job(id: $id) { createdAt finishedAt executions(status: FAILED) { error { code } } }
}
"""

BAR_WIDTH = 30
TTY_INTERVAL_S = 0.1
LINE_INTERVAL_S = 1.0
RECONNECT_FIRST_DELAY_S = 0.5
RECONNECT_MAX_DELAY_S = 10.0
RECONNECT_ATTEMPTS = 12
CATCH_UP_S = 1.0


@dataclass(frozen=True)
class Progress:
    """The server's counts, as the last event carried them."""

    expected: int = 0
    pending: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    success_rate: float | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Progress:
        return cls(
            expected=int(data["expected"]),
            pending=int(data["pending"]),
            running=int(data["running"]),
            completed=int(data["completed"]),
            failed=int(data["failed"]),
            cancelled=int(data["cancelled"]),
            success_rate=data.get("successRate"),
        )

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled

    @property
    def counts(self) -> tuple[int, int, int, int, int, int]:
        return (
            self.expected,
            self.pending,
            self.running,
            self.completed,
            self.failed,
            self.cancelled,
        )


@dataclass(frozen=True)
class Cell:
    """One execution as the tallies need it."""

    model_id: str
    region: str
    status: str
    error_code: str | None = None
    """The last attempt's error: on a PENDING cell, why it waits for another attempt."""

    @classmethod
    def of(cls, row: dict[str, Any]) -> Cell:
        error = row.get("lastError") or {}
        code = error.get("code") if isinstance(error, dict) else None
        return cls(str(row["modelId"]), str(row["region"]), str(row["status"]), code and str(code))


@dataclass(frozen=True)
class Tally:
    name: str
    total: int
    completed: int
    failed: int
    running: int = 0
    retrying: tuple[tuple[str, int], ...] = ()
    """PENDING cells waiting to be tried again, by the error of their last attempt."""

    @property
    def done(self) -> int:
        return self.completed + self.failed

    def waiting_reason(self) -> str:
        """`retrying 3 after RATE_LIMITED 2, PROVIDER_TIMEOUT 1`, or nothing."""
        if not self.retrying:
            return ""
        count = sum(n for _, n in self.retrying)
        codes = ", ".join(f"{code} {n}" for code, n in self.retrying)
        return f"retrying {count} after {codes}"


@dataclass
class WatchState:
    job_id: str
    status: str = JobStatus.QUEUED
    sequence: int = -1
    progress: Progress = field(default_factory=Progress)
    regions: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    snapshots: int = 0
    catching_up_to: Progress | None = None
    """The counts read with the cells, while the stream's events have not reached them."""

    @property
    def is_final(self) -> bool:
        return self.status in TERMINAL_JOB_STATUSES

    def apply(self, event: dict[str, Any]) -> bool:
        """Takes one `jobProgress` event; True when it is a snapshot (reload the cells)."""
        execution = event.get("execution")
        sequence = int(event["sequence"])
        if execution is not None and sequence <= self.sequence:
            return False  # already seen: a late duplicate
        self.sequence = sequence
        self.status = str(event["job"]["status"])
        self.progress = Progress.of(event["progress"])
        if self.catching_up_to is not None and (
            self.is_final or self.progress.counts == self.catching_up_to.counts
        ):
            self.catching_up_to = None
        if execution is None:
            self.snapshots += 1
            return True
        self.cells[str(execution["id"])] = Cell.of(execution)
        return False

    def load_cells(self, job: dict[str, Any]) -> None:
        """The job's grid, from `job { regions models { id } progress executions { ... } }`.

        Read after the snapshot, the cells may be ahead of the stream's counts; until the
        stream's events catch up with the counts read alongside them, `catching_up_to` holds
        those counts (and a display may wait rather than show tallies ahead of the bar).
        """
        self.regions = [str(region) for region in job.get("regions") or []]
        self.models = [str(model["id"]) for model in job.get("models") or []]
        self.cells = {str(row["id"]): Cell.of(row) for row in job.get("executions") or []}
        read = Progress.of(job["progress"]) if job.get("progress") else None
        ahead = read is not None and read.counts != self.progress.counts and not self.is_final
        self.catching_up_to = read if ahead else None

    def tallies(self, key: Callable[[Cell], str], order: Sequence[str]) -> list[Tally]:
        totals: Counter[str] = Counter()
        completed: Counter[str] = Counter()
        failed: Counter[str] = Counter()
        running: Counter[str] = Counter()
        retrying: dict[str, Counter[str]] = {}
        for cell in self.cells.values():
            name = key(cell)
            totals[name] += 1
            if cell.status == ExecutionStatus.COMPLETED:
                completed[name] += 1
            elif cell.status == ExecutionStatus.FAILED:
                failed[name] += 1
            elif cell.status == "RUNNING":
                running[name] += 1
            elif cell.status == "PENDING" and cell.error_code:
                retrying.setdefault(name, Counter())[cell.error_code] += 1
        names = [name for name in order if name in totals]
        names += sorted(set(totals) - set(names))
        return [
            Tally(
                name,
                totals[name],
                completed[name],
                failed[name],
                running[name],
                tuple(sorted(retrying.get(name, Counter()).items(), key=lambda c: (-c[1], c[0]))),
            )
            for name in names
        ]

    def region_tallies(self) -> list[Tally]:
        return self.tallies(lambda cell: cell.region, self.regions)

    def model_tallies(self) -> list[Tally]:
        return self.tallies(lambda cell: cell.model_id, self.models)


# --- rendering (pure) -------------------------------------------------------------------


def bar(segments: Sequence[tuple[int, str]], total: int, width: int = BAR_WIDTH) -> str:
    """`[###xx>>....]`: each (count, character) segment in proportion to `total`."""
    if total <= 0:
        return "[" + "." * width + "]"
    cells: list[str] = []
    cumulative = 0
    drawn = 0
    for count, char in segments:
        cumulative += count
        end = min(width, round(cumulative * width / total))
        cells.append(char * (end - drawn))
        drawn = max(drawn, end)
    return "[" + "".join(cells) + "." * (width - drawn) + "]"


def format_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def overall_lines(progress: Progress, width: int = BAR_WIDTH) -> list[str]:
    """The overall bar (# completed, x failed, / cancelled, > running, . pending) and the
    server's counts."""
    p = progress
    segments = [(p.completed, "#"), (p.failed, "x"), (p.cancelled, "/"), (p.running, ">")]
    return [
        f"overall {bar(segments, p.expected, width)} {p.finished}/{p.expected} done",
        f"  pending {p.pending}  running {p.running}  completed {p.completed}  "
        f"failed {p.failed}  cancelled {p.cancelled}",
    ]


def tally_lines(title: str, tallies: Iterable[Tally], width: int = BAR_WIDTH) -> list[str]:
    tallies = list(tallies)
    if not tallies:
        return []
    name_width = max(len(t.name) for t in tallies)
    count_width = len(str(max(t.total for t in tallies)))
    lines = [title]
    for t in tallies:
        failed = f"  ({t.failed} failed)" if t.failed else ""
        running = f"  running {t.running}" if t.running else ""
        waiting = f"  {t.waiting_reason()}" if t.retrying else ""
        segments = [(t.completed, "#"), (t.failed, "x"), (t.running, ">")]
        lines.append(
            f"  {t.name:<{name_width}} {bar(segments, t.total, width)}"
            f" {t.done:>{count_width}}/{t.total}{failed}{running}{waiting}"
        )
    return lines


def render(
    state: WatchState,
    *,
    elapsed: float | None = None,
    width: int = BAR_WIDTH,
    header: bool = True,
) -> list[str]:
    """The whole view: the job's status, the overall bar, the regions, the models."""
    lines: list[str] = []
    if header:
        took = "" if elapsed is None else f"  ({elapsed:.1f} s)"
        lines.append(f"job {state.job_id}  {state.status}{took}")
    lines += overall_lines(state.progress, width)
    lines += tally_lines("regions", state.region_tallies(), width)
    lines += tally_lines("models", state.model_tallies(), width)
    return lines


def render_line(state: WatchState) -> str:
    """One log line: the status, the server's counts, and each region's tally."""
    p = state.progress
    regions = " ".join(
        f"{t.name} {t.done}/{t.total}" + (f" ({t.waiting_reason()})" if t.retrying else "")
        for t in state.region_tallies()
    )
    tail = f" | {regions}" if regions else ""
    return (
        f"{state.status} {p.finished}/{p.expected} done | pending {p.pending} "
        f"running {p.running} completed {p.completed} failed {p.failed} "
        f"cancelled {p.cancelled}{tail}"
    )


def failure_counts(executions: Iterable[dict[str, Any]]) -> list[tuple[str, int]]:
    """Error codes of failed executions, most frequent first."""
    counts = Counter(str((row.get("error") or {}).get("code") or "UNKNOWN") for row in executions)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@dataclass(frozen=True)
class Ending:
    failures: Sequence[tuple[str, int]]
    duration_s: float | None = None


def render_summary(state: WatchState, ending: Ending) -> list[str]:
    """The closing lines: terminal status, success rate, failure codes counted."""
    p = state.progress
    ran = "" if ending.duration_s is None else f" (ran {ending.duration_s:.1f} s)"
    lines = [
        f"job {state.job_id} ended {state.status}{ran}",
        f"success rate {format_rate(p.success_rate)} "
        f"({p.completed} completed, {p.failed} failed, {p.cancelled} cancelled "
        f"of {p.expected} expected)",
    ]
    if p.failed:
        codes = ", ".join(f"{code} {count}" for code, count in ending.failures)
        lines.append(f"FAILED executions: {p.failed} ({codes})")
    else:
        lines.append("FAILED executions: 0")
    return lines


def exit_code_for(status: str) -> int:
    return EXIT_COMPLETED if status == JobStatus.COMPLETED else EXIT_UNSUCCESSFUL


# --- displays -----------------------------------------------------------------------------


class Display:
    """Draws the state at most every `interval` seconds; `flush` draws what is pending."""

    interval = LINE_INTERVAL_S

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.clock = clock
        self.started = clock()
        self._last_drawn = float("-inf")
        self._pending: WatchState | None = None

    def update(self, state: WatchState) -> None:
        if not self._changed(state):
            return
        self._pending = state
        if self.clock() - self._last_drawn >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self._pending is not None:
            state, self._pending = self._pending, None
            self._last_drawn = self.clock()
            self._draw(state)

    def due_in(self) -> float:
        return max(0.0, self._last_drawn + self.interval - self.clock())

    def finish(self, state: WatchState, summary: Sequence[str]) -> None:
        raise NotImplementedError

    def interrupted(self) -> None:
        """Something else was written to the terminal (a note on stderr)."""

    def _changed(self, state: WatchState) -> bool:
        raise NotImplementedError

    def _draw(self, state: WatchState) -> None:
        raise NotImplementedError


class LineDisplay(Display):
    """For logs: a timestamped line per change, at most one a second, then the summary."""

    interval = LINE_INTERVAL_S

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(out, clock)
        self._last_line: str | None = None

    def _changed(self, state: WatchState) -> bool:
        return render_line(state) != self._last_line

    def _draw(self, state: WatchState) -> None:
        line = render_line(state)
        self._last_line = line
        stamp = time.strftime("%H:%M:%S")
        self.out.write(f"{stamp} {line}\n")
        self.out.flush()

    def finish(self, state: WatchState, summary: Sequence[str]) -> None:
        if render_line(state) != self._last_line:
            self._draw(state)
        self.out.write("\n".join([*render(state, header=False), *summary]))
        self.out.write("\n")
        self.out.flush()


class TerminalDisplay(Display):
    """For a terminal: the whole view, redrawn in place (ANSI cursor movement)."""

    interval = TTY_INTERVAL_S

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(out, clock)
        self._drawn_lines = 0

    def _changed(self, state: WatchState) -> bool:
        return True

    def _draw(self, state: WatchState, summary: Sequence[str] | None = None) -> None:
        columns = shutil.get_terminal_size().columns
        bar_width = max(10, min(BAR_WIDTH, columns - 60))
        elapsed = self.clock() - self.started
        view = render(state, elapsed=elapsed, width=bar_width, header=summary is None)
        lines = [*view, *(summary or ())]
        # Lines longer than the terminal would wrap and break the count of lines to go up.
        lines = [line[: max(1, columns - 1)] for line in lines]
        rewind = f"\x1b[{self._drawn_lines}A\r\x1b[J" if self._drawn_lines else ""
        self.out.write(rewind + "\n".join(lines) + "\n")
        self.out.flush()
        self._drawn_lines = len(lines)

    def interrupted(self) -> None:
        # Draw the next frame below the note instead of rewinding over it.
        self._drawn_lines = 0

    def finish(self, state: WatchState, summary: Sequence[str]) -> None:
        self._draw(state, summary)


# --- the watch loop ------------------------------------------------------------------------


class WatchError(Exception):
    """Watching cannot go on; the message says why."""


class Watcher:
    def __init__(
        self,
        client: BeaconClient,
        job_id: str,
        display: Display,
        *,
        err: TextIO = sys.stderr,
        reconnect_attempts: int = RECONNECT_ATTEMPTS,
        first_delay: float = RECONNECT_FIRST_DELAY_S,
    ) -> None:
        self.client = client
        self.state = WatchState(job_id)
        self.display = display
        self.err = err
        self.reconnect_attempts = reconnect_attempts
        self.first_delay = first_delay
        self._catch_up_until = 0.0
        self._loading_cells = False

    def _note(self, message: str) -> None:
        self.err.write(f"beacon-gql watch: {message}\n")
        self.err.flush()
        self.display.interrupted()

    async def run(self) -> int:
        """Watches until the job ends; the exit code (0 COMPLETED, 1 otherwise; raises
        WatchError when it cannot watch)."""
        ticker = asyncio.create_task(self._tick())
        try:
            await self._follow()
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        ending = await self._ending()
        self.display.finish(self.state, render_summary(self.state, ending))
        return exit_code_for(self.state.status)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(max(self.display.due_in(), self.display.interval / 2))
            self._show()
            self.display.flush()

    def _show(self) -> None:
        """Hands the state to the display, unless the stream is catching up with the cells
        just read (for at most CATCH_UP_S: the counts may also have moved on meanwhile)."""
        if self._loading_cells:
            return  # the counts of a new snapshot with the cells of the old one: wait
        if self.state.catching_up_to is not None:
            if time.monotonic() < self._catch_up_until:
                return
            self.state.catching_up_to = None
        self.display.update(self.state)

    async def _follow(self) -> None:
        failures_in_a_row = 0
        delay = self.first_delay
        snapshots_seen = 0
        while True:
            try:
                await self._subscribe_once()
                return
            except ConnectionLost as lost:
                if self.state.snapshots == 0:
                    raise WatchError(str(lost)) from None
                if self.state.snapshots > snapshots_seen:
                    # It was connected since the last failure: start the backoff afresh.
                    snapshots_seen = self.state.snapshots
                    failures_in_a_row = 0
                    delay = self.first_delay
                failures_in_a_row += 1
                if failures_in_a_row > self.reconnect_attempts:
                    raise WatchError(
                        f"{lost}; gave up after {self.reconnect_attempts} reconnection attempts"
                    ) from None
                self._note(f"{lost}; reconnecting in {delay:.1f} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY_S)
            except ClientError as error:
                if error.code == "NOT_FOUND":
                    raise WatchError(f"no job with id {self.state.job_id!r}") from None
                raise WatchError(str(error)) from None

    async def _subscribe_once(self) -> None:
        """Follows one subscription to the job's end; ConnectionLost if it stops before."""
        snapshots_before = self.state.snapshots
        events = self.client.subscribe(PROGRESS_SUBSCRIPTION, {"jobId": self.state.job_id})
        try:
            async for data in events:
                if self.state.apply(data["jobProgress"]):
                    if snapshots_before and self.state.snapshots == snapshots_before + 1:
                        self._note(f"reconnected; resuming at event {self.state.sequence}")
                    await self._load_cells()
                self._show()
                if self.state.is_final:
                    return
        finally:
            await events.aclose()
        raise ConnectionLost("the server ended the subscription before the job ended")

    async def _load_cells(self) -> None:
        self._loading_cells = True
        try:
            data = await self.client.execute(JOB_CELLS, {"id": self.state.job_id})
        finally:
            self._loading_cells = False
        job = data.get("job")
        if job is None:
            raise ClientError(f"no job with id {self.state.job_id!r}", code="NOT_FOUND")
        self.state.load_cells(job)
        self._catch_up_until = time.monotonic() + CATCH_UP_S

    async def _ending(self) -> Ending:
        """The failure codes and how long the job ran, read once it has ended."""
        try:
            data = await self.client.execute(ENDING, {"id": self.state.job_id})
        except ClientError as error:
            self._note(f"could not read the failure codes: {error}")
            failed = self.state.progress.failed
            return Ending(failures=[("UNKNOWN", failed)] if failed else [], duration_s=None)
        job = data.get("job") or {}
        return Ending(
            failures=failure_counts(job.get("executions") or []),
            duration_s=_seconds_between(job.get("createdAt"), job.get("finishedAt")),
        )


def _seconds_between(start: object, end: object) -> float | None:
    if not isinstance(start, str) or not isinstance(end, str):
        return None
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return None


def make_display(out: TextIO, tty: bool | None = None) -> Display:
    is_tty = out.isatty() if tty is None else tty
    return TerminalDisplay(out) if is_tty else LineDisplay(out)


async def watch(
    job_id: str,
    url: str,
    *,
    token: str | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    tty: bool | None = None,
) -> int:
    """Watches a job to its end; returns the CLI exit code (0, 1, or 2 on errors)."""
    watcher = Watcher(BeaconClient(url, token=token), job_id, make_display(out, tty), err=err)
    try:
        return await watcher.run()
    except WatchError as error:
        err.write(f"beacon-gql watch: {error}\n")
        return EXIT_ERROR
