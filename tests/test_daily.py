"""Daily-driver behaviour through the real CLI, daemon and hosts: targets, listings, session life,
history (issue 12)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.helpers import ScarabEnv, new_sh, wait_for


def test_minus_t_targets_every_command_like_tmux(scarab: ScarabEnv) -> None:
    new_sh(scarab, "w")
    scarab.ok("send", "-t", "w", "echo via-t", "Enter")
    wait_for(lambda: "via-t" in scarab.capture("w").splitlines(), what="send -t")
    assert "via-t" in scarab.ok("capture", "-t", "w").splitlines()
    scarab.ok("rename", "-t", "w", "work")
    assert [s["name"] for s in scarab.sessions()] == ["work"]
    scarab.ok("rename", "work", "w2")  # positional stays
    both = scarab.run("kill", "-t", "w2", "other")
    assert both.returncode == 1 and "two targets" in both.stderr
    missing = scarab.run("kill")  # a kill names what it kills (capture takes tmux's best session)
    assert missing.returncode == 1 and "needs a target" in missing.stderr
    scarab.ok("kill", "-t", "w2")
    assert scarab.sessions() == []


def test_daemon_status_prints_on_stdout(scarab: ScarabEnv) -> None:
    pid = int(scarab.ok("daemon", "start"))
    status = scarab.run("daemon", "status", check=True)
    lines = status.stdout.splitlines()
    assert int(lines[0]) == pid
    assert any(line.startswith("socket ") for line in lines) and any(line.startswith("database ") for line in lines)
    assert status.stderr == ""


def test_ls_format_and_tsv_are_safe_for_awk(scarab: ScarabEnv) -> None:
    sid = new_sh(scarab, "one")
    new_sh(scarab, "two words")
    out = scarab.ok("ls", "-F", "#{name}\\t#{short_id}\\t#{attached_ago}\\t#{state}")
    rows = [line.split("\t") for line in out.splitlines()]
    assert [r[0] for r in rows] == ["one", "two words"]
    assert rows[0][1] == sid[:8] and rows[0][3] == "running"
    assert all(" " not in r[2] and r[2][-1] in "smhd" for r in rows)
    tsv = scarab.ok("ls", "--tsv")
    awk = subprocess.run(["awk", "-F\t", '{print $2 "|" $7}'], input=tsv, capture_output=True, text=True, check=True)
    assert awk.stdout.splitlines() == ["one|running", "two words|running"]
    # Durations and sizes have no spaces, so plain whitespace splitting keeps the columns too.
    for line in tsv.splitlines():
        fields = line.split("\t")
        assert fields[2].isdigit() and fields[3].isdigit() and fields[5] == "80x24"
    bad = scarab.run("ls", "-F", "#{nope}")
    assert bad.returncode == 1 and "unknown format field #{nope}" in bad.stderr


def test_exited_session_shows_its_status_and_respawns(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "short", "--", "sh", "-c", "echo run-$$; read x; exit 3")
    wait_for(lambda: "run-" in scarab.capture("short"))
    scarab.ok("send", "short", "Enter")
    wait_for(lambda: scarab.session("short")["state"] == "exited", what="the session to be marked exited")
    info = scarab.session("short")
    assert info["exit_status"] == 3
    assert "exited (3)" in scarab.ok("ls")
    running = scarab.run("respawn", "-t", "nope")
    assert running.returncode == 1 and "Session not found" in running.stderr
    assert scarab.ok("respawn", "short").strip() == "respawned short"
    info = scarab.session("short")
    assert info["state"] == "running" and info["exit_status"] == 0 and info["id"]
    wait_for(lambda: scarab.capture("short").count("run-") == 2, what="the program to run again")
    screen = scarab.capture("short", "--scrollback")
    assert "[scarab: respawned " in screen and "restored" not in screen  # started again, nothing was lost
    again = scarab.run("respawn", "short")
    assert again.returncode == 1 and "still running" in again.stderr


def test_cleanup_names_the_sessions_it_removed(scarab: ScarabEnv) -> None:
    new_sh(scarab, "old-one")
    new_sh(scarab, "old-two")
    time.sleep(1.1)  # last_attached has a one-second resolution
    out = scarab.ok("cleanup", "--older-than", "1s")
    assert out.strip() == "removed 2 session(s): old-one, old-two"
    assert scarab.sessions() == []


def test_host_process_shows_the_session_name_in_ps(scarab: ScarabEnv) -> None:
    new_sh(scarab, "work")
    pid = scarab.session("work")["host_pid"]

    def title() -> str:
        return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode()

    assert title() == "scarab-host: work"
    ps = subprocess.run(["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=True)
    assert ps.stdout.strip() == "scarab-host: work"
    scarab.ok("rename", "work", "build")
    wait_for(lambda: title() == "scarab-host: build", what="the title to follow the rename")
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "scarab-host"


def test_clear_and_clear_history_empty_the_scrollback(scarab: ScarabEnv) -> None:
    new_sh(scarab, "h")
    scarab.ok("send", "h", "seq 1 200", "Enter")
    wait_for(lambda: "200" in scarab.capture("h").splitlines())
    assert "1" in scarab.capture("h", "--scrollback").splitlines()
    # What `clear` sends: home, erase the screen, erase the saved lines.
    scarab.ok("send", "h", "printf '\\033[H\\033[2J\\033[3J'; echo after-clear", "Enter")
    wait_for(lambda: "after-clear" in scarab.capture("h").splitlines())
    assert "1" not in scarab.capture("h", "--scrollback").splitlines()
    scarab.ok("send", "h", "seq 1 100", "Enter")
    wait_for(lambda: "100" in scarab.capture("h").splitlines())
    assert "1" in scarab.capture("h", "--scrollback").splitlines()
    scarab.ok("clear-history", "-t", "h")
    kept = scarab.capture("h", "--scrollback")
    assert "1" not in kept.splitlines() and "100" in kept.splitlines()  # the screen stays


def test_a_program_that_exits_at_once_is_marked_exited(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "quick", "--", "sh", "-c", "exit 4")
    wait_for(lambda: scarab.session("quick")["state"] == "exited", what="the session to be marked exited")
    assert scarab.session("quick")["exit_status"] == 4
    scarab.ok("respawn", "quick")
    wait_for(lambda: scarab.session("quick")["state"] == "exited", what="the respawned program to exit again")


def test_every_message_has_its_own_tag() -> None:
    # Two helpers once gave new messages the same tag: MESSAGES kept one, and every client broke.
    from scarab import protocol as p

    classes = p.Message.__subclasses__()
    assert len({cls.TAG for cls in classes}) == len(classes)
    assert set(p.MESSAGES.values()) == set(classes)
