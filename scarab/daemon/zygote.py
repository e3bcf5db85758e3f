"""Zygote layer: a process with everything a session host needs already imported, forking hosts.

A fresh interpreter costs ~25 MB and a few hundred ms; a fork of this process shares its pages
copy-on-write, so an idle host costs a few MB and starts in milliseconds. Protocol on stdin/stdout,
one JSON object per line: `{"id", "argv", "log"}` in, `{"id", "line"}` out, where `line` is the host's
ready line (`ready HOST_PID CHILD_PID` or `error ...`). The zygote never starts an event loop or a
thread, so forking it is safe; it exits when the daemon closes its stdin. Hosts are double-forked
(see host.main) and do not depend on it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import select
import sys
import tempfile

import scarab.daemon.host as host
from scarab import protocol as p
from scarab.channel import Channel
from scarab.daemon.emulator import Emulator
from scarab.proctitle import set_process_name

READY_TIMEOUT = 15.0


def _warm_up() -> None:
    # Run what every host runs once, before any fork: lazily built tables (wcwidth, pyte's charsets,
    # regexes) and asyncio's and msgpack's first-use state then live in shared pages.
    emu = Emulator(10, 2)
    emu.feed("warm ünï 日本 \x1b[1;31mx\x1b[0m\r\n".encode())
    emu.capture(ansi=True)
    host.encode_frame(emu, "warm", 1, [0, 1], True)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_warm_up_loop(os.path.join(tmp, "warm.sock")))


async def _warm_up_loop(path: str) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = Channel(reader, writer)
        await channel.send(await channel.recv())
        await channel.close()

    server = await asyncio.start_unix_server(serve, path=path)
    client = await Channel.connect_unix(path)
    await client.send(p.Hello(version=p.PROTOCOL_VERSION, role="host"))
    await client.recv()
    await client.close()
    server.close()
    await server.wait_closed()


def _spawn(argv: list[str], log: str) -> str:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the launcher: runs host.main, which forks the real host and exits
        code = 1
        try:
            os.close(read_fd)
            os.dup2(write_fd, 1)
            os.close(write_fd)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(log_fd, 2)
            code = host.main(argv)
        finally:
            os._exit(code)
    os.close(write_fd)
    line = b""
    try:
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([read_fd], [], [], READY_TIMEOUT)
            if not ready:
                break
            chunk = os.read(read_fd, 4096)
            if not chunk:
                break
            line += chunk
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    return line.decode(errors="replace").strip() or f"error no ready signal; see {log}"


def main() -> int:
    set_process_name("scarab-zygote")
    _warm_up()
    # Move everything imported so far out of the collector's reach: a collection in a host would
    # otherwise write to every object's header and copy the zygote's pages into each host.
    gc.collect()
    gc.freeze()
    out = sys.stdout
    for raw in sys.stdin:
        try:
            request = json.loads(raw)
            line = _spawn([str(a) for a in request["argv"]], str(request["log"]))
            reply = {"id": request.get("id"), "line": line}
        except Exception as exc:  # a bad request costs that spawn, never the zygote
            reply = {"id": None, "line": f"error zygote: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
