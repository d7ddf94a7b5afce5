"""SIMULATED providers in a process of their own, so that a test can SIGKILL them mid-request.

`python -m tests.support.simulator_process PROVIDERS_FILE --region EU --latency-ms 150`
serves the region's OpenAI-style simulated providers, writes their providers file, prints
`ready`, then `request NAME` as each generation request arrives, and serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

from beacon_gql.providers.config import ProviderConfig, load_providers_file
from beacon_gql.providers.regions import Region
from beacon_gql.providers.simulator import SIMULATED_PROVIDERS, FaultProfile, SimulatorFleet

READY = b"ready\n"


async def serve(path: Path, regions: list[Region], latency_ms: float, seed: int) -> None:
    names = [s.name for s in SIMULATED_PROVIDERS if s.region in regions and s.kind == "openai"]
    faults = dict.fromkeys(names, FaultProfile(latency_ms=latency_ms))
    fleet = SimulatorFleet(seed=seed, faults=faults, include_hybrid_router=False, regions=regions)
    async with fleet:
        fleet.write_providers_file(path)
        sys.stdout.buffer.write(READY)
        sys.stdout.flush()
        await asyncio.gather(*(_report_arrivals(fleet, name) for name in names))


async def _report_arrivals(fleet: SimulatorFleet, name: str) -> None:
    count = 0
    while True:
        count += 1
        await fleet.wait_for_requests(name, count)
        sys.stdout.buffer.write(f"request {name}\n".encode())
        sys.stdout.flush()


class SimulatorProcess:
    def __init__(self, process: asyncio.subprocess.Process, providers: list[ProviderConfig]):
        self.process = process
        self.providers = providers

    async def wait_for_requests(self, name: str, count: int) -> None:
        """Returns once provider `name` received its `count`th generation request."""
        assert self.process.stdout is not None
        arrival = f"request {name}\n".encode()
        while count > 0:
            line = await self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the simulator process exited ({self.process.returncode})")
            count -= line == arrival

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)


@asynccontextmanager
async def simulator_process(
    path: Path, regions: Sequence[Region], *, latency_ms: float, seed: int = 0
) -> AsyncIterator[SimulatorProcess]:
    """Yields the process once its providers listen; killed on exit if still alive."""
    arguments = [str(path), "--latency-ms", str(latency_ms), "--seed", str(seed)]
    for region in regions:
        arguments += ["--region", region]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.simulator_process",
        *arguments,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(30):
            line = await process.stdout.readline()
        if line != READY:
            raise RuntimeError(f"the simulator process did not start (exit {process.returncode})")
        yield SimulatorProcess(process, load_providers_file(path))
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("providers_file", type=Path)
    parser.add_argument("--region", action="append", required=True)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    regions = [cast(Region, region) for region in args.region]
    asyncio.run(serve(args.providers_file, regions, args.latency_ms, args.seed))


if __name__ == "__main__":
    main()
