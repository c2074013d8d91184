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

.PHONY: help install assets run serve migrate seed test test-browser test-fast lint typecheck contracts fmt messages static clean fuzz audit bench train-screen

help:
	@echo "make run     install, migrate, seed the demo and serve http://$(HOST):$(PORT)"
	@echo "make test    install and run the whole suite (lint, contracts, migrations, pytest)"
	@echo "make lint    ruff and mypy"
	@echo "make fuzz    schemathesis against /api/schema/ with a large budget"
	@echo "make audit   known vulnerabilities in the locked dependencies (pip-audit)"
	@echo "make bench   benchmarks (bench/)"
	@echo "make train-screen  regenerate the screen's corpus and retrain its classifier"
	@echo "make assets  bundle the front-end code (npm + esbuild) into static/build/"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

# Front-end: libraries from npm (package-lock.json), bundled by esbuild into static/build.
ASSET_SOURCES := $(shell find static/src -type f 2>/dev/null)
static/build/.built: package.json package-lock.json $(ASSET_SOURCES)
	npm ci --no-audit --no-fund --loglevel=error
	npm run build --silent
	@touch $@

assets: static/build/.built

install: $(VENV)/.installed static/build/.built

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
	$(VENV)/bin/pytest -m "not browser"
	$(VENV)/bin/pytest -m browser -n 0

# Browser tests alone (Playwright driving Debian's Chromium at /usr/bin/chromium).
test-browser: install
	$(VENV)/bin/pytest -m browser -n 0

# The API fuzz test also runs in `make test`, with a small budget (5 cases per operation and
# phase, seed 1). Here: more cases, a random seed, and fuzzing and stateful testing repeated
# until FUZZ_MAX_TIME seconds are spent (docs/security.md, "Fuzzing").
FUZZ_EXAMPLES ?= 100
FUZZ_MAX_TIME ?= 600
fuzz: install
	SPARK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) SPARK_FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) SPARK_FUZZ_RANDOM=1 \
		$(VENV)/bin/pytest tests/fuzz -n 0

# pip-audit over the exact locked set (uv.lock). --strict fails when a package could not be
# checked, so an unreachable vulnerability service never passes as "nothing found".
AUDIT_SERVICE ?= pypi
audit: install
	@mkdir -p var
	$(UV) export --frozen --format requirements-txt --no-emit-project > var/requirements-audit.txt
	$(VENV)/bin/pip-audit --strict --disable-pip --progress-spinner off \
		--vulnerability-service $(AUDIT_SERVICE) -r var/requirements-audit.txt

bench: install
	DJANGO_SETTINGS_MODULE=spark.settings.test $(PY) -m bench.security_filter

# The local screen's corpus (watchdog/screen_corpus, written by tools/screen_corpus) and its
# classifier (watchdog/screen_model.json.gz, trained by tools/train_screen.py): seeded, so the
# same environment gives the same files; both are committed.
train-screen: install
	$(PY) -m tools.screen_corpus
	$(PY) -m tools.train_screen

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
	$(PY) manage.py makemessages -l es --no-obsolete --ignore=.venv --ignore=.tools --ignore=node_modules --ignore=tests --ignore=var --ignore=bench
	$(PY) manage.py makemessages -d djangojs -l es --no-obsolete --ignore=.venv --ignore=.tools --ignore=node_modules --ignore=var --ignore=static/build
	$(PY) tools/translations.py
	$(PY) manage.py compilemessages --ignore=.venv --ignore=.tools

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache node_modules static/build
