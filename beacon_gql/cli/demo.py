"""`beacon-gql demo`: the server, SIMULATED regional providers and an example job, one command.

Everything lives under a state folder (default .beacon/): the SQLite database, the
providers file, a demo signing key and the trusted-keys file that trusts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from beacon_gql.cli.client import BeaconClient, ClientError
from beacon_gql.cli.serving import listening_socket, serve_on
from beacon_gql.config import Settings
from beacon_gql.jobs.signing import generate_signing_key, sign_spec
from beacon_gql.jobs.trust import trusted_key_entry
from beacon_gql.providers.simulator import SIMULATED_PROVIDERS, FaultProfile, SimulatorFleet
from beacon_gql.web.app import create_app

log = logging.getLogger("beacon_gql.demo")

FOLLOW = "subscription($id: ID!) { jobProgress(jobId: $id) { job { status } } }"
FINISHED = """query($id: ID!) { job(id: $id) {
  status progress { expected completed failed cancelled } biasAnalysis { censorshipRate } } }"""

EXAMPLE_SPEC: dict[str, Any] = {
    "id": "demo-bias-detection",
    "version": "v1",
    "benchmark": {"name": "multi-model-bias-detection", "version": "v1"},
    "constraints": {"regions": ["US", "EU", "ASIA"], "min_regions": 2, "min_success_rate": 0.5},
    "metadata": {
        "created_by": "beacon-gql demo",
        "models": ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"],
    },
    "questions": ["math_basic", "tiananmen_neutral", "taiwan_status", "greatest_leader"],
}


def prepare_state(state: Path) -> tuple[str, Path]:
    """The demo's signing key and the trusted-keys file that trusts it, made once."""
    state.mkdir(parents=True, exist_ok=True)
    key_file, trust_file = state / "demo-key.json", state / "trusted-keys.json"
    if key_file.exists():
        private_key = json.loads(key_file.read_text())["private_key"]
    else:
        private_key, public_key = generate_signing_key()
        key_file.write_text(
            json.dumps({"kid": "demo", "private_key": private_key, "public_key": public_key})
        )
        key_file.chmod(0o600)
        trust_file.write_text(json.dumps([trusted_key_entry("demo", public_key)], indent=2))
    return private_key, trust_file


async def run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    state: Path,
    seed: int,
    faults: FaultProfile | None = None,
) -> None:
    # Bound first: a taken port is reported before the state folder is made.
    sock = listening_socket(host, port)
    with sock:
        private_key, trust_file = prepare_state(state)
        every = {spec.name: faults for spec in SIMULATED_PROVIDERS} if faults else None
        async with SimulatorFleet(seed=seed, faults=every) as fleet:
            providers_file = state / "providers.toml"
            fleet.write_providers_file(providers_file)
            settings = replace(
                settings,
                providers_file=settings.providers_file or providers_file,
                trusted_keys_file=settings.trusted_keys_file or trust_file,
            )
            base = f"http://{host}:{port}"

            async def submit_example() -> None:
                client = BeaconClient(f"{base}/graphql")
                result = await client.submit(sign_spec(EXAMPLE_SPEC, private_key), None)
                job = result["job"]
                print(
                    "\nbeacon-gql demo (providers are SIMULATED, answers are canned)\n"
                    f"  dashboard  {base}/jobs/{job['id']}\n"
                    f"  GraphiQL   {base}/graphql\n"
                    f"  job        {job['id']}: {job['progress']['expected']} executions expected\n"
                    f"  watch it   beacon-gql watch {job['id']} --url {base}/graphql\n"
                    "Ctrl-C stops everything.\n",
                    file=sys.stderr,
                    flush=True,
                )
                following.append(
                    asyncio.create_task(
                        report_when_done(client, job["id"], f"{base}/jobs/{job['id']}")
                    )
                )

            following: list[asyncio.Task[None]] = []
            try:
                await serve_on(
                    sock,
                    create_app(settings, run_worker=True),
                    on_listening=submit_example,
                    log_level="warning",
                )
            finally:
                for task in following:
                    task.cancel()


async def report_when_done(client: BeaconClient, job_id: str, dashboard: str) -> None:
    """Once the job has ended, one line saying how it went and where to look."""
    try:
        async for _ in client.subscribe(FOLLOW, {"id": job_id}):
            pass
        data = await client.execute(FINISHED, {"id": job_id})
    except ClientError as error:
        log.warning("could not follow the demo job: %s", error, extra={"job_id": job_id})
        return
    print(f"\n{finished_line(job_id, data['job'], dashboard)}\n", file=sys.stderr, flush=True)


def finished_line(job_id: str, job: dict[str, Any], dashboard: str) -> str:
    progress = job["progress"]
    rate = job["biasAnalysis"]["censorshipRate"]
    censorship = "no answers to rate" if rate is None else f"censorship {rate:.0%}"
    return (
        f"job {job_id} {job['status']}: {progress['completed']} of {progress['expected']} "
        f"completed, {censorship}; see {dashboard}"
    )
