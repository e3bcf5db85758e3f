# Two set-up commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint stress bench clean

$(BIN)/scarab: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

run: $(BIN)/scarab
	$(BIN)/scarab

lint: $(BIN)/scarab
	$(BIN)/ruff check scarab tests benchmarks screenshots
	$(BIN)/ruff format --check scarab tests benchmarks screenshots
	$(BIN)/mypy

test: $(BIN)/scarab
	@command -v tmux >/dev/null || (apt-get install -y -q tmux >/dev/null 2>&1 || sudo apt-get install -y -q tmux >/dev/null 2>&1 || true)
	$(MAKE) lint
	$(BIN)/pytest -q -m "not stress" tests

stress: $(BIN)/scarab
	$(BIN)/pytest -q -m stress tests

bench: $(BIN)/scarab
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
