"""Test helpers: a Sandbox (scarab.testkit) per test, with the CLI and the database at hand.

Polls look at the daemon from this process (`sessions`, `session`, `capture`: one request each);
behaviour under test goes through the CLI (`run`, `ok`), one call per behaviour.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import subprocess
import sys
import threading

from scarab.daemon.emulator import Emulator
from scarab.daemon.screens import capture_pages
from scarab.testkit import Sandbox, pid_alive, rss_kb, until, wait_for

__all__ = [
    "ScarabEnv", "Watching", "destroy_env", "emu_text", "make_env", "new_sh", "pid_alive", "rss_kb", "status_shows",
    "type_line", "until", "wait_for",
]  # fmt: skip


def status_shows(screen: str, session: str, sessions: str = "1/1") -> bool:
    """Whether the TUI's status bar on `screen` names `session` and its place among the sessions
    (` [main] 0:sh*  ...  1/1  1 client `)."""
    return any(f"[{session}]" in line and f" {sessions} " in line for line in screen.splitlines())


_CAPTURE_FLAGS = {"--scrollback": "scrollback", "-S": "scrollback", "--ansi": "ansi", "-e": "ansi"}


def emu_text(emu: Emulator, scrollback: bool = False, ansi: bool = False) -> str:
    """An emulator's screen as `scarab capture` gives it (the host's own capture code)."""
    return "".join(capture_pages(emu, scrollback, ansi))


class ScarabEnv(Sandbox):
    def run(
        self,
        *args: str,
        check: bool = False,
        timeout: float = 60,
        input: str | None = None,
        env_extra: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """`scarab ARGS` as a user runs it: a new process in this world."""
        proc = subprocess.run(
            [sys.executable, "-m", "scarab", *args],
            env={**self.env, **(env_extra or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            cwd=str(self.root),
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"scarab {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def ok(self, *args: str) -> str:
        return self.run(*args, check=True).stdout

    def capture(self, target: str, *flags: str) -> str:  # type: ignore[override]
        """What `scarab capture TARGET FLAGS` prints, asked from this process."""
        return super().capture(target, **{_CAPTURE_FLAGS[flag]: True for flag in flags})

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.paths.database)

    def snapshot_text(self, session_id: str) -> str:
        with contextlib.closing(self.db()) as conn:
            row = conn.execute("SELECT data FROM snapshots WHERE session_id = ?", (session_id,)).fetchone()
        return bytes(row[0]).decode(errors="replace") if row else ""


def new_sh(env: ScarabEnv, name: str, *extra: str) -> str:
    """A detached session running sh, once its prompt shows; its id."""
    sid = env.ok("new", "-d", "-s", name, *extra, "--", "sh").strip()
    assert len(sid) == 32
    wait_for(lambda: "$" in env.capture(name), what="the shell prompt")
    return sid


def type_line(env: ScarabEnv, name: str, line: str) -> None:
    """A line typed into the session's shell, and Enter."""
    env.ok("send", name, line, "Enter")


def make_env() -> ScarabEnv:
    return ScarabEnv.create()


def destroy_env(env: ScarabEnv) -> None:
    env.destroy()


class Watching:
    """`scarab watch ARGS` running, its lines read as they come (by a thread: a pipe's reader buffers)."""

    def __init__(self, scarab: ScarabEnv, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scarab", "watch", *args],
            env=scarab.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next_line().startswith(('{"event": "watching"', "%watching"))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def next_line(self, timeout: float = 10) -> str:
        try:
            line = self.queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s; so far {self.lines}") from None
        assert line is not None, f"watch ended: {self.lines}"
        self.lines.append(line)
        return line

    def events_until(self, kind: str, session: str) -> list[dict[str, object]]:
        seen = []
        while True:
            event = json.loads(self.next_line())
            seen.append(event)
            if event["event"] == kind and event.get("session") == session:
                return seen

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
