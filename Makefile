# CI runs .ci/run: the quick start on a clean clone first, then its peers and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
# Exactly what CI tested: every package pinned with its hashes (make lock writes them).
LOCK      := requirements.lock
TEST_LOCK := requirements-test.lock
COMPILE   := $(BIN)/uv pip compile pyproject.toml --generate-hashes --universal \
             --python-version 3.11 --quiet

.PHONY: install install-test serve test lint typecheck unit unit-fast schema lock upgrade clean \
        console console-typecheck

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("askbase needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(TEST_LOCK) $(VENV)/.installed
	$(PIP) install --require-hashes --no-deps -r $(TEST_LOCK)
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

serve: install
	$(BIN)/askbase serve

# Re-resolve the lock files after a change to pyproject.toml; pins that still fit stay.
lock: $(VENV)/.installed-test
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra test -o $(TEST_LOCK)

# Move every pin to the newest release that pyproject.toml allows (or one package:
# make upgrade PACKAGE=openai), then run `make install-test test` before committing.
upgrade: $(VENV)/.installed-test
	$(COMPILE) $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade) -o $(LOCK)
	$(COMPILE) --extra test $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade) -o $(TEST_LOCK)

lint: $(VENV)/.installed-test console-typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/deptry .
	$(BIN)/lint-imports

# The console (console/): its npm packages exactly as locked, its types generated from
# schema.graphql, tsc --strict, and the esbuild bundle in console/dist (committed, so that
# serving it needs no node; tests/web/test_console.py fails when dist/ or src/gql drift).
console/node_modules/.package-lock.json: console/package-lock.json
	npm ci --prefix console --no-audit --no-fund

console: console/node_modules/.package-lock.json
	cd console && npm run --silent codegen && npm run --silent typecheck && npm run --silent build

console-typecheck: console/node_modules/.package-lock.json
	cd console && npm run --silent typecheck

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# The fast unit tier alone: pure functions, no servers (seconds).
unit-fast: $(VENV)/.installed-test
	$(BIN)/pytest -q tests/unit

unit: $(VENV)/.installed-test
	$(BIN)/pytest

test: lint typecheck unit

schema: install
	$(BIN)/askbase export-schema --output schema.graphql

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
