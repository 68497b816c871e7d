# Greenline: `make run` starts the embedded default; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GREENLINE_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export GREENLINE_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run demo install test test-sqlite test-postgres test-gateway lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/greenline demo

demo: run

lint: install
	$(BIN)/ruff check src tests migrations bench scripts
	$(BIN)/ruff format --check src tests migrations bench scripts
	$(BIN)/mypy

test-sqlite: install
	GREENLINE_TEST_BACKEND=sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres: install
	GREENLINE_TEST_BACKEND=postgres $(BIN)/pytest -q -p no:cacheprovider

test-gateway:
	npm --prefix gateway ci --no-audit --no-fund && npm --prefix gateway run typecheck && npm --prefix gateway test

test: lint test-sqlite test-postgres test-gateway

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
