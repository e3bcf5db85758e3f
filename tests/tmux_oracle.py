"""Test helper: a private tmux 3.3a server driven through one control-mode client, the oracle that
the pure layers (layout, windows, targets) are compared with. Used by the *_vs_tmux test modules
through the module-scoped `tmux` fixture (registered in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


class Tmux:
    """A private tmux server and one control-mode client to drive it."""

    def __init__(self, root: Path) -> None:
        self.socket = str(root / "oracle.sock")
        env = {**os.environ, "SHELL": "/bin/sh", "HOME": str(root)}
        env.pop("TMUX", None)
        base = ["tmux", "-S", self.socket, "-f", "/dev/null"]
        subprocess.run([*base, "new-session", "-d", "-s", "oracle", "-x", "80", "-y", "24", "exec cat"],
                       env=env, check=True, timeout=20)  # fmt: skip
        self.pid = int(subprocess.run([*base, "display-message", "-p", "#{pid}"], env=env, check=True,
                                      capture_output=True, text=True, timeout=20).stdout)  # fmt: skip
        self.client = subprocess.Popen(
            [*base, "-C", "attach-session", "-t", "oracle"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        # Its attach (on its command line) is done when it says which session it is in. Commands sent
        # before that can run first: under load a rename of `oracle` did, the attach then failed and
        # the client exited.
        assert self.client.stdout is not None
        while not (line := self.client.stdout.readline()).startswith("%session-changed"):
            assert line, "tmux control client closed before it attached"
        self.run(["set -g default-command 'exec cat'", "set -g status off", "set -g remain-on-exit off"])

    def run(self, commands: list[str]) -> list[tuple[bool, str]]:
        """Send commands in one go; their (ok, output) in order."""
        assert self.client.stdin is not None and self.client.stdout is not None
        self.client.stdin.write("".join(command + "\n" for command in commands))
        self.client.stdin.flush()
        replies: list[tuple[bool, str]] = []
        lines: list[str] | None = None
        while len(replies) < len(commands):
            line = self.client.stdout.readline()
            assert line, "tmux control client closed"
            line = line.rstrip("\n")
            if line.startswith("%begin ") and line.endswith(" 1"):
                lines = []
            elif lines is not None and (line.startswith("%end ") or line.startswith("%error ")):
                replies.append((line.startswith("%end "), "\n".join(lines)))
                lines = None
            elif lines is not None:
                lines.append(line)
        return replies

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.client.kill()
        self.client.wait(timeout=10)


@pytest.fixture(scope="module")
def tmux() -> Iterator[Tmux]:
    root = Path(tempfile.mkdtemp(prefix="sclay", dir="/tmp"))
    server = Tmux(root)
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(root, ignore_errors=True)
