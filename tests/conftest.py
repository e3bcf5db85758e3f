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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests driving the tmux oracle run one after another on one xdist worker (`--dist loadgroup`):
    with two oracles' control clients at once, one of them now and then saw its session vanish and
    exited (tmux 3.3a; each on its own server and socket)."""
    for item in items:
        fixturedefs = getattr(item, "_fixtureinfo", None)
        defs = fixturedefs.name2fixturedefs.get("tmux", ()) if fixturedefs is not None else ()
        if defs and defs[-1].func.__module__ == "tests.tmux_oracle":  # the one in force, not one it overrides
            item.add_marker(pytest.mark.xdist_group("tmux-oracle"))
