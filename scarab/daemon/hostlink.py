"""Host link layer: the daemon's side of one session host — spawning it and talking to it.

`spawn_host` starts a host process and waits for its ready line; `HostLink` is the connection to a
running host: requests answered in order (the host handles them one by one), and pushed events
(frames, child exit) handed to callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scarab import protocol as p
from scarab.channel import Channel
from scarab.daemon.hostconfig import HOST_TOKEN_ENV, HostConfig
from scarab.errors import HostUnavailable, ProtocolError
from scarab.exchange import Exchange
from scarab.logfile import open_log
from scarab.readyline import HOST_READY_TIMEOUT, parse

__all__ = ["HostLink", "host_gone", "pid_alive", "process_start", "spawn_host"]

REQUEST_TIMEOUT = 10.0


class Zygote:
    """The daemon's handle on its zygote process (zygote.py): one spawn request at a time."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self._lock = asyncio.Lock()
        self._ids = 0

    @classmethod
    async def start(cls) -> Zygote:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "scarab.daemon.zygote", str(os.getpid()),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        return cls(proc)

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def spawn(self, config: dict[str, object], log: Path) -> str:
        """The host's ready line."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        async with self._lock:
            self._ids += 1
            ident = self._ids
            end = time.monotonic() + HOST_READY_TIMEOUT + 5
            # Past `deadline` the zygote refuses it: a host forked later might not be ready before
            # we give up and start it the slow way, and would be a second host for this session.
            deadline = end - HOST_READY_TIMEOUT - 1
            request = {"id": ident, "config": config, "log": str(log), "deadline": deadline}
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            await self.proc.stdin.drain()
            while True:
                raw = await asyncio.wait_for(self.proc.stdout.readline(), max(0.01, end - time.monotonic()))
                if not raw:
                    raise ConnectionError("the zygote exited")
                reply = json.loads(raw)
                # A late answer to an earlier request that timed out is not this host's ready line.
                if reply.get("id") == ident:
                    if "refused" in reply:
                        raise TimeoutError(f"the zygote did not fork the host: {reply['refused']}")
                    return str(reply.get("line", ""))

    async def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await asyncio.wait_for(self.proc.wait(), 5)
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


async def spawn_host(req: HostConfig, zygote: Zygote | None = None) -> tuple[int, int]:
    """Start a host for `req` (forked from the zygote when there is one, else a fresh interpreter);
    returns (host pid, child pid) once it listens on its socket."""
    if zygote is not None and zygote.alive:
        try:
            return _parse_ready(await zygote.spawn(req.to_dict(), req.log), req)
        except (ConnectionError, TimeoutError, ValueError, OSError):
            pass  # a broken zygote costs speed, not the session: start it the slow way
    try:
        log = open_log(req.log)
    except OSError:  # no log is better than no session
        log = os.open(os.devnull, os.O_WRONLY)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "scarab.daemon.host", *req.to_argv(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=log,
            env={**os.environ, HOST_TOKEN_ENV: req.token},
        )  # fmt: skip
    finally:
        os.close(log)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), HOST_READY_TIMEOUT)
    except TimeoutError:
        line = b""
    finally:
        await proc.wait()  # the launcher exits as soon as it has forked the host
    return _parse_ready(line.decode(errors="replace"), req)


def _parse_ready(line: str, req: HostConfig) -> tuple[int, int]:
    try:
        host_pid, child_pid = parse(line, pids=2)
    except ValueError as exc:
        raise HostUnavailable(f"could not start a session host: {exc or f'no ready signal; see {req.log}'}") from None
    return host_pid, child_pid


def _host_gone_error() -> HostUnavailable:
    return HostUnavailable("the session host went away")


def _pushed_by_host(msg: p.Message) -> bool:
    # SetBuffer: a program's OSC 52; Notice: a line for the status bar of the clients attached.
    return isinstance(msg, p.Frame | p.Layout | p.ChildExited | p.SetBuffer | p.Notice)


class HostLink:
    """A connected host. Requests are answered in order; frames, layouts and exits go to the callback
    as they come, so a Layout the host pushes before its reply is handled before the reply is.

    A frame goes to the callback with the bytes it came in (header and payload), which the daemon
    relays to clients as they are: it checks the frame (a malformed one ends the link, as any bad
    message from a host does) but never encodes it again. Other messages come with b""."""

    def __init__(
        self,
        channel: Channel,
        greeting: p.HostInfo,
        on_event: Callable[[HostLink, p.Message, bytes], None],
    ) -> None:
        self.session_id = greeting.session_id  # which session this link is to, for good
        self.greeting = greeting  # what the host said when the link was made; stale after that
        self._exchange = Exchange(
            channel,
            _pushed_by_host,
            lambda msg: on_event(self, msg, self._exchange.wire if isinstance(msg, p.Frame) else b""),
            _host_gone_error,
        )
        # A capture is paged out of the host (HostCapture page 0, 1, ...): one at a time.
        self.capture_lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls,
        socket: Path,
        token: str,
        on_event: Callable[[HostLink, p.Message, bytes], None],
        timeout: float | None = REQUEST_TIMEOUT,
    ) -> HostLink:
        """Connect and greet. `timeout=None` waits as long as it takes: a host busy parsing a flood
        answers when it gets to it, and the caller watches its pid meanwhile."""
        channel = await asyncio.wait_for(Channel.connect_unix(str(socket)), timeout)
        try:
            await asyncio.wait_for(channel.hello("daemon", then=p.HostAuth(token=token)), timeout)
            info = await asyncio.wait_for(channel.recv(), timeout)
            if not isinstance(info, p.HostInfo):
                raise ProtocolError(f"host sent {type(info).__name__} instead of HostInfo")
        except BaseException:
            await channel.close()
            raise
        return cls(channel, info, on_event)

    async def run(self) -> None:
        """Read until the host goes away; runs until cancelled, fails pending requests at the end."""
        await self._exchange.run()

    def send(self, msg: p.Message) -> None:
        """Fire-and-forget messages (input, resize, redraw): never wait on the host for these."""
        self._exchange.send(msg)

    async def request(self, msg: p.Message, timeout: float = REQUEST_TIMEOUT) -> p.Message:
        try:
            return await self._exchange.request(msg, timeout)
        except TimeoutError:
            raise HostUnavailable(f"the session host did not answer within {timeout:g}s") from None

    async def close(self) -> None:
        await self._exchange.close()


def process_start(pid: int) -> int:
    """When process `pid` started (clock ticks since boot, /proc/PID/stat field 22); 0 if unknown.

    With the pid it names one process for good: a pid reused after the host died has another start."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def host_gone(pid: int, start: int) -> bool:
    """Whether the host recorded as (`pid`, `start`) is verifiably gone: its pid is free, or taken by
    another process. Only then may a session be resurrected; a live host is waited for, never replaced.
    Rows from before start times were recorded (start 0) check that the pid is a scarab host."""
    if not pid_alive(pid):
        return True
    if start:
        now = process_start(pid)
        return bool(now) and now != start
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() != "scarab-host"
    except OSError:
        return not pid_alive(pid)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); /proc tells the truth.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True
