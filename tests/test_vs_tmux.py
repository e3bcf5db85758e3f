"""Comparison with tmux: recorded output of real programs, fed to Scarab's emulator and to a tmux pane,
must show the same visible text cell by cell. Fixtures come from tests/fixtures/record.py."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from scarab.daemon.emulator import Emulator
from tests.helpers import ScarabEnv

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.bin"))

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def tmux_screen(env: ScarabEnv, fixture: Path, cols: int = 80, rows: int = 24) -> list[str]:
    socket = str(env.root / "cmp.sock")

    def tmux(*args: str, timeout: float = 20) -> str:
        return subprocess.run(
            ["tmux", "-S", socket, "-f", "/dev/null", *args],
            env=env.env, capture_output=True, text=True, timeout=timeout, check=True,
        ).stdout  # fmt: skip

    # raw: no output processing, so the recorded bytes reach tmux's parser unchanged.
    command = f"stty raw -echo; cat {fixture}; tmux -S {socket} wait-for -S fed; sleep 600"
    tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), command)
    server = int(tmux("display-message", "-p", "#{pid}").strip())
    try:
        assert tmux("display-message", "-p", "#{pane_width}x#{pane_height}").strip() == f"{cols}x{rows}"
        tmux("wait-for", "fed")
        return tmux("capture-pane", "-p").split("\n")[:rows]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server, signal.SIGKILL)


@pytest.mark.parametrize("name", NAMES)
def test_same_visible_text_as_tmux(scarab: ScarabEnv, name: str) -> None:
    fixture = FIXTURES / f"{name}.bin"
    emu = Emulator(80, 24, strict=True)
    emu.feed(fixture.read_bytes())
    ours = [emu.row(y).text.rstrip() for y in range(24)]
    theirs = [line.rstrip() for line in tmux_screen(scarab, fixture)]
    theirs += [""] * (24 - len(theirs))
    diff = [f"row {y}:\n  scarab {ours[y]!r}\n  tmux   {theirs[y]!r}" for y in range(24) if ours[y] != theirs[y]]
    assert not diff, f"{name}: {len(diff)} rows differ\n" + "\n".join(diff)
