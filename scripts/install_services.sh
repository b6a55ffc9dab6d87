#!/usr/bin/env bash
# Installs the real services the tests run against, when they are missing:
#   redis-server (Debian package: apt-get needs root, or password-less sudo), azurite (npm,
#   in .tools/azurite, apart from front-end packages), and the official @microsoft/signalr
#   client (npm, in .tools/node-signalr). Node.js and npm must be there already.
# Idempotent. The tests themselves start and stop each service on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.37.0

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
    cat >&2 <<'MSG'
make test needs redis-server, and installs it with `apt-get install redis-server`, which
needs root. Run `make test` as root (or with password-less sudo), or install redis-server
yourself first (`sudo apt-get install redis-server`), then run `make test` again.
MSG
    exit 2
  fi
  echo "installing redis-server (Debian package)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
fi

if ! command -v npm >/dev/null 2>&1; then
  cat >&2 <<'MSG'
make test needs Node.js (20 or newer) and npm: it installs azurite and the official
@microsoft/signalr client with npm into .tools/. Install them first (on Debian:
`sudo apt-get install nodejs npm`), then run `make test` again.
MSG
  exit 2
fi

if [ ! -x .tools/azurite/node_modules/.bin/azurite-blob ]; then
  echo "installing azurite $AZURITE_VERSION (npm, .tools/azurite)"
  mkdir -p .tools/azurite
  npm install --prefix .tools/azurite --no-audit --no-fund --loglevel=error \
    "azurite@$AZURITE_VERSION" >/dev/null
fi

bash scripts/install_node_signalr.sh
