# Two commands for a new user: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
UV_VERSION := 0.13.8

.PHONY: install demo test check lint format dagster clean bench

install: $(STAMP)

# Exact versions from requirements.lock (regenerate with `make lock`); the package itself editable.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

demo: install
	$(BIN)/northstar demo

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check northstar orchestration tests
	$(BIN)/ruff format --check northstar orchestration tests
	$(BIN)/sqlfluff lint models macros

format: install
	$(BIN)/ruff format northstar orchestration tests
	$(BIN)/ruff check --fix northstar orchestration tests

check: lint test

# The instance config (pool limit of one for the DuckDB writer) lives in orchestration/dagster.yaml.
DAGSTER_HOME ?= $(CURDIR)/warehouse/dagster_home
dagster: install
	@mkdir -p $(DAGSTER_HOME) && cp orchestration/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

bench: install
	$(BIN)/northstar bench

clean:
	rm -rf warehouse target logs
