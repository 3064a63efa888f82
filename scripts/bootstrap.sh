#!/usr/bin/env bash
# Installs what the local stack and the tests need, only where it is missing:
#   ffmpeg/ffprobe (Debian package), Azurite (npm, from tools/package-lock.json), Go modules.
# Safe to run repeatedly; it does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need_ffmpeg=0
command -v ffmpeg >/dev/null 2>&1 || need_ffmpeg=1
command -v ffprobe >/dev/null 2>&1 || need_ffmpeg=1
if [ "$need_ffmpeg" = 1 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ffmpeg from Debian packages"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "bootstrap: ffmpeg and ffprobe are required but not found." >&2
    echo "  Install them with your system's package manager (e.g. 'brew install ffmpeg', 'dnf install ffmpeg')" >&2
    echo "  and make sure both are on PATH, then run this again." >&2
    exit 1
  fi
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "bootstrap: Node.js 20+ and npm are required for Azurite (e.g. 'apt-get install nodejs npm')." >&2
  exit 1
fi
stamp=tools/node_modules/.ffbatch-lock
if [ ! -x tools/node_modules/.bin/azurite-blob ] || ! cmp -s tools/package-lock.json "$stamp"; then
  echo "bootstrap: installing Azurite from tools/package-lock.json"
  (cd tools && npm ci --no-audit --no-fund --loglevel=error)
  cp tools/package-lock.json "$stamp"
fi

go mod download
