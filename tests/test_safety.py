"""Safety (issue 11, part B): private files, logs that cannot be hijacked or fill a disk, races
between connections, hosts that take only their daemon, a vanished runtime directory, bounded
memory for incomplete frames, clear errors. Real processes in a private XDG world per test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.errors import ScarabError, SessionNotFound
from scarab.logfile import MAX_BYTES, RATE_BYTES, CappedLog, open_log
from tests.helpers import ScarabEnv, pid_alive, rss_kb, wait_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_data_dir_and_database_files_are_private(scarab: ScarabEnv) -> None:
    data = scarab.paths.data
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # as an older scarab (or a umask of 022) left it
    scarab.ok("new", "-d", "-s", "secret", "--", "sh")
    scarab.ok("send", "secret", "echo MY-SECRET-TOKEN=hunter2", "Enter")
    wait_for(lambda: "hunter2" in scarab.snapshot_text(scarab.session("secret")["id"]), what="a snapshot")
    assert mode(data) == 0o700
    for name in ("sessions.db", "sessions.db-wal", "sessions.db-shm"):
        assert mode(data / name) == 0o600, name
    assert "open to other users; made it private" in scarab.paths.daemon_log.read_text()
    assert mode(scarab.paths.daemon_log) == 0o600
    assert all(mode(log) == 0o600 for log in scarab.paths.hosts.glob("*.log"))
    # A database an older version left readable by others is made private at the next start.
    scarab.ok("daemon", "stop")
    for name in ("sessions.db", "sessions.db-wal", "sessions.db-shm"):
        if (data / name).exists():
            (data / name).chmod(0o644)
    assert scarab.session("secret")["state"] == "running"
    for name in ("sessions.db", "sessions.db-wal", "sessions.db-shm"):
        if (data / name).exists():
            assert mode(data / name) == 0o600, name


def test_daemon_log_symlink_is_not_followed(scarab: ScarabEnv) -> None:
    target = scarab.root / "precious"
    target.write_text("untouched\n")
    scarab.paths.runtime.mkdir(mode=0o700)
    scarab.paths.daemon_log.symlink_to(target)
    scarab.ok("new", "-d", "-s", "a", "--", "sh")
    scarab.ok("daemon", "stop")  # writes to the log on the way out
    assert target.read_text() == "untouched\n"
    assert stat.S_ISREG(scarab.paths.daemon_log.lstat().st_mode)
    assert mode(scarab.paths.daemon_log) == 0o600


def test_log_is_rate_limited_and_rotated(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    fd = open_log(path)
    log = CappedLog(path, (fd,))
    start = time.monotonic()
    written = 0
    while time.monotonic() - start < 3.0:  # a fault repeating in a tight loop
        log.write("Traceback: OSError: [Errno 24] Too many open files\n" * 10)
        written += 510
    os.close(log.fds[0])
    total = sum(f.stat().st_size for f in tmp_path.iterdir())
    assert written > 10 * MAX_BYTES
    assert total <= 4 * RATE_BYTES + 1024, f"{total} bytes logged in 3 s"
    assert "bytes of log dropped" in path.read_text()
    # Past MAX_BYTES the file is rotated once: never more than twice that on disk.
    log = CappedLog(path, (open_log(path),))
    for second in range(3 * MAX_BYTES // RATE_BYTES):
        log._window = -1.0 - second  # a fresh second each time: test the size cap, not the rate
        log.write("x" * (RATE_BYTES - 100) + "\n")
    os.close(log.fds[0])
    assert path.stat().st_size <= MAX_BYTES and (tmp_path / "x.log.1").stat().st_size <= MAX_BYTES


async def create_delete_race(pairs: int, gaps: tuple[float, ...] = (0.0, 0.01)) -> list[str]:
    """Create `raceN` on one connection and force-delete it on another, `gap` seconds later."""
    outcomes = []
    one, two = await Client.connect(), await Client.connect()
    try:
        for i in range(pairs):
            gap = gaps[i % len(gaps)]
            create = asyncio.ensure_future(one.request(p.SessionCreate(name=f"race{i}", command=["sh"])))
            await asyncio.sleep(gap)
            delete = asyncio.ensure_future(two.request(p.SessionDelete(target=f"race{i}", force=True)))
            created, deleted = await asyncio.gather(create, delete, return_exceptions=True)
            assert isinstance(created, p.Created), f"create race{i}: {created!r}"
            if isinstance(deleted, SessionNotFound):
                outcomes.append("delete first")
            else:
                assert isinstance(deleted, p.Deleted), f"delete race{i}: {deleted!r}"
                outcomes.append("both")
    finally:
        await one.close()
        await two.close()
    return outcomes


def listed(env: ScarabEnv) -> list[dict[str, Any]]:
    """`scarab ls --json` as a user runs it: starts (or finds) the daemon."""
    result: list[dict[str, Any]] = json.loads(env.ok("ls", "--json"))
    return result


def assert_rows_match_hosts(env: ScarabEnv) -> list[dict[str, Any]]:
    """Listed sessions == database rows, names unique, and exactly their hosts alive."""
    sessions = listed(env)
    names = [s["name"] for s in sessions]
    assert len(names) == len(set(names)), f"duplicate names: {names}"
    with contextlib.closing(env.db()) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = sorted(r[0] for r in db.execute("SELECT id FROM sessions"))
    assert rows == sorted(s["id"] for s in sessions)
    expected = sorted(s["host_pid"] for s in sessions if s["state"] == "running")
    wait_for(lambda: sorted(env.host_pids()) == expected, timeout=15, what=f"hosts == {expected}")
    return sessions


def test_create_and_delete_racing_on_two_connections(in_env: ScarabEnv) -> None:
    outcomes = asyncio.run(asyncio.wait_for(create_delete_race(20), 120))
    sessions = assert_rows_match_hosts(in_env)
    assert sorted(s["name"] for s in sessions) == sorted(
        f"race{i}" for i, outcome in enumerate(outcomes) if outcome == "delete first"
    )
    log = in_env.paths.daemon_log.read_text()
    assert "internal error" not in log and "Traceback" not in log


async def burst(worker: int, stop: asyncio.Event) -> None:
    """Create, rename and delete sessions as fast as the daemon answers, until it is gone."""
    try:
        client = await Client.connect(autostart=False)
    except ScarabError:
        return
    try:
        k = 0
        while not stop.is_set():
            name = f"b{worker}-{k}"
            await client.request(p.SessionCreate(name=name, command=["sh"]))
            await client.request(p.SessionRename(target=name, new_name=f"{name}r"))
            if k % 2:
                await client.request(p.SessionDelete(target=f"{name}r", force=True))
            k += 1
    except ScarabError:
        pass  # the daemon was killed under us
    finally:
        await client.close()


def kill9_during_bursts(env: ScarabEnv, rounds: int, seed: int = 11) -> None:
    """kill -9 of the daemon while three connections create/rename/delete; then everything adds up."""
    rng = random.Random(seed)
    keep = {name: env.ok("new", "-d", "-s", name, "--", "sh").strip() for name in ("keep0", "keep1")}
    shells = {s["name"]: s["child_pid"] for s in env.sessions()}

    async def one_round() -> None:
        env.ok("ls")  # a daemon to kill
        daemon = env.daemon_pid()
        assert daemon is not None
        stop = asyncio.Event()
        workers = [asyncio.ensure_future(burst(w, stop)) for w in range(3)]
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        os.kill(daemon, signal.SIGKILL)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*workers), 30)
        wait_for(lambda: not pid_alive(daemon), what="the killed daemon to go")

    for _ in range(rounds):
        asyncio.run(one_round())
    sessions = assert_rows_match_hosts(env)
    by_name = {s["name"]: s for s in sessions}
    for name, sid in keep.items():
        assert by_name[name]["id"] == sid and by_name[name]["child_pid"] == shells[name]
        assert pid_alive(shells[name])


def test_kill9_of_the_daemon_in_the_middle_of_a_kill(scarab: ScarabEnv) -> None:
    """The daemon dies after committing a `kill` but before its host was told (the window the
    random kill -9 rounds of `make stress` hit now and then). The next daemon finishes the kill:
    the session does not come back, and its host ends. (The old daemon deleted the row first:
    the next one found a host with no row, adopted it, and the killed session came back.)"""
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    scarab.ok("new", "-d", "-s", "bystander", "--", "sh")
    victim, bystander = scarab.session("victim"), scarab.session("bystander")
    daemon = scarab.daemon_pid()
    assert daemon
    os.kill(victim["host_pid"], signal.SIGSTOP)
    try:
        # Input the stopped host cannot take fills its socket: the daemon's HostTerminate waits
        # behind it in the daemon, and dies with the daemon (the window that kill -9 can hit).
        async def flood() -> None:
            client = await Client.connect(scarab.paths)
            try:
                client.send_input("victim", b"x" * (4 * 1024 * 1024))
                await client.request(p.SessionList())  # the daemon has read all of it
            finally:
                await client.close()

        asyncio.run(asyncio.wait_for(flood(), 30))
        kill = subprocess.Popen([sys.executable, "-m", "scarab", "kill", "victim"], env=scarab.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

        def named_victim() -> int:
            with contextlib.closing(scarab.db()) as db:
                return int(db.execute("SELECT count(*) FROM sessions WHERE name = 'victim'").fetchone()[0])

        wait_for(lambda: named_victim() == 0, timeout=10, interval=0.005, what="the kill to be committed")
        assert pid_alive(victim["host_pid"]), "the host ended before the daemon could be killed"
        os.kill(daemon, signal.SIGKILL)
        kill.wait(30)
        wait_for(lambda: not pid_alive(daemon), what="the daemon to die")
    finally:
        os.kill(victim["host_pid"], signal.SIGCONT)
    sessions = assert_rows_match_hosts(scarab)
    assert [s["name"] for s in sessions] == ["bystander"]
    assert sessions[0]["child_pid"] == bystander["child_pid"] and pid_alive(bystander["child_pid"])
    wait_for(lambda: not pid_alive(victim["host_pid"]), what="the killed session's host to end")


def wipe_runtime_dir_under_live_sessions(env: ScarabEnv, count: int) -> None:
    """What logind does at logout: $XDG_RUNTIME_DIR removed under a running daemon and its hosts."""
    for i in range(count):
        env.ok("new", "-d", "-s", f"w{i}", "--", "sh")
    shells = {s["name"]: s["child_pid"] for s in env.sessions()}
    daemon = env.daemon_pid()
    shutil.rmtree(env.root / "run")
    after = listed(env)  # must not start a second daemon, nor kill or duplicate a host
    assert {s["name"]: s["child_pid"] for s in after} == shells
    assert env.daemon_pid() == daemon and env.pids_named("scarab-daemon") == [daemon]
    assert sorted(env.host_pids()) == sorted(s["host_pid"] for s in after)
    assert stat.S_IMODE(env.paths.runtime.stat().st_mode) == 0o700
    # The hosts bind their sockets again, so a later daemon finds every one of them.
    wait_for(lambda: len(list(env.paths.hosts.glob("*.sock"))) == count, what="the hosts' sockets back")
    os.kill(daemon or 0, signal.SIGKILL)
    wait_for(lambda: not pid_alive(daemon or 0), what="the daemon to go")
    readopted = listed(env)
    assert {s["name"]: s["child_pid"] for s in readopted} == shells
    assert all(s["state"] == "running" for s in readopted)
    assert all(pid_alive(pid) for pid in shells.values())
    assert len(env.pids_named("scarab-daemon")) == 1


def test_runtime_dir_removed_under_live_sessions(scarab: ScarabEnv) -> None:
    wipe_runtime_dir_under_live_sessions(scarab, 3)


def test_another_runtime_dir_does_no_damage(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "a", "--", "sh")
    shell = scarab.session("a")["child_pid"]
    daemon = scarab.daemon_pid()
    other = scarab.root / "other-run"
    other.mkdir(mode=0o700)
    elsewhere = scarab.run("ls", env_extra={"XDG_RUNTIME_DIR": str(other)})
    assert elsewhere.returncode == 1 and "Traceback" not in elsewhere.stderr
    assert f"listens on {scarab.paths.socket}" in elsewhere.stderr
    assert f"XDG_RUNTIME_DIR={scarab.root / 'run'}" in elsewhere.stderr
    assert scarab.pids_named("scarab-daemon") == [daemon] and pid_alive(shell)
    assert scarab.session("a")["child_pid"] == shell and len(scarab.host_pids()) == 1


@pytest.mark.skipif(os.path.isdir(f"/run/user/{os.getuid()}"), reason="/run/user/UID exists: no /tmp fallback")
@pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a directory to another user")
def test_fallback_runtime_dir_owned_by_another_user(scarab: ScarabEnv) -> None:
    tmp = scarab.root / "tmp"
    tmp.mkdir()
    (tmp / f"runtime-{os.getuid()}").mkdir(mode=0o700)
    os.chown(tmp / f"runtime-{os.getuid()}", 65534, 65534)
    env = dict(scarab.env, TMPDIR=str(tmp))
    del env["XDG_RUNTIME_DIR"]
    result = subprocess.run([sys.executable, "-m", "scarab", "ls"], env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("scarab: no usable runtime directory") and "XDG_RUNTIME_DIR" in result.stderr
    assert not scarab.pids_named("scarab-daemon")


def read_messages(sock: socket.socket, timeout: float = 5.0) -> list[p.Message]:
    """What a peer says until it closes the connection (or `timeout` passes)."""
    sock.settimeout(timeout)
    data = b""
    with contextlib.suppress(TimeoutError):
        while chunk := sock.recv(65536):
            data += chunk
    buffer = bytearray(data)
    return [p.decode(payload) for payload in p.split_frames(buffer)]


@pytest.mark.parametrize("token", [None, "guessed"], ids=["hello-only", "wrong-token"])
def test_a_host_takes_only_its_daemon(scarab: ScarabEnv, token: str | None) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    before = scarab.session("victim")
    with socket.socket(socket.AF_UNIX) as stranger:
        stranger.connect(str(scarab.paths.host_socket(before["id"])))
        hello = p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="daemon"))
        stranger.sendall(hello + (p.encode(p.HostAuth(token=token)) if token else b""))
        replies = read_messages(stranger, timeout=5.0 if token else 1.0)
    assert not any(isinstance(m, p.HostInfo) for m in replies), replies
    if token:
        assert isinstance(replies[-1], p.Failed) and "takes only its daemon" in replies[-1].message
    # The daemon's own connection carried on: same host, same shell, still typing.
    scarab.ok("send", "victim", "echo still-$((40+2))", "Enter")
    wait_for(lambda: "still-42" in scarab.capture("victim"), what="the shell to answer")
    after = scarab.session("victim")
    assert (after["host_pid"], after["child_pid"]) == (before["host_pid"], before["child_pid"])
    assert "restored" not in scarab.capture("victim", "--scrollback")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_host_out_of_descriptors_does_not_spin(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    info = scarab.session("victim")
    host = info["host_pid"]
    log = scarab.paths.hosts / f"{info['id']}.log"
    limits = resource.prlimit(host, resource.RLIMIT_NOFILE)
    in_use = len(os.listdir(f"/proc/{host}/fd"))
    resource.prlimit(host, resource.RLIMIT_NOFILE, (in_use + 1, limits[1]))
    strangers = []
    try:
        for _ in range(6):  # one is accepted, the others wait in the backlog: accept gets EMFILE
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(scarab.paths.host_socket(info["id"])))
            strangers.append(s)
        start, cpu = time.monotonic(), cpu_seconds(host)
        time.sleep(2.0)
        used = (cpu_seconds(host) - cpu) / (time.monotonic() - start)
        assert used < 0.2, f"the host used {used:.0%} of a CPU while out of descriptors"
        assert log.stat().st_size < 16 * 1024, f"host log grew to {log.stat().st_size} bytes"
    finally:
        for s in strangers:
            s.close()
        resource.prlimit(host, resource.RLIMIT_NOFILE, limits)
    scarab.ok("send", "victim", "echo fine-$((6*7))", "Enter")
    wait_for(lambda: "fine-42" in scarab.capture("victim"), what="the session to answer")
    assert scarab.session("victim")["host_pid"] == host


def test_a_host_keeps_at_most_eight_connections_that_are_not_its_daemon(scarab: ScarabEnv) -> None:
    """Strangers that connect and say nothing cannot take a host's descriptors: past eight, the
    oldest is dropped; the daemon's own connection carries on."""
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    info = scarab.session("victim")
    host = info["host_pid"]
    baseline = len(os.listdir(f"/proc/{host}/fd"))
    strangers = []
    try:
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(scarab.paths.host_socket(info["id"])))
            s.setblocking(False)
            strangers.append(s)

        def dropped(s: socket.socket) -> bool:
            try:
                return s.recv(1) == b""
            except BlockingIOError:
                return False

        wait_for(lambda: sum(map(dropped, strangers)) == 12, what="the oldest strangers to be dropped")
        assert not any(dropped(s) for s in strangers[12:]), "a newer stranger was dropped before an older one"
        assert len(os.listdir(f"/proc/{host}/fd")) == baseline + 8
        scarab.ok("send", "victim", "echo fine-$((6*7))", "Enter")
        wait_for(lambda: "fine-42" in scarab.capture("victim"), what="the daemon's connection to carry on")
    finally:
        for s in strangers:
            s.close()
    assert scarab.session("victim")["host_pid"] == host


