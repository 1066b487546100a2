# A newcomer runs `make demo` and `make test`; both create .venv from pyproject.toml when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cdrflow demo --count 20000 --out demo-out

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP) chromium
	$(BIN)/pytest -q

# The browser tests run in Debian's Chromium through Playwright (never `playwright install`).
chromium:
	@test -x /usr/bin/chromium || $(SUDO) apt-get install -y -q chromium || \
		($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium)

test: lint typecheck unit

# Benchmarks are not tests: they write bench/results*.md with the machine and the command.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python -m bench.bench_batch --counts 2000000,20000000
	$(BIN)/python -m bench.bench_lifecycle --count 1000000 --backends sqlite,postgresql

clean:
	rm -rf $(VENV) demo-out .mypy_cache .ruff_cache .pytest_cache
