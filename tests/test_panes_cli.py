"""Windows and panes through the CLI, with a real daemon and real hosts (issue 14): each verb, the
geometry of list-panes against a real tmux 3.3a server, and the crash guarantees — a daemon
`kill -9` (same pane pids, rectangles and screens), everything killed (the same windows, layout,
working directories, screens and scrollback), and kill -9 in the middle of bursts (the database
consistent with the live host)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.testkit import frame_with, shows
from tests.helpers import ScarabEnv, pid_alive, wait_for
from tests.tmux_oracle import Tmux

pytestmark = pytest.mark.timeout(120)


def layout(env: ScarabEnv, target: str) -> p.LayoutReply:
    """The session's latest Layout as list-panes reads it, asked from this process (for polls)."""
    reply = env.ask(lambda client: client.request(p.LayoutQuery(target=target)))
    assert isinstance(reply, p.LayoutReply), reply
    return reply


def panes(env: ScarabEnv, target: str = "w", *, session: bool = True) -> list[dict[str, Any]]:
    """`scarab list-panes [-s] -t TARGET --json`, through the CLI."""
    out = env.ok("list-panes", *(["-s"] if session else []), "-t", target, "--json")
    return json.loads(out)  # type: ignore[no-any-return]


def windows(env: ScarabEnv, target: str = "w") -> list[dict[str, Any]]:
    return json.loads(env.ok("list-windows", "-t", target, "--json"))  # type: ignore[no-any-return]


def rects(rows: list[dict[str, Any]]) -> list[tuple[int, ...]]:
    return [(r["left"], r["top"], r["width"], r["height"], int(r["active"])) for r in rows]


def fail(env: ScarabEnv, *args: str) -> str:
    result = env.run(*args)
    assert result.returncode != 0, f"scarab {' '.join(args)} succeeded: {result.stdout}"
    assert result.stderr.startswith("scarab: "), result.stderr
    return result.stderr


def prompt_ready(env: ScarabEnv, pane: str) -> None:
    wait_for(lambda: "$" in env.capture(pane), what=f"a prompt in {pane}")


def test_targets_and_sizes_are_checked_before_anything_changes(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "w", "-x", "80", "-y", "24", "--", "sh")
    before = layout(scarab, "w")
    assert "can't find window: 9" in fail(scarab, "split-window", "-t", "w:9")
    assert "can't find pane: %999" in fail(scarab, "kill-pane", "-t", "%999")
    assert "can't find session: nosuch" in fail(scarab, "select-window", "-t", "nosuch:0")
    assert "bad size '0'" in fail(scarab, "split-window", "-t", "w", "-l", "0")
    assert "bad size 'abc'" in fail(scarab, "split-window", "-t", "w", "-l", "abc")
    assert "percentage" in fail(scarab, "split-window", "-t", "w", "-p", "150")
    assert "does not exist" in fail(scarab, "split-window", "-t", "w", "-c", str(scarab.root / "nowhere"))
    assert "unknown window option" in fail(scarab, "set-window-option", "-t", "w", "monitor-bell", "on")
    assert "use on or off" in fail(scarab, "set-window-option", "-t", "w", "synchronize-panes", "maybe")
    assert "needs a direction" in fail(scarab, "resize-pane", "-t", "w", "5")
    outside = scarab.run("split-window", env_extra={"SCARAB": "gone"})
    assert outside.returncode == 1, outside.stdout
    after = layout(scarab, "w")
    assert after.layout.panes == before.layout.panes and after.layout.windows == before.layout.windows


def test_ids_are_committed_before_use(scarab: ScarabEnv) -> None:
    """A new session's pane and window ids come from the user's counter, advanced in the database."""
    scarab.ok("new", "-d", "-s", "a", "--", "sh")
    scarab.ok("new", "-d", "-s", "b", "--", "sh")
    with contextlib.closing(scarab.db()) as conn:
        pane, window = conn.execute("SELECT pane, window FROM ids").fetchone()
    assert (pane, window) == (2, 2)


