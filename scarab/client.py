"""Client library layer: the one connection to the daemon that the CLI and the TUI share.

Requests are answered in order; pushed messages (frames, kicks, session list changes) go to `events`. The daemon is
started on first use (`python -m scarab.daemon`: `daemon run --fork` without the CLI, which reports readiness on a
pipe) and a stale socket left by a killed daemon is handled by the new daemon, which holds the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from scarab import protocol as p
from scarab.channel import Channel
from scarab.errors import DaemonUnreachable, ProtocolError, ScarabError, error_from_code
from scarab.exchange import Exchange
from scarab.paths import Paths
from scarab.readyline import parse
from scarab.remote import SshTarget, explain_ssh_failure, open_ssh_channel

__all__ = ["INPUT_CHUNK", "Client", "start_daemon"]

START_TIMEOUT = 60.0
INPUT_CHUNK = 64 * 1024  # bytes of input per message: the daemon takes frames up to 1 MiB from a client
SERVE_TIMEOUT = 10.0  # from a daemon reported running to it accepting connections
HELLO_TIMEOUT = 5.0  # a daemon that accepted but says nothing this long is stopped or stuck


def start_daemon(paths: Paths) -> int:
    """Start the daemon in the background (or find the running one); returns its pid."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "scarab.daemon"],  # `scarab daemon run --fork` without the CLI
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=START_TIMEOUT,
            text=True,
        )
    except subprocess.TimeoutExpired:
        raise DaemonUnreachable(f"the daemon did not start within {START_TIMEOUT:g}s; see {paths.daemon_log}") from None
    try:
        (pid,) = parse(proc.stdout, pids=1, words=("ready", "running"))
    except ValueError as exc:
        detail = str(exc) or proc.stderr.strip() or proc.stdout.strip()
        raise DaemonUnreachable(f"could not start the scarab daemon: {detail or 'no reason given'}") from None
    return pid


