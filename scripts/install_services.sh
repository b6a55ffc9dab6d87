#!/usr/bin/env bash
# Installs the real services the tests run against, when they are missing:
#   redis-server (Debian package), azurite (npm, in .tools/azurite, apart from front-end
#   packages), the official @microsoft/signalr client (npm, in .tools/node-signalr), and
#   Chromium (Debian package) for the web page's browser tests, driven by Python's
#   playwright with the system browser (never a browser download).
# Idempotent. The tests themselves start and stop each service on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.37.0

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server (Debian package)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
fi

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x .tools/azurite/node_modules/.bin/azurite-blob ]; then
  echo "installing azurite $AZURITE_VERSION (npm, .tools/azurite)"
  mkdir -p .tools/azurite
  npm install --prefix .tools/azurite --no-audit --no-fund --loglevel=error \
    "azurite@$AZURITE_VERSION" >/dev/null
fi

bash scripts/install_node_signalr.sh