def test_killing_the_last_pane_or_window_ends_the_session_as_in_tmux(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "w", "--", "sh")
    scarab.ok("new-window", "-t", "w", "--", "sh")
    scarab.ok("kill-window", "-t", "w:1")  # one of two windows: the session goes on
    assert [s["name"] for s in scarab.sessions()] == ["w"]
    (host,) = scarab.host_pids()
    scarab.ok("kill-pane", "-t", "w")  # its only pane: the session ends (on_exit keeps only what exits by itself)
    wait_for(lambda: not scarab.sessions(), what="the session to end with its last pane")
    wait_for(lambda: not pid_alive(host), what=f"host {host} to end")
    scarab.ok("new", "-d", "-s", "v", "--", "sh")
    scarab.ok("kill-window", "-t", "v:0")
    wait_for(lambda: not scarab.sessions(), what="the session to end with its last window")


def three_by_three(env: ScarabEnv) -> list[dict[str, Any]]:
    """A session of three windows of three panes each, every pane in its own directory with a mark
    on its screen and a few lines of scrollback."""
    dirs = [env.root / f"d{i}" for i in range(9)]
    for d in dirs:
        d.mkdir()
    env.ok("new", "-d", "-s", "w", "-x", "100", "-y", "30", "-c", str(dirs[0]), "--", "sh")
    env.ok("new-window", "-t", "w", "-n", "second", "-c", str(dirs[3]), "--", "sh")
    env.ok("new-window", "-t", "w", "-n", "third", "-c", str(dirs[6]), "--", "sh")
    for window in range(3):
        env.ok("split-window", "-h", "-t", f"w:{window}", "-c", str(dirs[3 * window + 1]), "--", "sh")
        env.ok("split-window", "-v", "-t", f"w:{window}", "-c", str(dirs[3 * window + 2]), "--", "sh")
    env.ok("select-layout", "-t", "w:1", "tiled")
    env.ok("resize-pane", "-t", "w:2.0", "-R", "3")
    env.ok("resize-pane", "-t", "w:0.1", "-Z")
    env.ok("select-window", "-t", "w:1")
    rows = panes(env)
    assert len(rows) == 9 and len({r["id"] for r in rows}) == 9
    for r in rows:
        prompt_ready(env, r["id"])
        env.ok("send", "-t", r["id"], f"seq 1 40; echo mark-{r['id'][1:]}-$((6*7)); pwd", "Enter")
    for r in rows:
        wait_for(lambda r=r: f"mark-{r['id'][1:]}-42" in env.capture(r["id"]), what=f"the mark in {r['id']}")
    return rows


@pytest.mark.timeout(180)
def test_daemon_kill9_keeps_every_pane(scarab: ScarabEnv) -> None:
    before = three_by_three(scarab)
    screens = {r["id"]: scarab.capture(r["id"]) for r in before}
    listed = windows(scarab)
    daemon = scarab.daemon_pid()
    assert daemon
    os.kill(daemon, signal.SIGKILL)
    wait_for(lambda: not pid_alive(daemon), what="the daemon to die")
    wait_for(lambda: scarab.session("w")["state"] == "running", what="the host to be adopted")
    after = panes(scarab)
    assert [(r["id"], r["pid"]) for r in after] == [(r["id"], r["pid"]) for r in before]
    assert rects(after) == rects(before)
    assert windows(scarab) == listed
    for r in after:
        assert pid_alive(r["pid"])
        assert scarab.capture(r["id"]) == screens[r["id"]]
    # And the panes still work as before.
    scarab.ok("send", "-t", after[4]["id"], "echo again-$((6*7))", "Enter")
    wait_for(lambda: "again-42" in scarab.capture(after[4]["id"]), what="the adopted pane to answer")


