"""A real terminal for tests: a private tmux server (`-S`, no config), typed into with send-keys."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ScarabEnv, wait_for

__all__ = ["DUMPER", "Dump", "Tmux", "tmux"]

# A program that reports every read it gets, raw: one line per read, its time (CLOCK_MONOTONIC) and hex.
DUMPER = """\
import os, sys, time, tty
tty.setraw(0)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
os.write(fd, b"ready\\n")
while data := os.read(0, 4096):
    os.write(fd, f"{time.monotonic()!r} {data.hex()}\\n".encode())
"""


class Tmux:
    def __init__(self, env: ScarabEnv) -> None:
        self.env = env
        self.socket = str(env.root / "tmux.sock")

    def __call__(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", *args],
            env=self.env.env, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        if proc.returncode:
            raise AssertionError(f"tmux {' '.join(args)[:200]} failed: {proc.stderr.strip()}")
        return proc.stdout

    def screen(self, target: str = "") -> str:
        return self("capture-pane", "-p", *(["-t", target] if target else []))

    def type(self, *keys: str) -> None:
        self("send-keys", *keys)


class Dump:
    """What a DUMPER run wrote: the bytes it read, and each read apart."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def timed(self) -> list[tuple[float, bytes]]:
        """Each read: when it happened (time.monotonic) and what it got."""
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()[1:]
        return [(float(line.split()[0]), bytes.fromhex(line.split()[1])) for line in lines if len(line.split()) == 2]

    def reads(self) -> list[bytes]:
        return [data for _, data in self.timed()]

    def data(self) -> bytes:
        return b"".join(self.reads())

    def ready(self) -> bool:
        return self.path.exists() and self.path.read_text().startswith("ready")

    @staticmethod
    def command(env: ScarabEnv, name: str) -> tuple[list[str], Dump]:
        script = env.root / "dumper.py"
        script.write_text(DUMPER)
        out = env.root / f"{name}.dump"
        return [sys.executable, str(script), str(out)], Dump(out)


@pytest.fixture
def tmux(scarab: ScarabEnv) -> Iterator[Tmux]:
    t = Tmux(scarab)
    t("new-session", "-d", "-x", "100", "-y", "30", "sh")
    server_pid = int(t("display-message", "-p", "#{pid}").strip())
    try:
        yield t
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server_pid, signal.SIGKILL)


def wait_ready(dump: Dump) -> None:
    wait_for(dump.ready, what=f"{dump.path.name} to start")
