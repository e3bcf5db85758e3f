"""Remote layer (client side): reaching a daemon on another machine through `ssh HOST scarab proxy`.

`open_ssh_channel` runs ssh with the proxy (proxy.py) as its remote command and speaks the normal
protocol over its stdin/stdout; `explain_ssh_failure` says why it did not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
from dataclasses import dataclass

from scarab import protocol as p
from scarab.channel import Channel
from scarab.errors import DaemonUnreachable, ProtocolError, ScarabError

__all__ = ["SshTarget", "explain_ssh_failure", "open_ssh_channel"]


@dataclass(frozen=True)
class SshTarget:
    host: str  # [user@]host
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> SshTarget:
        host, port = text, None
        if text.count(":") == 1 and not text.startswith("["):
            host, _, raw = text.partition(":")
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise ScarabError(f"bad ssh target {text!r}: the port must be a number (user@host:port)")
            port = int(raw)
        if not host or host.startswith("-"):
            raise ScarabError(f"bad ssh target {text!r}: expected [user@]host[:port]")
        return cls(host, port)


def ssh_argv(target: SshTarget) -> list[str]:
    """The ssh command: `$SCARAB_SSH` (e.g. "ssh -i key") or plain ssh; then the remote proxy."""
    base = shlex.split(os.environ.get("SCARAB_SSH", "ssh"))
    remote = os.environ.get("SCARAB_REMOTE_COMMAND", "scarab")
    argv = [*base, "-T", "-e", "none", "-o", "ServerAliveInterval=15"]
    if target.port is not None:
        argv += ["-p", str(target.port)]
    return [*argv, target.host, f"{remote} proxy"]


async def open_ssh_channel(target: SshTarget) -> tuple[Channel, asyncio.subprocess.Process]:
    argv = ssh_argv(target)
    if shutil.which(argv[0]) is None:
        raise DaemonUnreachable(f"ssh is not installed (no {argv[0]!r} on PATH); install OpenSSH's client")
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=p.MAX_FRAME,
    )
    assert proc.stdin is not None and proc.stdout is not None
    return Channel(proc.stdout, proc.stdin), proc


async def explain_ssh_failure(target: SshTarget, proc: asyncio.subprocess.Process, exc: BaseException) -> ScarabError:
    """Turn a failed ssh start into a message naming the likely cause."""
    with contextlib.suppress(TimeoutError, ProcessLookupError):
        await asyncio.wait_for(proc.wait(), 10)
    stderr = b""
    if proc.stderr is not None:
        with contextlib.suppress(Exception):
            stderr = await asyncio.wait_for(proc.stderr.read(), 2)
    detail = stderr.decode(errors="replace").strip().splitlines()
    last = detail[-1] if detail else ""
    if isinstance(exc, ProtocolError) and "version" in str(exc):
        return ProtocolError(f"{target.host}: {exc}")
    if proc.returncode == 127 or "not found" in last:
        return DaemonUnreachable(
            f"scarab is not installed on {target.host} (or not on its PATH): {last or 'command not found'}; "
            "install it there, or set SCARAB_REMOTE_COMMAND to its path"
        )
    if proc.returncode == 255:
        return DaemonUnreachable(f"ssh to {target.host} failed: {last or 'connection failed'}")
    return DaemonUnreachable(
        f"the scarab proxy on {target.host} ended (status {proc.returncode}): {last or exc or 'no output'}"
    )
