"""Reliability and security: hostile peers, crashes at bad moments, storage faults. Real processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import pytest

from scarab import protocol as p
from scarab.channel import Channel
from scarab.client import Client
from scarab.daemon.hostlink import HostLink
from scarab.daemon.server import ClientConn
from tests.helpers import ScarabEnv, pid_alive, rss_kb, wait_for


def raw_exchange(path: Path, payload: bytes, read_timeout: float = 5.0) -> list[p.Message] | None:
    """Send raw bytes; return the messages the daemon answered before closing (None: still open)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)  # EOF: a frame cut short is now known to be truncated
        s.settimeout(read_timeout)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except TimeoutError:
            return None
    messages: list[p.Message] = []
    while len(data) >= 4:
        (n,) = struct.unpack(">I", data[:4])
        messages.append(p.decode(data[4 : 4 + n]))
        data = data[4 + n :]
    return messages


HELLO = p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="client"))


def frame(obj: object) -> bytes:
    payload = msgpack.packb(obj)
    return struct.pack(">I", len(payload)) + payload


def assert_healthy(env: ScarabEnv, daemon: int) -> None:
    assert env.daemon_pid() == daemon, "the daemon died"
    assert [s["name"] for s in env.sessions()] == ["victim"]


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (struct.pack(">I", 3000) + random.Random(7).randbytes(3000), "malformed"),
        (b"\x00\x00\x00\x05\x93\x01", "truncated frame"),
        (struct.pack(">I", 2**31) + b"x" * 100, "exceeds"),
        (frame([1, {"version": 999, "role": "client"}]), "peer speaks 999, this scarab speaks"),
        (frame(["hello", {}]), "expected [tag"),
        (HELLO + frame([777, {}]), "unknown message tag 777"),
        (HELLO + struct.pack(">I", 100_006) + b"\x91" * 100_000 + b"\x01" + b"\x00" * 5, "malformed"),
        (HELLO + frame([p.SessionList.TAG, {"x": [0] * 100_000}]), "unknown field"),
        (HELLO + b"\x00\x00\x00\x05\xdd\xff\xff\xff\xff", "malformed"),
        (HELLO + frame([p.SessionDelete.TAG, {"target": ["a"], "force": "yes"}]), "expected str"),
        (HELLO + frame([p.Frame.TAG, {}]), "missing field"),
    ],
    ids=["random", "truncated", "2GB", "version", "not-a-message", "unknown-tag", "deep-nesting", "huge-array",
         "array-bomb-header", "wrong-types", "wrong-direction"],
)  # fmt: skip
def test_hostile_frames_drop_only_the_offender(scarab: ScarabEnv, payload: bytes, needle: str) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    daemon = scarab.daemon_pid()
    assert daemon
    replies = raw_exchange(scarab.paths.socket, payload)
    assert replies is not None, "the daemon kept a malformed connection open"
    errors = [m for m in replies if isinstance(m, p.Failed)]
    assert errors and errors[-1].code == "protocol" and needle in errors[-1].message, replies
    assert_healthy(scarab, daemon)


def test_bad_input_frames_drop_the_client_and_never_reach_the_host(scarab: ScarabEnv) -> None:
    """Input is checked at the daemon, the edge: what reaches a host is only ever bytes for a pane."""
    scarab.ok("new", "-d", "-s", "victim", "--", "cat")
    daemon = scarab.daemon_pid()
    assert daemon
    host = scarab.session("victim")["host_pid"]
    for fields, needle in [
        ({"target": "victim", "data": "typed-as-text\r"}, "expected bytes"),
        ({"target": ["victim"], "data": b"typed-at-a-list\r"}, "expected str"),
        ({"target": "victim", "data": b"typed-with-a-pane\r", "pane": 0}, "unknown field"),
        ({"data": b"typed-with-no-target\r"}, "missing field"),
    ]:
        replies = raw_exchange(scarab.paths.socket, HELLO + frame([p.Input.TAG, fields]))
        assert replies is not None, "the daemon kept a malformed connection open"
        errors = [m for m in replies if isinstance(m, p.Failed)]
        assert errors and errors[-1].code == "protocol" and needle in errors[-1].message, replies
    scarab.ok("send", "-t", "victim", "typed-well", "Enter")  # the host still takes input, and only this
    wait_for(lambda: "typed-well" in scarab.capture("victim"), what="the good input's echo")
    assert "typed-" not in scarab.capture("victim").replace("typed-well", "")
    assert_healthy(scarab, daemon)
    assert scarab.session("victim")["host_pid"] == host and pid_alive(host), "the host was replaced"


