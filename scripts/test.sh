#!/usr/bin/env bash
# The whole test run (`make test`): installs the services the tests need, then lint, types
# and pytest. Tests start and stop their own services (redis-server, azurite, uvicorn) on
# loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
bash scripts/install_services.sh
echo "== web page build"
bash scripts/build_web.sh --required
echo "== ruff"
$BIN/ruff check .
$BIN/ruff format --check .
echo "== mypy"
$BIN/mypy .
echo "== fault-injection simulation (20 seeds)"
# Every seed must report 0 lost, 0 duplicates, conservation and the clean-run state hash.
$BIN/python -m tools.simulate --seeds 20 --orders 1000
echo "== pytest"
$BIN/python -m pytest "$@"
