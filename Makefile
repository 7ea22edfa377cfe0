# flywheel-sim: `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

## run: set up and run the flagship model with its embedded defaults
run: $(STAMP)
	$(BIN)/flywheel run

## test: set up, lint (ruff), type-check (mypy) and run the whole test suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

# one worker per core (at most 4), whole test files to a worker so module fixtures are built once
unit: $(STAMP)
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

## bench: install the peer tools (PySD, pysimlin) and write benchmarks/results/*.json
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/loops.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/calibrate.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
	# numba's disk cache: it sees edits to a kernel's own file, not to the modules it calls
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete
