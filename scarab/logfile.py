"""Log layer: the daemon's and the hosts' log files — private, never followed, bounded.

A log is opened with O_NOFOLLOW (a symlink planted at its path is replaced, never written
through), created 0600, and written through `CappedLog`, which stands in for `sys.stderr`: at most
RATE_BYTES per second get through (a fault that repeats in a loop writes a line saying how much
was dropped, not megabytes a second), and past MAX_BYTES the file is rotated once (`<name>.1`), so a
log never takes more than twice that on disk.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import time
from pathlib import Path

__all__ = ["MAX_BYTES", "RATE_BYTES", "CappedLog", "open_log"]

MAX_BYTES = 1024 * 1024
RATE_BYTES = 16 * 1024  # per second: a few tracebacks


def open_log(path: Path | str) -> int:
    """A descriptor appending to `path` (created 0600). A symlink at `path` is never followed:
    it is replaced by a regular file (whatever it pointed to is left untouched)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        os.unlink(path)
        fd = os.open(path, flags | os.O_EXCL, 0o600)
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o600)  # an older, looser file
    return fd


class CappedLog(io.TextIOBase):
    """A text stream onto descriptors `fds` (all one log file), rate-limited and rotated."""

    def __init__(self, path: Path | str, fds: tuple[int, ...] = (2,)) -> None:
        super().__init__()
        self.path = str(path)
        self.fds = fds
        self._size = _size_of(fds[0])
        self._window = 0.0
        self._budget = RATE_BYTES
        self._dropped = 0
        self._stopped = False  # rotation failed: nothing more is written

    def write(self, text: str) -> int:
        data = text.encode(errors="replace")
        now = time.monotonic()
        if now - self._window >= 1.0:
            self._window, self._budget = now, RATE_BYTES
            if self._dropped:
                note, self._dropped = f"[scarab: {self._dropped} bytes of log dropped (too many)]\n", 0
                self._emit(note.encode())
        if len(data) > self._budget:
            self._dropped += len(data)
            return len(text)
        self._budget -= len(data)
        self._emit(data)
        return len(text)

    def _emit(self, data: bytes) -> None:
        if self._size + len(data) > MAX_BYTES:
            self._rotate()
        if self._stopped:
            return
        with contextlib.suppress(OSError):
            os.write(self.fds[0], data)
            self._size += len(data)

    def _rotate(self) -> None:
        with contextlib.suppress(OSError):
            os.replace(self.path, self.path + ".1")
        # If the directory is gone or a symlink took the name: stop rather than follow or grow.
        self._stopped = not self._reopen()

    def reopen_if_gone(self) -> None:
        """The log's directory was removed (logout): write to a new file at the same path."""
        if not os.path.lexists(self.path) and self._reopen():
            self._stopped = False

    def _reopen(self) -> bool:
        """Point our descriptors at a fresh file at `path`; False if it cannot be opened."""
        try:
            fd = open_log(self.path)
        except OSError:
            return False
        for target in self.fds:
            os.dup2(fd, target)
        os.close(fd)
        self._size = 0
        return True

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fds[0]


def _size_of(fd: int) -> int:
    try:
        return os.fstat(fd).st_size
    except OSError:
        return 0