def test_client_that_never_reads_is_bounded(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    scarab.ok("new", "-d", "-s", "flood", "--", "sh", "-c", "yes 'flood flood flood flood flood flood flood'")
    daemon = scarab.daemon_pid()
    assert daemon

    with socket.socket(socket.AF_UNIX) as lazy:
        lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        lazy.connect(str(scarab.paths.socket))
        lazy.sendall(HELLO + p.encode(p.SessionAttach(target="flood", cols=200, rows=60)))
        before = rss_kb(daemon)
        deadline = time.monotonic() + 4
        peak = before
        while time.monotonic() < deadline:
            peak = max(peak, rss_kb(daemon))
            # Other clients are served normally meanwhile.
            assert "victim" in scarab.ok("ls")
        assert peak - before < 64 * 1024, f"daemon grew by {peak - before} KB for a client that never reads"
    scarab.ok("kill", "flood", "--force")
    assert scarab.daemon_pid() == daemon


def test_500_clients_at_once(in_env: ScarabEnv) -> None:
    in_env.ok("new", "-d", "-s", "victim", "--", "sh")

    async def one() -> int:
        client = await Client.connect(autostart=False)
        try:
            listing = await client.request(p.SessionList())
            assert isinstance(listing, p.Listed)
            return len(listing.sessions)
        finally:
            await client.close()

    async def all_at_once() -> list[int]:
        return await asyncio.gather(*(one() for _ in range(500)))

    assert asyncio.run(asyncio.wait_for(all_at_once(), 60)) == [1] * 500
    assert in_env.daemon_pid() is not None


def test_another_uid_is_refused(scarab: ScarabEnv) -> None:
    """SO_PEERCRED: even with the socket opened up to everyone, another user gets a clear refusal."""
    if os.geteuid() != 0 or shutil.which("runuser") is None or not os.access("/usr/bin/python3", os.X_OK):
        pytest.skip("needs root, runuser and a system python3 to act as a second user")
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    daemon = scarab.daemon_pid()
    opened = [scarab.root, scarab.root / "run", scarab.paths.runtime]
    modes = {path: path.stat().st_mode for path in opened}
    script = (
        "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\n"
        "try:\n s.sendall(bytes.fromhex(sys.argv[2]))\nexcept OSError: pass\ns.settimeout(5)\nd=b''\n"
        "try:\n while True:\n  c=s.recv(4096)\n  if not c: break\n  d+=c\nexcept Exception: pass\nprint(d.hex())\n"
    )
    try:
        for path in opened:
            path.chmod(0o711)
        scarab.paths.socket.chmod(0o666)
        result = subprocess.run(
            ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", script, str(scarab.paths.socket), HELLO.hex()],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        out = result.stdout.strip()
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
        scarab.paths.socket.chmod(0o600)
    data = bytes.fromhex(out)
    (n,) = struct.unpack(">I", data[:4])
    reply = p.decode(data[4 : 4 + n])
    assert isinstance(reply, p.Failed) and "may not use this daemon" in reply.message
    assert_healthy(scarab, daemon or 0)


def test_client_killed_mid_attach_is_detached(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    code = (
        "import asyncio\nfrom scarab import protocol as p\nfrom scarab.client import Client\n"
        "async def main():\n c = await Client.connect()\n await c.request(p.SessionAttach(target='victim'))\n"
        " print('attached', flush=True)\n await asyncio.sleep(600)\nasyncio.run(main())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=scarab.env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "attached"
        assert scarab.session("victim")["attached"] == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        wait_for(lambda: scarab.session("victim")["attached"] == 0, what="the attach count to drop")
        with contextlib.closing(scarab.db()) as conn:
            assert conn.execute("SELECT attached FROM sessions WHERE name='victim'").fetchone() == (0,)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)


def test_keys_typed_while_the_host_is_restored_keep_the_viewer_attached(scarab: ScarabEnv) -> None:
    """A host being restored is not a session gone: keys typed meanwhile are lost, the viewer stays
    (they were answered by Kicked, and a client kicked exits)."""
    sid = scarab.ok("new", "-d", "-s", "w", "--", "sh").strip()
    old = scarab.session("w")["host_pid"]

    async def type_through_the_restore(client: Client) -> list[str]:
        await client.request(p.SessionAttach(target=sid))
        os.kill(old, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while (info := scarab.session("w"))["host_pid"] in (0, old) or info["state"] != "running":
            assert time.monotonic() < deadline, "the host was not restored"
            client.send(p.Input(target=sid, data=b"x"))
            await asyncio.sleep(0.005)
        await client.request(p.Input(target=sid, data=b"\x15echo back-$((6*7))\r", ack=True))
        kicked = []
        while True:
            msg = await asyncio.wait_for(client.events.get(), 10)
            if isinstance(msg, p.Kicked):
                kicked.append(msg.reason)
            elif isinstance(msg, p.Frame) and any("back-42" in row for _y, row, _runs in msg.lines):
                return kicked

    assert scarab.ask(type_through_the_restore) == []


def consistent(env: ScarabEnv) -> list[dict[str, object]]:
    """After any crash: a sound database, one running host per running session, no stray hosts."""
    sessions = env.sessions()
    names = [s["name"] for s in sessions]
    assert len(names) == len(set(names)), f"duplicate names: {names}"
    with contextlib.closing(env.db()) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = {r[0]: r[1] for r in conn.execute("SELECT id, name FROM sessions")}
    assert rows == {s["id"]: s["name"] for s in sessions}
    for s in sessions:
        wait_for(lambda s=s: env.session(str(s["name"]))["state"] == "running", what=f"{s['name']} to run")

    def every_host_a_session() -> list[dict[str, object]] | None:
        # A host forked just before the kill can come up after the daemon restarted: it is
        # adopted (a session of its own) within seconds, never left running unseen.
        now = env.sessions()
        return now if {s["host_pid"] for s in now} >= set(env.host_pids()) else None

    return wait_for(every_host_a_session, timeout=20, what="no stray hosts")


def test_kill9_during_create_rename_delete_keeps_state_consistent(scarab: ScarabEnv) -> None:
    kill9_during_create_rename_delete(scarab, rounds=4)


@pytest.mark.stress
@pytest.mark.timeout(1800)
def test_stress_kill9_during_create_rename_delete_30_times(scarab: ScarabEnv) -> None:
    kill9_during_create_rename_delete(scarab, rounds=30, seed=4321)


def kill9_during_create_rename_delete(scarab: ScarabEnv, rounds: int, seed: int = 1234) -> None:
    """kill -9 of the daemon at a random point of a create, a rename and a delete from three CLI
    processes; after each, the state adds up (see `consistent`) and the rename happened wholly or not."""
    rng = random.Random(seed)
    scarab.ok("new", "-d", "-s", "base", "--", "sh")
    for i in range(rounds):
        daemon = scarab.daemon_pid() or int(scarab.ok("daemon", "start"))
        ops = [["new", "-d", "-s", f"n{i}", "--", "sh"], ["rename", "base", f"base{i}"]]
        names = [s["name"] for s in scarab.sessions()]
        doomed = next((n for n in names if n.startswith("n")), None)
        if doomed:
            ops.append(["kill", doomed])
        procs = [subprocess.Popen([sys.executable, "-m", "scarab", *op], env=scarab.env, stderr=subprocess.PIPE)
                 for op in ops]  # fmt: skip
        # Fault injection at a random point while the operations are in flight.
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(daemon, signal.SIGKILL)
        for proc in procs:
            proc.wait(60)
        wait_for(lambda daemon=daemon: not pid_alive(daemon))
        sessions = consistent(scarab)
        renamed = [s["name"] for s in sessions if str(s["name"]).startswith("base")]
        assert len(renamed) == 1, sessions  # the rename happened entirely or not at all
        scarab.ok("rename", str(renamed[0]), "base")


@pytest.mark.parametrize("policy", ["remove", "restart"])
def test_on_exit_policies(scarab: ScarabEnv, policy: str) -> None:
    scarab.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    scarab.paths.config_file.write_text(f'on_exit = "{policy}"\n')
    scarab.ok("new", "-d", "-s", "ends", "--", "sh", "-c", "echo first-run; read x")
    wait_for(lambda: "first-run" in scarab.capture("ends"))
    child = scarab.session("ends")["child_pid"]
    scarab.ok("send", "ends", "Enter")
    if policy == "remove":
        wait_for(lambda: scarab.sessions() == [], what="the exited session to be removed")
    else:
        # The new program's pid is recorded as its host starts; the session is `restoring` until the
        # daemon has connected to that host, then `running`.
        wait_for(
            lambda: (s := scarab.session("ends"))["child_pid"] not in (0, child) and s["state"] == "running",
            what="a restarted program, running",
        )
        wait_for(lambda: scarab.capture("ends", "--scrollback").count("first-run") == 2)
        assert "[scarab: the program exited with status 0; restarted " in scarab.capture("ends", "--scrollback")


def test_db_locked_by_another_process(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    locker = sqlite3.connect(scarab.paths.database, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        result = scarab.run("rename", "victim", "other")
        assert result.returncode == 1 and "locked by another process" in result.stderr
        assert "the change was not made" in result.stderr
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert [s["name"] for s in scarab.sessions()] == ["victim"]
    scarab.ok("rename", "victim", "other")
    assert [s["name"] for s in scarab.sessions()] == ["other"]


def _can_unshare() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "mount", "-t", "tmpfs", "tmpfs", "/mnt"], capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(not _can_unshare(), reason="needs a private mount namespace (root + unshare)")


def in_namespace(env: ScarabEnv, mount: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run scarab in a private mount namespace where the data dir is `mount` (the auto-started daemon
    stays in it, so storage faults are real for the daemon and invisible to the rest of the machine)."""
    data = env.root / "data"
    script = f"{mount} {data} && exec {sys.executable} -m scarab " + " ".join(args)
    return subprocess.run(["unshare", "-m", "sh", "-c", script], env=env.env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


@needs_mounts
def test_read_only_data_dir(scarab: ScarabEnv) -> None:
    result = in_namespace(scarab, "mount -t tmpfs -o ro tmpfs", "ls")
    assert result.returncode == 1
    assert "could not start the scarab daemon" in result.stderr and "Read-only file system" in result.stderr
    assert "Traceback" not in result.stderr


@needs_mounts
def test_disk_full(scarab: ScarabEnv) -> None:
    result = in_namespace(scarab, "mount -t tmpfs -o size=160k tmpfs", "new", "-d", "-s", "victim", "--", "sh")
    assert result.returncode == 0, result.stderr
    # Fill the disk with a screen too large to snapshot, then try control operations.
    scarab.ok("send", "victim", "seq 1 9000 | sed 's/$/ padding padding padding padding padding/'", "Enter")
    wait_for(lambda: "disk full" in scarab.paths.daemon_log.read_text(), timeout=30, what="a disk-full report")
    # Each rename either happens or says the disk is full and changes nothing (which one depends on
    # how full the disk is at that moment).
    name = "victim"
    for _ in range(6):
        new = "renamed" if name == "victim" else "victim"
        r = scarab.run("rename", name, new)
        assert r.returncode == 0 or "disk full" in r.stderr, r.stderr
        name = new if r.returncode == 0 else name
        assert [s["name"] for s in scarab.sessions()] == [name]
    daemon = scarab.daemon_pid()
    assert daemon is not None
    # The database on the full disk is still sound (read inside the daemon's mount namespace).
    check = (
        f"import sqlite3; db = sqlite3.connect('{scarab.paths.database}'); "
        "print(db.execute('PRAGMA integrity_check').fetchone()[0])"
    )
    inside = subprocess.run(["nsenter", "-t", str(daemon), "-m", sys.executable, "-c", check], capture_output=True,
                            text=True, timeout=30)  # fmt: skip
    assert inside.stdout.strip() == "ok", inside.stderr
    status = json.loads(scarab.ok("daemon", "status", "--json"))
    assert status["sessions"] == 1 and status["hosts_alive"] == 1


def test_the_daemon_relays_a_host_s_frames_as_they_came_and_drops_a_host_that_sends_a_bad_one(
    tmp_path: Path,
) -> None:
    # Encoded as scarab never encodes (fields in another order, every int as a uint32): re-encoding
    # would change the bytes, relaying does not.
    fields = {"pane": 3, "session_id": "s" * 32, "seq": 1, "cols": 10, "rows": 2, "cursor": [0, 0, 1, 0], "modes": 0,
              "title": "", "full": True, "lines": [[0, "relayed", [[7, 0]]]], "styles": [[-1, -1, 0]]}  # fmt: skip
    packer = msgpack.Packer(use_bin_type=True)
    body = b"\x92" + struct.pack(">BI", 0xCE, p.Frame.TAG) + bytes([0x80 | len(fields)])
    for key, value in fields.items():
        body += packer.pack(key) + (struct.pack(">BI", 0xCE, value) if type(value) is int else packer.pack(value))
    odd = struct.pack(">I", len(body)) + body
    bad = frame([p.Frame.TAG, {**fields, "full": "yes"}])
    info = p.HostInfo(session_id="s" * 32, name="s", host_pid=1, child_pid=1, cols=10, rows=2, cwd="/")

    async def scenario() -> list[tuple[p.Message, bytes]]:
        async def host(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readexactly(len(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="daemon", pid=0))))
            writer.write(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="host")) + p.encode(info))
            writer.write(odd + bad + p.encode(p.ChildExited(status=0)))
            await writer.drain()
            await reader.read()  # until the daemon's side hangs up

        path = tmp_path / "host.sock"
        server = await asyncio.start_unix_server(host, path=str(path))
        got: list[tuple[p.Message, bytes]] = []
        try:
            link = await HostLink.connect(path, "token", lambda link, msg, wire: got.append((msg, wire)), timeout=10)
            await asyncio.wait_for(link.run(), 10)  # returns: the bad frame ended the link
            return got
        finally:
            server.close()

    got = asyncio.run(scenario())
    assert len(got) == 1  # the good frame; nothing after the bad one (the exit) was taken
    msg, wire = got[0]
    assert wire == odd and isinstance(msg, p.Frame) and (msg.pane, msg.full) == (3, True)

    # And to a client as it came: the bytes the host sent.
    async def relay() -> bytes:
        left, right = socket.socketpair()
        reader, writer = await asyncio.open_unix_connection(sock=left)
        peer_reader, peer_writer = await asyncio.open_unix_connection(sock=right)
        conn = ClientConn(Channel(reader, writer), lambda session_id: set())
        conn.push(msg, wire)
        await writer.drain()
        data = await peer_reader.readexactly(len(odd))
        writer.close()
        peer_writer.close()
        return data

    assert asyncio.run(relay()) == odd