@pytest.mark.timeout(180)
def test_everything_killed_brings_back_windows_layout_cwds_and_screens(scarab: ScarabEnv) -> None:
    before = three_by_three(scarab)
    listed = windows(scarab)
    session_id = scarab.session("w")["id"]

    def saved() -> bool:
        with contextlib.closing(scarab.db()) as conn:
            rows = conn.execute("SELECT pane, data FROM snapshots WHERE session_id = ?", (session_id,)).fetchall()
        marks = {pane for pane, data in rows if f"mark-{pane}-42".encode() in bytes(data)}
        return marks == {int(r["id"][1:]) for r in before}

    wait_for(saved, timeout=30, what="every pane's screen saved")
    scarab.kill_all()  # a reboot: the daemon and the host gone, by pid
    wait_for(lambda: scarab.session("w")["state"] == "running", timeout=30, what="the session restored")
    after = panes(scarab)
    assert [r["id"] for r in after] == [r["id"] for r in before]
    assert rects(after) == rects(before)
    assert [r["cwd"] for r in after] == [r["cwd"] for r in before]
    # Names given by hand come back; automatic ones follow the programs running now.
    shape = [(w["index"], w["layout"], w["flags"], w["automatic_rename"] or w["name"]) for w in listed]
    assert [(w["index"], w["layout"], w["flags"], w["automatic_rename"] or w["name"]) for w in windows(scarab)] == shape
    for r in after:
        text = scarab.capture(r["id"], "--scrollback")
        assert f"mark-{r['id'][1:]}-42" in text and "restored" in text, (r["id"], text)
        assert "\n1\n2\n3\n" in text, "the scrollback came back too"
        prompt_ready(scarab, r["id"])
    # Each shell runs in its saved directory again.
    for r in after:
        scarab.ok("send", "-t", r["id"], "echo at-$(pwd)", "Enter")
        wait_for(lambda r=r: f"at-{r['cwd']}" in scarab.capture(r["id"]), what=f"{r['id']} in {r['cwd']}")


def test_each_verb_through_the_cli(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "w", "-x", "80", "-y", "24", "--", "sh")
    printed = scarab.ok("split-window", "-h", "-t", "w", "-P", "-F", "#{pane_id} #{window_index}.#{pane_index}")
    assert printed.strip() == "%1 0.1"
    assert [r["active"] for r in panes(scarab)] == [False, True]
    scarab.ok("select-pane", "-t", "w", "-L")
    assert [r["active"] for r in panes(scarab)] == [True, False]
    scarab.ok("select-pane", "-t", "w", "-l")
    assert [r["active"] for r in panes(scarab)] == [False, True]
    scarab.ok("split-window", "-d", "-t", "w:0.1", "-l", "5")
    assert [r["height"] for r in panes(scarab)][1:] == [18, 5]
    scarab.ok("resize-pane", "-t", "w:0.2", "-U", "2")
    assert panes(scarab)[2]["height"] == 7
    scarab.ok("resize-pane", "-t", "w:0.0", "-x", "30")
    assert panes(scarab)[0]["width"] == 30
    scarab.ok("resize-pane", "-t", "w:0.0", "-Z")
    assert windows(scarab)[0]["zoomed"] and panes(scarab)[0]["width"] == 80
    scarab.ok("resize-pane", "-t", "w:0.0", "-Z")
    assert not windows(scarab)[0]["zoomed"]
    first = [r["id"] for r in panes(scarab)]
    scarab.ok("swap-pane", "-t", "w:0.0", "-D")
    assert [r["id"] for r in panes(scarab)] == [first[1], first[0], first[2]]
    scarab.ok("select-layout", "-t", "w", "even-horizontal")
    assert [r["width"] for r in panes(scarab)] == [26, 26, 26]
    string = windows(scarab)[0]["layout"]
    scarab.ok("select-layout", "-t", "w", "tiled")
    scarab.ok("select-layout", "-t", "w", string)
    assert windows(scarab)[0]["layout"] == string
    scarab.ok("new-window", "-t", "w", "-n", "logs", "--", "sh")
    assert [(w["index"], w["name"], w["active"]) for w in windows(scarab)] == [(0, "sh", False), (1, "logs", True)]
    scarab.ok("rename-window", "-t", "w:1", "build")
    scarab.ok("select-window", "-t", "w:0")
    assert [(w["name"], w["flags"]) for w in windows(scarab)] == [("sh", "*"), ("build", "-")]
    scarab.ok("select-window", "-t", "w", "-l")
    assert windows(scarab)[1]["active"]
    scarab.ok("select-window", "-t", "w", "-n")
    assert windows(scarab)[0]["active"]
    moved = panes(scarab, "w:0", session=False)[2]["id"]
    scarab.ok("break-pane", "-d", "-s", moved, "-n", "broken")
    assert [w["name"] for w in windows(scarab)] == ["sh", "build", "broken"]
    scarab.ok("kill-window", "-t", "w:broken")
    assert not any(r["id"] == moved for r in panes(scarab))
    scarab.ok("kill-pane", "-t", "w:0.1")
    assert len(panes(scarab, "w:0", session=False)) == 1
    # synchronize-panes: keys typed into the window reach every pane.
    scarab.ok("split-window", "-t", "w:0")
    scarab.ok("set-window-option", "-t", "w:0", "synchronize-panes", "on")
    assert windows(scarab)[0]["synchronize_panes"]
    for r in panes(scarab, "w:0", session=False):
        prompt_ready(scarab, r["id"])
    scarab.ok("send", "w", "echo both-$((6*7))", "Enter")
    for r in panes(scarab, "w:0", session=False):
        wait_for(lambda r=r: "both-42" in scarab.capture(r["id"]), what=f"the keys in {r['id']}")
    # A split that would leave a pane smaller than 1x1 is refused; nothing changes.
    scarab.ok("set-window-option", "-t", "w:0", "synchronize-panes", "off")
    before = panes(scarab)
    for _ in range(12):
        if scarab.run("split-window", "-t", "w:0", "-d", "-l", "1").returncode != 0:
            break
    error = fail(scarab, "split-window", "-t", "w:0", "-d", "-l", "1")
    assert "no space for new pane" in error  # tmux 3.3a's words
    assert len(panes(scarab)) > len(before)
    # ls counts windows and panes.
    listing = json.loads(scarab.ok("ls", "--json"))
    assert (listing[0]["windows"], listing[0]["panes"]) == (len(windows(scarab)), len(panes(scarab)))


