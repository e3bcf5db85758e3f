# Two set-up commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint stress bench clean

$(BIN)/scarab: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat  # a .pth, no import hook: faster start-up
	touch $@

run: $(BIN)/scarab
	@$(BIN)/python -m compileall -q scarab  # start-up from bytecode, as a regular install does
	$(BIN)/scarab

lint: $(BIN)/scarab
	$(BIN)/ruff check scarab tests benchmarks screenshots
	$(BIN)/ruff format --check scarab tests benchmarks screenshots
	$(BIN)/mypy

test: $(BIN)/scarab
	@# Real peers the tests drive: tmux (reference terminal), OpenSSH (remote sessions), zsh (its completion).
	@(command -v tmux && command -v ssh && test -x /usr/sbin/sshd && command -v zsh) >/dev/null || \
		$(SUDO) sh -c 'apt-get update -qq && apt-get install -y -qq tmux openssh-client openssh-server zsh' >/dev/null || \
		echo "warning: could not install tmux/openssh/zsh; the tests that need them will be skipped"
	$(MAKE) lint
	@# Most tests wait on processes, ptys and polls, not on a CPU: four at a time on two cores. Those
	@# asserting a latency bound run afterwards, alone.
	$(BIN)/pytest -q -n 4 -m "not stress and not timing" --durations=20 tests
	$(BIN)/pytest -q -m "timing and not stress" tests

bench: $(BIN)/scarab
	@# Start-up is measured as an installed scarab starts: from compiled bytecode (pip compiles on a
	@# regular install; an editable one under PYTHONDONTWRITEBYTECODE would compile every run).
	$(BIN)/python -m compileall -q scarab
	$(BIN)/python benchmarks/run.py

stress: $(BIN)/scarab
	$(BIN)/pytest -q -s -m stress tests
	HYPOTHESIS_PROFILE=explore $(BIN)/pytest -q tests/test_fuzz.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
