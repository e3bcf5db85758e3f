"""Test helpers: an isolated Scarab environment per test, polling with deadlines, pid-based cleanup."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from scarab.daemon.hostlink import pid_alive
from scarab.paths import Paths

__all__ = ["ScarabEnv", "destroy_env", "make_env", "pid_alive", "rss_kb", "wait_for"]

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, what: str = "") -> T:
    """Poll until `predicate()` is truthy; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = predicate()
        except Exception as exc:  # a predicate may race with the thing it watches
            last = exc
        if last and not isinstance(last, Exception):
            return last  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}: last={last!r}")
        time.sleep(interval)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class ScarabEnv:
    root: Path
    env: dict[str, str]

    @property
    def paths(self) -> Paths:
        return Paths(
            runtime=self.root / "run" / "scarab",
            data=self.root / "data" / "scarab",
            config=self.root / "config" / "scarab",
        )

    def run(
        self, *args: str, check: bool = False, timeout: float = 60, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "scarab", *args],
            env=self.env,
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

    def sessions(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = json.loads(self.ok("ls", "--json"))
        return result

    def session(self, name: str) -> dict[str, Any]:
        for s in self.sessions():
            if s["name"] == name:
                return s
        raise AssertionError(f"no session {name!r}")

    def capture(self, target: str, *flags: str) -> str:
        return self.ok("capture", target, *flags)

    def daemon_pid(self) -> int | None:
        try:
            text = self.paths.lock.read_text().strip()
        except OSError:
            return None
        pid = int(text) if text.isdigit() else 0
        return pid if pid and pid_alive(pid) else None

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.paths.database)

    def snapshot_text(self, session_id: str) -> str:
        with contextlib.closing(self.db()) as conn:
            row = conn.execute("SELECT data FROM snapshots WHERE session_id = ?", (session_id,)).fetchone()
        return bytes(row[0]).decode(errors="replace") if row else ""

    def our_pids(self) -> list[int]:
        """Every process whose command line or environment names this test's directory."""
        marker = str(self.root).encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            with contextlib.suppress(OSError):
                if marker in (entry / "cmdline").read_bytes() or marker in (entry / "environ").read_bytes():
                    pids.append(int(entry.name))
        return pids

    def host_pids(self) -> list[int]:
        """Live session hosts of this test (named by prctl: forked hosts share the zygote's cmdline)."""
        return self.pids_named("scarab-host")

    def zygote_pids(self) -> list[int]:
        return self.pids_named("scarab-zygote")

    def pids_named(self, comm: str) -> list[int]:
        """Live processes of this test with this process name."""
        pids = []
        for pid in self.our_pids():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == comm and pid_alive(pid):
                    pids.append(pid)
        return pids

    def kill_all(self) -> None:
        for pid in self.our_pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not [p for p in self.our_pids() if pid_alive(p)], timeout=10, what="test processes to end")


def make_env() -> ScarabEnv:
    # Short paths: Unix socket paths are limited to 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="sc", dir="/tmp"))
    for sub in ("run", "data", "config", "home"):
        (root / sub).mkdir(mode=0o700)
    env = dict(os.environ)
    env.update(
        XDG_RUNTIME_DIR=str(root / "run"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        HOME=str(root / "home"),
        SHELL="/bin/sh",
        SCARAB_SNAPSHOT_INTERVAL="0.2",
        PS1="$ ",
    )
    for var in ("TMUX", "SCARAB", "SCARAB_SESSION", "SCARAB_SSH", "SCARAB_REMOTE_COMMAND"):
        env.pop(var, None)  # tests may run inside tmux or scarab themselves
    return ScarabEnv(root, env)


def destroy_env(env: ScarabEnv) -> None:
    env.kill_all()
    shutil.rmtree(env.root, ignore_errors=True)
