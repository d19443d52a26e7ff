# The README's two commands: `make demo` and `make test`. Both install into ./.venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
export AIRFLOW_HOME ?= $(CURDIR)/.airflow-home
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False

.PHONY: demo test lint typecheck docs unit install standalone bench dist clean

$(STAMP): pyproject.toml emulator/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	# --compile-bytecode: with PYTHONDONTWRITEBYTECODE set, every Airflow process would otherwise
	# compile its imports again (import airflow.sdk: 8.1 s instead of 2.4 s on the dev machine)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ./emulator -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

standalone: $(STAMP)
	bash scripts/standalone.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The documentation site (mkdocs.yml): --strict fails on any warning, a broken internal link or anchor
# and an unresolved cross-reference included. NO_MKDOCS_2_WARNING silences mkdocs-material's banner.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The suite on TEST_WORKERS pytest-xdist workers. Most end-to-end tests wait on Airflow processes more
# than they compute, so they overlap well; tests/conftest.py keeps each module (and every test on the
# shared `airflow standalone`) on one worker and hands the longest out first. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4
unit: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder $(PYTEST_ARGS)

test: lint typecheck docs unit

bench: $(STAMP)
	$(BIN)/python benchmarks/import_time.py
	$(BIN)/python benchmarks/emulator_throughput.py
	$(BIN)/python benchmarks/deferred_waits.py
	$(BIN)/python benchmarks/streaming_throughput.py
	# 1,000,000 events from a JSON-lines file (4.6 GB, written to a temporary directory and deleted)
	$(BIN)/python benchmarks/streaming_throughput.py --file-events 1000000 --file-only
	$(BIN)/python benchmarks/sensor_poke.py

# Both distributions, each an sdist and a wheel built from that sdist, into dist/ (what a release uploads).
# tests/packaging builds them the same way and proves them (metadata, contents, clean venvs).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/uv build --out-dir dist .
	$(BIN)/uv build --out-dir dist emulator
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf $(VENV) .airflow-home .demo test-artifacts .pytest_cache .mypy_cache .ruff_cache dist
