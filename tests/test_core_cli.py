"""End-to-end tests of the core through the real `scarab` CLI: real daemon, hosts, ptys and SQLite."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scarab import protocol as p
from tests.helpers import ScarabEnv, new_sh, pid_alive, type_line, wait_for


def test_new_send_capture(scarab: ScarabEnv) -> None:
    new_sh(scarab, "w")
    type_line(scarab, "w", "echo hi")
    wait_for(lambda: "hi" in scarab.capture("w").splitlines(), what="echo output")
    # The command prints what the poll saw (polls ask the daemon from the test process).
    assert scarab.ok("capture", "w") == scarab.capture("w")
    # No target outside a session: tmux's best session, as capture-pane -p (it was refused).
    assert scarab.ok("capture") == scarab.capture("w")


def test_ls_shows_all_columns_and_json(scarab: ScarabEnv) -> None:
    sid = new_sh(scarab, "work", "-x", "100", "-y", "30", "-c", str(scarab.root / "home"))
    table = scarab.ok("ls")
    header = table.splitlines()[0].split()
    assert header == ["ID", "NAME", "CREATED", "ATTACHED", "CLIENTS", "SIZE", "WINDOWS", "STATE", "COMMAND", "CWD"]
    assert sid[:8] in table and "100x30" in table and "running" in table
    (info,) = json.loads(scarab.ok("ls", "--json"))
    # ls asks the host for its usage too; the rest is what the daemon lists.
    usage = ("recording", "memory", "cpu", "limits")
    assert [{k: v for k, v in info.items() if k not in usage}] == [
        {k: v for k, v in s.items() if k not in usage} for s in scarab.sessions()
    ]
    assert info["recording"] is False and info["memory"] > 0 and info["cpu"] >= 0 and info["limits"] == ""
    assert info["id"] == sid and info["name"] == "work" and info["cols"] == 100 and info["rows"] == 30
    assert info["cwd"] == str(scarab.root / "home") and info["command"] == ["sh"] and info["attached"] == 0


def test_default_names_and_targets(scarab: ScarabEnv) -> None:
    first = scarab.ok("new", "-d", "--", "sh").strip()
    second = scarab.ok("new", "-d", "--", "sh").strip()
    names = {s["id"]: s["name"] for s in scarab.sessions()}
    assert names == {first: "0", second: "1"}
    # Unique id prefixes work as targets, like names.
    scarab.ok("rename", first[:6], "alpha")
    assert scarab.session("alpha")["id"] == first


@pytest.mark.parametrize(
    "name",
    ["\u200b", "a\u200bb", "evil\u202etxt", "x\u0085y", "\u2066left", "a\u2028b", "\u200d"],
    ids=["zwsp-alone", "zwsp-inside", "rlo", "c1-nel", "bidi-isolate", "line-separator", "zwj-alone"],
)
def test_invisible_and_bidi_names_are_refused(scarab: ScarabEnv, name: str) -> None:
    new = scarab.run("new", "-d", "-s", name, "--", "sh")
    assert new.returncode == 1 and "scarab: session name" in new.stderr and "Traceback" not in new.stderr
    new_sh(scarab, "plain")
    renamed = scarab.run("rename", "plain", name)
    assert renamed.returncode == 1 and "scarab: session name" in renamed.stderr
    assert [s["name"] for s in scarab.sessions()] == ["plain"]
    # Visible non-ASCII (an emoji ZWJ sequence, accents, CJK) stays allowed.
    scarab.ok("rename", "plain", "\U0001f469\u200d\U0001f4bb-caf\u00e9-\u65e5\u672c")


def test_names_never_shadow_ids(scarab: ScarabEnv) -> None:
    first = new_sh(scarab, "first")
    second = new_sh(scarab, "second")
    # A name equal to another session's id, or to the start of it, would make that id name it.
    for bad in (first, first[:8], first[:4]):
        renamed = scarab.run("rename", "second", bad)
        assert renamed.returncode == 1 and "is (the start of) the id of session 'first'" in renamed.stderr
        created = scarab.run("new", "-d", "-s", bad, "--", "sh")
        assert created.returncode == 1 and "the id of session 'first'" in created.stderr
    assert sorted(s["name"] for s in scarab.sessions()) == ["first", "second"]
    # Its own id is fine, and an exact id wins over a name anyway (the database may hold old names).
    scarab.ok("rename", "second", second)
    assert scarab.session(second)["id"] == second
    assert scarab.ok("rename", first, "renamed-by-id").strip().startswith(f"renamed {first[:8]}")


def test_rename_kill_and_errors(scarab: ScarabEnv) -> None:
    new_sh(scarab, "a")
    new_sh(scarab, "b")
    dup = scarab.run("rename", "a", "b")
    assert dup.returncode == 1 and "duplicate session name" in dup.stderr
    dup = scarab.run("new", "-d", "-s", "a", "--", "sh")
    assert dup.returncode == 1 and "duplicate session name" in dup.stderr
    missing = scarab.run("kill", "nope")
    assert missing.returncode == 1 and "Session not found: nope" in missing.stderr
    missing = scarab.run("capture", "nope")
    assert missing.returncode == 1 and "Session not found: nope" in missing.stderr
    missing = scarab.run("send", "nope", "x")
    assert missing.returncode == 1 and "Session not found: nope" in missing.stderr
    bad = scarab.run("new", "-d", "-x", "0", "--", "sh")
    assert bad.returncode == 2 and "bad size" in bad.stderr
    bad = scarab.run("new", "-d", "-c", str(scarab.root / "missing"), "--", "sh")
    assert bad.returncode == 1 and "does not exist" in bad.stderr
    (scarab.root / "file").write_text("")
    bad = scarab.run("new", "-d", "-c", str(scarab.root / "file"), "--", "sh")
    assert bad.returncode == 1 and "is not a directory" in bad.stderr
    # Nothing was lost after all those errors.
    assert sorted(s["name"] for s in scarab.sessions()) == ["a", "b"]
    scarab.ok("rename", "a", "c")
    child = scarab.session("c")["child_pid"]
    scarab.ok("kill", "c")
    assert [s["name"] for s in scarab.sessions()] == ["b"]
    wait_for(lambda: not pid_alive(child), what="the killed session's shell to end")


def test_control_operations_are_in_sqlite(scarab: ScarabEnv) -> None:
    sid = new_sh(scarab, "db")
    with contextlib.closing(scarab.db()) as conn:
        assert conn.execute("SELECT name FROM sessions WHERE id = ?", (sid,)).fetchone() == ("db",)
        # Finding a session by name (every command naming one) is an index lookup, not a table scan.
        query = "EXPLAIN QUERY PLAN SELECT id FROM sessions WHERE name = ?"
        plan = " ".join(row[-1] for row in conn.execute(query, ("db",)))
        assert "USING" in plan and "INDEX" in plan and "SCAN" not in plan, plan
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    scarab.ok("rename", "db", "db2")
    with contextlib.closing(scarab.db()) as conn:
        assert conn.execute("SELECT name FROM sessions WHERE id = ?", (sid,)).fetchone() == ("db2",)
    scarab.ok("kill", "db2")
    with contextlib.closing(scarab.db()) as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone() == (0,)


def test_survives_daemon_kill9(scarab: ScarabEnv) -> None:
    """The done-when scenario: new, send, capture, then all of it again after kill -9 of the daemon."""
    new_sh(scarab, "w")
    type_line(scarab, "w", "echo hi")
    wait_for(lambda: "hi" in scarab.capture("w").splitlines())
    before = scarab.session("w")
    daemon = scarab.daemon_pid()
    assert daemon is not None
    os.kill(daemon, signal.SIGKILL)
    wait_for(lambda: not pid_alive(daemon), what="the daemon to die")
    assert scarab.paths.socket.exists()  # stale socket left behind, replaced by the next daemon
    assert "w" in scarab.ok("ls")  # a command auto-starts a new daemon, which adopts the host
    after = scarab.session("w")
    assert scarab.daemon_pid() not in (None, daemon)
    assert (after["host_pid"], after["child_pid"]) == (before["host_pid"], before["child_pid"])
    assert after["state"] == "running"
    assert "hi" in scarab.capture("w").splitlines()
    type_line(scarab, "w", "echo again")
    wait_for(lambda: "again" in scarab.capture("w").splitlines())


def test_host_kill9_resurrects_with_screen_and_cwd(scarab: ScarabEnv) -> None:
    sid = new_sh(scarab, "r", "-x", "90", "-y", "20")
    workdir = scarab.root / "home" / "project"
    workdir.mkdir()
    type_line(scarab, "r", f"cd {workdir} && echo marker-$((6*7))")
    wait_for(lambda: "marker-42" in scarab.capture("r"))
    wait_for(lambda: "marker-42" in scarab.snapshot_text(sid), what="the snapshot to be saved")
    old = scarab.session("r")
    os.kill(old["host_pid"], signal.SIGKILL)
    wait_for(lambda: not pid_alive(old["child_pid"]), what="the old shell to end with its pty")

    def resurrected() -> bool:
        s = scarab.session("r")
        return s["host_pid"] not in (0, old["host_pid"]) and s["state"] == "running"

    wait_for(resurrected, what="the session to be resurrected")
    new = scarab.session("r")
    assert (new["id"], new["cols"], new["rows"]) == (sid, 90, 20)
    assert new["cwd"] == str(workdir)
    screen = scarab.capture("r", "--scrollback")
    assert "marker-42" in screen and "restored" in screen
    # A fresh shell runs in the saved working directory.
    type_line(scarab, "r", "pwd")
    wait_for(lambda: str(workdir) in scarab.capture("r").splitlines()[-2:])


def test_reboot_resurrects_every_session(scarab: ScarabEnv) -> None:
    ids = {name: new_sh(scarab, name) for name in ("one", "two")}
    for name in ids:
        type_line(scarab, name, f"echo text-of-{name}")
    for name, sid in ids.items():
        wait_for(lambda sid=sid, name=name: f"text-of-{name}" in scarab.snapshot_text(sid))
    # A line longer than the screen is wide (80 columns): two rows, the first wrapped into the second.
    long = "abcdefghij" * 9 + "XYZ"
    type_line(scarab, "one", "printf 'abcdefghij%.0s' 1 2 3 4 5 6 7 8 9; echo XYZ; seq 1 30")

    def long_line_saved() -> bool:  # scrolled into history, saved there
        with contextlib.closing(scarab.db()) as conn:
            pages = conn.execute("SELECT data FROM history WHERE session_id = ?", (ids["one"],)).fetchall()
        return any(long[:80].encode() in bytes(page) for (page,) in pages)

    wait_for(long_line_saved, what="the long line's rows saved in history")
    scarab.kill_all()  # the reboot: daemon, hosts and shells all gone
    sessions = {s["name"]: s for s in scarab.sessions()}
    assert {n: s["id"] for n, s in sessions.items()} == ids
    for name in ids:
        # Resurrection runs in the background: `restoring` until the new host is up.
        assert sessions[name]["state"] in ("restoring", "running")
        wait_for(lambda name=name: scarab.session(name)["state"] == "running", what=f"{name} to be running again")
        wait_for(lambda name=name: f"text-of-{name}" in scarab.capture(name, "--scrollback"))
    # Which rows wrapped came back with them: copy mode copies the long line as one line.
    reply = scarab.ask(lambda client: client.request(p.HistoryRequest(target="one", start=0, count=200)))
    assert isinstance(reply, p.History)
    texts = [(index, text) for index, text, _runs in reply.lines]
    start = next(index for index, text in texts if text == long[:80])
    assert [text for index, text in texts if start <= index <= start + 1] == [long[:80], long[80:]]
    wrapped = set(reply.wrapped or ())
    assert start in wrapped and start + 1 not in wrapped


def test_child_exit_keeps_last_screen(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "short", "--", "sh", "-c", "echo goodbye; read x; exit 3")
    wait_for(lambda: "goodbye" in scarab.capture("short"))
    scarab.ok("send", "short", "Enter")
    wait_for(lambda: scarab.session("short")["state"] == "exited", what="the session to be marked exited")
    assert "goodbye" in scarab.capture("short")
    scarab.ok("kill", "short")
    assert scarab.sessions() == []


def test_daemon_commands(scarab: ScarabEnv) -> None:
    status = scarab.run("daemon", "status")
    assert status.returncode == 1 and "not running" in status.stderr
    pid = int(scarab.ok("daemon", "start"))
    assert pid_alive(pid)
    assert int(scarab.ok("daemon", "status").split()[0]) == pid
    new_sh(scarab, "keep")
    host = scarab.session("keep")["host_pid"]
    restarted = int(scarab.ok("daemon", "restart"))
    assert restarted != pid and not pid_alive(pid)
    assert scarab.session("keep")["host_pid"] == host  # hosts outlive a daemon restart
    scarab.ok("daemon", "stop")
    assert not pid_alive(restarted) and pid_alive(host)
    assert scarab.run("daemon", "status").returncode == 1


def test_sigterm_is_graceful(scarab: ScarabEnv) -> None:
    sid = new_sh(scarab, "t")
    type_line(scarab, "t", "echo before-term")
    wait_for(lambda: "before-term" in scarab.capture("t"))
    daemon = scarab.daemon_pid()
    assert daemon
    os.kill(daemon, signal.SIGTERM)
    wait_for(lambda: not pid_alive(daemon))
    assert "before-term" in scarab.snapshot_text(sid)  # state saved on the way out
    assert not scarab.paths.socket.exists()
    assert "before-term" in scarab.capture("t")


def test_two_daemons_at_once_one_wins(scarab: ScarabEnv) -> None:
    cmd = [sys.executable, "-m", "scarab", "daemon", "run", "--fork"]
    procs = [subprocess.Popen(cmd, env=scarab.env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    lines = [proc.communicate(timeout=60)[0].split() for proc in procs]
    assert all(words[0] in ("ready", "running") for words in lines), lines
    pids = {int(words[1]) for words in lines}
    assert len(pids) == 1 and pid_alive(pids.pop())


def test_a_command_waits_for_a_daemon_that_is_still_starting(scarab: ScarabEnv) -> None:
    # Another start holds the lock but does not listen yet (a second terminal's `scarab`, at the
    # same instant): this command is told `running` and must wait for it, not fail.
    scarab.paths.runtime.mkdir(parents=True, mode=0o700)
    with open(scarab.paths.lock, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        ls = subprocess.Popen([sys.executable, "-m", "scarab", "ls"], env=scarab.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip

        def starters() -> list[int]:
            start = b"\0scarab.daemon\0"  # `python -m scarab.daemon` (the zygote is `-m scarab.daemon.zygote`)
            return [pid for pid in scarab.our_pids() if start in Path(f"/proc/{pid}/cmdline").read_bytes()]

        wait_for(starters, what="the command's own daemon start")
        wait_for(lambda: not starters(), what="it to be told `running`")
        assert ls.poll() is None, ls.communicate()  # still waiting, not failed
    scarab.ok("daemon", "start")  # the lock's holder comes up
    _out, err = ls.communicate(timeout=30)
    assert ls.returncode == 0, err


def test_runtime_dir_private(scarab: ScarabEnv) -> None:
    scarab.ok("daemon", "start")
    assert stat.S_IMODE(scarab.paths.runtime.stat().st_mode) == 0o700
    assert stat.S_IMODE(scarab.paths.socket.stat().st_mode) == 0o600
    scarab.ok("daemon", "stop")
    os.chmod(scarab.paths.runtime, 0o755)
    bad = scarab.run("ls")
    assert bad.returncode == 1 and "unsafe permissions" in bad.stderr and "chmod 700" in bad.stderr


def test_corrupt_database_is_moved_aside(scarab: ScarabEnv) -> None:
    new_sh(scarab, "before")
    scarab.ok("rename", "before", "survivor")  # the host learns the new name too
    scarab.ok("daemon", "stop")
    db = scarab.paths.database
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(str(db) + suffix)
    db.write_bytes(b"this is not a database" * 100)
    # The live host is adopted again even though the database is gone.
    assert [s["name"] for s in scarab.sessions()] == ["survivor"]
    aside = list(db.parent.glob("sessions.db.corrupt-*"))
    assert aside and b"not a database" in aside[0].read_bytes()
    assert "was corrupt" in scarab.paths.daemon_log.read_text()


def test_child_environment_and_terminal_replies(scarab: ScarabEnv) -> None:
    """Children see TERM/COLORTERM, and the emulator's answers to queries reach the program."""
    script = (
        r"""echo "term=$TERM color=$COLORTERM"; printf '\033[5;7H\033[6n'; IFS= read -rs -d R pos; """
        r"""echo "cpr=${pos#*[}"; sleep 60"""
    )
    scarab.ok("new", "-d", "-s", "q", "--", "bash", "-c", script)
    wait_for(lambda: "cpr=5;7" in scarab.capture("q"), what="the cursor position reply")
    assert "term=tmux-256color color=truecolor" in scarab.capture("q")


