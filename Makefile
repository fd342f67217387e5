# The README's quick start: `make run` and `make test`. Needs only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint typecheck pytest contracts install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Migrate and seed the SQLite file (or DATABASE_URL), then serve on HOST:PORT.
run: install
	$(BIN)/settle migrate
	$(BIN)/settle seed
	$(BIN)/settle serve

## Lint, type-check and run the whole suite (PostgreSQL too when TEST_POSTGRES_URL is set).
test: install-dev lint typecheck pytest

lint:
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

## Regenerate openapi/openapi.json and openapi/schema.graphql after changing the API.
contracts: install
	$(BIN)/settle openapi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
