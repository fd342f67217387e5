# The README's quick start: `make run` and `make test`. Needs only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint typecheck pytest contracts install install-dev lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change. requirements.lock pins every package,
# direct and transitive, so a fresh machine installs what CI tested.
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
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

## Re-pin requirements.lock after changing the dependencies in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --all-extras --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file=requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
