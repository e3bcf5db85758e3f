"""Zygote layer: a process with everything a session host needs already imported, forking hosts.

A fresh interpreter costs ~25 MB and a few hundred ms; a fork of this process shares its pages
copy-on-write, so an idle host costs a few MB and starts in milliseconds. Protocol on stdin/stdout,
one JSON object per line: `{"id", "config", "log", "deadline"}` in (config: HostConfig.to_dict;
deadline: a time.monotonic() value, the clock is the same in every process),
`{"id", "line"}` out, where `line` is the host's ready line (`ready HOST_PID CHILD_PID` or
`error ...`), or `{"id", "refused"}` when no host was forked (the daemon starts it the slow way).
The zygote never starts an event loop or a thread, so forking it is safe; it exits when the daemon
closes its stdin. Hosts are forked once, start their own session and do not
depend on it: when it exits they are re-parented to init.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

import scarab.daemon.host as host
from scarab import protocol as p
from scarab.daemon.emulator import Emulator
from scarab.daemon.hostconfig import HostConfig
from scarab.daemon.hostio import Loop
from scarab.logfile import open_log
from scarab.paths import Paths
from scarab.proctitle import set_process_name
from scarab.readyline import HOST_READY_TIMEOUT, read_line

REHEARSALS = 10  # CPython 3.11 specialises a function's bytecode in place after 8 calls
WARM_UP_BUDGET = 3.0  # seconds; spawn requests wait for the warm-up (~0.6 s at load 8 on 2 cores)


def _warm_up() -> None:
    """Live a whole host's life a few times before any fork.

    Lazily built tables (wcwidth, pyte's charsets, regexes, message field types) then live in shared
    pages, and so does the bytecode the interpreter rewrites as it specialises: a function run for
    the first time in a host would otherwise copy its code object's pages into that host. The code
    a host runs is first gathered into pages of its own (`_repack`), then specialised there."""
    p.preload()
    deadline = time.monotonic() + WARM_UP_BUDGET
    used: set[types.CodeType] = set()

    def record(frame: types.FrameType, event: str, _arg: object) -> None:
        if event == "call":
            used.add(frame.f_code)

    runtime = Paths.default().runtime  # looked up once, outside the recorded rehearsal
    place = str(runtime) if runtime.is_dir() else None
    if not _rehearsals(1, deadline, place):
        return
    sys.setprofile(record)  # a life once everything lazy is built: what each host runs
    try:
        rehearsed = _rehearsals(1, deadline, place)
    finally:
        sys.setprofile(None)
    if rehearsed:
        gc.collect()
        _fill_pools()  # so the copies below fill fresh pools, side by side
        _repack(used)
        _rehearsals(REHEARSALS, deadline, place)


def _rehearsals(count: int, deadline: float, place: str | None) -> bool:
    """Whether all `count` ran. Each in a directory in `place`, the runtime directory (private, and
    gone at logout): a zygote killed during one leaves it behind, and in /tmp those piled up."""
    for _ in range(count):
        try:
            with tempfile.TemporaryDirectory(prefix="warm-", dir=place) as tmp:
                ended = _rehearse(tmp, deadline)
        except Exception as exc:  # a failed rehearsal costs hosts some memory, never a session
            print(f"scarab-zygote: warm-up skipped: {exc!r}", file=sys.stderr)
            return False
        if not ended:
            print("scarab-zygote: warm-up cut short: a rehearsal's program did not end in time", file=sys.stderr)
            return False
    return True


def _repack(used: set[types.CodeType]) -> None:
    """Give every function a host runs a fresh copy of its code, allocated now, side by side.

    Calling a function writes to its code object (its reference count, the specialised bytecode's
    counters); the originals lie scattered among everything imported, one or two per page, so each
    host copied a page per function it ran (measured: ~0.25 MB less per idle host). Functions made
    at run time (lambdas, comprehensions, closures) take the copy from their parent's constants."""
    copies: dict[types.CodeType, types.CodeType] = {}

    def copy(code: types.CodeType) -> types.CodeType:
        new = copies.get(code)
        if new is None:
            consts = tuple(copy(c) if isinstance(c, types.CodeType) and c in used else c for c in code.co_consts)
            new = copies[code] = code.replace(co_consts=consts)
        return new

    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__code__ in used:
            obj.__code__ = copy(obj.__code__)


# Output with UTF-8 and colour, then a line of input (echoed back by the tty), then exit.
_REHEARSAL_SCRIPT = "printf 'w\\303\\274rm \\033[1;31mup\\033[0m\\r\\n'; read x"


def _rehearse(tmp: str, deadline: float) -> bool:
    """Whether the session's program ended (else the deadline ended the rehearsal)."""
    config = HostConfig(
        session_id="warm", name="warm", socket=Path(tmp) / "host.sock", log=Path(os.devnull), token="warm",
        cols=20, rows=3, cwd=tmp, scrollback=10, command=("/bin/sh", "-c", _REHEARSAL_SCRIPT),
    )  # fmt: skip
    config = HostConfig.from_dict(config.to_dict())  # as it comes to _spawn
    loop = Loop()
    session = host.SessionHost(config, loop)
    daemon = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        session.listen(config.socket)
        for _ in range(REHEARSALS):
            session.keep_socket()  # runs every second in every host: specialised here, in shared pages
        session.tick_controls()
        session.build()
        daemon.connect(str(config.socket))
        requests = [
            p.Hello(version=p.PROTOCOL_VERSION, role="daemon"),
            p.HostAuth(token="warm"),
            p.HostHistory(start=0, count=0),  # the daemon's first request
            p.HostResize(cols=30, rows=4),
            p.HostRedraw(),
            p.SplitWindow(target="", horizontal=True, command=["/bin/sh", "-c", "exit 0"], pane_id=1),
            p.SelectLayout(target="", step=1),
            p.HostCapture(scrollback=True, ansi=True),
            p.HostSnapshot(),
            p.HostSaveRows(start=0, stop=10),
            p.HostInput(data="日本 \x1b[A\r".encode(), pane=0),  # the first pane: the split is active
        ]
        daemon.sendall(b"".join(p.encode(msg) for msg in requests))

        def check() -> None:
            # Drain what the host sends, as a daemon would, until the child has been reaped.
            with contextlib.suppress(BlockingIOError):
                daemon.recv(1 << 20, socket.MSG_DONTWAIT)
            if session.exit_status is not None or time.monotonic() > deadline:
                loop.stop()
            else:
                loop.call_later(0.001, check)

        loop.call_later(0, check)
        loop.run()
        return session.exit_status is not None
    finally:
        session.shutdown()
        loop.close()
        daemon.close()


_BALLAST: list[object] = []


def _fill_pools() -> None:
    """Fill the free slots of pymalloc's partly used pools with objects kept forever.

    A host's new objects would otherwise land in those slots, one here, one there, each write
    copying a whole shared page; with them full, hosts allocate from fresh pools, densely
    (measured: ~130-180 KB less per idle host). The counts come from sys._debugmallocstats, a CPython
    diagnostic: if its format ever changes, nothing is filled and nothing breaks."""
    with tempfile.TemporaryFile() as report:
        saved = os.dup(2)
        try:
            os.dup2(report.fileno(), 2)  # it writes to the C-level stderr
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        report.seek(0)
        text = report.read().decode(errors="replace")
    for match in re.finditer(r"^\s*\d+\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s*$", text, re.MULTILINE):
        size, free = int(match[1]), int(match[2])
        _BALLAST.extend(_object_of_size(size, i) for i in range(free))


def _object_of_size(size: int, i: int) -> object:
    """A new object that pymalloc puts in the size class of `size` bytes."""
    if size <= 16:
        return object()  # 16 bytes
    if size <= 32:
        return 1_000_000 + i  # a one-digit int: 28 bytes
    return b"\0" * (size - sys.getsizeof(b""))  # bytes: header + length


_libc = ctypes.CDLL(None, use_errno=True)


def _raw_fork() -> int:
    """fork(2) without Python's after-fork handlers, where that is safe.

    os.fork runs threading's, logging's and random's handlers in the child; the functions and objects
    they touch are copied into every host (measured: ~130 KB per idle host). Those handlers repair
    what other threads may have left locked; with no other thread there is nothing to repair, and
    with one (never so far) this is plain os.fork."""
    if threading.active_count() > 1:
        return os.fork()
    pid = int(_libc.fork())
    if pid < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return pid


def _spawn(config: dict[str, object], log: str) -> str:
    read_fd, write_fd = os.pipe()
    if _raw_fork() == 0:  # the host
        code = 1
        try:
            os.close(read_fd)
            try:
                log_fd = open_log(log)
            except OSError:  # no log is better than no session
                log_fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(log_fd, 2)
            os.close(log_fd)
            code = host.serve_detached(HostConfig.from_dict(config), write_fd, _BLANK)
        finally:
            os._exit(code)
    # Everything this process writes from here on is copied into the new host (its pages are still
    # shared), so waiting for the ready line is kept to a few system calls.
    os.close(write_fd)
    return read_line(read_fd, HOST_READY_TIMEOUT) or f"error no ready signal; see {log}"


# Every host's emulator, built once here (see Emulator.reconfigure); each fork gets its own copy-on-write.
_BLANK = Emulator(80, 24)


def _handle(raw: bytes, daemon: int) -> bytes:
    ident = None
    try:
        request = json.loads(raw)
        ident = request.get("id")
        # A request read late (this process was still warming up) must not fork a host nobody
        # waits for: its daemon gave up on it (and started the host another way), or died and a
        # new daemon already looked for hosts to adopt. Either way it would be a second or a stray
        # host for that session.
        if os.getppid() != daemon:
            reply = {"id": ident, "refused": "the daemon that asked is gone"}
        elif time.monotonic() > float(request.get("deadline", "inf")):
            reply = {"id": ident, "refused": "the request was read too late"}
        else:
            reply = {"id": ident, "line": _spawn(dict(request["config"]), str(request["log"]))}
    except Exception as exc:  # a bad request costs that spawn, never the zygote
        reply = {"id": ident, "line": f"error zygote: {exc}"}
    return (json.dumps(reply) + "\n").encode()


def main(argv: list[str]) -> int:
    """`python -m scarab.daemon.zygote DAEMON_PID`: serve that daemon (its pid is passed, not read
    with getppid at start-up: a daemon that died meanwhile would already have been replaced)."""
    daemon = int(argv[0])
    set_process_name("scarab-zygote")
    _warm_up()
    # Move everything imported so far out of the collector's reach: a collection in a host would
    # otherwise write to every object's header and copy the zygote's pages into each host.
    gc.collect()
    _fill_pools()
    gc.freeze()
    # Hosts are our children but outlive us and are never waited for: the kernel reaps them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    pending = b""
    while chunk := os.read(0, 65536):
        pending += chunk
        while b"\n" in pending:
            raw, pending = pending.split(b"\n", 1)
            os.write(1, _handle(raw, daemon))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
