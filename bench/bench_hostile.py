"""Benchmark: hostile GraphQL documents, each timed from the query text to the answer.

Every document goes through the app's own schema (`create_schema`: the token limit, the
one-pass query limits, graphql-core's validation, execution) with real services on a
fresh SQLite database holding one job, the way a request reaches it once its body is read.
Each is run once to warm up, then `repeat` times, each with a new schema (so no cache helps)
and after a full garbage collection (so no collection of the previous schemas lands in the
timed request); the slowest counts. Nothing else runs meanwhile, so the time is how long that
request holds the event loop (the database calls it awaits included). The machine's load
average is printed with the figures: on a loaded machine they grow with it.

Targets (issue #13): the fragment bomb with k = 40 refused in under 50 ms; any 10 KB hostile
document (fragments, aliases, nesting, lists, directives, variables, operations,
introspection...) under 100 ms. The worst case found is printed.

    python bench/bench_hostile.py [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphql import get_introspection_query

from beacon_gql.config import Settings
from beacon_gql.jobs.signing import sign_spec
from beacon_gql.schema import create_schema
from beacon_gql.schema.context import BeaconContext
from beacon_gql.services import Services, running_services
from bench.fixtures import Signer, small_spec

BOMB_TARGET_MS = 50.0
HOSTILE_TARGET_MS = 100.0
SIZE = 10 * 1024


def _fill(piece: Callable[[int], str], *, head: str = "{ ", tail: str = " }") -> str:
    """As many `piece(i)` as fit in SIZE bytes between head and tail."""
    parts: list[str] = []
    used = len(head) + len(tail)
    i = 0
    while True:
        part = piece(i)
        if used + len(part) + 1 > SIZE:
            break
        parts.append(part)
        used += len(part) + 1
        i += 1
    return head + " ".join(parts) + tail


def _bomb(k: int, width: int = 2) -> str:
    spreads = " ".join(["...F{n}"] * width)
    chain = " ".join(f"fragment F{i} on Query {{ {spreads.format(n=i + 1)} }}" for i in range(k))
    return f"query {{ ...F0 }} {chain} fragment F{k} on Query {{ questions {{ id }} }}"


def _tree(name: str, depth: int, leaf: str) -> str:
    if depth == 0:
        return leaf
    below = _tree(name, depth - 1, leaf)
    return f"{name} {{ {below} }} {name} {{ {below} }}"


def _nested(field: str, depth: int, leaf: str) -> str:
    return f"{field} {{ " * depth + leaf + " }" * depth


def documents(job_id: str) -> list[tuple[str, str, dict[str, Any] | None, str | None]]:
    """(name, query, variables, operation name) for every hostile shape tried."""
    introspection = get_introspection_query(descriptions=True)
    full_type = introspection[introspection.index("fragment FullType") :]
    schema_aliases = (
        "{ "
        + " ".join(f"s{i}: __schema {{ types {{ ...FullType }} }}" for i in range(10))
        + " } "
        + full_type
    )
    two_schemas = (
        "{ "
        + " ".join(f"s{i}: __schema {{ types {{ ...FullType }} }}" for i in range(2))
        + " } "
        + full_type
    )
    long_alias = "a" * 300
    variables = {f"v{i}": i for i in range(2000)}
    return [
        ("fragment bomb, k = 40 (1.5 KB)", _bomb(40), None, None),
        ("fragment bomb, k = 24, width 2", _bomb(24), None, None),
        ("fragment bomb, 10 levels x 5 spreads", _bomb(10, width=5), None, None),
        (
            "unused fragment bomb, 10 levels x 5 spreads",
            "{ __typename } " + _bomb(10, width=5).removeprefix("query { ...F0 } "),
            None,
            None,
        ),
        ("fragment bomb padded to 10 KB", _bomb(40) + " #" + "x" * (SIZE - 1600), None, None),
        (
            "fragment cycle",
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            None,
            None,
        ),
        ("aliases of questions{id}", _fill(lambda i: f"a{i}: questions {{ id }}"), None, None),
        (
            "330 aliases of questions{id} (1,980 tokens)",
            "{ " + " ".join(f"a{i}: questions {{ id }}" for i in range(330)) + " }",
            None,
            None,
        ),
        (
            "30 aliases of questions, long names",
            "{ "
            + " ".join(f"{long_alias}{i}: questions {{ id text category }}" for i in range(30))
            + " }",
            None,
            None,
        ),
        ("same-name fields job(id)", _fill(lambda i: f'job(id: "{i}") {{ id }}'), None, None),
        ("same-name leaves", _fill(lambda i: "__typename"), None, None),
        (
            "same-name binary tree under __type",
            '{ __type(name: "Job") { ' + _tree("ofType", 9, "name") + " } }",
            None,
            None,
        ),
        (
            "deep __type ofType chain",
            '{ __type(name: "Job") { ' + _nested("ofType", 300, "name") + " } }",
            None,
            None,
        ),
        ("deep unknown fields", "{ " + _nested("a", 600, "b") + " }", None, None),
        (
            "deep inline fragments",
            "{ " + _nested("... on Query", 350, "__typename") + " }",
            None,
            None,
        ),
        ("many unknown fields", _fill(lambda i: f"f{i}"), None, None),
        ("990 unknown fields", "{ " + " ".join(f"f{i}" for i in range(990)) + " }", None, None),
        (
            "280 directives (1,990 tokens)",
            "{ questions " + " ".join(["@include(if: true)"] * 280) + " { id } }",
            None,
            None,
        ),
        (
            "450 unused variables (1,990 tokens)",
            "query (" + " ".join(f"$v{i}: Int" for i in range(450)) + ") { __typename }",
            {f"v{i}": i for i in range(450)},
            None,
        ),
        (
            "many directives",
            _fill(lambda i: "@include(if: true)", head="{ questions ", tail=" { id } }"),
            None,
            None,
        ),
        (
            "many variables",
            _fill(lambda i: f"$v{i}: Int", head="query (", tail=") { __typename }"),
            variables,
            None,
        ),
        (
            "many operations",
            _fill(lambda i: f"query Q{i} {{ __typename }}", head="", tail=""),
            None,
            "Q7",
        ),
        ("full introspection query", introspection, None, None),
        ("10 aliases of the whole schema", schema_aliases, None, None),
        ("2 aliases of the whole schema", two_schemas, None, None),
        (
            "20 operations",
            " ".join(f"query Q{i} {{ questions {{ id text }} }}" for i in range(20)),
            None,
            "Q7",
        ),
        (
            "jobs x executions x attempts",
            "{ jobs(first: 100) { nodes { executions { attemptHistory { message } } } } }",
            None,
            None,
        ),
        (
            "one job, every field, aliased",
            "{ "
            + " ".join(
                f'j{i}: job(id: "{job_id}") {{ id spec questions {{ id text }} '
                "executions { id response prompt attemptHistory { message } } }"
                for i in range(20)
            )
            + " }",
            None,
            None,
        ),
        ("a 10 KB string argument", '{ job(id: "' + "x" * (SIZE - 30) + '") { id } }', None, None),
        ("10 KB of comments", "#" + "x" * SIZE + "\n{ __typename }", None, None),
    ]


async def _one_job(services: Services, signer: Signer) -> str:
    signed = sign_spec(small_spec(), signer.private_key, now=datetime.now(UTC))
    return (await services.submission.submit(signed, None)).job.id


async def run(repeat: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="beacon-hostile-") as directory:
        signer = Signer.generate()
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(directory) / 'hostile.db'}",
            trusted_keys_file=signer.write_trust_file(Path(directory) / "trusted.json"),
        )
        async with running_services(settings, run_worker=False) as services:
            job_id = await _one_job(services, signer)
            cases = []
            for name, query, variables, operation in documents(job_id):
                worst = 0.0
                outcome = ""
                # One run first, not counted: a process parses its first document once.
                for attempt in range(repeat + 1):
                    # A new schema each time: an attacker varies the document, so neither the
                    # parser cache nor the validation cache may help.
                    schema = create_schema()
                    context = BeaconContext(services=services, header_token=None)
                    gc.collect()
                    started = time.perf_counter()
                    result = await schema.execute(
                        query,
                        variable_values=variables,
                        context_value=context,
                        operation_name=operation,
                    )
                    if attempt:
                        worst = max(worst, (time.perf_counter() - started) * 1000)
                    if result.errors:
                        extensions = result.errors[0].extensions or {}
                        outcome = str(extensions.get("code", "error"))
                        limit = extensions.get("limit")
                        outcome += f" ({limit})" if limit else ""
                    else:
                        outcome = "answered"
                cases.append(
                    {"document": name, "bytes": len(query), "outcome": outcome, "worst_ms": worst}
                )
    bomb = cases[0]
    worst = max(cases, key=lambda case: case["worst_ms"])
    return {
        "repeat": repeat,
        "load_average": os.getloadavg(),
        "cases": cases,
        "bomb_ms": bomb["worst_ms"],
        "bomb_target_ms": BOMB_TARGET_MS,
        "worst": worst,
        "worst_target_ms": HOSTILE_TARGET_MS,
    }


def print_cases(result: dict[str, Any]) -> None:
    width = max(len(case["document"]) for case in result["cases"])
    for case in result["cases"]:
        print(
            f"{case['document']:<{width}}  {case['bytes']:>6} B  {case['worst_ms']:>8.1f} ms  "
            f"{case['outcome']}"
        )
    worst = result["worst"]
    print(f"\nload average during the run: {result['load_average']}")
    print(
        f"\nfragment bomb k=40: {result['bomb_ms']:.1f} ms (target < {BOMB_TARGET_MS:g} ms); "
        f"worst case: {worst['document']}, {worst['worst_ms']:.1f} ms "
        f"(target < {HOSTILE_TARGET_MS:g} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.repeat))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_cases(result)


if __name__ == "__main__":
    main()
