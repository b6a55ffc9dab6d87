#!/usr/bin/env bash
# The whole test run: lint, types, then pytest with the real services it needs on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
$BIN/ruff check .
$BIN/ruff format --check .
$BIN/mypy .
$BIN/python -m pytest "$@"
