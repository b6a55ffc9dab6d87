#!/usr/bin/env bash
# Installs the real services the tests run against, when they are missing:
#   redis-server (Debian package: apt-get needs root, or password-less sudo), azurite (npm,
#   in .tools/azurite, apart from front-end packages), the official @microsoft/signalr
#   client (npm, in .tools/node-signalr), and Chromium (Debian package) for the web page's
#   browser tests, driven by Python's playwright with the system browser (never a browser
#   download). Node.js and npm must be there already.
# Idempotent. The tests themselves start and stop each service on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

AZURITE_VERSION=3.37.0

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

# apt-get needs root: say so plainly rather than fail halfway.
apt_install() {  # apt_install <command it provides> <Debian package> <what it is for>
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
    cat >&2 <<MSG
make test needs $1 ($3), and installs it with \`apt-get install $2\`, which
needs root. Run \`make test\` as root (or with password-less sudo), or install it yourself
first (\`sudo apt-get install $2\`), then run \`make test\` again.
MSG
    exit 2
  fi
  echo "installing $2 (Debian package)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$2" >/dev/null
}

apt_install redis-server redis-server "the cache's contract tests"
apt_install chromium chromium "the web page's browser tests"

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