def _not_answering(paths: Paths) -> str:
    try:
        pid = int(paths.lock.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return f"the daemon at {paths.socket} is not answering (stopped or stuck)"
    return (
        f"the daemon at pid {pid} is not answering (stopped or stuck; {HELLO_TIMEOUT:g}s). If it was stopped, "
        f"`kill -CONT {pid}`; else `kill {pid}` (sessions keep running) and run the command again"
    )


class Client:
    def __init__(self, channel: Channel, daemon_pid: int, proc: asyncio.subprocess.Process | None = None) -> None:
        self.daemon_pid = daemon_pid
        self.proc = proc  # the ssh process carrying this connection, if remote
        # Frames are acknowledged only through a proxy, which paces a slow link by them; the local
        # daemon does not wait for acks, so sending them would only cost every frame a write.
        self.acks = proc is not None
        self.events: asyncio.Queue[p.Message | None] = asyncio.Queue()
        # Takes a frame as it is read (True: taken), when nothing is queued before it: the TUI draws
        # its session's frames without a hop through `events` (the rest still arrive in order there).
        self.frame_sink: Callable[[p.Frame], bool] | None = None
        self._exchange = Exchange(
            channel, _pushed_by_daemon, self._on_push, _lost, last=_last_reply, on_unsolicited=self._on_unsolicited
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open_raw(cls, paths: Paths, autostart: bool = True) -> Channel:
        """A connection to the local daemon (started if needed), before any Hello."""
        try:
            return await cls._open(paths.socket)
        except DaemonUnreachable:
            if not autostart:
                raise
            await asyncio.to_thread(start_daemon, paths)
        # `running`: another start (another terminal's, at the same instant) holds the lock and may
        # not be listening yet; give it the time a start takes.
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            try:
                return await cls._open(paths.socket)
            except DaemonUnreachable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.02)

    @classmethod
    async def connect(cls, paths: Paths | None = None, autostart: bool = True) -> Client:
        paths = paths or Paths.default()
        for attempt in range(3):
            channel = await cls.open_raw(paths, autostart)
            try:
                hello = await asyncio.wait_for(channel.hello("client"), HELLO_TIMEOUT)
            except (EOFError, ConnectionError) as exc:
                # A daemon that is dying (killed, its threads still exiting) can still accept a
                # connection and then drop it: wait a moment and connect again (or start a new one).
                await channel.close()
                if attempt == 2 or not autostart:
                    raise DaemonUnreachable(f"the daemon at {paths.socket} dropped the connection: {exc}") from None
                await asyncio.sleep(0.1 * (attempt + 1))
                continue
            except TimeoutError:
                await channel.close()
                raise DaemonUnreachable(_not_answering(paths)) from None
            except OSError as exc:
                await channel.close()
                raise DaemonUnreachable(f"the daemon at {paths.socket} did not answer: {exc}") from None
            except BaseException:
                await channel.close()
                raise
            return cls(channel, hello.pid)
        raise AssertionError("unreachable")

    @classmethod
    async def adopt(cls, sock: socket.socket, pending: bytes, daemon_pid: int) -> Client:
        """A connection someone else opened and greeted (the first paint's), with the bytes it had
        read past its last message."""
        return cls(await Channel.from_socket(sock, pending), daemon_pid)

    @classmethod
    async def connect_ssh(cls, target: SshTarget) -> Client:
        """A connection to the daemon on another machine, through `ssh HOST scarab proxy`."""
        channel, proc = await open_ssh_channel(target)
        try:
            hello = await asyncio.wait_for(channel.hello("client"), 60)
        except (EOFError, OSError, TimeoutError, ProtocolError) as exc:
            error = await explain_ssh_failure(target, proc, exc)
            await channel.close()
            raise error from None
        return cls(channel, hello.pid, proc)

    @staticmethod
    async def _open(socket: Path) -> Channel:
        try:
            return await Channel.connect_unix(str(socket))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise DaemonUnreachable(f"no daemon is listening on {socket} ({exc.strerror})") from None
        except OSError as exc:
            raise DaemonUnreachable(f"cannot reach the daemon at {socket}: {exc}") from None

    async def _read(self) -> None:
        try:
            await self._exchange.run()
        finally:
            self.events.put_nowait(None)  # the connection was lost

    def _on_push(self, msg: p.Message) -> None:
        if isinstance(msg, p.Frame):
            if self.acks:  # at once: a proxy on a slow link sends more only after this
                self._exchange.send(p.FrameAck(session_id=msg.session_id, seq=msg.seq))
            sink = self.frame_sink
            if sink is not None and self.events.empty() and sink(msg):
                return
        self.events.put_nowait(msg)

    def _on_unsolicited(self, msg: p.Message) -> None:
        if isinstance(msg, p.Failed):  # an unsolicited error precedes the daemon closing this connection
            self.events.put_nowait(msg)

    def send(self, msg: p.Message) -> None:
        """A message that gets no reply (input, resize)."""
        self._exchange.send(msg)

    def send_input(self, target: str, data: bytes) -> None:
        """Keys or a paste of any size, in frames the daemon takes (it refuses big ones)."""
        for start in range(0, len(data), INPUT_CHUNK):
            self._exchange.send(p.Input(target=target, data=data[start : start + INPUT_CHUNK]))

    async def request(self, msg: p.Message) -> p.Message:
        return _checked(await (await self._exchange.ask(msg)).get())

    async def capture(self, target: str, scrollback: bool = False, ansi: bool = False) -> AsyncIterator[str]:
        """A capture's text, page by page (a big scrollback arrives as many bounded pages)."""
        replies = await self._exchange.ask(p.Capture(target=target, scrollback=scrollback, ansi=ansi))
        while True:
            reply = _checked(await replies.get())
            assert isinstance(reply, p.Captured)
            yield reply.text
            if not reply.more:
                return

    async def capture_text(self, target: str, scrollback: bool = False, ansi: bool = False) -> str:
        return "".join([page async for page in self.capture(target, scrollback, ansi)])

    async def watch(self, target: str = "", output: bool = False) -> AsyncIterator[p.Event]:
        """The daemon's events as they happen (every session's, or `target`'s), until the
        connection ends; with `output`, each pane's changed rows too. Read them promptly: a
        watcher that falls far behind is dropped (the iteration ends)."""
        await self.request(p.Watch(target=target, output=output))
        while True:
            msg = await self.events.get()
            if msg is None:
                return
            if isinstance(msg, p.Event):
                yield msg

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, ScarabError):
            await self._reader
        await self._exchange.close()
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5)


def _pushed_by_daemon(msg: p.Message) -> bool:
    # SetBuffer: a program's copy (OSC 52), pushed like the others; Event: a watcher's; Notice: a
    # line for the status bar.
    return isinstance(msg, p.Frame | p.Kicked | p.SessionsChanged | p.Layout | p.SetBuffer | p.Event | p.Notice)


def _last_reply(reply: p.Message) -> bool:
    return not (isinstance(reply, p.Captured) and reply.more)  # a capture comes in pages


def _lost() -> DaemonUnreachable:
    return DaemonUnreachable("the connection to the daemon was lost")


def _checked(reply: p.Message | None) -> p.Message:
    if reply is None:
        raise _lost()
    if isinstance(reply, p.Failed):
        raise error_from_code(reply.code, reply.message)
    return reply