def test_the_daemon_out_of_descriptors_does_not_spin_and_serves_again(scarab: ScarabEnv) -> None:
    """Clients connecting while the daemon has no descriptor left wait in the backlog (accept backs
    off) instead of spinning the daemon or flooding its log; once descriptors are free again they
    are served, and no host was touched."""
    scarab.ok("new", "-d", "-s", "a", "--", "sh")
    before = scarab.session("a")
    daemon = scarab.daemon_pid()
    assert daemon
    limits = resource.prlimit(daemon, resource.RLIMIT_NOFILE)
    in_use = len(os.listdir(f"/proc/{daemon}/fd"))
    log_size = scarab.paths.daemon_log.stat().st_size
    resource.prlimit(daemon, resource.RLIMIT_NOFILE, (in_use + 1, limits[1]))
    strangers = []
    try:
        for _ in range(6):  # one is accepted, the others wait in the backlog: accept gets EMFILE
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(scarab.paths.socket))
            strangers.append(s)
        start, cpu = time.monotonic(), cpu_seconds(daemon)
        time.sleep(2.0)
        used = (cpu_seconds(daemon) - cpu) / (time.monotonic() - start)
        assert used < 0.2, f"the daemon used {used:.0%} of a CPU while out of descriptors"
        grown = scarab.paths.daemon_log.stat().st_size - log_size
        assert 0 < grown < 16 * 1024, f"the daemon log grew by {grown} bytes"
    finally:
        for s in strangers:
            s.close()
        resource.prlimit(daemon, resource.RLIMIT_NOFILE, limits)
    after = listed(scarab)
    assert scarab.daemon_pid() == daemon
    assert [(s["name"], s["host_pid"], s["child_pid"]) for s in after] == [
        ("a", before["host_pid"], before["child_pid"])
    ]


