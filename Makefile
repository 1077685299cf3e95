# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv if missing and
# installs the project into it (again whenever pyproject.toml changes), then runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

WEB := web
WEB_BUILT := $(WEB)/static/.built
CHROMIUM := /usr/bin/chromium
PACKAGES := models tasks flows notifications deployments safeguard web policy

.PHONY: run test test-fast lint bench install web clean

## The set-up steps (the venv, the web assets, Chromium) run side by side; each recipe's own lines in order.
MAKEFLAGS += --jobs=3

## Installed with uv (from PyPI, into the venv): the same versions pip resolves, in half the time.
## Bytecode compiled at install (pip's default, not uv's): every flow run and CLI call the tests
## start is a new process, and where PYTHONDONTWRITEBYTECODE is set each would compile Prefect again.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

## The browser app's assets: GOV.UK Frontend (npm), its styles built with Arial (sass), axe-core.
$(WEB_BUILT): $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/styles/app.scss
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(WEB)/static/assets
	cd $(WEB) && npx sass --pkg-importer=node --style=compressed --no-source-map styles/app.scss static/app.css
	cp $(WEB)/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(WEB)/static/
	rm -rf $(WEB)/static/assets/images
	cp -r $(WEB)/node_modules/govuk-frontend/dist/govuk/assets/images $(WEB)/static/assets/images
	touch $@

web: $(WEB_BUILT)

## The browser tests drive Debian's Chromium (Playwright's own download is not used).
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium at $(CHROMIUM) for the browser tests"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

## Start the service: migrate, local Prefect server + UI, the web app, every deployment. Ctrl-C stops it all.
run: $(STAMP) $(WEB_BUILT)
	$(BIN)/safeguard serve

## Run the tests (set SAFEGUARD_TEST_DATABASE_URL to run the database tests on PostgreSQL too), one
## worker per core (pytest-xdist; TEST_WORKERS=1 runs them in one process).
TEST_WORKERS ?= auto
## Bytecode written first: every flow run the tests start is a new process, and where
## PYTHONDONTWRITEBYTECODE is set each would compile the project's modules again.
test: $(STAMP) $(WEB_BUILT) $(CHROMIUM)
	$(BIN)/python -m compileall -q -j 0 $(PACKAGES) tests
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

## The edit loop: unit and integration tests on SQLite only (seconds, not minutes).
test-fast: $(STAMP)
	env -u SAFEGUARD_TEST_DATABASE_URL $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal -k 'not postgresql' tests/unit tests/integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP) $(WEB_BUILT)
	$(BIN)/python bench/calendar_due.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/record_to_next_step.py --cases 20 --suspended 200
	$(BIN)/python bench/web_pages.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules $(WEB)/static test-output
