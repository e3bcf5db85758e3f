"""Hosts with and without the zygote: the fast path, and the fallback when the zygote is gone."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.daemon import zygote
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
    link = await HostLink.connect(req.socket, req.token, lambda link, msg, wire: None)
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


def _zygote_reply(proc: subprocess.Popen[bytes], request: dict[str, object]) -> dict[str, object]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write((json.dumps(request) + "\n").encode())
    proc.stdin.flush()
    reply = json.loads(proc.stdout.readline())
    assert isinstance(reply, dict)
    return reply


def test_a_request_read_too_late_forks_no_host(in_env: ScarabEnv) -> None:
    # The daemon gave up on it (and started the host the slow way): a fork now would be a second host.
    req = request(in_env, "late")
    proc = subprocess.Popen([sys.executable, "-m", "scarab.daemon.zygote", str(os.getpid())], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)  # fmt: skip
    try:
        reply = _zygote_reply(proc, {"id": 7, "config": req.to_dict(), "log": str(req.log), "deadline": 0})
        assert reply == {"id": 7, "refused": "the request was read too late"}
        assert not req.socket.exists()
        in_time = {"id": 8, "config": req.to_dict(), "log": str(req.log), "deadline": time.monotonic() + 30}
        assert str(_zygote_reply(proc, in_time)["line"]).startswith("ready ")  # the same request in time
        assert asyncio.run(asyncio.wait_for(host_says_hello(req), 30))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(30)


def test_the_zygote_of_a_dead_daemon_forks_no_host(in_env: ScarabEnv) -> None:
    # A daemon killed while its zygote was still warming up left a spawn request in the pipe; the
    # next daemon looks for hosts before that zygote gets to it. The zygote must not fork it.
    req = request(in_env, "orphan")
    starter = (
        "import os, subprocess, sys\n"
        "print(subprocess.Popen([sys.executable, '-m', 'scarab.daemon.zygote', str(os.getpid())]).pid)"
    )
    proc = subprocess.Popen([sys.executable, "-c", starter], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    zygote = int(proc.stdout.readline())  # the "daemon" exits at once; the zygote shares our pipes
    proc.wait(30)
    try:
        reply = _zygote_reply(proc, {"id": 1, "config": req.to_dict(), "log": str(req.log),
                                     "deadline": time.monotonic() + 60})  # fmt: skip
        assert reply == {"id": 1, "refused": "the daemon that asked is gone"}
        assert not req.socket.exists()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        wait_for(lambda: not pid_alive(zygote), what="the zygote to exit with its stdin closed")


def test_a_host_with_no_session_is_adopted_while_the_daemon_runs(scarab: ScarabEnv) -> None:
    # What a daemon killed between forking a host and writing its row leaves, when the host comes up
    # after the next daemon started: a live host nobody knows. It becomes a session, never a stray.
    scarab.ok("new", "-d", "-s", "known", "--", "sh")
    token = scarab.paths.host_key.read_text().strip()
    req = HostConfig(
        session_id="f" * 32, name="known", socket=scarab.paths.host_socket("f" * 32), log=scarab.root / "stray.log",
        cols=70, rows=9, cwd=str(scarab.root), command=("sh",), scrollback=100, token=token,
    )  # fmt: skip
    host_pid, _child = asyncio.run(asyncio.wait_for(spawn_host(req, None), 60))
    try:
        adopted = wait_for(
            lambda: next((s for s in scarab.sessions() if s["host_pid"] == host_pid), None),
            timeout=20, what="the stray host to be adopted as a session",
        )  # fmt: skip
        assert adopted["name"] == f"known-{'f' * 6}" and (adopted["cols"], adopted["rows"]) == (70, 9)
        # (our_pids() finds processes by this world's environment, which this host, started with the
        # test process's, lacks: the fixture would not end it, hence the `finally`)
        assert {s["host_pid"] for s in scarab.sessions()} == {*scarab.host_pids(), host_pid}
        scarab.ok("kill", str(adopted["name"]))
        wait_for(lambda: not pid_alive(host_pid), what="the adopted host to end on kill")
    finally:
        if pid_alive(host_pid):
            os.kill(host_pid, signal.SIGKILL)


def private_dirty_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Private_Dirty:"):
            return int(line.split()[1])
    raise AssertionError(f"no Private_Dirty for {pid}")


@pytest.mark.stress  # ~4 s: a daemon, its zygote's warm-up, two sessions
def test_an_idle_forked_host_copies_little_of_the_zygote(scarab: ScarabEnv) -> None:
    """What an idle session costs is mostly the zygote's pages its host writes to (reference counts,
    specialised bytecode). Measured here: ~4.4 MB when every host ran ctypes' find_library (which
    runs ldconfig) and platformdirs' lookups, and the zygote's warm-up stopped after one rehearsal;
    ~3.0 MB since."""
    scarab.ok("new", "-d", "-s", "a", "--", "sh")
    scarab.ok("new", "-d", "-s", "b", "--", "sh")  # the second: the first shares more with the zygote
    wait_for(lambda: "$" in scarab.capture("b"), what="b's prompt")
    used = private_dirty_kb(scarab.session("b")["host_pid"])
    assert used < 3500, f"{used} KB"


def test_a_warm_up_rehearsal_lives_a_whole_host_life(tmp_path: Path) -> None:
    """Its program reads a line the rehearsal types, then exits. Typed into the split pane (the
    active one) the line was lost, so every rehearsal ran into the warm-up's 3 s deadline: one
    rehearsal instead of eleven, the hosts' code never specialised in the zygote (~0.7 MB more in
    each host) and the first session after a daemon start waited the 3 s."""
    start = time.monotonic()
    assert zygote._rehearse(str(tmp_path), start + 10)
    assert time.monotonic() - start < 5


def test_a_zygote_killed_while_warming_up_leaves_its_rehearsal_in_the_runtime_dir(in_env: ScarabEnv) -> None:
    """Not in /tmp, where one directory was left per zygote killed mid-rehearsal (1,229 after a day
    of tests): in the private runtime directory, which goes at logout."""
    runtime = in_env.paths.runtime
    runtime.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "scarab.daemon.zygote", str(os.getpid())], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(lambda: list(runtime.glob("warm-*")), what="a rehearsal in the runtime dir")
    finally:
        proc.kill()
        proc.wait(30)