OPERATIONS = [
    ("split-window -h", ["split-window", "-h"]),
    ("split-window -v -l 5", ["split-window", "-v", "-l", "5"]),
    ("select-pane -L", ["select-pane", "-L"]),
    ("split-window -v -p 30", ["split-window", "-v", "-p", "30"]),
    ("resize-pane -R 3", ["resize-pane", "-R", "3"]),
    ("split-window -h -b -f", ["split-window", "-h", "-b", "-f"]),
    ("select-layout main-vertical", ["select-layout", "main-vertical"]),
    ("resize-pane -Z", ["resize-pane", "-Z"]),
    ("resize-pane -Z", ["resize-pane", "-Z"]),
    ("select-layout tiled", ["select-layout", "tiled"]),
    ("resize-pane -y 4", ["resize-pane", "-y", "4"]),
    ("kill-pane", ["kill-pane"]),
    ("select-layout even-vertical", ["select-layout", "even-vertical"]),
    ("swap-pane -U", ["swap-pane", "-U"]),
    ("select-layout main-horizontal", ["select-layout", "main-horizontal"]),
]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_list_panes_geometry_equals_tmux(scarab: ScarabEnv, tmux: Tmux) -> None:
    scarab.ok("new", "-d", "-s", "w", "-x", "90", "-y", "31", "--", "sh")
    window = windows(scarab)[0]
    ((ok, out),) = tmux.run(["new-window -P -F '#{window_id}'"])
    assert ok, out
    wid = out.strip()
    ((ok, out),) = tmux.run([f"resize-window -t {wid} -x {window['width']} -y {window['height']}"])
    assert ok, out
    fmt = "#{pane_left} #{pane_top} #{pane_width} #{pane_height} #{pane_active}"
    for tmux_command, argv in OPERATIONS:
        ((ok, out),) = tmux.run([f"{tmux_command.split(' ', 1)[0]} -t {wid} {tmux_command.partition(' ')[2]}"])
        assert ok, (tmux_command, out)
        scarab.ok(argv[0], "-t", "w", *argv[1:])
        ((ok, out),) = tmux.run([f"list-panes -t {wid} -F '{fmt}'"])
        expected = [tuple(int(v) for v in line.split()) for line in out.splitlines()]
        assert rects(panes(scarab, session=False)) == expected, tmux_command
        ((ok, zoomed),) = tmux.run([f"display-message -p -t {wid} '#{{window_zoomed_flag}}'"])
        assert windows(scarab)[0]["zoomed"] == (zoomed.strip() == "1"), tmux_command


def test_a_new_sessions_windows_and_panes_are_stored_before_new_returns(scarab: ScarabEnv) -> None:
    """The host's first Layout is taken in before `new` answers, and was stored before the session's
    row existed: FOREIGN KEY constraint failed, so a session's window and pane reached the database
    only with its first layout change (and every daemon restart wrote them all again)."""
    scarab.ok("new", "-d", "-s", "w", "--", "sh")
    with contextlib.closing(scarab.db()) as conn:
        stored = conn.execute("SELECT w.name, p.id FROM windows w JOIN panes p USING (session_id)").fetchall()
    assert stored == [("sh", int(panes(scarab)[0]["id"].lstrip("%")))]
    assert "could not handle" not in scarab.paths.daemon_log.read_text()


