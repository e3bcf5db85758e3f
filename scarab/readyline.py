"""Ready-line layer: how a process started in the background says it is up, or why it is not.

One line on a pipe: `ready PID...` (the daemon: its pid; a host: its pid and its first program's),
`running PID` (a daemon that found another one already serving), or `error TEXT`. The daemon's
fork (cli), the zygote's host forks and a fresh host interpreter write it with `report`; their
starters read it with `read_line` and take it apart with `parse`.
"""

from __future__ import annotations

import contextlib
import os
import select

__all__ = ["HOST_READY_TIMEOUT", "Reporter", "parse", "read_line", "report"]


# How long a new host has to print its ready line (the zygote and a daemon starting it the slow way).
HOST_READY_TIMEOUT = 15.0


def report(fd: int, line: str) -> None:
    """Write the one line and close the pipe (the starter stops waiting at once)."""
    with contextlib.suppress(OSError):
        os.write(fd, (line.strip() + "\n").encode(errors="replace"))
    with contextlib.suppress(OSError):
        os.close(fd)


class Reporter:
    """Says the one line once: later calls do nothing (the pipe's fd number may belong to another
    file by then, a pane's PTY say, which must never receive a stray `error` line)."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    @property
    def pending(self) -> bool:
        return self.fd is not None

    def __call__(self, line: str) -> None:
        if self.fd is not None:
            report(self.fd, line)
            self.fd = None


def read_line(fd: int, timeout: float | None) -> str:
    """The line (without its newline) once written, or "" if the writer closed the pipe or went
    quiet for `timeout` seconds without one. Closes `fd`. A few system calls, no buffering: the
    zygote calls this right after a fork, while its memory is still shared with the new host."""
    line = b""
    try:
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], timeout)
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                break
            line += chunk
    finally:
        os.close(fd)
    return line.decode(errors="replace").strip()


def parse(line: str, pids: int, words: tuple[str, ...] = ("ready",)) -> tuple[int, ...]:
    """The `pids` numbers after one of `words`; ValueError with the reason otherwise (the text of an
    `error` line, or "" when the line says nothing usable)."""
    parts = line.split()
    if len(parts) == pids + 1 and parts[0] in words and all(part.isdigit() for part in parts[1:]):
        return tuple(int(part) for part in parts[1:])
    raise ValueError(line.split(maxsplit=1)[1].strip() if parts[:1] == ["error"] and len(parts) > 1 else "")
