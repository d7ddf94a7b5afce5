"""`python -m bench`: every benchmark, each figure next to a baseline measured in the same run.

    .venv/bin/python -m bench [--only query,fanout,throughput,analysis,hostile] [--profile]
                              [--no-postgraphile]

Runs on a fresh PostgreSQL database (`beacon_bench_<random>` on BEACON_BENCH_POSTGRES_URL's
server, default postgresql://postgres@127.0.0.1:5432/test; dropped afterwards), loopback
only; every child process is stopped by the benchmark that started it. Prints a table and a
JSON summary, and writes everything to bench/results/latest.json (child logs and py-spy
profiles go to bench/results/logs/ and bench/results/profiles/, not committed).

1. job query      bench/bench_job_query.py   beacon vs raw Starlette+asyncpg vs PostGraphile
2. fan-out        bench/bench_fanout.py      1,000 and 10,000 subscribers, commit -> arrival
3. throughput     bench/bench_throughput.py  worker pipeline vs its own SQL via asyncpg;
                                             5,016 executions at 50 ms, 64 in flight
4. analysis       bench/bench_analysis.py    compute_analysis (stored labels) vs normalising
                                             every answer
5. hostile        bench/bench_hostile.py     hostile GraphQL documents (fragment bombs, aliases,
                                             nesting, ...): the slowest, from text to answer
6. classifier     bench/bench_classifier.py  held-out accuracy, kappa, per-label precision and
                                             recall; 5,000 answers classified

`--profile` records py-spy profiles (`pip install py-spy`) of the beacon process wherever a
target is missed. Needs: PostgreSQL; wrk is used if installed (`apt-get install -y wrk`),
else the Python load generator; node + npm for PostGraphile (installed on first use).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, RESULTS_DIR, fresh_database, log

ALL = ("throughput", "query", "fanout", "analysis", "hostile", "classifier")
OVERALL_LIMIT_S = 15 * 60


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


async def run_all(selected: set[str], *, profile: bool, postgraphile: bool) -> dict[str, Any]:
    from bench import fixtures

    results: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="beacon-bench-"))
    async with fresh_database() as database:
        results["database"] = database.name
        small_job = await fixtures.submit_small_job(database, None, work)
        if "throughput" in selected or "query" in selected:
            from bench import bench_throughput

            results["claim_limit_probe"] = await bench_throughput.claim_limit_probe(
                database, small_job
            )
        if "throughput" in selected:
            from bench import bench_throughput

            results["throughput"] = await bench_throughput.run(
                database, work, small_job, profile=profile
            )
        elif "query" in selected:
            from bench.pipeline import pipeline

            with pipeline("zero", database, work, latency_ms=0, concurrency=64):
                await fixtures.announce_work(database)
                state = await fixtures.wait_finished(database, small_job, within=60)
                if not state.finished:
                    raise RuntimeError("the 36-execution job did not finish within 60 s")
        if "query" in selected:
            from bench import bench_job_query

            log("job query: writing the finished 5,016-execution job")
            big_job = await fixtures.create_big_job(database)
            await fixtures.finish_by_sql(database, big_job)
            await fixtures.analyze(database)
            results["job_query"] = await bench_job_query.run(
                database, small_job, big_job, postgraphile=postgraphile, profile=profile
            )
        if "fanout" in selected:
            from bench import bench_fanout

            results["fanout"] = await bench_fanout.run(database, profile=profile)
    if "hostile" in selected:
        log("hostile documents: bench/bench_hostile.py run(repeat=3)")
        from bench import bench_hostile

        results["hostile"] = await bench_hostile.run(3)
    if "analysis" in selected:
        log("analysis: bench/bench_analysis.py run(repeat=5)")
        from bench import bench_analysis

        results["analysis"] = await asyncio.to_thread(bench_analysis.run, 5)
    if "classifier" in selected:
        log("classifier: bench/bench_classifier.py run(heldout, 5,000 answers)")
        from bench import bench_classifier

        report = await asyncio.to_thread(bench_classifier.run, "heldout", 5000)
        report.pop("mistakes", None)
        results["classifier"] = report
    return results


# ---- the table -----------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def summarise(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: what, beacon, baseline, ratio, target, met."""
    rows: list[dict[str, Any]] = []

    def row(
        what: str,
        beacon: str,
        baseline: str,
        ratio: float | None,
        target: str,
        met: bool | None,
    ) -> None:
        rows.append(
            {
                "figure": what,
                "beacon": beacon,
                "baseline": baseline,
                "ratio": None if ratio is None else round(ratio, 4),
                "target": target,
                "met": met,
            }
        )

    query = results.get("job_query")
    if query:
        servers = query["servers"]
        for label in ("36", "5016"):
            b, r = servers["beacon"][label], servers["raw"][label]
            ratio = query["ratios"][label]["beacon_over_raw"]
            target = query["ratios"][label]["target_over_raw"]
            row(
                f"job query, {label} exec: req/s (p50/p99 ms)",
                f"{_fmt(b['requests_per_s'])} ({_fmt(b['p50_ms'])}/{_fmt(b['p99_ms'])})",
                f"raw {_fmt(r['requests_per_s'])} ({_fmt(r['p50_ms'])}/{_fmt(r['p99_ms'])})",
                ratio,
                f">= {target} x raw",
                ratio >= target,
            )
            if "strawberry-min" in servers:
                f = servers["strawberry-min"][label]
                row(
                    f"  reference: minimal strawberry schema, {label} exec",
                    "-",
                    f"{_fmt(f['requests_per_s'])} ({_fmt(f['p50_ms'])}/{_fmt(f['p99_ms'])})",
                    query["ratios"][label]["strawberry_min_over_raw"],
                    "(x raw)",
                    None,
                )
            if "postgraphile" in servers:
                p = servers["postgraphile"][label]
                ratio = query["ratios"][label]["beacon_over_postgraphile"]
                row(
                    f"job query, {label} exec: vs PostGraphile",
                    f"{_fmt(b['requests_per_s'])} ({_fmt(b['p50_ms'])}/{_fmt(b['p99_ms'])})",
                    f"pg {_fmt(p['requests_per_s'])} ({_fmt(p['p50_ms'])}/{_fmt(p['p99_ms'])})",
                    ratio,
                    ">= 1.0 x PostGraphile",
                    ratio >= 1.0,
                )
            if "beacon-live" in servers:
                live = servers["beacon-live"][label]
                ratio = query["ratios"][label]["live_over_raw"]
                latency = f"({_fmt(live['p50_ms'])}/{_fmt(live['p99_ms'])})"
                row(
                    f"job query, running job (no reuse), {label} exec: req/s (p50/p99 ms)",
                    f"{_fmt(live['requests_per_s'])} {latency}",
                    f"raw {_fmt(r['requests_per_s'])} ({_fmt(r['p50_ms'])}/{_fmt(r['p99_ms'])})",
                    ratio,
                    "(x raw)",
                    None,
                )
                if "postgraphile" in servers:
                    p = servers["postgraphile"][label]
                    ratio = query["ratios"][label]["live_over_postgraphile"]
                    row(
                        f"job query, running job, {label} exec: vs PostGraphile",
                        f"{_fmt(live['requests_per_s'])}",
                        f"pg {_fmt(p['requests_per_s'])}",
                        ratio,
                        ">= 1.0 x PostGraphile",
                        ratio >= 1.0,
                    )
    fanout = results.get("fanout")
    for size in fanout["sizes"] if fanout else ():
        b, r = size["servers"]["beacon"], size["servers"]["raw"]
        subscribers = size["subscribers"]
        missing = b["missing_deliveries"]
        row(
            f"fan-out, {subscribers:,} subs: latency p50/p99/max ms"
            + (f" ({missing} not delivered)" if missing else ""),
            f"{_fmt(b['latency']['p50_ms'])}/{_fmt(b['latency']['p99_ms'])}/"
            f"{_fmt(b['latency']['max_ms'])}",
            f"raw {_fmt(r['latency']['p50_ms'])}/{_fmt(r['latency']['p99_ms'])}/"
            f"{_fmt(r['latency']['max_ms'])}",
            size["ratios"]["p99_beacon_over_raw"],
            f"p99 < {size['target_p99_ms']:g} ms, all delivered",
            b["latency"]["p99_ms"] < size["target_p99_ms"] and missing == 0,
        )
        rss_target = fanout["target_rss_mib"]
        row(
            f"fan-out, {subscribers:,} subs: CPU ms/event; RSS MiB idle/subs/after/peak",
            f"{_fmt(b['server_cpu_ms_per_event'], 0)}; {_fmt(b['rss_mib_idle'], 0)}/"
            f"{_fmt(b['rss_mib_subscribed'], 0)}/{_fmt(b['rss_mib_after'], 0)}/"
            f"{_fmt(b['rss_mib_peak'], 0)}",
            f"raw {_fmt(r['server_cpu_ms_per_event'], 0)}; {_fmt(r['rss_mib_idle'], 0)}/"
            f"{_fmt(r['rss_mib_subscribed'], 0)}/{_fmt(r['rss_mib_after'], 0)}/"
            f"{_fmt(r['rss_mib_peak'], 0)}",
            size["ratios"]["cpu_per_event_beacon_over_raw"],
            f"RSS < {rss_target:,.0f} MiB" if subscribers >= 10000 else "-",
            b["rss_mib_peak"] < rss_target if subscribers >= 10000 else None,
        )
    throughput = results.get("throughput")
    if throughput:
        zero = throughput["zero_latency"]
        raw = throughput["raw_asyncpg"]
        row(
            f"pipeline, 0 ms provider, {zero['executions']} exec: exec/s",
            _fmt(zero["executions_per_s"]),
            f"same SQL via asyncpg {_fmt(raw['same_sql']['executions_per_s'])}",
            zero["pipeline_over_raw"],
            "-",
            None,
        )
        signing = throughput.get("receipt_signing")
        if signing:
            row(
                "  receipt signing (payload, hash, Ed25519): worker CPU ms/exec",
                _fmt(signing["receipt_cpu_ms_per_execution"], 3),
                f"worker CPU {_fmt(signing['worker_cpu_ms_per_execution'], 2)} ms/exec",
                signing["share_of_worker_cpu"],
                f"< {signing['target_share']:.0%} of the worker",
                signing["share_of_worker_cpu"] < signing["target_share"],
            )
        for name in ("what_if_synchronous_commit_off", "what_if_settle_one_per_transaction"):
            row(
                f"  raw SQL {name.removeprefix('what_if_').replace('_', ' ')}: exec/s",
                "-",
                _fmt(raw[name]["executions_per_s"]),
                raw[name]["executions_per_s"] / raw["same_sql"]["executions_per_s"],
                "(x same SQL)",
                None,
            )
        for key, kind in (("fifty_ms", ""), ("fifty_ms_distinct_answers", ", answers distinct")):
            fifty = throughput[key]
            wall = fifty["wall_s"] if fifty["finished"] else fifty["projected_wall_s"]
            row(
                f"pipeline, 50 ms provider, {fifty['executions']} exec{kind}, 64 in flight: wall s",
                f"{_fmt(wall, 2)}{'' if fifty['finished'] else ' (projected)'}",
                f"ideal {_fmt(fifty['ideal_s'], 2)}",
                fifty["ideal_over_wall"],
                f">= {fifty['target_ideal_over_wall']} of ideal",
                fifty["ideal_over_wall"] >= fifty["target_ideal_over_wall"],
            )
    analysis = results.get("analysis")
    if analysis:
        row(
            f"analysis, {analysis['executions']:.0f} exec: best s",
            _fmt(analysis["analysis_best_s"], 3),
            f"normalise all {_fmt(analysis['baseline_classify_best_s'], 3)}",
            analysis["ratio_analysis_to_classify"],
            "< 1 s",
            analysis["analysis_best_s"] < 1.0,
        )
    hostile = results.get("hostile")
    if hostile:
        row(
            "hostile: fragment bomb k=40, ms to refuse",
            _fmt(hostile["bomb_ms"], 1),
            "-",
            None,
            f"< {hostile['bomb_target_ms']:g} ms",
            hostile["bomb_ms"] < hostile["bomb_target_ms"],
        )
        worst = hostile["worst"]
        row(
            f"hostile: worst 10 KB document ({worst['document']}), ms",
            _fmt(worst["worst_ms"], 1),
            f"load average {hostile['load_average'][0]:.1f}",
            None,
            f"< {hostile['worst_target_ms']:g} ms",
            worst["worst_ms"] < hostile["worst_target_ms"],
        )
    classifier = results.get("classifier")
    if classifier:
        recalls = {label: values["recall"] for label, values in classifier["per_label"].items()}
        row(
            f"classifier, held-out {classifier['answers']} answers: accuracy",
            _fmt(classifier["accuracy"], 3),
            f"kappa {_fmt(classifier['kappa'], 3)}",
            min(recall for recall in recalls.values() if recall is not None),
            ">= 0.95, kappa >= 0.90, recall >= 0.90 (ratio: lowest recall)",
            classifier["accuracy"] >= 0.95
            and classifier["kappa"] >= 0.90
            and min(recall for recall in recalls.values() if recall is not None) >= 0.90,
        )
        row(
            f"classifier, {classifier['speed_answers']} answers: s",
            _fmt(classifier["speed_seconds"], 1),
            f"CPU {_fmt(classifier['speed_cpu_seconds'], 1)}",
            classifier["answers_per_second"],
            "< 30 s (ratio: answers/s)",
            classifier["speed_seconds"] < 30.0,
        )
    probe = results.get("claim_limit_probe")
    if probe:
        row(
            "queue.claim(limit=1) on a fresh 36-row job: rows claimed",
            str(probe["claimed"]),
            "1",
            float(probe["claimed"]),
            "== 1",
            probe["claimed"] == 1,
        )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    headers = ("figure", "beacon", "baseline", "ratio", "target", "met")
    cells = [
        [
            r["figure"],
            r["beacon"],
            r["baseline"],
            "-" if r["ratio"] is None else f"{r['ratio']:.3f}",
            r["target"],
            {True: "yes", False: "MISSED", None: ""}[r["met"]],
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ",".join(ALL))
    parser.add_argument("--profile", action="store_true", help="py-spy where a target is missed")
    parser.add_argument("--no-postgraphile", action="store_true")
    parser.add_argument("--output", default=str(RESULTS_DIR / "latest.json"))
    args = parser.parse_args()
    selected = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = selected - set(ALL)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    results = asyncio.run(
        asyncio.wait_for(
            run_all(selected, profile=args.profile, postgraphile=not args.no_postgraphile),
            OVERALL_LIMIT_S,
        )
    )
    rows = summarise(results)
    document = _clean(
        {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - started, 1),
            "command": "python -m bench " + " ".join(sys.argv[1:]),
            "machine": {
                "cpus": os.cpu_count(),
                "cpu": _cpu_model(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "git_commit": _git_commit(),
            "summary": rows,
            "results": results,
        }
    )
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    print()
    print_table(rows)
    print()
    print(
        json.dumps({"duration_s": document["duration_s"], "summary": document["summary"]}, indent=2)
    )
    shown = output.relative_to(PROJECT_ROOT) if output.is_relative_to(PROJECT_ROOT) else output
    print(f"\nfull results: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