def burst(env: ScarabEnv, seconds: float, seed: int) -> None:
    """Splits, kills and new windows from a few concurrent CLIs while the daemon is killed -9
    repeatedly; then the database must match the live host: every stored pane has a live program
    and the host's list, every live pane is stored."""
    env.ok("new", "-d", "-s", "w", "-x", "120", "-y", "40", "--", "sh")
    rng = random.Random(seed)
    verbs = [["split-window", "-d", "-t", "w"], ["kill-pane", "-t", "w:0.1"], ["new-window", "-d", "-t", "w"],
             ["kill-window", "-t", "w:1"], ["split-window", "-h", "-t", "w:1"]]  # fmt: skip
    end = time.monotonic() + seconds
    kills = 0
    while time.monotonic() < end:
        argvs = [[sys.executable, "-m", "scarab", *rng.choice(verbs)] for _ in range(3)]
        procs = [subprocess.Popen(a, env=env.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for a in argvs]
        time.sleep(rng.uniform(0.05, 0.4))  # the moment of the crash: random, within the burst
        daemon = env.daemon_pid()
        if daemon:
            os.kill(daemon, signal.SIGKILL)
            kills += 1
        for proc in procs:
            proc.wait(timeout=60)
        if not panes(env):
            break
    assert kills
    wait_for(lambda: env.session("w")["state"] == "running", what="the session adopted")
    session_id = env.session("w")["id"]

    def stored() -> dict[str, int]:
        with contextlib.closing(env.db()) as conn:
            rows = conn.execute("SELECT id, pid FROM panes WHERE session_id = ?", (session_id,)).fetchall()
        return {f"%{pane}": pid for pane, pid in rows}

    live = {r["id"]: r["pid"] for r in panes(env)}
    wait_for(lambda: stored() == live, timeout=5, what=lambda: f"the database {stored()} to match the host {live}")
    for pid in live.values():
        assert pid_alive(pid), "a stored pane has no program"
    host = env.session("w")["host_pid"]
    listing = subprocess.run(["ps", "-o", "pid=,stat=", "--ppid", str(host)], capture_output=True, text=True).stdout
    # Zombies (a killed pane's program not yet reaped) hold no PTY.
    children = {int(pid) for pid, stat in (line.split() for line in listing.splitlines()) if not stat.startswith("Z")}
    assert children == set(live.values()), "a PTY without a pane, or the reverse"


def test_kill9_during_bursts_keeps_the_database_consistent(scarab: ScarabEnv) -> None:
    burst(scarab, seconds=6, seed=1)


@pytest.mark.stress
@pytest.mark.timeout(900)
@pytest.mark.parametrize("seed", range(2, 7))
def test_kill9_during_long_bursts_keeps_the_database_consistent(scarab: ScarabEnv, seed: int) -> None:
    burst(scarab, seconds=60, seed=seed)


def test_send_capture_and_history_take_pane_targets(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "w", "-x", "80", "-y", "24", "--", "sh")
    scarab.ok("split-window", "-h", "-t", "w")
    left, right = (r["id"] for r in panes(scarab))
    for pane in (left, right):
        prompt_ready(scarab, pane)
    scarab.ok("send", "-t", "w:0.0", "echo left-$((6*7))", "Enter")
    scarab.ok("send", "-t", right, "echo right-$((6*7))", "Enter")
    wait_for(lambda: "left-42" in scarab.capture(left) and "right-42" in scarab.capture(right), what="both echoes")
    assert "right-42" not in scarab.capture(left) and "left-42" not in scarab.capture(right)
    assert "right-42" in scarab.ok("capture", "-t", "w:0.1") and "left-42" not in scarab.ok("capture", "-t", "w:0.1")
    assert "right-42" in scarab.ok("capture", "w"), "a session alone is its active pane"
    scarab.ok("send", "-t", left, "seq 1 60", "Enter")

    async def history(client: Client) -> p.History:
        reply = await client.request(p.HistoryRequest(target=left, start=-100, count=100))
        assert isinstance(reply, p.History)
        return reply

    wait_for(lambda: any(text == "10" for _i, text, _runs in scarab.ask(history).lines), what="the left pane's rows")
    assert scarab.ask(history).pane == int(left[1:])


def test_attaching_gets_the_layout_then_full_frames_of_each_visible_pane(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "w", "-x", "80", "-y", "24", "--", "sh")
    scarab.ok("split-window", "-h", "-t", "w")
    ids = {int(r["id"][1:]) for r in panes(scarab)}

    async def attach(client: Client) -> tuple[list[str], set[int]]:
        await client.request(p.SessionAttach(target="w", cols=80, rows=25))
        kinds: list[str] = []
        full: set[int] = set()
        while full != ids:
            msg = await asyncio.wait_for(client.events.get(), 10)
            if isinstance(msg, p.Layout):
                kinds.append("layout")
            elif isinstance(msg, p.Frame):
                kinds.append("frame")
                full |= {msg.pane} if msg.full else set()
        # A change reaches the attached client as a new Layout.
        await client.request(p.SelectPane(target="w", direction="L"))
        while not isinstance(msg := await asyncio.wait_for(client.events.get(), 10), p.Layout):
            pass
        assert [pane.active for pane in msg.panes] == [True, False]
        return kinds, full

    kinds, full = scarab.ask(attach)
    assert kinds[0] == "layout" and full == ids


def test_a_split_right_after_new_finds_the_new_sessions_pane(scarab: ScarabEnv) -> None:
    # A script's `new -d` then `split-window` (the bench does it on one connection): the daemon
    # answered the create before the host's first Layout was taken in, and the split found no pane.
    scarab.ok("daemon", "start")

    async def scenario() -> list[str]:
        client = await Client.connect(scarab.paths)
        try:
            failures = []
            for n in range(8):
                await client.request(p.SessionCreate(name=f"s{n}", command=["sh"]))
                try:
                    await client.request(p.SplitWindow(target=f"s{n}", command=["sh"]))
                except Exception as exc:
                    failures.append(f"s{n}: {exc}")
            return failures
        finally:
            await client.close()

    assert asyncio.run(asyncio.wait_for(scenario(), 60)) == []


def test_attached_to_a_session_of_two_windows_typing_still_shows(scarab: ScarabEnv) -> None:
    """The panes of a window not shown send no frames, so the daemon may not wait for theirs (it did:
    every frame after the attach's full ones was held back until a window switch or a redraw)."""
    scarab.ok("new", "-d", "-s", "w", "-x", "80", "-y", "24", "--", "sh")
    scarab.ok("new-window", "-t", "w", "--", "sh")
    scarab.ok("split-window", "-t", "w:0")
    scarab.ok("select-window", "-t", "w:1")
    shown = next(int(r["id"][1:]) for r in panes(scarab) if r["window"] == 1)
    prompt_ready(scarab, f"%{shown}")

    async def attach(client: Client) -> None:
        await client.request(p.SessionAttach(target="w", cols=80, rows=25))
        await frame_with(client, lambda frame: frame.full and frame.pane == shown)
        await client.request(p.Input(target="w", data=b"echo typed-$((6*7))\r", ack=True))
        await frame_with(client, lambda frame: not frame.full and shows("typed-42")(frame), timeout=5)

    scarab.ask(attach)


def test_output_in_a_window_not_shown_is_saved(scarab: ScarabEnv) -> None:
    """A window not shown sends no frames to say it changed, so its panes are saved on a later look
    (they were not: every pane counted as shown in its own window)."""
    sid = scarab.ok("new", "-d", "-s", "w", "--", "sh").strip()
    prompt_ready(scarab, "%0")
    scarab.ok("new-window", "-t", "w", "--", "sh")
    scarab.ok("send", "-t", "%0", "echo hidden-$((6*7))", "Enter")

    def saved() -> str:
        with contextlib.closing(scarab.db()) as conn:
            row = conn.execute("SELECT data FROM snapshots WHERE session_id = ? AND pane = 0", (sid,)).fetchone()
        return bytes(row[0]).decode(errors="replace") if row else ""

    wait_for(lambda: "hidden-42" in saved(), timeout=5, what="the hidden pane's snapshot")
