# Two commands for a newcomer:  `make run`  and  `make test`  (see README.md).
# Every target installs what it needs first; a second run re-installs nothing unless
# requirements.txt or tools/package.json changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS_BIN := $(CURDIR)/tools/node_modules/.bin
PORT ?= 3000

# Reflex must not try to download bun or probe hosts it cannot reach.
export PATH := $(TOOLS_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_CHECK_LATEST_VERSION := false
export NPM_CONFIG_REGISTRY ?= $(shell npm config get registry 2>/dev/null)
export PYTHONDONTWRITEBYTECODE := 1


.PHONY: help install install-dev python-deps dev-deps js-tools lint run run-scaled test test-unit test-browser chromium audit i18n i18n-check bench bench-load bench-tools screenshots clean

help:
	@echo "make run    - install everything, migrate, load demo data, start the app on http://localhost:$(PORT)"
	@echo "make test   - install everything (Chromium too) and run the whole test suite"
	@echo "make bench  - run every benchmark and write their figures to benchmarks/RESULTS.md"
	@echo "make audit  - prove every member's balance equals the sum of their ledger entries"
	@echo "make lint   - ruff (lint, format), mypy and the import contracts (make test runs them first)"

# Re-install only when the file's content changed (a hash stamp, not mtimes: a fresh clone
# or a checkout touches every file). requirements.txt: what the app runs on; requirements-dev.txt
# adds the test, benchmark and lint tools.
python-deps:
	@test -n "$(PYTHON_BOOT)" || { echo "Python 3.11+ is required"; exit 1; }
	@$(PYTHON_BOOT) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@want=$$(sha256sum requirements.txt | cut -c1-64); \
	if [ "$$(cat $(VENV)/.installed 2>/dev/null)" != "$$want" ]; then \
		test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV); \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt && echo "$$want" > $(VENV)/.installed; \
	fi

dev-deps: python-deps
	@want=$$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-64); \
	if [ "$$(cat $(VENV)/.installed-dev 2>/dev/null)" != "$$want" ]; then \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt && echo "$$want" > $(VENV)/.installed-dev; \
	fi

js-tools:
	@command -v npm >/dev/null || { echo "npm (Node.js 20+) is required to install bun"; exit 1; }
	@want=$$(sha256sum tools/package.json | cut -c1-64); \
	if [ "$$(cat tools/node_modules/.installed 2>/dev/null)" != "$$want" ] || [ ! -x tools/node_modules/.bin/bun ]; then \
		(cd tools && npm install --no-audit --no-fund --loglevel=error) && echo "$$want" > tools/node_modules/.installed; \
	fi

install: python-deps js-tools

install-dev: dev-deps js-tools

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	fi

run: install
	$(PY) -m loyalty_app.cli setup --demo
	$(PY) -m loyalty_app.cli banner --port $(PORT)
	APP_ORIGIN=$${APP_ORIGIN:-http://localhost:$(PORT)} PORT=$(PORT) \
		$(PY) -m loyalty_app.cli serve run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

# Scale-out on this machine kind: PostgreSQL + Redis + several backend workers (see README).
SCALED_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/loyalty
SCALED_REDIS_URL ?= redis://127.0.0.1:6379/0
WORKERS ?= 2
run-scaled: install
	DATABASE_URL=$(SCALED_DATABASE_URL) $(PY) -m loyalty_app.cli setup --demo
	$(PY) -m loyalty_app.cli banner --port $(PORT)
	DATABASE_URL=$(SCALED_DATABASE_URL) REFLEX_REDIS_URL=$(SCALED_REDIS_URL) GRANIAN_WORKERS=$(WORKERS) \
		APP_ORIGIN=$${APP_ORIGIN:-http://localhost:$(PORT)} PORT=$(PORT) \
		$(PY) -m loyalty_app.cli serve run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

test: install-dev chromium lint
	$(PY) -m loyalty_app.cli test

# The code's own checks, before any test: lint and format (ruff), types (mypy), layers (import-linter).
LINT_PATHS := loyalty_app tests benchmarks scripts alembic rxconfig.py
lint: dev-deps
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test-unit: install-dev
	$(PY) -m pytest -m "not browser and not faults" -q -n $${TEST_WORKERS:-auto}

test-browser: install-dev chromium
	$(PY) -m pytest -m browser -q -p no:cacheprovider

audit: install
	$(PY) -m loyalty_app.cli audit

i18n: install
	$(PY) scripts/i18n.py extract

i18n-check: install
	$(PY) scripts/i18n.py check

screenshots: install-dev chromium
	$(PY) scripts/screenshots.py

bench-tools:
	@want=$$(sha256sum tools/bench/package.json | cut -c1-64); \
	if [ "$$(cat tools/bench/node_modules/.installed 2>/dev/null)" != "$$want" ]; then \
		(cd tools/bench && npm install --no-audit --no-fund --loglevel=error) && echo "$$want" > tools/bench/node_modules/.installed; \
	fi

bench: install-dev chromium bench-tools
	$(PY) -m benchmarks.run_all

# Load on the backend only (1 worker, then 2), on fresh databases of this PostgreSQL server.
LOAD_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
bench-load: install-dev
	$(PY) -m benchmarks.load --database-url $(LOAD_DATABASE_URL)

clean:
	rm -rf .web .web-test .states test-artifacts
