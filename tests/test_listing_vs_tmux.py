"""list-panes and list-windows without -F print tmux 3.3a's lines (`-a` every session's, `-s` a
session's, plain a window's): the same sessions, windows and panes made in Scarab and in a private
tmux server, listed by both, compared line for line (history figures apart: they count each one's
own memory)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess

import pytest

from tests.helpers import ScarabEnv, wait_for

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.timeout(60),
]

HISTORY = re.compile(r"\[history (\d+)/(\d+), (\d+) bytes\]")


def test_default_listings_are_tmuxs(scarab: ScarabEnv) -> None:
    base = ["tmux", "-S", str(scarab.root / "list.sock"), "-f", "/dev/null"]
    env = {**scarab.env, "TMUX": "", "SHELL": "/bin/sh"}

    def tmux(*args: str) -> str:
        proc = subprocess.run([*base, *args], env=env, capture_output=True, text=True, timeout=10)
        assert proc.returncode == 0, f"tmux {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    tmux("new-session", "-d", "-s", "a", "-x", "80", "-y", "24", "sh")
    server = int(tmux("display-message", "-p", "#{pid}").strip())
    try:
        scarab.ok("new", "-d", "-s", "a", "-x", "80", "-y", "24", "--", "sh", "-c", "seq 1 60; exec sh")
        for argv in (["split-window", "-h", "-t", "a"], ["new-session", "-d", "-s", "b", "-x", "80", "-y", "24"],
                     ["new-window", "-t", "b:"], ["split-window", "-t", "b:1"], ["select-pane", "-t", "b:1.0"],
                     ["select-window", "-t", "b:0"]):  # fmt: skip
            if argv[0] == "new-session":
                scarab.ok("new", "-d", "-s", "b", "-x", "80", "-y", "24", "--", "sh")
                tmux(*argv, "sh")
            elif argv[0] in ("split-window", "new-window"):
                scarab.ok(*argv, "--", "sh")
                tmux(*argv, "sh")
            else:
                scarab.ok(*argv)
                tmux(*argv)
        wait_for(lambda: "60" in scarab.capture("a:0.0"), what="seq's output")
        for argv in (["list-panes", "-a"], ["list-panes", "-s", "-t", "b"], ["list-panes", "-t", "b:1"],
                     ["list-panes", "-t", "a"], ["list-windows", "-a"], ["list-windows", "-t", "b"]):  # fmt: skip
            ours, theirs = scarab.ok(*argv), tmux(*argv)
            assert HISTORY.sub("[history]", ours) == HISTORY.sub("[history]", theirs), (argv, ours, theirs)
        # The history figures are the pane's: seq's lines above a 24-row screen, of 10,000 kept at most.
        first = scarab.ok("list-panes", "-t", "a").splitlines()[0]
        match = HISTORY.search(first)
        assert match is not None, first
        size, limit, size_bytes = (int(v) for v in match.groups())
        assert size >= 60 - 24 and limit == 10_000 and size_bytes >= size, first
        assert HISTORY.search(scarab.ok("list-panes", "-t", "a").splitlines()[1]).groups()[0] == "0"  # type: ignore[union-attr]
    finally:
        os.kill(server, signal.SIGKILL)
