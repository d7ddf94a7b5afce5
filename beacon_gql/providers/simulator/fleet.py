"""Regional SIMULATED providers on loopback, for demos and tests.

Each provider is its own uvicorn server on its own port, so the HTTP clients, timeouts and
connection failures under test are the real ones. Everything a provider says is decided by
the seed, the provider, the model, the prompt and how many times it was asked before.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from beacon_gql.providers.config import ProviderConfig, providers_to_toml
from beacon_gql.providers.regions import KNOWN_REGIONS, Region
from beacon_gql.providers.simulator.endpoints import (
    RecordedRequest,
    SimulatedProvider,
    SimulatedProviderSpec,
)
from beacon_gql.providers.simulator.faults import FaultProfile

_OLLAMA_NAMES = {
    "llama3.2-1b": "llama3.2:1b",
    "mistral-7b": "mistral:7b",
    "qwen2.5-1.5b": "qwen2.5:1.5b",
}
# The predecessor's router took the job's model ids as they are.
_ROUTER_NAMES = {model_id: model_id for model_id in _OLLAMA_NAMES}

SIMULATED_PROVIDERS: tuple[SimulatedProviderSpec, ...] = (
    SimulatedProviderSpec("sim-us-east", "US", "openai", _OLLAMA_NAMES),
    SimulatedProviderSpec("sim-eu-west", "EU", "openai", _OLLAMA_NAMES),
    SimulatedProviderSpec("sim-asia-pacific", "ASIA", "openai", _OLLAMA_NAMES),
    SimulatedProviderSpec("sim-hybrid-router-eu", "EU", "hybrid-router", _ROUTER_NAMES),
)

STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server sharing its event loop with others and with the code under test."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Signals belong to whoever owns the process; each server taking over SIGINT and
        # restoring it in a different order would leave Ctrl+C pointing at a dead server.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()


@dataclass
class _Running:
    server: _EmbeddedServer
    task: asyncio.Task[None]


class SimulatorFleet:
    """`async with SimulatorFleet(seed=1) as fleet:` serves the SIMULATED providers."""

    def __init__(
        self,
        seed: int = 0,
        faults: Mapping[str, FaultProfile] | None = None,
        host: str = "127.0.0.1",
        include_hybrid_router: bool = True,
        regions: Sequence[Region] = KNOWN_REGIONS,
        base_port: int | None = None,
    ) -> None:
        """`base_port` None picks free ports; otherwise providers take consecutive ports."""
        self.seed = seed
        self.host = host
        self.base_port = base_port
        specs = [
            spec
            for spec in SIMULATED_PROVIDERS
            if spec.region in regions and (include_hybrid_router or spec.kind == "openai")
        ]
        faults = faults or {}
        unknown = sorted(set(faults) - {spec.name for spec in specs})
        if unknown:
            raise ValueError(f"faults given for providers not in this fleet: {unknown}")
        self._providers = {
            spec.name: SimulatedProvider(
                spec, seed=seed, faults=faults.get(spec.name, FaultProfile())
            )
            for spec in specs
        }
        self._ports: dict[str, int] = {}
        self._running: dict[str, _Running] = {}

    @property
    def names(self) -> list[str]:
        return list(self._providers)

    async def __aenter__(self) -> Self:
        try:
            for index, provider in enumerate(self._providers.values()):
                port = 0 if self.base_port is None else self.base_port + index
                await self._start(provider, port)
        except BaseException:
            await self._stop_all()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop_all()

    async def _start(self, provider: SimulatedProvider, port: int) -> None:
        # Binding here rather than in uvicorn turns a busy port into an OSError for the
        # caller instead of uvicorn's sys.exit inside a task.
        listener = _bind(self.host, port)
        config = uvicorn.Config(
            provider.app(),
            lifespan="off",
            log_config=None,
            timeout_graceful_shutdown=1,
        )
        server = _EmbeddedServer(config)
        task = asyncio.create_task(
            server.serve(sockets=[listener]), name=f"simulated provider {provider.name}"
        )
        self._running[provider.name] = _Running(server, task)
        self._ports[provider.name] = listener.getsockname()[1]
        ready = asyncio.create_task(server.ready.wait())
        await asyncio.wait(
            {task, ready}, timeout=STARTUP_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        if not ready.done():
            ready.cancel()
            raise RuntimeError(f"simulated provider {provider.name} did not start")

    def provider_configs(self) -> list[ProviderConfig]:
        """Providers-file entries for every provider started, stopped ones included."""
        if not self._ports:
            raise RuntimeError("the fleet is not running: use `async with SimulatorFleet()`")
        return [self.provider_config(name) for name in self._providers if name in self._ports]

    def provider_config(self, name: str) -> ProviderConfig:
        spec = self._providers[name].spec
        host = f"[{self.host}]" if ":" in self.host else self.host
        root = f"http://{host}:{self._ports[name]}"
        return ProviderConfig(
            name=spec.name,
            region=spec.region,
            kind=spec.kind,
            base_url=f"{root}/v1" if spec.kind == "openai" else root,
            api_key_env=None,
            models=dict(spec.models),
            max_concurrency=4,
            timeout_seconds=30.0,
        )

    def write_providers_file(self, path: Path) -> None:
        header = (
            f"# SIMULATED providers served by `beacon-gql simulate --seed {self.seed}` on "
            f"{self.host}.\n# Their answers are canned; do not use them for research.\n\n"
        )
        path.write_text(header + providers_to_toml(self.provider_configs()), encoding="utf-8")

    def set_faults(self, name: str, faults: FaultProfile) -> None:
        """Takes effect from the provider's next request."""
        self._providers[name].faults = faults

    def set_scripted_answers(self, name: str, answers: Mapping[str, Sequence[str]]) -> None:
        """Question id -> the answers `name` gives to it, in turn (`SimulatedProvider`)."""
        self._providers[name].scripted_answers = answers

    def refuse_chinese(self, name: str, models: Iterable[str]) -> None:
        """From its next request, `name` has `models` refuse every prompt written in Chinese."""
        self._providers[name].refuses_chinese = frozenset(models)

    def number_answers(self, name: str) -> None:
        """From its next request, every answer of `name` is a text of its own."""
        self._providers[name].numbered_answers = True

    async def stop(self, name: str) -> None:
        """Shuts one provider down: connections to its port are refused afterwards."""
        running = self._running.pop(name, None)
        if running is not None:
            await self._stop(name, running)

    def requests_received(self, name: str) -> int:
        """Generation requests (chat completions, inference) received; health probes excluded."""
        return self._providers[name].generation_requests

    async def wait_for_requests(self, name: str, count: int) -> None:
        """Returns once `name` has received `count` generation requests; wrap in a timeout."""
        provider = self._providers[name]
        async with provider.arrivals:
            await provider.arrivals.wait_for(lambda: provider.generation_requests >= count)

    def request_log(self, name: str) -> list[RecordedRequest]:
        """Every request received, health probes included, oldest first."""
        return list(self._providers[name].log)

    async def _stop_all(self) -> None:
        running, self._running = self._running, {}
        await asyncio.gather(*(self._stop(name, run) for name, run in running.items()))

    async def _stop(self, name: str, running: _Running) -> None:
        # Release hanging requests first, so uvicorn's graceful shutdown has nothing to wait for.
        self._providers[name].closing.set()
        running.server.should_exit = True
        await asyncio.wait({running.task}, timeout=SHUTDOWN_TIMEOUT_S)
        if not running.task.done():
            running.server.force_exit = True
            running.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running.task


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be explicit: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every keep-alive response waits ~40 ms for a delayed ACK.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


async def serve_simulators(
    seed: int,
    write_providers: Path,
    host: str,
    base_port: int | None,
    *,
    started: asyncio.Event | None = None,
    faults: FaultProfile | None = None,
) -> None:
    """Serves the SIMULATED providers until cancelled, after writing their providers file.

    `started` is set once every provider listens and the file is written; `faults` (latency
    included) apply to every provider.
    """
    every = {spec.name: faults for spec in SIMULATED_PROVIDERS} if faults is not None else None
    async with SimulatorFleet(seed=seed, host=host, base_port=base_port, faults=every) as fleet:
        fleet.write_providers_file(write_providers)
        for config in fleet.provider_configs():
            print(
                f"SIMULATED provider {config.name:<22} region={config.region:<4} "
                f"kind={config.kind:<13} {config.base_url}",
                flush=True,
            )
        print(f"providers file: {write_providers} (seed {seed}); serving until stopped", flush=True)
        if started is not None:
            started.set()
        await asyncio.Event().wait()
