"""The host config travels as a dict (zygote) and as a command line (fresh interpreter) unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from scarab.daemon.hostconfig import HOST_TOKEN_ENV, HostConfig

pytestmark = pytest.mark.timeout(10)

FULL = HostConfig(
    session_id="id", name="-dash name", socket=Path("/run/x/h.sock"), log=Path("/tmp/h.log"), cols=80, rows=24,
    cwd="-odd dir", command=("sh", "-c", "echo --; exit"), scrollback=10, token="secret",
    restore=Path("/r"), environ=("A=1", "-B", "C=x=y"), pane_id=4, window_id=5, spec=Path("/s"),
    limits=(2 * 2**30, -1, 0), record=True,
)  # fmt: skip
BARE = HostConfig(
    session_id="id", name="n", socket=Path("/s"), log=Path("/l"), cols=1, rows=1, cwd="/", command=("--",),
    scrollback=0,
)  # fmt: skip


@pytest.mark.parametrize("config", [FULL, BARE])
def test_dict_round_trip(config: HostConfig) -> None:
    assert HostConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("config", [FULL, BARE])
def test_command_line_round_trip_keeps_the_token_off_it(config: HostConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = config.to_argv()
    assert not any(config.token and config.token in arg for arg in argv)
    monkeypatch.setenv(HOST_TOKEN_ENV, config.token)
    assert HostConfig.from_argv(argv) == config
    assert HOST_TOKEN_ENV not in __import__("os").environ  # taken away: the programs never see it


def test_a_bad_dict_is_refused() -> None:
    with pytest.raises(TypeError):
        HostConfig.from_dict({**BARE.to_dict(), "bogus": 1})
    data = BARE.to_dict()
    del data["cols"]
    with pytest.raises(TypeError):
        HostConfig.from_dict(data)
