"""Host IO layer: the session host's event loop (epoll and timers) and its framed daemon connection.

Why not asyncio, as everywhere else: a host is a fork of the zygote, and every Python function it
runs and every object it touches is copied from the zygote's shared pages into the host's own
memory. asyncio's loop, streams, tasks and signal set-up cost ~1 MB in every idle host; this loop
does what a host needs (fds, a few timers, one connection at a time) with a few dozen functions.
"""

from __future__ import annotations

import contextlib
import heapq
import select
import socket
import time
import traceback
from collections.abc import Callable

from scarab import protocol as p
from scarab.errors import ProtocolError

__all__ = ["FrameConn", "Loop", "Timer"]

Callback = Callable[[], None]
READ_CHUNK = 256 * 1024


class Timer:
    """A pending call; `cancel` keeps it from running."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callback) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: Timer) -> bool:
        return self.when < other.when


class Loop:
    """Readers and writers per fd, timers, and `stop`. Callbacks for `urgent` fds (the daemon's
    input) run before the others of the same wake-up, so keystrokes reach the PTY before pending
    output is parsed, and `urgent_ready` lets a long job (a flood's parse) stop early for them.
    A failing callback is logged to the host log and the loop goes on."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._urgent_epoll = select.epoll()  # the urgent readers alone, for `urgent_ready`
        self._readers: dict[int, Callback] = {}
        self._writers: dict[int, Callback] = {}
        self._urgent: set[int] = set()
        self._timers: list[Timer] = []
        self._stopped = False

    def add_reader(self, fd: int, callback: Callback, urgent: bool = False) -> None:
        self._readers[fd] = callback
        if urgent:
            self._urgent.add(fd)
        self._update(fd)

    def remove_reader(self, fd: int) -> None:
        if self._readers.pop(fd, None) is not None:
            self._update(fd)

    def add_writer(self, fd: int, callback: Callback) -> None:
        self._writers[fd] = callback
        self._update(fd)

    def remove_writer(self, fd: int) -> None:
        if self._writers.pop(fd, None) is not None:
            self._update(fd)

    def _update(self, fd: int) -> None:
        mask = (select.EPOLLIN if fd in self._readers else 0) | (select.EPOLLOUT if fd in self._writers else 0)
        _watch(self._urgent_epoll, fd, select.EPOLLIN if fd in self._readers and fd in self._urgent else 0)
        if not mask:
            self._urgent.discard(fd)
        _watch(self._epoll, fd, mask)

    def urgent_ready(self) -> bool:
        """Whether an urgent reader has input waiting (without running it)."""
        return bool(self._urgent_epoll.poll(0))

    def call_later(self, delay: float, callback: Callback) -> Timer:
        timer = Timer(time.monotonic() + max(0.0, delay), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def stop(self) -> None:
        self._stopped = True

    def run(self) -> None:
        """Until `stop` (which ends this run, not the loop: it can run again)."""
        self._stopped = False
        while not self._stopped:
            timeout = -1.0
            if self._timers:
                timeout = max(0.0, self._timers[0].when - time.monotonic())
            try:
                events = self._epoll.poll(timeout)
            except InterruptedError:
                continue
            events.sort(key=lambda event: event[0] not in self._urgent)
            for fd, mask in events:
                if mask & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR):
                    self._call(self._readers.get(fd))
                if mask & (select.EPOLLOUT | select.EPOLLHUP | select.EPOLLERR):
                    self._call(self._writers.get(fd))
            now = time.monotonic()
            while self._timers and self._timers[0].when <= now:
                timer = heapq.heappop(self._timers)
                if not timer.cancelled:
                    self._call(timer.callback)

    def _call(self, callback: Callback | None) -> None:
        if callback is None:
            return
        try:
            callback()
        except Exception:
            traceback.print_exc()  # stderr is the host log

    def close(self) -> None:
        self._epoll.close()
        self._urgent_epoll.close()


def _watch(epoll: select.epoll, fd: int, mask: int) -> None:
    """`fd` in `epoll` for `mask` (0: not at all)."""
    if not mask:
        # Never registered, or already closed (the kernel then dropped it itself).
        with contextlib.suppress(OSError, ValueError):
            epoll.unregister(fd)
        return
    try:
        epoll.modify(fd, mask)
    except FileNotFoundError:
        epoll.register(fd, mask)


class FrameConn:
    """One framed connection on a non-blocking socket. Whole messages go to `on_message`;
    `on_close` runs once, whatever closed it (EOF, an error, a bad frame, `close`)."""

    def __init__(
        self,
        loop: Loop,
        sock: socket.socket,
        on_message: Callable[[FrameConn, p.Message], None],
        on_close: Callable[[FrameConn], None],
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.fd = sock.fileno()
        self._on_message = on_message
        self._on_close = on_close
        self._in = bytearray()
        self._out = bytearray()
        self.closed = False
        sock.setblocking(False)
        loop.add_reader(self.fd, self._readable, urgent=True)

    def send(self, msg: p.Message) -> None:
        """Queue a message and write what the socket takes now; the rest goes when it is writable."""
        if self.closed:
            return
        queued = bool(self._out)
        self._out += p.encode(msg)
        if not queued:
            self._writable()

    def buffered(self) -> int:
        """Bytes queued but not yet accepted by the kernel (a peer that stopped reading)."""
        return len(self._out)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self._in += data
        try:
            for payload in p.split_frames(self._in):
                msg = p.decode(payload)
                if self.closed:
                    return
                self._on_message(self, msg)
        except ProtocolError as exc:
            self.send(p.Failed(code="protocol", message=str(exc)))
            self.flush(1.0)
            self.close()
        except Exception:
            # A bug met by one connection's message ends that connection, never the session.
            traceback.print_exc()
            self.close()

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self._out)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.close()
            return
        del self._out[:sent]
        if self._out:
            self.loop.add_writer(self.fd, self._writable)
        else:
            self.loop.remove_writer(self.fd)

    def flush(self, timeout: float) -> None:
        """Block up to `timeout` seconds until everything queued is sent (before closing)."""
        deadline = time.monotonic() + timeout
        while self._out and not self.closed and time.monotonic() < deadline:
            select.select([], [self.fd], [], max(0.0, deadline - time.monotonic()))
            self._writable()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.loop.remove_reader(self.fd)
        self.loop.remove_writer(self.fd)
        self.sock.close()
        self._on_close(self)
