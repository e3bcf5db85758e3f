"""Recording layer: one pane's output written as an asciicast v2 file, by the session host.

The host hands a `Recording` every batch of bytes it reads from a pane's PTY, each resize, and
(when asked to) the user's input; the recording turns them into asciicast v2 events
(newline-delimited JSON: a header, then `[seconds, "o", text]`, `[seconds, "r", "COLSxROWS"]`,
`[seconds, "m", label]` at each shell prompt the shell marks with OSC 133;A, `[seconds, "i", text]`)
that asciinema and its web player play. Because the host writes the file, a recording goes on
while the daemon restarts.

A recording can only ever stop itself, never its session: past its size cap, on a full disk or any
other write error it truncates the file back to its last whole event (so a player still reads it
to the end), closes it and keeps the reason for `record status` and the log. Files are created 0600
(they hold everything the screen showed) in a 0700 directory, never over an existing file.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scarab.humanize import size as human_size

__all__ = ["DEFAULT_CAP", "PROMPT_MARK", "Recording", "RecordingError", "RecordingState", "default_path"]

DEFAULT_CAP = 100 * 1024 * 1024  # bytes per file
EVENT_CHARS = 16384  # characters of output per event at most
# OSC 133;A: "a prompt starts here" (FinalTerm's semantic prompt marks, emitted by fish, by zsh and
# bash with shell integration, and by most prompt frameworks). Only the prefix matters: the
# sequence may end with BEL or ST and carry more parameters.
PROMPT_MARK = b"\x1b]133;A"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class RecordingError(Exception):
    """The recording file cannot be created (the session is untouched)."""


@dataclass(frozen=True, slots=True)
class RecordingState:
    """What `record status` says about one recording."""

    path: str
    active: bool
    size: int  # bytes written (whole events only)
    started: float  # wall-clock time of the header
    reason: str  # why it stopped ("" while active)
    input: bool  # keystrokes recorded too


def default_path(directory: Path, session: str, when: float) -> Path:
    """`<directory>/<session>-<YYYYmmdd-HHMMSS>.cast` (a name safe as a file name)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    return directory / f"{_UNSAFE_NAME.sub('_', session).strip('.') or 'session'}-{stamp}.cast"


def _create(path: Path) -> tuple[int, Path]:
    """Open a new file 0600 at `path`, or at `path` with -2, -3... when that name is taken by a
    default name; the directory is created 0700 if missing."""
    with contextlib.suppress(FileExistsError):
        path.parent.mkdir(mode=0o700, parents=True)
    for attempt in range(1, 100):
        candidate = path if attempt == 1 else path.with_name(f"{path.stem}-{attempt}{path.suffix}")
        try:
            return os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), candidate
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "too many recordings of that name", str(path))


class Recording:
    """An asciicast v2 file being written. Every method is cheap and never raises once started."""

    def __init__(
        self,
        fd: int,
        path: Path,
        *,
        cap: int = DEFAULT_CAP,
        record_input: bool = False,
        clock: Callable[[], float] = time.monotonic,
        on_stop: Callable[[Recording], None] | None = None,
    ) -> None:
        self.fd: int | None = fd
        self.path = path
        self.cap = cap
        self.record_input = record_input
        self.clock = clock
        self.on_stop = on_stop
        self.started = time.time()
        self.origin = clock()
        self.size = 0
        self.reason = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._input_decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._tail = b""  # the end of the last output, in case a prompt mark is split across reads

    @classmethod
    def start(
        cls,
        path: Path,
        cols: int,
        rows: int,
        *,
        command: str = "",
        title: str = "",
        cap: int = DEFAULT_CAP,
        record_input: bool = False,
        exclusive_name: bool = True,
        on_stop: Callable[[Recording], None] | None = None,
    ) -> Recording:
        """Create the file and write the header. `exclusive_name`: a default name, so another free
        name is taken when that one exists (a name the user gave is refused instead)."""
        try:
            if exclusive_name:
                fd, path = _create(path)
            else:
                with contextlib.suppress(FileExistsError):
                    path.parent.mkdir(mode=0o700, parents=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            raise RecordingError(f"{path} already exists; name another file or remove it") from None
        except OSError as exc:
            raise RecordingError(f"cannot create {path}: {exc.strerror}") from None
        recording = cls(fd, path, cap=cap, record_input=record_input, on_stop=on_stop)
        header: dict[str, object] = {
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": int(recording.started),
        }
        if command:
            header["command"] = command
        if title:
            header["title"] = title
        recording._write(json.dumps(header, ensure_ascii=False) + "\n")
        if not recording.active:
            raise RecordingError(f"cannot write {path}: {recording.reason}")
        return recording

    # -- events -----------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.fd is not None

    def output(self, data: bytes) -> None:
        """Bytes the pane's program wrote, with a marker before each prompt it marks with OSC 133;A."""
        if self.fd is None or not data:
            return
        seen = self._tail + data
        # A mark split across two reads is found in `seen`; its first bytes went out with the last
        # output, so its marker goes at the start of this one.
        cuts = []
        found = seen.find(PROMPT_MARK)
        while found >= 0:
            cuts.append(max(found - len(self._tail), 0))
            found = seen.find(PROMPT_MARK, found + len(PROMPT_MARK))
        start = 0
        for cut in cuts:
            self._event("o", self._decoder.decode(data[start:cut]))
            self._event("m", "")
            start = cut
        self._event("o", self._decoder.decode(data[start:]))
        self._tail = seen[-(len(PROMPT_MARK) - 1) :]

    def input(self, data: bytes) -> None:
        """Keystrokes the user typed: recorded only when asked for (`record start --input`)."""
        if self.record_input and self.fd is not None and data:
            self._event("i", self._input_decoder.decode(data))

    def resize(self, cols: int, rows: int) -> None:
        self._event("r", f"{cols}x{rows}")

    def marker(self, label: str = "") -> None:
        self._event("m", label)

    def stop(self, reason: str = "stopped") -> None:
        """Close the file; `reason` is what `record status` says. Stopping twice changes nothing."""
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        self.reason = reason
        with contextlib.suppress(OSError):
            os.close(fd)
        if self.on_stop is not None:
            self.on_stop(self)

    def state(self) -> RecordingState:
        return RecordingState(str(self.path), self.active, self.size, self.started, self.reason, self.record_input)

    # -- writing ----------------------------------------------------------------------------------

    def _event(self, kind: str, text: str) -> None:
        if self.fd is None or (not text and kind == "o"):
            return
        seconds = round(self.clock() - self.origin, 6)
        # A 256 KB read becomes several events, so the size cap is filled to within one of them.
        for start in range(0, max(len(text), 1), EVENT_CHARS):
            self._write(json.dumps([seconds, kind, text[start : start + EVENT_CHARS]], ensure_ascii=False) + "\n")

    def _write(self, line: str) -> None:
        """Write one whole line or nothing: a failure truncates back to the last whole event."""
        assert self.fd is not None
        data = line.encode("utf-8", "surrogateescape")
        if self.size + len(data) > self.cap:
            self.stop(f"size cap {human_size(self.cap)} reached")
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, self.size)  # frees blocks, so it works on a full disk too
            self.stop("disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else f"write failed: {exc.strerror}")
            return
        self.size += len(data)
