"""Test harness layer (used by tests/ and benchmarks/, never by Scarab itself).

A `Sandbox` is a private Scarab world: its own XDG directories (tmux's `-L` idea), the environment
that points a process at them, an in-process client for polling its daemon without starting an
interpreter per look, and pid-based cleanup of every process started in it. `wait_for` and `until`
are the one way to poll with a deadline (from plain code and from coroutines); `frame_with` waits
for a frame; `measure_slow_link` drives a session through a slow ssh stand-in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from scarab import protocol as p
from scarab.client import Client
from scarab.daemon.hostlink import pid_alive
from scarab.errors import DaemonUnreachable
from scarab.paths import Paths
from scarab.remote import SshTarget

__all__ = [
    "LinkFigures",
    "Sandbox",
    "frame_with",
    "measure_slow_link",
    "pid_alive",
    "rss_kb",
    "shows",
    "until",
    "wait_for",
]

T = TypeVar("T")


class _Deadline:
    """The one polling rule: try until the answer is truthy (an exception is an answer to retry:
    a look may race with the thing it watches), and fail saying what was awaited and seen last."""

    def __init__(self, timeout: float, what: object) -> None:
        self.timeout = timeout
        self.what = what
        self.end = time.monotonic() + timeout

    def settled(self, last: object) -> bool:
        if last and not isinstance(last, Exception):
            return True
        if time.monotonic() > self.end:
            what = self.what() if callable(self.what) else self.what
            raise AssertionError(f"timed out after {self.timeout}s waiting for {what}: last={last!r}")
        return False


def wait_for(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, what: str | Callable[[], str] = ""
) -> T:
    """Poll `predicate()` until truthy and return it; fail with `what` after `timeout` seconds."""
    deadline = _Deadline(timeout, what or predicate)
    while True:
        try:
            last: Any = predicate()
        except Exception as exc:
            last = exc
        if deadline.settled(last):
            return last  # type: ignore[no-any-return]
        time.sleep(interval)


async def until(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str | Callable[[], str] = "",
) -> T:
    """`wait_for` for coroutines: the predicate may be a plain or an async function."""
    deadline = _Deadline(timeout, what or predicate)
    while True:
        try:
            last: Any = predicate()
            if inspect.isawaitable(last):
                last = await last
        except Exception as exc:
            last = exc
        if deadline.settled(last):
            return last  # type: ignore[no-any-return]
        await asyncio.sleep(interval)


async def frame_with(client: Client, predicate: Callable[[p.Frame], bool], timeout: float = 10.0) -> p.Frame:
    """The first frame pushed to `client` that satisfies `predicate` (earlier ones are consumed)."""
    end = time.monotonic() + timeout
    while True:
        msg = await asyncio.wait_for(client.events.get(), max(0.01, end - time.monotonic()))
        if isinstance(msg, p.Frame) and predicate(msg):
            return msg


def shows(text: str) -> Callable[[p.Frame], bool]:
    """A `frame_with` predicate: the frame has a row containing `text`."""
    return lambda frame: any(text in row for _y, row, _runs in frame.lines)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to the end, from plain code or from inside a running loop (a Pilot test): there
    it runs on a loop of its own in another thread, blocking the caller as a command would."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]

    @classmethod
    def create(cls) -> Self:
        """A fresh world under /tmp (short: Unix socket paths are limited to 107 bytes)."""
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
        for var in ("TMUX", "SCARAB", "SCARAB_PANE", "SCARAB_SESSION", "SCARAB_SSH", "SCARAB_REMOTE_COMMAND"):
            env.pop(var, None)  # the tests may run inside tmux or scarab themselves
        return cls(root, env)

    def destroy(self) -> None:
        self.kill_all()
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def paths(self) -> Paths:
        return Paths(
            runtime=self.root / "run" / "scarab",
            data=self.root / "data" / "scarab",
            config=self.root / "config" / "scarab",
        )

    # -- looking at the daemon from this process --------------------------------------------------

    def ask(self, question: Callable[[Client], Coroutine[Any, Any, T]]) -> T:
        """`question` asked of this world's daemon over a connection from this process: for polls,
        no interpreter starts per look. Like any command, it starts the daemon when none is running
        (in this world's environment, which this process does not have)."""

        async def ask() -> T:
            client = await Client.connect(self.paths, autostart=False)
            try:
                return await question(client)
            finally:
                await client.close()

        try:
            return _run_blocking(ask())
        except DaemonUnreachable:
            argv = [sys.executable, "-m", "scarab", "daemon", "run", "--fork"]
            subprocess.run(argv, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            return _run_blocking(ask())

    def sessions(self) -> list[dict[str, Any]]:
        """The session list, as `scarab ls --json` prints it."""
        reply = self.ask(lambda client: client.request(p.SessionList()))
        assert isinstance(reply, p.Listed), reply
        return [asdict(s) for s in reply.sessions]  # type: ignore[call-overload]

    def session(self, name: str) -> dict[str, Any]:
        for s in self.sessions():
            if s["name"] == name:
                return s
        raise AssertionError(f"no session {name!r}")

    def capture(self, target: str, scrollback: bool = False, ansi: bool = False) -> str:
        """What `scarab capture` prints (all its pages)."""

        async def pages(client: Client) -> str:
            return "".join([text async for text in client.capture(target, scrollback, ansi)])

        return self.ask(pages)

    def daemon_pid(self) -> int | None:
        try:
            text = self.paths.lock.read_text().strip()
        except OSError:
            return None
        pid = int(text) if text.isdigit() else 0
        return pid if pid and pid_alive(pid) else None

    # -- processes --------------------------------------------------------------------------------

    def our_pids(self) -> list[int]:
        """Every process whose command line or environment names this world's directory."""
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
        """Live session hosts (named by prctl: forked hosts share the zygote's cmdline)."""
        return self.pids_named("scarab-host")

    def zygote_pids(self) -> list[int]:
        return self.pids_named("scarab-zygote")

    def pids_named(self, comm: str) -> list[int]:
        """Live processes of this world with this process name."""
        pids = []
        for pid in self.our_pids():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == comm and pid_alive(pid):
                    pids.append(pid)
        return pids

    def kill_all(self) -> None:
        def kill_the_living() -> list[int]:
            # Again on every look: a process forked meanwhile (a zygote's host, a daemon's restart)
            # was not there to be killed the first time.
            living = [pid for pid in self.our_pids() if pid_alive(pid)]
            for pid in living:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            return living

        wait_for(lambda: not kill_the_living(), timeout=10, what=lambda: f"its processes to end: {self.our_pids()}")


# -- a session through a slow link ---------------------------------------------------------------


@dataclass
class LinkFigures:
    rate: float
    delay: float
    echo_ms: list[float]
    flood_bytes: int
    flood_seconds: float
    link_bytes: int


class _Screen:
    """Row texts as frames leave them, enough to wait for text to show."""

    def __init__(self) -> None:
        self.rows: dict[int, str] = {}
        self.changed = asyncio.Event()

    def apply(self, frame: p.Frame) -> None:
        if frame.full:
            self.rows.clear()
        for y, text, _runs in frame.lines:
            self.rows[y] = text
        self.changed.set()

    def has(self, needle: str) -> bool:
        return any(needle in row for row in self.rows.values())


async def measure_slow_link(rate: float, delay: float, fake_ssh: Path, flood_lines: int = 100_000) -> LinkFigures:
    """Echo latency and a flood through `fake_ssh` (an ssh stand-in that delays and rate-limits
    the remote's output) to this process's world (its XDG variables must point at a sandbox)."""
    stats = Path(os.environ["XDG_RUNTIME_DIR"]) / "link-bytes"
    os.environ.update(
        SCARAB_SSH=f"{sys.executable} {fake_ssh}",
        SCARAB_REMOTE_COMMAND=f"{sys.executable} -m scarab",
        FAKE_SSH_RATE=str(rate),
        FAKE_SSH_DELAY=str(delay),
        FAKE_SSH_STATS=str(stats),
    )
    client = await Client.connect_ssh(SshTarget("example.org"))
    screen = _Screen()

    async def pump() -> None:
        while (msg := await client.events.get()) is not None:
            if isinstance(msg, p.Frame):
                screen.apply(msg)

    reader = asyncio.create_task(pump())

    async def shown(predicate: Callable[[], bool], timeout: float = 120) -> None:
        while not predicate():
            screen.changed.clear()
            await asyncio.wait_for(screen.changed.wait(), timeout)

    try:
        await client.request(p.SessionCreate(name="slow", cols=80, rows=24, command=["sh"]))
        await client.request(p.SessionAttach(target="slow", cols=80, rows=24))
        await shown(lambda: screen.has("$"))
        echo = []
        for i in range(10):
            token = f"k{i}q"
            start = time.monotonic()
            client.send(p.Input(target="slow", data=token.encode()))
            await shown(lambda token=token: screen.has(token))  # type: ignore[misc]
            echo.append((time.monotonic() - start) * 1000)
            client.send(p.Input(target="slow", data=b"\x15"))  # ctrl+u clears the line again
            await shown(lambda token=token: not screen.has(token))  # type: ignore[misc]
        link_before = _link_bytes(stats)
        start = time.monotonic()
        client.send(p.Input(target="slow", data=f"seq 1 {flood_lines}; echo flood-done\r".encode()))
        await shown(lambda: screen.has("flood-done") and screen.has(str(flood_lines)))
        flood_seconds = time.monotonic() - start
    finally:
        reader.cancel()
        await client.close()
    # The link's byte count is written when the ssh stand-in exits.
    await until(lambda: _link_bytes(stats) > 0, timeout=10, what="the ssh stand-in's byte count")
    flood_bytes = sum(len(f"{i}\n") for i in range(1, flood_lines + 1))
    return LinkFigures(rate, delay, echo, flood_bytes, flood_seconds, _link_bytes(stats) - link_before)


def _link_bytes(stats: Path) -> int:
    try:
        return sum(int(line) for line in stats.read_text().split())
    except (OSError, ValueError):
        return 0
