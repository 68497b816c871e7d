# Greenline: `make run` starts the embedded default; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GREENLINE_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export GREENLINE_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run demo install test test-sqlite test-postgres test-gateway lint bench clean
.PHONY: web web-client web-client-check chromium test-web

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The dashboard (web/): npm ci when the lock file changes, vite build when a source is newer than the build.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
WEB_DEPS := web/node_modules/.ci-stamp
WEB_BUILD := web/dist/index.html
WEB_SOURCES := web/index.html web/package.json web/vite.config.ts web/tsconfig.json $(shell find web/src -type f 2>/dev/null)

$(WEB_DEPS): web/package-lock.json
	npm --prefix web ci --no-audit --no-fund
	touch $(WEB_DEPS)

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	npm --prefix web run build

web: $(WEB_BUILD)

# Regenerate the API client (web/src/client) after an API change; web-client-check fails when it is stale.
web-client: install $(WEB_DEPS)
	$(BIN)/python scripts/export_openapi.py web/openapi.json
	cd web && npx openapi-ts

web-client-check: install $(WEB_DEPS)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BIN)/python scripts/export_openapi.py "$$tmp/openapi.json" && \
	(cd web && OPENAPI_TS_INPUT="$$tmp/openapi.json" OPENAPI_TS_OUTPUT="$$tmp/client" npx openapi-ts >/dev/null) && \
	if diff -u web/openapi.json "$$tmp/openapi.json" >/dev/null && diff -r web/src/client "$$tmp/client" >/dev/null; \
	then echo "generated API client is up to date"; \
	else echo "web/src/client is stale: run 'make web-client' and commit the result" >&2; exit 1; fi

# The e2e suite drives Debian's chromium (Playwright's own browser download does not work here).
chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

test-web: install $(WEB_DEPS) chromium
	npm --prefix web run typecheck
	npm --prefix web test
	$(MAKE) --no-print-directory web-client-check
	npm --prefix web run build
	npm --prefix web run e2e

run: install web
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

test: lint test-sqlite test-postgres test-gateway test-web

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist test-artifacts
