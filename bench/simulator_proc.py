"""SIMULATED providers in their own process, for the pipeline benchmarks.

    python -m bench.simulator_proc --providers-out PATH --latency-ms 50 --max-concurrency 64 \
        [--distinct-answers]

Serves the three regional OpenAI-compatible simulated providers (US, EU, ASIA; no hybrid
router, so each region has exactly one provider) on loopback, writes a providers file in
which the job model ids `model-000` .. `model-NNN` (and the three built-in ids) map onto the
three upstream models the simulator knows, prints READY, and serves until SIGINT. Runs on
uvloop, so the simulator is not the bottleneck it would be on the default loop.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from pathlib import Path

from beacon_gql.providers.config import providers_to_toml
from beacon_gql.providers.simulator import FaultProfile, SimulatorFleet
from bench.common import run_on_uvloop

UPSTREAMS = ("llama3.2:1b", "mistral:7b", "qwen2.5:1.5b")
BUILT_IN = {
    "llama3.2-1b": "llama3.2:1b",
    "mistral-7b": "mistral:7b",
    "qwen2.5-1.5b": "qwen2.5:1.5b",
}


def bench_model_ids(count: int) -> list[str]:
    return [f"model-{number:03}" for number in range(count)]


def model_map(count: int) -> dict[str, str]:
    mapping = dict(BUILT_IN)
    for number, model_id in enumerate(bench_model_ids(count)):
        mapping[model_id] = UPSTREAMS[number % len(UPSTREAMS)]
    return mapping


async def serve(args: argparse.Namespace) -> None:
    names = ("sim-us-east", "sim-eu-west", "sim-asia-pacific")
    faults = {name: FaultProfile(latency_ms=args.latency_ms) for name in names}
    async with SimulatorFleet(seed=args.seed, faults=faults, include_hybrid_router=False) as fleet:
        if args.distinct_answers:
            for name in names:
                fleet.number_answers(name)
        configs = [
            replace(
                config,
                models=model_map(args.models),
                max_concurrency=args.max_concurrency,
                timeout_seconds=30.0,
            )
            for config in fleet.provider_configs()
        ]
        text = "# SIMULATED providers of the benchmark; canned answers.\n\n"
        await asyncio.to_thread(
            Path(args.providers_out).write_text, text + providers_to_toml(configs), "utf-8"
        )
        print("READY", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers-out", required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--max-concurrency", type=int, default=64)
    parser.add_argument("--models", type=int, default=209)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--distinct-answers",
        action="store_true",
        help="open every answer with its request's number: no two answers are the same text",
    )
    args = parser.parse_args()
    run_on_uvloop(serve(args))


if __name__ == "__main__":
    main()
