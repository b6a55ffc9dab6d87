# Two commands a newcomer needs: `make run` and `make test`.
# Each creates .venv and installs what it needs on first use.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: build run test simulate lint typecheck unit bench bench-mixed clean reset-data web screenshot

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): requirements.txt requirements-gateway.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

# The engine and the domain events/commands are compiled with mypyc (see setup.py).
COMPILED_SRC := shared/domain/reasons.py shared/domain/events.py shared/domain/commands.py \
	shared/domain/codes.py shared/domain/order_rules.py shared/domain/group_rules.py \
	$(wildcard matcher/engine/*.py)
BUILT := .venv/.built

$(BUILT): $(STAMP) setup.py $(COMPILED_SRC)
	$(BIN)/python setup.py -q build_ext --inplace > .venv/build.log 2>&1 || (cat .venv/build.log; exit 1)
	touch $(BUILT)

build: $(BUILT)

# The web page (web/src -> web/dist): npm packages pinned in web/package-lock.json, then
# esbuild (a fraction of a second). `make run` goes on without it when npm is missing.
web:
	bash scripts/build_web.sh --required

run: $(BUILT)
	@bash scripts/build_web.sh
	$(BIN)/python -m localrun $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

unit: $(BUILT)
	$(BIN)/python -m pytest

test: $(BUILT)
	bash scripts/test.sh

# Retake docs/page.png (the README's screenshot) with the browser tests.
screenshot: $(BUILT)
	OMS_SCREENSHOT=docs/page.png $(BIN)/python -m pytest tests/web/test_responsiveness.py -q -s
# The standard workload ships with the repository, with its expected results beside it.
BENCH_WORKLOAD := matcher/bench_data/book-1m-seed42.csv.gz

bench: $(BUILT)
	$(BIN)/python -m matcher.bench $(BENCH_WORKLOAD)

# The same size of workload with a quarter of the orders icebergs, trailing stops or
# brackets, generated from its seed (the generator plays it through the engine: ~20 s).
MIXED := build/bench/mixed-1m-seed42.csv.gz
$(MIXED): matcher/bench_workload.py matcher/bench.py $(BUILT)
	$(BIN)/python -m matcher.bench_workload --seed 42 --ops 1000000 --out $(MIXED)

bench-mixed: $(BUILT) $(MIXED)
	$(BIN)/python -m matcher.bench $(MIXED)

# The fault-injection simulation over many seeds (make test runs 20 of them).
simulate: $(BUILT)
	$(BIN)/python -m tools.simulate --seeds 100 --orders 2000

# Everything the targets above make: the virtualenv, the compiled engine, the test tools
# (.tools: azurite and the Node SignalR client) and the caches. Not .oms-data: it holds the
# local run's orders and keys (user data); `make reset-data` removes it.
clean:
	rm -rf build web/dist $(VENV) .tools *.so shared/domain/*.so matcher/engine/*.so \
		.mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Start the local run from empty data: every order, account and key of `make run` goes
# (new demo keys are made on the next start). OMS_DATA_DIR, when set, names the folder.
reset-data:
	rm -rf "$${OMS_DATA_DIR:-.oms-data}"
