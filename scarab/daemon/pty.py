"""PTY layer: the only module that touches ptys and the child process.

A narrow wrapper over ptyprocess: spawn a child on a new PTY, non-blocking reads and writes on its
fd, resize, cwd lookup, and reaping. ptyprocess's close/terminate sleep by default (a freeze inside
an event loop), so both delays are zeroed and closing is explicit.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass

from ptyprocess import PtyProcess

from scarab.environ import Overrides, apply
from scarab.paths import Paths

__all__ = ["Child", "child_env", "default_shell"]


def default_shell() -> str:
    """The user's login shell, as tmux's default-shell."""
    import pwd

    try:
        shell = pwd.getpwuid(os.getuid()).pw_shell
    except KeyError:
        shell = ""
    shell = os.environ.get("SHELL") or shell
    if shell and os.access(shell, os.X_OK):
        return shell
    return shutil.which("bash") or "/bin/sh"


# The terminal type and the daemon's socket are the same for every host a zygote forks (their
# environment is its own): found once there, since the lookups run in each host copied ~300 KB of
# the zygote's shared pages into it (platformdirs, pathlib).
@functools.cache
def _term() -> str:
    for base in ("/usr/share/terminfo", "/lib/terminfo", "/etc/terminfo", os.path.expanduser("~/.terminfo")):
        if os.path.exists(os.path.join(base, "t", "tmux-256color")):
            return "tmux-256color"
    return "screen-256color"


def child_env(session_id: str, name: str, overrides: Overrides | None = None) -> dict[str, str]:
    """The daemon's environment with the session's overrides (environ.py) and Scarab's own.

    Called in the session host. Like tmux's `$TMUX` (`socket,server pid,session`), `$SCARAB` is
    `DAEMON_SOCKET,HOST_PID,SESSION_ID` (each pane adds `$SCARAB_PANE`, pane.py): a command run in
    a pane finds its daemon and defaults its target to its own session and pane."""
    env = dict(os.environ)
    for var in ("TMUX", "TMUX_PANE", "COLUMNS", "LINES"):
        env.pop(var, None)
    apply(env, overrides or {})
    scarab = f"{_daemon_socket()},{os.getpid()},{session_id}"
    env.update(TERM=_term(), COLORTERM="truecolor", SCARAB=scarab, SCARAB_SESSION=name)
    return env


@functools.cache
def _daemon_socket() -> str:
    return str(Paths.default().socket)


def _default_signals() -> None:
    """In the child before exec: undo Python's ignored SIGPIPE/SIGXFSZ (exec keeps SIG_IGN), so
    `yes | head` ends quietly and ctrl+c/ctrl+z work in the shell, as under any terminal."""
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTSTP,
                signal.SIGTTIN, signal.SIGTTOU, signal.SIGTERM, signal.SIGCHLD):  # fmt: skip
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


@dataclass
class Child:
    """A child process on a PTY. All fd operations are non-blocking."""

    process: PtyProcess

    @classmethod
    def spawn(
        cls,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        cols: int,
        rows: int,
        preexec: Callable[[], None] | None = None,
    ) -> Child:
        """`preexec`: run in the child before exec, after the signals are reset (the session's
        limits: scarab.daemon.limits)."""
        if not os.path.isdir(cwd):
            cwd = os.path.expanduser("~") if os.path.isdir(os.path.expanduser("~")) else "/"

        def before_exec() -> None:
            _default_signals()
            if preexec is not None:
                preexec()

        process = PtyProcess.spawn(argv, cwd=cwd, env=env, dimensions=(rows, cols), preexec_fn=before_exec)
        process.delayafterclose = 0
        process.delayafterterminate = 0
        os.set_blocking(process.fd, False)
        return cls(process)

    @property
    def fd(self) -> int:
        return int(self.process.fd)

    @property
    def pid(self) -> int:
        return int(self.process.pid)

    def read(self, size: int = 65536) -> bytes | None:
        """Bytes from the child; b"" once it has gone, None when nothing is ready."""
        try:
            return os.read(self.fd, size)
        except BlockingIOError:
            return None
        except OSError as exc:
            if exc.errno == errno.EIO:  # Linux reports the slave side closing as EIO
                return b""
            raise

    def write(self, data: bytes) -> int:
        """Write what the PTY accepts now; returns the count (0 when its buffer is full)."""
        try:
            return os.write(self.fd, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno == errno.EIO:
                return len(data)  # the child is gone; pretend it was delivered
            raise

    def resize(self, cols: int, rows: int) -> None:
        with contextlib.suppress(OSError):
            self.process.setwinsize(rows, cols)

    def cwd(self) -> str | None:
        try:
            return os.readlink(f"/proc/{self.pid}/cwd")
        except OSError:
            return None

    def foreground(self) -> tuple[str, bool]:
        """The command line's first word of the terminal's foreground process (tmux's osdep_get_name):
        what automatic-rename names the window after ("" when it cannot be read); and whether that
        is a job the program started (its own process group is not in the foreground)."""
        try:
            pgrp = os.tcgetpgrp(self.fd)
            with open(f"/proc/{pgrp}/cmdline", "rb") as f:
                first = f.read(1024).split(b"\0", 1)[0]
        except OSError:
            return "", False
        return first.decode(errors="replace"), pgrp != self.pid

    def reap(self) -> int | None:
        """The exit status once the child has exited (shell convention: 128+N for signal N)."""
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return self.process.exitstatus if self.process.exitstatus is not None else 0
        if pid == 0:
            return None
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        return os.WEXITSTATUS(status)

    def terminate(self) -> None:
        """SIGHUP the child's process group, as a terminal closing does."""
        for sig in (signal.SIGHUP, signal.SIGCONT):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(os.getpgid(self.pid), sig)

    def close(self) -> None:
        # Close through ptyprocess's file object so nothing closes the fd number twice later.
        with contextlib.suppress(OSError):
            self.process.fileobj.close()
        self.process.closed = True
