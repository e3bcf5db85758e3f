"""Player layer: `scarab play FILE` plays an asciicast v2 recording in this terminal.

Output events are written at their times (divided by `--speed`; pauses longer than `--idle-limit`,
or the file's own idle_time_limit, are cut to it). On a terminal, keys steer it as asciinema's
player does: Space pauses and resumes, `.` shows the next event while paused, `q` (or ctrl+c)
quits. The file is read line by line, so an hours-long recording starts at once; a line that is
not an event is reported with its number.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import sys
import termios
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scarab.errors import BadRequest

__all__ = ["Cast", "play"]

PAUSE, STEP, QUIT = b" ", b".", (b"q", b"\x03")


@dataclass(frozen=True, slots=True)
class Event:
    time: float
    kind: str  # o, r, m, i
    data: str


class Cast:
    """An open asciicast v2 file: its header, then its events one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.file: IO[str] = path.open(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise BadRequest(f"cannot open {path}: {exc.strerror}") from None
        first = self.file.readline()
        try:
            header = json.loads(first)
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("version") != 2:
            self.file.close()
            raise BadRequest(f"{path} is not an asciicast v2 recording (its first line is no v2 header)")
        self.header: dict[str, Any] = header

    def events(self) -> Iterator[Event]:
        with self.file:
            for number, line in enumerate(self.file, start=2):
                if not line.strip():
                    continue
                try:
                    when, kind, data = json.loads(line)
                    yield Event(float(when), str(kind), str(data))
                except (json.JSONDecodeError, ValueError, TypeError):
                    raise BadRequest(f"{self.path} line {number}: not an asciicast event") from None


def play(path: Path, speed: float = 1.0, idle_limit: float | None = None, out: IO[bytes] | None = None) -> int:
    """Play `path` to `out` (stdout); keys are read from the terminal when stdin is one."""
    if speed <= 0:
        raise BadRequest(f"--speed must be above 0, not {speed}")
    cast = Cast(path)
    limit = idle_limit if idle_limit is not None else cast.header.get("idle_time_limit")
    sink = out or sys.stdout.buffer
    keys = sys.stdin.fileno() if sys.stdin.isatty() else None
    saved = termios.tcgetattr(keys) if keys is not None else None
    try:
        if keys is not None:
            tty.setcbreak(keys)  # keys one at a time, unechoed; output processing left as it is
        _run(cast, speed, limit if isinstance(limit, int | float) and limit > 0 else None, sink, keys)
    except BrokenPipeError:
        pass
    finally:
        if keys is not None and saved is not None:
            termios.tcsetattr(keys, termios.TCSADRAIN, saved)
    return 0


def _run(cast: Cast, speed: float, idle_limit: float | None, sink: IO[bytes], keys: int | None) -> None:
    clock = 0.0  # the next event's time in the recording, idle gaps cut
    shown = 0.0  # the last shown event's
    last = 0.0  # the last event's own time in the file
    origin = time.monotonic()  # when recording time 0 was, moved on by pauses
    paused = False
    for event in cast.events():
        gap = max(0.0, event.time - last)
        last = event.time
        clock += min(gap, idle_limit) if idle_limit is not None else gap
        if event.kind != "o":
            continue  # resizes, markers and input show nothing: a step goes to the next output
        while True:
            if paused:
                key = _key(keys, None)
            else:
                wait = origin + clock / speed - time.monotonic()
                if wait <= 0:
                    break
                key = _key(keys, wait)
            if key in QUIT:
                return
            if key == PAUSE:
                paused = not paused
                if not paused:
                    origin = time.monotonic() - shown / speed  # resume from the shown event, not the past
            elif key == STEP and paused:
                break
        shown = clock
        sink.write(event.data.encode("utf-8", "replace"))
        sink.flush()


def _key(fd: int | None, timeout: float | None) -> bytes | None:
    """One key within `timeout` seconds (None: wait for one), or None."""
    if fd is None:
        if timeout is not None:
            time.sleep(timeout)
        return None
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return None
    with contextlib.suppress(OSError):
        return os.read(fd, 1)
    return None
