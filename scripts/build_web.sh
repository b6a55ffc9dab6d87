#!/usr/bin/env bash
# Builds the web page (web/src -> web/dist) with the npm packages pinned in
# web/package-lock.json: `npm ci` when the lock changed, then esbuild (web/build.mjs).
# Needs Node 20 and npm (Debian's `nodejs` and `npm` do). Run by `make run`, `make test`
# and azd's prepackage hook. Without npm it says so and exits 0, unless --required:
# the API runs without the page.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  if [ "${1:-}" = "--required" ]; then
    echo "build_web: node and npm are needed to build the web page (apt-get install nodejs npm)" >&2
    exit 3
  fi
  echo "note: the web page and /api/docs need Node 20 and npm to build once (apt-get install" \
    "nodejs npm, then make web); the API runs without them." >&2
  exit 0
fi
# Front-end packages live in web/node_modules, apart from the test tools' prefixes in .tools/.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.lock-hash ] || [ "$(cat node_modules/.lock-hash)" != "$lock_hash" ]; then
  echo "installing the web page's npm packages (web/node_modules)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.lock-hash
fi
node build.mjs