def test_cleanup_capture_ansi_and_literal_send(scarab: ScarabEnv) -> None:
    new_sh(scarab, "keep")
    assert scarab.ok("cleanup", "--older-than", "7d").strip() == "removed no sessions"
    assert [s["name"] for s in scarab.sessions()] == ["keep"]
    bad = scarab.run("cleanup", "--older-than", "soon")
    assert bad.returncode == 2 and "bad duration" in bad.stderr
    scarab.ok("send", "keep", "printf '\\033[1;31m%s\\033[0m\\n' red-text", "Enter")
    wait_for(lambda: "red-text" in scarab.capture("keep").splitlines())
    assert "\x1b[0;1;31mred-text\x1b[0m" in scarab.capture("keep", "--ansi")
    scarab.ok("send", "keep", "--literal", "echo", " Enter")
    wait_for(lambda: "$ echo Enter" in scarab.capture("keep"), what="literal key names typed as text")


def test_new_without_a_terminal_creates_nothing(scarab: ScarabEnv) -> None:
    result = scarab.run("new", "-s", "oops", "--", "sh")
    assert result.returncode == 1 and "scarab new -d" in result.stderr
    assert scarab.sessions() == []


def test_attaching_from_inside_a_session_is_refused(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "outer", "--", "sh")
    scarab.ok("send", "outer", f"{sys.executable} -m scarab attach outer; echo status=$?", "Enter")
    wait_for(lambda: "status=1" in scarab.capture("outer"), what="the nested attach to fail")
    assert "already inside scarab session 'outer'" in scarab.capture("outer")


def test_version_and_usage(scarab: ScarabEnv) -> None:
    assert scarab.ok("-V").strip().startswith("scarab 0.")
    usage = scarab.run("frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
