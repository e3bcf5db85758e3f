from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.helpers import ScarabEnv, destroy_env, make_env
from tests.tmux_oracle import tmux  # noqa: F401  (the shared tmux oracle fixture)

# `make test` replays a fixed set of examples so CI is repeatable; `make stress` explores new ones.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def scarab() -> Iterator[ScarabEnv]:
    env = make_env()
    try:
        yield env
    finally:
        destroy_env(env)


@pytest.fixture
def in_env(scarab: ScarabEnv, monkeypatch: pytest.MonkeyPatch) -> ScarabEnv:
    """The same isolated environment, applied to this test process too (for in-process clients)."""
    for key in (
        "XDG_RUNTIME_DIR",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "HOME",
        "SHELL",
        "SCARAB_SNAPSHOT_INTERVAL",
        "PS1",
    ):
        monkeypatch.setenv(key, scarab.env[key])
    assert os.environ["XDG_RUNTIME_DIR"].startswith(str(scarab.root))
    return scarab
