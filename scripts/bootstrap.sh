#!/usr/bin/env bash
# Installs what the local stack and the tests need, only where it is missing:
#   ffmpeg/ffprobe and chromium (Debian packages), Azurite and playwright-core (npm, from
#   tools/package-lock.json), Go modules.
# Safe to run repeatedly; it does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: ffmpeg for the pipeline; python3-azure (azure-batch, azure-servicebus,
# azure-storage-blob for /usr/bin/python3) for the emulators' cross-client conformance tests;
# chromium for the dashboard's browser test (e2e/dashboard_test.go drives /usr/bin/chromium
# through playwright-core; no browser is downloaded).
pkgs=()
{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || pkgs+=(ffmpeg)
[ -x /usr/bin/chromium ] || pkgs+=(chromium)
/usr/bin/python3 -c 'import azure.batch, azure.servicebus, azure.storage.blob' >/dev/null 2>&1 || pkgs+=(python3-azure)
if [ "${#pkgs[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${pkgs[*]} from Debian packages"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    echo "bootstrap: missing ${pkgs[*]}." >&2
    echo "  ffmpeg and ffprobe must be on PATH (e.g. 'brew install ffmpeg', 'dnf install ffmpeg')." >&2
    echo "  The conformance tests also need /usr/bin/python3 with azure-batch 13, azure-servicebus 7 and" >&2
    echo "  azure-storage-blob 12 (Debian: python3-azure), and the browser test Chromium at /usr/bin/chromium." >&2
    echo "  Install them, then run this again." >&2
    exit 1
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "bootstrap: Node.js 20+ and npm are required for Azurite (e.g. 'apt-get install nodejs npm')." >&2
  exit 1
fi
stamp=tools/node_modules/.ffbatch-lock
if [ ! -x tools/node_modules/.bin/azurite-blob ] || [ ! -d tools/node_modules/playwright-core ] || ! cmp -s tools/package-lock.json "$stamp"; then
  echo "bootstrap: installing Azurite and playwright-core from tools/package-lock.json"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
  cp tools/package-lock.json "$stamp"
fi

go mod download
