#!/usr/bin/env bash
# Installs what the browser tests (tests/test_browser.py) need: Debian's headless Chromium.
# Playwright drives it through executable_path=/usr/bin/chromium; Playwright's own browser
# download is not used (it cannot be fetched here). Idempotent: does nothing when present.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core

if [ ! -x /usr/bin/chromium ]; then
  echo "chromium was installed but /usr/bin/chromium is missing" >&2
  exit 1
fi
