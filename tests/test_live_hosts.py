"""A live host is never killed by Scarab (issue 11): slow, stopped, unreachable or busy hosts are
waited for and reported; only a host that is verifiably gone is replaced. Real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

import pytest

from scarab import protocol as p
from scarab.daemon.hostlink import host_gone, process_start
from tests.helpers import ScarabEnv, pid_alive, wait_for


def stop_daemon_hard(env: ScarabEnv) -> None:
    daemon = env.daemon_pid()
    assert daemon
    os.kill(daemon, signal.SIGKILL)
    wait_for(lambda: not pid_alive(daemon), what="the daemon to die")


def test_process_identity() -> None:
    with subprocess.Popen(["sleep", "30"]) as proc:
        try:
            start = process_start(proc.pid)
            assert start > 0
            assert not host_gone(proc.pid, start)
            assert host_gone(proc.pid, start + 1), "another start time is another process"
            assert host_gone(proc.pid, 0), "with no start time recorded, only a scarab-host counts"
        finally:
            proc.kill()
    assert host_gone(proc.pid, start)


@pytest.mark.timeout(90)
def test_stopped_host_is_waited_for_never_replaced(scarab: ScarabEnv) -> None:
    """A new daemon meets a host that cannot answer (SIGSTOP: as a host stuck for minutes would be).
    `ls` answers at once and marks it; the host and its shell live on and are adopted when it answers."""
    scarab.ok("new", "-d", "-s", "busy", "--", "sh")
    scarab.ok("new", "-d", "-s", "fine", "--", "sh")
    busy = scarab.session("busy")
    host, child = busy["host_pid"], busy["child_pid"]
    stop_daemon_hard(scarab)
    os.kill(host, signal.SIGSTOP)
    try:
        started = time.monotonic()
        listing = {s["name"]: s for s in scarab.sessions()}
        assert time.monotonic() - started < 5, "ls waited for the stopped host"
        assert listing["busy"]["state"] == "unresponsive"
        assert listing["fine"]["state"] == "running"
        result = scarab.run("send", "busy", "echo hi", "Enter")
        assert result.returncode == 1 and "is not answering" in result.stderr and "busy or stopped" in result.stderr
        # Longer than any request timeout the daemon has: still the same, live host.
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            assert pid_alive(host) and pid_alive(child), "a live host (or its shell) was killed"
            time.sleep(0.2)
        assert scarab.session("busy")["host_pid"] == host
        assert "is not answering" in scarab.paths.daemon_log.read_text()
    finally:
        os.kill(host, signal.SIGCONT)
    wait_for(lambda: scarab.session("busy")["state"] == "running", what="the host to be adopted")
    after = scarab.session("busy")
    assert (after["host_pid"], after["child_pid"]) == (host, child)
    scarab.ok("send", "busy", "echo adopted-$((6*7))", "Enter")
    wait_for(lambda: "adopted-42" in scarab.capture("busy"), what="the adopted shell to answer")
    assert "answers again" in scarab.paths.daemon_log.read_text()


def test_a_live_host_whose_link_drops_is_reconnected_not_replaced(scarab: ScarabEnv) -> None:
    """Another connection greets the host, which may drop the daemon's link for it: whatever the
    host does, the daemon must reconnect to the live host, never kill and resurrect it."""
    scarab.ok("new", "-d", "-s", "s", "--", "sh")
    before = scarab.session("s")
    sock = scarab.paths.host_socket(before["id"])
    with socket.socket(socket.AF_UNIX) as intruder:
        intruder.connect(str(sock))
        intruder.sendall(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="daemon")))
        intruder.settimeout(5)
        with contextlib.suppress(OSError):
            intruder.recv(65536)
        wait_for(lambda: scarab.session("s")["state"] == "running", what="the session to be running")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert pid_alive(before["host_pid"]) and pid_alive(before["child_pid"]), "a live host was killed"
        time.sleep(0.05)
    after = scarab.session("s")
    assert (after["host_pid"], after["child_pid"]) == (before["host_pid"], before["child_pid"])
    scarab.ok("send", "s", "echo still-$((6*7))", "Enter")
    wait_for(lambda: "still-42" in scarab.capture("s"), what="the same shell to answer")


def test_a_reused_pid_is_neither_killed_nor_taken_for_the_host(scarab: ScarabEnv) -> None:
    """The database names a host pid now used by an unrelated process: the daemon resurrects the
    session (the host is gone) and leaves that process alone."""
    scarab.ok("new", "-d", "-s", "s", "--", "sh")
    record = scarab.session("s")
    stop_daemon_hard(scarab)
    os.kill(record["host_pid"], signal.SIGKILL)
    wait_for(lambda: not pid_alive(record["host_pid"]), what="the host to die")
    with subprocess.Popen(["sleep", "60"]) as stranger:
        try:
            with contextlib.closing(scarab.db()) as conn, conn:
                conn.execute("UPDATE sessions SET host_pid = ?", (stranger.pid,))
            wait_for(lambda: scarab.session("s")["state"] == "running", what="the session to be restored")
            assert scarab.session("s")["host_pid"] not in (stranger.pid, record["host_pid"])
            assert stranger.poll() is None, "the daemon killed a process that reused the host's pid"
        finally:
            stranger.kill()
