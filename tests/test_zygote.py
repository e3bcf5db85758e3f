"""Hosts with and without the zygote: the fast path, and the fallback when the zygote is gone."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from scarab import protocol as p
from scarab.daemon.hostconfig import HostConfig
from scarab.daemon.hostlink import HostLink, Zygote, spawn_host
from tests.helpers import ScarabEnv, pid_alive, wait_for


def request(env: ScarabEnv, name: str) -> HostConfig:
    hosts = env.root / "hosts"
    hosts.mkdir(exist_ok=True)
    return HostConfig(
        session_id=f"id-{name}", name=name, socket=hosts / f"{name}.sock", log=hosts / f"{name}.log",
        cols=50, rows=6, cwd=str(env.root), command=("sh", "-c", f"echo hello from {name}; exec cat"),
        scrollback=100, token="test-token",
    )  # fmt: skip


async def host_says_hello(req: HostConfig) -> int:
    """Talk to the host as the daemon does; returns its pid after terminating it."""
    link = await HostLink.connect(req.socket, req.token, lambda link, msg: None)
    reader = asyncio.create_task(link.run())
    try:
        assert link.greeting.name == req.name and (link.greeting.cols, link.greeting.rows) == (req.cols, req.rows)
        for _ in range(200):
            captured = await link.request(p.HostCapture(scrollback=False, ansi=False))
            assert isinstance(captured, p.Captured)
            if f"hello from {req.name}" in captured.text:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"no output from {req.name}: {captured.text!r}")
        assert isinstance(await link.request(p.HostTerminate()), p.Done)
        return link.greeting.host_pid
    finally:
        reader.cancel()
        await link.close()


def test_hosts_forked_from_the_zygote_and_as_fresh_interpreters(in_env: ScarabEnv) -> None:
    async def scenario() -> list[int]:
        zygote = await Zygote.start()
        try:
            forked = request(in_env, "forked")
            host_pid, _child = await spawn_host(forked, zygote)
            assert Path(f"/proc/{host_pid}/comm").read_text().strip() == "scarab-host"
            pids = [await host_says_hello(forked)]
        finally:
            await zygote.close()
        fresh = request(in_env, "fresh")  # no zygote: `python -m scarab.daemon.host`
        await spawn_host(fresh, None)
        pids.append(await host_says_hello(fresh))
        return pids

    for pid in asyncio.run(asyncio.wait_for(scenario(), 60)):
        wait_for(lambda pid=pid: not pid_alive(pid), what=f"host {pid} to end after HostTerminate")


def test_sessions_still_start_when_the_zygote_was_killed(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "first", "--", "sh", "-c", "echo one; exec cat")
    (zygote,) = wait_for(scarab.zygote_pids, what="the daemon's zygote")
    os.kill(zygote, signal.SIGKILL)
    wait_for(lambda: not pid_alive(zygote))
    scarab.ok("new", "-d", "-s", "second", "--", "sh", "-c", "echo two; exec cat")
    wait_for(lambda: "two" in scarab.capture("second"), what="the second session's output")
    assert "one" in scarab.capture("first")  # the zygote's death cost no session
    assert len(scarab.host_pids()) == 2


def test_a_host_answers_a_peer_that_skips_hello_and_carries_on(in_env: ScarabEnv) -> None:
    async def scenario() -> int:
        zygote = await Zygote.start()
        try:
            req = request(in_env, "strict")
            await spawn_host(req, zygote)
            reader, writer = await asyncio.open_unix_connection(str(req.socket))
            writer.write(p.encode(p.HostRedraw()))
            header = await reader.readexactly(p.HEADER.size)
            error = p.decode(await reader.readexactly(p.frame_length(header)))
            assert isinstance(error, p.Failed) and "expected Hello first" in error.message
            assert await reader.read() == b""  # and closed
            writer.close()
            return await host_says_hello(req)  # the session is fine
        finally:
            await zygote.close()

    pid = asyncio.run(asyncio.wait_for(scenario(), 60))
    wait_for(lambda: not pid_alive(pid), what="the host to end after HostTerminate")


def test_a_late_answer_to_an_earlier_spawn_is_not_taken_for_this_one(tmp_path: Path) -> None:
    # A zygote that answers an earlier request (one that timed out) before this one.
    script = (
        "import json, sys\nrequest = json.loads(sys.stdin.readline())\n"
        "print(json.dumps({'id': request['id'] - 1, 'line': 'ready 1 2'}))\n"
        "print(json.dumps({'id': request['id'], 'line': 'ready 3 4'}), flush=True)\nsys.stdin.read()\n"
    )

    async def scenario() -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        zygote = Zygote(proc)
        try:
            return await zygote.spawn({}, tmp_path / "log")
        finally:
            await zygote.close()

    assert asyncio.run(asyncio.wait_for(scenario(), 30)) == "ready 3 4"
