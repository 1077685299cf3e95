# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv if missing and
# installs the project into it (again whenever pyproject.toml changes), then runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the service: migrate, local Prefect server + UI, serve every deployment. Ctrl-C stops it all.
run: $(STAMP)
	$(BIN)/safeguard serve

## Run the tests (set SAFEGUARD_TEST_DATABASE_URL to run the database tests on PostgreSQL too).
test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/calendar_due.py
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/record_to_next_step.py --cases 20 --suspended 200

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