def hold_incomplete_frames(path: Path, length: int, count: int) -> list[socket.socket]:
    """`count` connections, each announcing a `length`-byte frame and sending all of it but one byte."""
    held = []
    body = p.HEADER.pack(length) + b"\x00" * (length - 1)
    for _ in range(count):
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(path))
        s.settimeout(10)
        with contextlib.suppress(OSError):  # refused: the daemon closed it, as it should
            s.sendall(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="client")) + body)
        held.append(s)
    return held


def test_incomplete_frames_hold_bounded_daemon_memory(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    daemon = scarab.daemon_pid()
    assert daemon is not None
    before = rss_kb(daemon)
    held = []
    try:
        held += hold_incomplete_frames(scarab.paths.socket, 8 * 1024 * 1024, 20)  # above the per-connection cap
        held += hold_incomplete_frames(scarab.paths.socket, 1024 * 1024, 40)  # at it: the shared budget
        assert [s["name"] for s in scarab.sessions()] == ["victim"]  # others are served meanwhile
        grown = (rss_kb(daemon) - before) / 1024
        print(f"daemon grew by {grown:.0f} MB holding 20 x 8 MiB and 40 x 1 MiB incomplete frames")
        assert grown < 40, f"the daemon grew by {grown:.0f} MB for incomplete frames"
    finally:
        for s in held:
            s.close()
    assert scarab.daemon_pid() == daemon and scarab.session("victim")["state"] == "running"


def test_a_stopped_daemon_is_named_not_waited_for(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "victim", "--", "sh")
    daemon = scarab.daemon_pid()
    assert daemon is not None
    os.kill(daemon, signal.SIGSTOP)
    try:
        start = time.monotonic()
        listed = scarab.run("ls", timeout=30)
        took = time.monotonic() - start
    finally:
        os.kill(daemon, signal.SIGCONT)
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert f"the daemon at pid {daemon} is not answering" in listed.stderr and "kill -CONT" in listed.stderr
    assert took < 10, f"`scarab ls` took {took:.1f}s"
    assert scarab.pids_named("scarab-daemon") == [daemon]  # no second daemon meanwhile
    assert [s["name"] for s in scarab.sessions()] == ["victim"]


def test_deleting_the_wal_file_loses_no_rows(scarab: ScarabEnv) -> None:
    for name in ("a", "b"):
        scarab.ok("new", "-d", "-s", name, "--", "sh")
    wal = scarab.paths.database.with_name("sessions.db-wal")
    assert wal.exists()
    wal.unlink()  # what a careless cleanup script does while the daemon runs
    scarab.ok("new", "-d", "-s", "c", "--", "sh")
    scarab.ok("rename", "a", "a2")
    wait_for(lambda: "was deleted; its rows were saved" in scarab.paths.daemon_log.read_text(), what="a repair")
    scarab.ok("new", "-d", "-s", "d", "--", "sh")  # written to the new -wal file
    daemon = scarab.daemon_pid()
    os.kill(daemon or 0, signal.SIGKILL)  # no clean close to save what only an unlinked file held
    wait_for(lambda: not pid_alive(daemon or 0), what="the daemon to go")
    with contextlib.closing(scarab.db()) as db:
        names = sorted(r[0] for r in db.execute("SELECT name FROM sessions"))
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert names == ["a2", "b", "c", "d"]


def test_a_low_descriptor_limit_serves_what_it_can_and_kills_nothing(in_env: ScarabEnv) -> None:
    async def create(count: int) -> None:
        client = await Client.connect()
        try:
            for i in range(count):
                await client.request(p.SessionCreate(name=f"s{i}", command=["sh"]))
        finally:
            await client.close()

    asyncio.run(asyncio.wait_for(create(40), 120))
    shells = {s["name"]: s["child_pid"] for s in in_env.sessions()}
    hosts = sorted(in_env.host_pids())
    in_env.ok("daemon", "stop")
    # The next daemon starts under `ulimit -n 48` (soft and hard): too few descriptors for 40 hosts.
    low = subprocess.run(["prlimit", "--nofile=48:48", sys.executable, "-m", "scarab", "ls", "--json"],
                         env=in_env.env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert low.returncode == 0, low.stderr + in_env.paths.daemon_log.read_text()[-3000:]
    listed = json.loads(low.stdout)
    assert {s["name"]: s["child_pid"] for s in listed} == shells  # every session listed, none replaced
    states = [s["state"] for s in listed]
    assert states.count("running") >= 5 and "unresponsive" in states, states
    assert sorted(in_env.host_pids()) == hosts and all(pid_alive(pid) for pid in shells.values())
    log = in_env.paths.daemon_log.read_text()
    assert "out of file descriptors" in log and "Traceback" not in log
    assert in_env.ok("capture", "s0") is not None  # an adopted session is served


# -- make stress: the same attacks, many times -------------------------------------------------------


@pytest.mark.stress
@pytest.mark.timeout(900)
def test_stress_create_and_delete_racing_100_times(in_env: ScarabEnv) -> None:
    outcomes = asyncio.run(asyncio.wait_for(create_delete_race(100), 600))
    sessions = assert_rows_match_hosts(in_env)
    print(f"create/delete race x100: {outcomes.count('both')} deleted after the create, "
          f"{outcomes.count('delete first')} deletes first; {len(sessions)} sessions left")  # fmt: skip
    assert len(sessions) == outcomes.count("delete first")


@pytest.mark.stress
@pytest.mark.timeout(1800)
def test_stress_kill9_of_the_daemon_50_times_during_bursts(in_env: ScarabEnv) -> None:
    kill9_during_bursts(in_env, rounds=50)


@pytest.mark.stress
@pytest.mark.timeout(600)
def test_stress_runtime_dir_removed_under_10_sessions(scarab: ScarabEnv) -> None:
    wipe_runtime_dir_under_live_sessions(scarab, 10)
