# Spark: `make run` serves the platform on the embedded defaults; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_COMPILE_BYTECODE := 1
export LITELLM_LOCAL_MODEL_COST_MAP := True
export LITELLM_OFFLINE_MODE := true
export HF_HUB_OFFLINE := 1

.PHONY: help install run serve migrate seed test test-fast lint typecheck contracts fmt messages static assets clean

help:
	@echo "make run     install, migrate, seed the demo and serve http://$(HOST):$(PORT)"
	@echo "make test    install and run the whole suite (lint, contracts, migrations, pytest)"
	@echo "make lint    ruff and mypy"
	@echo "make assets  bundle the front-end code (npm + esbuild) into static/build/"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: seed
	@echo "Spark is starting on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

serve: install
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) spark.asgi:application

contracts: install
	$(VENV)/bin/lint-imports

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=spark.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

test-fast: install
	$(VENV)/bin/pytest -x -q

typecheck: install
	$(VENV)/bin/mypy .

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: install
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=.tools --ignore=node_modules
	$(PY) manage.py compilemessages --ignore=.venv --ignore=.tools

# Front-end bundles (charts of the billing dashboards). Pages work without them: every
# chart has a table fallback.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

assets: node_modules/.installed
	npm run build

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
