"""`beacon-gql watch` and `beacon-gql export`: the pure rendering, then the real commands as
subprocesses against a real server, worker and SIMULATED providers (SQLite only: the
commands talk to the API, which the other suites run on both databases)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from beacon_gql.cli.client import websocket_url
from beacon_gql.cli.export import CSV_COLUMNS, analysis_path, csv_row
from beacon_gql.cli.watch import (
    Ending,
    LineDisplay,
    TerminalDisplay,
    WatchState,
    bar,
    failure_counts,
    render,
    render_line,
    render_summary,
    watch,
)
from beacon_gql.config import Settings
from beacon_gql.db.models import Execution
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from tests.conftest import make_settings
from tests.support.databases import copy_sqlite
from tests.support.jobs import executions_of, submit_spec, wait_until_finished
from tests.support.server import ServedApp, serve_app
from tests.support.specs import THREE_MODELS, Signer, make_spec

PROJECT = Path(__file__).resolve().parents[1]
CLASSIFICATIONS = {"SUBSTANTIVE", "REFUSAL", "EVASIVE", "TECHNICAL_FAILURE"}

# --- pure rendering -------------------------------------------------------------------------


def progress(**counts: Any) -> dict[str, Any]:
    base = {
        "expected": 0,
        "pending": 0,
        "running": 0,
        "completed": 0,
        "failed": 0,
        "cancelled": 0,
        "successRate": None,
    }
    return {**base, **counts}


def snapshot(sequence: int, status: str, **counts: Any) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "job": {"status": status},
        "progress": progress(**counts),
        "execution": None,
    }


def grid_state() -> WatchState:
    """Two regions x two models, one question: 4 executions, all pending."""
    state = WatchState("job-1")
    assert state.apply(snapshot(3, "RUNNING", expected=4, pending=4)) is True
    state.load_cells(
        {
            "regions": ["US", "ASIA"],
            "models": [{"id": "llama"}, {"id": "qwen"}],
            "executions": [
                {"id": f"e{i}", "modelId": m, "region": r, "status": "PENDING"}
                for i, (m, r) in enumerate(
                    [("llama", "US"), ("qwen", "US"), ("llama", "ASIA"), ("qwen", "ASIA")]
                )
            ],
        }
    )
    return state


def change(
    sequence: int, execution_id: str, model: str, region: str, status: str, **counts: Any
) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "job": {"status": counts.pop("job_status", "RUNNING")},
        "progress": progress(**counts),
        "execution": {"id": execution_id, "modelId": model, "region": region, "status": status},
    }


def test_bar_segments_fill_exactly_the_width() -> None:
    assert bar([(1, "#"), (1, "x")], 4, width=8) == "[##xx....]"
    assert bar([(2, "#"), (2, "x")], 4, width=8) == "[####xxxx]"
    assert bar([(1, "#")], 3, width=10) == "[###.......]"
    assert bar([(2, "#"), (1, "x")], 3, width=10) == "[#######xxx]"
    assert bar([], 0, width=5) == "[.....]"
    assert all(len(bar([(n, "#"), (7 - n, "x")], 7, width=9)) == 11 for n in range(8))


def test_render_shows_the_servers_counts_and_the_tallies_from_the_events() -> None:
    state = grid_state()
    state.apply(
        change(4, "e0", "llama", "US", "COMPLETED", expected=4, pending=2, completed=1, running=1)
    )
    state.apply(
        change(
            5,
            "e2",
            "llama",
            "ASIA",
            "FAILED",
            expected=4,
            pending=1,
            completed=1,
            failed=1,
            running=1,
        )
    )
    state.apply(change(4, "e2", "llama", "ASIA", "RUNNING", expected=4))  # late duplicate

    lines = render(state, width=8)

    assert lines == [
        "job job-1  RUNNING",
        "overall [##xx>>..] 2/4 done",
        "  pending 1  running 1  completed 1  failed 1  cancelled 0",
        "regions",
        "  US   [####....] 1/2",
        "  ASIA [xxxx....] 1/2  (1 failed)",
        "models",
        "  llama [####xxxx] 2/2  (1 failed)",
        "  qwen  [........] 0/2",
    ]
    assert render_line(state) == (
        "RUNNING 2/4 done | pending 1 running 1 completed 1 failed 1 cancelled 0 | US 1/2 ASIA 1/2"
    )


def test_a_region_says_what_runs_and_why_the_rest_waits() -> None:
    state = grid_state()

    def waiting(sequence: int, execution_id: str, model: str, region: str, code: str) -> None:
        event = change(sequence, execution_id, model, region, "PENDING", expected=4, pending=3)
        event["execution"]["lastError"] = {"code": code}
        state.apply(event)

    waiting(4, "e0", "llama", "US", "RATE_LIMITED")
    state.apply(change(5, "e1", "qwen", "US", "RUNNING", expected=4, pending=3, running=1))
    waiting(6, "e2", "llama", "ASIA", "PROVIDER_TIMEOUT")
    waiting(7, "e3", "qwen", "ASIA", "RATE_LIMITED")

    assert render(state, width=8)[3:6] == [
        "regions",
        "  US   [>>>>....] 0/2  running 1  retrying 1 after RATE_LIMITED 1",
        "  ASIA [........] 0/2  retrying 2 after PROVIDER_TIMEOUT 1, RATE_LIMITED 1",
    ]
    assert render_line(state).endswith(
        "| US 0/2 (retrying 1 after RATE_LIMITED 1) "
        "ASIA 0/2 (retrying 2 after PROVIDER_TIMEOUT 1, RATE_LIMITED 1)"
    )


def test_the_overall_counts_are_the_servers_even_when_the_cells_disagree() -> None:
    state = grid_state()
    # The server says 3 completed; the client only heard of one execution: no recount.
    state.apply(change(9, "e0", "llama", "US", "COMPLETED", expected=4, completed=3, running=1))
    assert render(state, width=4)[2] == "  pending 0  running 1  completed 3  failed 0  cancelled 0"


def test_a_snapshot_after_a_reconnect_asks_for_the_cells_again() -> None:
    state = grid_state()
    assert state.apply(snapshot(7, "RUNNING", expected=4, completed=2, pending=2)) is True
    assert state.snapshots == 2 and state.sequence == 7


def test_cells_read_ahead_of_the_stream_wait_for_the_events_to_catch_up() -> None:
    state = WatchState("job-2")
    state.apply(snapshot(3, "RUNNING", expected=2, pending=2))
    state.load_cells(
        {
            "regions": ["US"],
            "models": [{"id": "m"}],
            "progress": progress(expected=2, pending=1, running=1),
            "executions": [
                {"id": "a", "modelId": "m", "region": "US", "status": "RUNNING"},
                {"id": "b", "modelId": "m", "region": "US", "status": "PENDING"},
            ],
        }
    )
    assert state.catching_up_to is not None
    state.apply(change(4, "a", "m", "US", "RUNNING", expected=2, pending=1, running=1))
    assert state.catching_up_to is None
    state.load_cells({"progress": progress(expected=2, pending=1, running=1), "executions": []})
    assert state.catching_up_to is None  # read at the stream's counts: nothing to wait for


def test_the_summary_names_the_status_rate_and_failure_codes() -> None:
    state = WatchState("job-9")
    state.apply(snapshot(80, "PARTIAL", expected=36, completed=32, failed=4, successRate=32 / 36))
    failures = failure_counts(
        [{"error": {"code": "PROVIDER_TIMEOUT"}}]
        + [{"error": {"code": "NO_PROVIDER_IN_REGION"}}] * 3
    )

    lines = render_summary(state, Ending(failures, duration_s=12.34))

    assert lines == [
        "job job-9 ended PARTIAL (ran 12.3 s)",
        "success rate 88.9% (32 completed, 4 failed, 0 cancelled of 36 expected)",
        "FAILED executions: 4 (NO_PROVIDER_IN_REGION 3, PROVIDER_TIMEOUT 1)",
    ]
    done = WatchState("job-0")
    done.apply(snapshot(1, "COMPLETED", expected=1, completed=1, successRate=1.0))
    assert render_summary(done, Ending([]))[1:] == [
        "success rate 100.0% (1 completed, 0 failed, 0 cancelled of 1 expected)",
        "FAILED executions: 0",
    ]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_line_display_writes_a_line_per_change_at_most_once_a_second() -> None:
    out, clock = io.StringIO(), FakeClock()
    display = LineDisplay(out, clock)
    state = grid_state()

    display.update(state)  # first: drawn at once
    display.update(state)  # unchanged: nothing
    state.apply(change(4, "e0", "llama", "US", "RUNNING", expected=4, pending=3, running=1))
    clock.now += 0.3
    display.update(state)  # changed, too soon: held back
    assert len(out.getvalue().splitlines()) == 1
    assert display.due_in() == pytest.approx(0.7)
    clock.now += 0.7
    display.flush()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "running 1" in lines[1]
    assert re.match(r"^\d\d:\d\d:\d\d RUNNING ", lines[1])


def test_the_terminal_display_redraws_in_place() -> None:
    out, clock = io.StringIO(), FakeClock()
    display = TerminalDisplay(out, clock)
    state = grid_state()
    display.update(state)
    first = out.getvalue()
    assert "\x1b[" not in first
    clock.now += 1
    display.update(state)
    redraw = out.getvalue()[len(first) :]
    assert redraw.startswith(f"\x1b[{len(first.splitlines())}A\r\x1b[J")


def test_the_websocket_url_follows_the_http_url() -> None:
    assert websocket_url("http://h:8000/graphql") == "ws://h:8000/graphql"
    assert websocket_url("https://h/graphql") == "wss://h/graphql"


def test_a_csv_row_is_flat() -> None:
    row = csv_row(
        {
            "id": "e1",
            "questionId": "q",
            "question": {"id": "q", "category": "control", "text": 'What, "really"?'},
            "modelId": "m",
            "region": "EU",
            "status": "FAILED",
            "providerId": None,
            "attempts": 2,
            "durationMs": 5,
            "classification": "TECHNICAL_FAILURE",
            "classificationEvidence": ["a | b"],
            "response": None,
            "prompt": "p",
            "systemPrompt": None,
            "temperature": 0.1,
            "maxTokens": 500,
            "error": {
                "code": "PROVIDER_TIMEOUT",
                "message": "slow",
                "stage": "provider_call",
                "transient": True,
                "providerId": "sim",
            },
        }
    )
    assert list(row) == list(CSV_COLUMNS)
    assert row["questionText"] == 'What, "really"?'
    assert row["errorTransient"] == "true" and row["providerId"] == ""
    assert json.loads(row["classificationEvidence"]) == ["a | b"]
    assert analysis_path(Path("/x/out.csv")) == Path("/x/out.csv.analysis.json")


# --- the real commands ------------------------------------------------------------------------


@dataclass
class Live:
    app: ServedApp
    fleet: SimulatorFleet

    @property
    def url(self) -> str:
        return self.app.base_url + "/graphql"


@pytest.fixture
def sqlite_settings(sqlite_template: Path, tmp_path: Path, trust_file: Path) -> Settings:
    return replace(
        make_settings(copy_sqlite(sqlite_template, tmp_path), trust_file), max_attempts=1
    )


@asynccontextmanager
async def live_server(
    settings: Settings, tmp_path: Path, **fleet_options: Any
) -> AsyncIterator[Live]:
    async with SimulatorFleet(seed=0, **fleet_options) as fleet:
        providers = tmp_path / "providers.toml"
        fleet.write_providers_file(providers)
        served = serve_app(replace(settings, providers_file=providers), run_worker=True)
        async with served as app:
            yield Live(app, fleet)


@dataclass
class Result:
    code: int
    out: str
    err: str


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEACON_")}
    return {**env, **extra}


async def start_cli(*args: str, env: Mapping[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beacon_gql.cli",
        *args,
        cwd=PROJECT,
        env=dict(env or cli_env()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process, within: float = 60) -> Result:
    async with asyncio.timeout(within):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


async def run_cli(*args: str, env: Mapping[str, str] | None = None) -> Result:
    return await finish(await start_cli(*args, env=env))


TALLY = re.compile(r"^  (\S+) +\[[#x.]+\] +(\d+)/(\d+)(?:  \((\d+) failed\))?$")


def tallies_in(lines: list[str], title: str) -> dict[str, tuple[int, int, int]]:
    """name -> (done, total, failed) from the last block headed `title`."""
    start = len(lines) - 1 - lines[::-1].index(title)
    found = {}
    for line in lines[start + 1 :]:
        match = TALLY.match(line)
        if match is None:
            break
        name, done, total, failed = match.groups()
        found[name] = (int(done), int(total), int(failed or 0))
    return found


def tallies_of(rows: Iterable[Execution], key: str) -> dict[str, tuple[int, int, int]]:
    totals: Counter[str] = Counter()
    done: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for row in rows:
        name = getattr(row, key)
        totals[name] += 1
        done[name] += row.status in ("COMPLETED", "FAILED")
        failed[name] += row.status == "FAILED"
    return {name: (done[name], totals[name], failed[name]) for name in totals}


def expected_ending(rows: list[Execution], status: str) -> list[str]:
    counts = Counter(row.status for row in rows)
    completed, failed = counts["COMPLETED"], counts["FAILED"]
    rate = f"{completed / (completed + failed) * 100:.1f}%"
    codes = Counter(row.error_code for row in rows if row.status == "FAILED")
    listed = ", ".join(
        f"{code} {n}" for code, n in sorted(codes.items(), key=lambda item: (-item[1], item[0]))
    )
    return [
        f"success rate {rate} ({completed} completed, {failed} failed, "
        f"{counts['CANCELLED']} cancelled of {len(rows)} expected)",
        f"FAILED executions: {failed} ({listed})" if failed else "FAILED executions: 0",
    ]


async def assert_watch_output_matches_the_database(
    live: Live, job_id: str, result: Result, status: str
) -> None:
    rows = await executions_of(live.app.services, job_id)
    lines = result.out.splitlines()
    assert re.fullmatch(rf"job {job_id} ended {status} \(ran \d+\.\d s\)", lines[-3])
    assert lines[-2:] == expected_ending(rows, status)
    counts = Counter(row.status for row in rows)
    assert (
        f"  pending {counts['PENDING']}  running {counts['RUNNING']}  "
        f"completed {counts['COMPLETED']}  failed {counts['FAILED']}  "
        f"cancelled {counts['CANCELLED']}"
    ) in lines
    assert tallies_in(lines, "regions") == tallies_of(rows, "region")
    assert tallies_in(lines, "models") == tallies_of(rows, "model_id")
    # Not a terminal: one plain line per change (no ANSI), then the summary.
    assert "\x1b[" not in result.out
    progress_lines = [line for line in lines if re.match(r"^\d\d:\d\d:\d\d ", line)]
    assert progress_lines and progress_lines[-1].split(" ", 2)[1] == status


async def test_watch_follows_a_job_to_completed_and_exits_0(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    async with live_server(sqlite_settings, tmp_path) as live:
        job_id = await submit_spec(live.app.services, signer, make_spec())
        result = await run_cli("watch", job_id, "--url", live.url)

        assert result.code == 0, result.err
        await assert_watch_output_matches_the_database(live, job_id, result, "COMPLETED")
        assert "success rate 100.0% (36 completed" in result.out


async def test_watch_of_a_partial_job_counts_the_failure_codes_and_exits_1(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # No provider in ASIA; EU's only provider fails half of its calls (no retries).
    async with live_server(
        sqlite_settings,
        tmp_path,
        regions=["US", "EU"],
        include_hybrid_router=False,
        faults={"sim-eu-west": FaultProfile(error_rate=0.5)},
    ) as live:
        job_id = await submit_spec(live.app.services, signer, make_spec())
        result = await run_cli("watch", job_id, "--url", live.url)

        assert result.code == 1, result.err
        await assert_watch_output_matches_the_database(live, job_id, result, "PARTIAL")
        assert re.search(
            r"FAILED executions: \d+ \(NO_PROVIDER_IN_REGION 12, PROVIDER_HTTP_ERROR \d+\)$",
            result.out,
        )


async def test_watch_says_a_region_waits_to_retry_after_rate_limits(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # EU's only provider answers 429 (Retry-After 1.5 s) to everything; two attempts each.
    rate_limited = FaultProfile(rate_limit_rate=1.0, retry_after_s=1.5)
    async with live_server(
        replace(sqlite_settings, max_attempts=2),
        tmp_path,
        include_hybrid_router=False,
        faults={"sim-eu-west": rate_limited},
    ) as live:
        job_id = await submit_spec(live.app.services, signer, make_spec())
        result = await run_cli("watch", job_id, "--url", live.url)

    assert result.code == 1, result.err
    assert re.search(r"EU \d+/12 \(retrying \d+ after RATE_LIMITED \d+\)", result.out), result.out
    assert "FAILED executions: 12 (RATE_LIMITED 12)" in result.out


async def test_watch_of_an_unknown_job_says_so_and_exits_2(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    async with live_server(sqlite_settings, tmp_path) as live:
        result = await run_cli("watch", "no-such-job", "--url", live.url)

    assert result.code == 2
    assert "no job with id 'no-such-job'" in result.err
    assert "Traceback" not in result.err


async def test_watch_given_the_servers_root_or_a_dashboard_page_finds_the_graphql_endpoint(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    async with live_server(sqlite_settings, tmp_path) as live:
        for pasted in (live.app.base_url, f"{live.app.base_url}/jobs/no-such-job"):
            result = await run_cli("watch", "no-such-job", "--url", pasted)
            assert "no job with id 'no-such-job'" in result.err, result.err


async def test_watch_without_a_server_exits_2() -> None:
    result = await run_cli("watch", "job", "--url", "http://127.0.0.1:9/graphql")
    assert result.code == 2 and "cannot reach ws://127.0.0.1:9/graphql" in result.err


class DroppingProxy:
    """A TCP proxy in front of the server whose open connections the test can cut."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.accepted = 0
        self._open: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> DroppingProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self.drop()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/graphql"

    def drop(self) -> None:
        for client, server in list(self._open):
            client.transport.abort()
            server.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        pair = (writer, up_writer)
        self._open.add(pair)

        async def pump(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                target.close()

        try:
            await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        finally:
            self._open.discard(pair)


async def test_watch_reconnects_after_a_dropped_socket_and_resubscribes(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    # ASIA's provider hangs until it is stopped, so the job cannot end before the drop.
    async with live_server(
        sqlite_settings, tmp_path, faults={"sim-asia-pacific": FaultProfile(hang_rate=1.0)}
    ) as live:
        spec = make_spec(questions=["math_basic", "taiwan_status"], regions=["US", "ASIA"])
        job_id = await submit_spec(live.app.services, signer, spec)
        async with DroppingProxy(live.app.base_url) as proxy:
            process = await start_cli("watch", job_id, "--url", proxy.url)
            assert process.stdout is not None and process.stderr is not None
            async with asyncio.timeout(30):
                first = await process.stdout.readline()  # watching: the snapshot is in
                assert b"RUNNING" in first or b"QUEUED" in first, first
                proxy.drop()
                notes = []
                while not notes or b"reconnected" not in notes[-1]:
                    line = await process.stderr.readline()
                    assert line, b"".join(notes)
                    notes.append(line)
            assert any(b"reconnecting in" in note for note in notes)
            await live.fleet.stop("sim-asia-pacific")  # the hanging calls fail: the job ends
            result = await finish(process)

        assert result.code == 1, result.err
        await assert_watch_output_matches_the_database(live, job_id, result, "PARTIAL")
        assert proxy.accepted >= 3  # websocket, cells query, websocket again, ...


async def test_watch_in_a_terminal_redraws_in_place(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    async with live_server(sqlite_settings, tmp_path) as live:
        job_id = await submit_spec(live.app.services, signer, make_spec())
        out, err = io.StringIO(), io.StringIO()
        code = await asyncio.wait_for(watch(job_id, live.url, out=out, err=err, tty=True), 60)

    assert code == 0, err.getvalue()
    text = out.getvalue()
    last_frame = text.rsplit("\x1b[J", 1)[-1].splitlines()
    assert last_frame[-3].startswith(f"job {job_id} ended COMPLETED")
    assert any(re.fullmatch(r"  US +\[#+\] 12/12", line) for line in last_frame)


async def test_a_read_token_is_sent_on_the_socket_and_in_queries(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> None:
    secured = replace(sqlite_settings, read_token="reader-secret")
    async with live_server(secured, tmp_path) as live:
        job_id = await submit_spec(live.app.services, signer, make_spec(regions=["US"]))
        await wait_until_finished(live.app.services, job_id)

        refused = await run_cli("watch", job_id, "--url", live.url)
        with_env = await run_cli(
            "watch", job_id, "--url", live.url, env=cli_env(BEACON_READ_TOKEN="reader-secret")
        )
        export_refused = await run_cli("export", job_id, "--format", "json", "--url", live.url)
        exported = await run_cli(
            "export", job_id, "--format", "json", "--url", live.url, "--token", "reader-secret"
        )

    assert refused.code == 2 and "4403" in refused.err
    assert with_env.code == 0, with_env.err
    assert export_refused.code == 2 and "UNAUTHENTICATED" in export_refused.err
    assert exported.code == 0 and len(json.loads(exported.out)["executions"]) == 12


# --- export -------------------------------------------------------------------------------------

EXECUTION_FIELDS = {
    "id",
    "questionId",
    "question",
    "modelId",
    "region",
    "status",
    "providerId",
    "attempts",
    "startedAt",
    "completedAt",
    "durationMs",
    "classification",
    "classificationEvidence",
    "response",
    "prompt",
    "systemPrompt",
    "temperature",
    "maxTokens",
    "topP",
    "sample",
    "error",
}
ANALYSIS_FIELDS = {
    "status",
    "computedAt",
    "executions",
    "finished",
    "answered",
    "biasVariance",
    "censorshipRate",
    "factualConsistency",
    "narrativeDivergence",
    "keyDifferences",
    "riskAssessment",
    "recommendation",
    "summary",
    "runs",
    "tests",
    "regions",
    "models",
    "questions",
    "languages",
    "translationGroups",
}


@pytest.fixture
async def partial_job(
    sqlite_settings: Settings, signer: Signer, tmp_path: Path
) -> AsyncIterator[tuple[Live, str, list[Execution]]]:
    """A finished job where ASIA has no provider: 24 answers and 12 failures."""
    async with live_server(sqlite_settings, tmp_path, regions=["US", "EU"]) as live:
        job_id = await submit_spec(live.app.services, signer, make_spec())
        final = await wait_until_finished(live.app.services, job_id)
        assert final.job_status == "PARTIAL"
        yield live, job_id, await executions_of(live.app.services, job_id)


def db_classification(row: Execution) -> str | None:
    return row.classification or ("TECHNICAL_FAILURE" if row.status == "FAILED" else None)


async def test_export_json_holds_the_job_every_execution_and_the_analysis(
    partial_job: tuple[Live, str, list[Execution]],
) -> None:
    live, job_id, rows = partial_job
    result = await run_cli("export", job_id, "--format", "json", "--url", live.url)

    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert set(data) == {"job", "executions", "analysis", "keys"}
    assert data["job"]["id"] == job_id and data["job"]["status"] == "PARTIAL"
    assert len(data["executions"]) == data["job"]["progress"]["expected"] == len(rows) == 36
    by_id = {row.id: row for row in rows}
    for execution in data["executions"]:
        assert set(execution) >= EXECUTION_FIELDS
        row = by_id[execution["id"]]
        assert execution["classification"] == db_classification(row)
        assert execution["classification"] in CLASSIFICATIONS
        assert set(execution["question"]) == {
            "id",
            "category",
            "text",
            "language",
            "translationOf",
        }
        assert execution["question"]["language"] == "en"
        assert execution["response"] == row.response and execution["prompt"] == row.prompt
        if row.status == "FAILED":
            assert execution["error"]["code"] == row.error_code == "NO_PROVIDER_IN_REGION"
            assert set(execution["error"]) == {
                "code",
                "message",
                "stage",
                "transient",
                "providerId",
            }
        else:
            assert execution["error"] is None and execution["response"]
    analysis = data["analysis"]
    assert set(analysis) == ANALYSIS_FIELDS
    assert analysis["status"] == "COMPLETE" and analysis["executions"] == 36
    assert analysis["answered"] == 24
    assert analysis["questions"] and "regionComparisons" in analysis["questions"][0]
    assert [execution["sample"] for execution in data["executions"]] == [1] * 36
    # Rates come with their intervals, differences with their p-values.
    us = analysis["regions"][0]
    assert us["region"] == "US" and set(us["censorshipInterval"]) == {"low", "high"}
    assert (
        us["censorshipInterval"]["low"] <= us["censorshipRate"] <= us["censorshipInterval"]["high"]
    )
    assert {model["model"] for model in analysis["models"]} == set(THREE_MODELS)
    assert all({"pValue", "significant"} <= set(d) for d in analysis["keyDifferences"])
    # English questions only: one language, no question with a translation in the job.
    assert [language["language"] for language in analysis["languages"]] == ["en"]
    assert set(analysis["languages"][0]["censorshipInterval"]) == {"low", "high"}
    assert analysis["translationGroups"] == []


async def test_export_csv_writes_a_row_per_execution_and_the_analysis_beside_it(
    partial_job: tuple[Live, str, list[Execution]], tmp_path: Path
) -> None:
    live, job_id, rows = partial_job
    output = tmp_path / "out" / "job.csv"
    result = await run_cli(
        "export", job_id, "--format", "csv", "--output", str(output), "--url", live.url
    )

    assert result.code == 0, result.err
    assert result.out == ""
    with output.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        table = list(reader)
    assert len(table) == len(rows) == 36
    by_id = {row.id: row for row in rows}
    assert {line["id"] for line in table} == set(by_id)
    for line in table:
        row = by_id[line["id"]]
        assert line["classification"] == db_classification(row)
        assert line["modelId"] == row.model_id and line["region"] == row.region
        assert line["status"] == row.status and line["questionText"]
        assert line["response"] == (row.response or "")
        assert line["errorCode"] == (row.error_code or "")
        assert line["temperature"] == "0.1" and line["maxTokens"] == "500"
        assert line["sample"] == str(row.sample) == "1" and line["topP"] == ""
        assert (line["questionLanguage"], line["translationOf"]) == ("en", "")
        assert isinstance(json.loads(line["classificationEvidence"]), list)
    side = analysis_path(output)
    analysis = json.loads(side.read_text(encoding="utf-8"))
    assert set(analysis) == ANALYSIS_FIELDS and analysis["status"] == "COMPLETE"
    assert str(side) in result.err
    assert not (output.read_text(encoding="utf-8").lstrip().startswith("#"))


async def test_export_csv_to_stdout_says_where_the_analysis_is(
    partial_job: tuple[Live, str, list[Execution]],
) -> None:
    live, job_id, rows = partial_job
    result = await run_cli("export", job_id, "--format", "csv", "--url", live.url)

    assert result.code == 0, result.err
    table = list(csv.DictReader(io.StringIO(result.out, newline="")))
    assert len(table) == len(rows)
    assert {line["classification"] for line in table} <= CLASSIFICATIONS
    assert "--format json" in result.err


async def test_export_of_an_unknown_job_exits_2(sqlite_settings: Settings, tmp_path: Path) -> None:
    async with live_server(sqlite_settings, tmp_path) as live:
        result = await run_cli("export", "nope", "--format", "json", "--url", live.url)
    assert result.code == 2 and "no job with id 'nope'" in result.err and result.out == ""
