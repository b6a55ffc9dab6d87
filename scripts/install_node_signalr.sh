#!/usr/bin/env bash
# Install the official @microsoft/signalr JavaScript client into its own npm prefix.
# Kept apart from azurite's prefix: azurite's old tough-cookie breaks @microsoft/signalr.
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=.tools/node-signalr
VERSION=10.0.11
PKG_JSON="$PREFIX/node_modules/@microsoft/signalr/package.json"
if [ -f "$PKG_JSON" ] && grep -q "\"version\": \"$VERSION\"" "$PKG_JSON"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is not installed; cannot install @microsoft/signalr" >&2
  exit 3
fi
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
  "@microsoft/signalr@$VERSION" >&2
