# A newcomer runs `make demo` and `make test`; both create .venv from pyproject.toml when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cdrflow demo --count 20000 --out demo-out

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

# Benchmarks are not tests: they write bench/results*.md with the machine and the command.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench.bench_batch --counts 2000000,20000000
	$(BIN)/python -m bench.bench_lifecycle --count 1000000 --backends sqlite,postgresql

clean:
	rm -rf $(VENV) demo-out .mypy_cache .ruff_cache .pytest_cache
