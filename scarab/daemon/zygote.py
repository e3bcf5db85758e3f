"""Zygote layer: a process with everything a session host needs already imported, forking hosts.

A fresh interpreter costs ~25 MB and a few hundred ms; a fork of this process shares its pages
copy-on-write, so an idle host costs a few MB and starts in milliseconds. Protocol on stdin/stdout,
one JSON object per line: `{"id", "config", "log"}` in (config: the fields of host.HostConfig),
`{"id", "line"}` out, where `line` is the host's ready line (`ready HOST_PID CHILD_PID` or
`error ...`). The zygote never starts an event loop or a thread, so forking it is safe; it exits
when the daemon closes its stdin. Hosts are forked once, start their own session and do not
depend on it: when it exits they are re-parented to init.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import select
import signal
import socket

import scarab.daemon.host as host
from scarab import protocol as p
from scarab.daemon.emulator import Emulator
from scarab.daemon.hostio import FrameConn, Loop
from scarab.proctitle import set_process_name

READY_TIMEOUT = 15.0


def _warm_up() -> None:
    # Run what every host runs once, before any fork: lazily built tables (wcwidth, pyte's charsets,
    # regexes, message field types) then live in shared pages.
    p.preload()
    emu = Emulator(10, 2)
    emu.feed("warm ünï 日本 \x1b[1;31mx\x1b[0m\r\n".encode())
    emu.capture(ansi=True)
    host.encode_frame(emu, "warm", 1, [0, 1], True)
    # One round trip through the host's loop and framing.
    loop = Loop()

    def echo(conn: FrameConn, msg: p.Message) -> None:
        conn.send(msg)
        loop.stop()

    ours, theirs = socket.socketpair()
    with ours, theirs:
        conn = FrameConn(loop, ours, echo, lambda conn: None)
        theirs.sendall(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="host")))
        loop.call_later(0, lambda: None)
        loop.run()
        conn.close()
    loop.close()


_libc = ctypes.CDLL(None, use_errno=True)


def _raw_fork() -> int:
    """fork(2) without Python's after-fork handlers.

    os.fork runs threading's, logging's and random's handlers in the child; the functions and objects
    they touch are copied into every host (measured: ~650 KB of ~4.7 MB per idle host). The zygote
    has no threads and holds no locks when it forks, which is what those handlers repair."""
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
            os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), 2)
            code = host.serve_detached(host.HostConfig(**config), write_fd)
        finally:
            os._exit(code)
    # Everything this process writes from here on is copied into the new host (its pages are still
    # shared), so waiting for the ready line is kept to a few system calls.
    os.close(write_fd)
    line = b""
    try:
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], READY_TIMEOUT)
            chunk = os.read(read_fd, 4096) if ready else b""
            if not chunk:
                break
            line += chunk
    finally:
        os.close(read_fd)
    return line.decode(errors="replace").strip() or f"error no ready signal; see {log}"


def _handle(raw: bytes) -> bytes:
    try:
        request = json.loads(raw)
        reply = {"id": request.get("id"), "line": _spawn(dict(request["config"]), str(request["log"]))}
    except Exception as exc:  # a bad request costs that spawn, never the zygote
        reply = {"id": None, "line": f"error zygote: {exc}"}
    return (json.dumps(reply) + "\n").encode()


def main() -> int:
    set_process_name("scarab-zygote")
    _warm_up()
    # Move everything imported so far out of the collector's reach: a collection in a host would
    # otherwise write to every object's header and copy the zygote's pages into each host.
    gc.collect()
    gc.freeze()
    # Hosts are our children but outlive us and are never waited for: the kernel reaps them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    pending = b""
    while chunk := os.read(0, 65536):
        pending += chunk
        while b"\n" in pending:
            raw, pending = pending.split(b"\n", 1)
            os.write(1, _handle(raw))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
