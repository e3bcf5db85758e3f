"""Recording, playback and limits of real sessions, through the CLI (issue 18).

Recordings are read back with the real asciinema (`asciinema cat`) and replayed into an emulator
to compare with `scarab capture`; limits are the setrlimit way, which works everywhere (the cgroup
and systemd ways are tested in test_limits where a machine has them)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import re
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.daemon.emulator import Emulator
from scarab.errors import BadRequest
from tests.helpers import ScarabEnv, Watching, pid_alive, until, wait_for

pytestmark = pytest.mark.timeout(120)


def new_sh(env: ScarabEnv, name: str, *extra: str) -> str:
    sid = env.ok("new", "-d", "-s", name, *extra, "--", "sh").strip()
    wait_for(lambda: "$" in env.capture(name), what="the shell prompt")
    return sid


def type_line(env: ScarabEnv, name: str, line: str) -> None:
    env.ok("send", name, line, "Enter")


def status(env: ScarabEnv, name: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads(env.ok("record", "status", "-t", name, "--json"))
    return items


def asciinema_cat(path: Path) -> str:
    proc = subprocess.run([sys.executable, "-m", "asciinema", "cat", str(path)], capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode()


def screen_text(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def replayed(path: Path) -> list[str]:
    """The screen a player ends on: asciinema's output fed to a terminal of the recording's size."""
    header = json.loads(path.read_text().splitlines()[0])
    emu = Emulator(header["width"], header["height"])
    emu.feed(asciinema_cat(path).encode())
    return screen_text("\n".join(line.text for line in emu.screen_lines()))


def test_new_record_plays_back_as_captured(scarab: ScarabEnv) -> None:
    new_sh(scarab, "r", "--record")
    type_line(scarab, "r", "printf 'caf\\303\\251 %s\\n' $((6*7)); printf '\\033[1;31mred\\033[0m\\n'")
    wait_for(lambda: "red" in scarab.capture("r").splitlines(), what="the output")
    [item] = status(scarab, "r")
    assert item["active"] is True
    path = Path(str(item["path"]))
    assert path.parent == scarab.paths.data / "recordings" and path.name.startswith("r-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "recording" in scarab.ok("ls")
    assert scarab.session("r")["memory"] == -1  # a plain list (first paint, polls) asks no host
    assert json.loads(scarab.ok("ls", "--json"))[0]["recording"] is True
    scarab.ok("record", "stop", "-t", "r")
    [item] = status(scarab, "r")
    assert item["active"] is False and item["reason"] == "stopped by record stop"
    assert replayed(path) == screen_text(scarab.capture("r"))
    assert "café 42" in replayed(path)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["version"] == 2 and (header["width"], header["height"]) == (80, 24)
    assert header["title"] == "r" and header["command"] == "sh"
    assert json.loads(scarab.ok("ls", "--json"))[0]["recording"] is False


def test_record_start_stop_and_refusals(scarab: ScarabEnv) -> None:
    new_sh(scarab, "s")
    type_line(scarab, "s", "echo before-recording")
    wait_for(lambda: "before-recording" in scarab.capture("s").splitlines())
    target = scarab.root / "mine.cast"
    assert scarab.ok("record", "start", "-t", "s", str(target)).strip() == str(target)
    # Started mid-session: the recording opens on the screen as it was.
    assert "before-recording" in replayed(target)
    again = scarab.run("record", "start", "-t", "s")
    assert again.returncode == 1 and "already being recorded" in again.stderr
    scarab.ok("record", "stop", "-t", "s")
    stop_again = scarab.run("record", "stop", "-t", "s")
    assert stop_again.returncode == 1 and "is not being recorded" in stop_again.stderr
    exists = scarab.run("record", "start", "-t", "s", str(target))
    assert exists.returncode == 1 and "already exists" in exists.stderr
    bad = scarab.run("record", "start", "-t", "s", str(scarab.root / "no" / "such" / "dir" / "x.cast"))
    assert bad.returncode == 0  # directories are made (0700)
    scarab.ok("record", "stop", "-t", "s")
    unwritable = scarab.run("record", "start", "-t", "s", "/proc/nope.cast")
    assert unwritable.returncode == 1 and unwritable.stderr.startswith("scarab: cannot create")
    assert scarab.session("s")["state"] == "running"
    # Keystrokes only with --input.
    keys = scarab.root / "keys.cast"
    scarab.ok("record", "start", "-t", "s", "--input", str(keys))
    type_line(scarab, "s", "echo typed-$((8*8))")
    wait_for(lambda: "typed-64" in scarab.capture("s").splitlines())
    scarab.ok("record", "stop", "-t", "s")
    typed = "".join(e[2] for e in map(json.loads, keys.read_text().splitlines()[1:]) if e[1] == "i")
    assert typed == "echo typed-$((8*8))\r"
    assert not any('"i"' in line for line in target.read_text().splitlines()[1:])


def test_recording_goes_on_across_a_daemon_kill9(scarab: ScarabEnv) -> None:
    new_sh(scarab, "k", "--record")
    type_line(scarab, "k", "echo before-$((1+1))")
    wait_for(lambda: "before-2" in scarab.capture("k").splitlines())
    daemon = scarab.daemon_pid()
    assert daemon is not None
    os.kill(daemon, signal.SIGKILL)
    wait_for(lambda: not pid_alive(daemon), what="the daemon to die")
    type_line(scarab, "k", "echo after-$((2+2))")  # a new daemon adopts the host
    wait_for(lambda: "after-4" in scarab.capture("k").splitlines())
    [item] = status(scarab, "k")
    assert item["active"] is True
    scarab.ok("record", "stop", "-t", "k")
    text = asciinema_cat(Path(str(item["path"])))
    assert "before-2" in text and "after-4" in text


def test_size_cap_stops_only_the_recording(scarab: ScarabEnv) -> None:
    config = scarab.root / "config" / "scarab"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text('record = true\nrecord_cap = "1M"\nscrollback = 200000\n')
    new_sh(scarab, "c")  # record = true: recorded without asking
    watching = Watching(scarab, "--json")
    try:
        type_line(scarab, "c", "seq 1 150000; echo done-$((3*3))")  # 1.2 MB
        stopped = watching.events_until("recording-stopped", "c")[-1]  # scripts are told too
        assert stopped["value"] == "recording stopped: size cap 1M reached"
    finally:
        watching.stop()
    wait_for(lambda: "done-9" in scarab.capture("c"), 60, what="the flood to end")
    [item] = status(scarab, "c")
    assert item["active"] is False and item["reason"] == "size cap 1M reached"
    path = Path(str(item["path"]))
    assert 0.9 * 2**20 < path.stat().st_size <= 2**20
    assert asciinema_cat(path).startswith("\x1b[H\x1b[2J")  # whole events, read to the end
    assert "[scarab: recording stopped: size cap 1M reached]" in scarab.capture("c", "--scrollback")
    log = scarab.paths.hosts / f"{scarab.session('c')['id']}.log"
    assert f"scarab-host: recording {path} stopped: size cap 1M reached" in log.read_text()
    assert scarab.session("c")["state"] == "running"
    type_line(scarab, "c", "echo still-$((5+5))")
    wait_for(lambda: "still-10" in scarab.capture("c").splitlines())


def test_full_disk_stops_only_the_recording(scarab: ScarabEnv) -> None:
    disk = scarab.root / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=700", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        new_sh(scarab, "f")
        scarab.ok("record", "start", "-t", "f", str(disk / "full.cast"))
        type_line(scarab, "f", "seq 1 100000; echo done-$((4*4))")
        wait_for(lambda: "done-16" in scarab.capture("f"), 60, what="the flood to end")
        [item] = status(scarab, "f")
        assert item["active"] is False and item["reason"] == "disk full"
        assert asciinema_cat(disk / "full.cast").startswith("\x1b[H\x1b[2J")  # cut back to whole events
        assert scarab.session("f")["state"] == "running"
        type_line(scarab, "f", "echo alive-$((6+6))")
        wait_for(lambda: "alive-12" in scarab.capture("f").splitlines())
    finally:
        with contextlib.suppress(Exception):
            scarab.ok("record", "stop", "-t", "f")
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_memory_limit_fails_the_program_not_the_session(scarab: ScarabEnv) -> None:
    new_sh(scarab, "m", "--memory", "200M", "--tasks", "100")
    wait_for(lambda: "[scarab: limits memory 200M, tasks 100 (setrlimit" in scarab.capture("m", "--scrollback"))
    allocate = f"{sys.executable} -c 'b = bytearray(400 * 2**20); print(\"got\", len(b) >> 20)'"
    type_line(scarab, "m", allocate + "; echo exit-$?")
    wait_for(lambda: "exit-1" in scarab.capture("m").splitlines(), 30, what="the allocation to fail")
    assert "MemoryError" in scarab.capture("m")
    assert scarab.session("m")["state"] == "running"
    shown = scarab.ok("limit", "-t", "m")
    assert "limits: memory 200M, tasks 100" in shown and "setrlimit" in shown
    # Changed live: the shell and what it starts next get the new cap.
    scarab.ok("limit", "-t", "m", "--memory", "600M")
    type_line(scarab, "m", allocate)
    wait_for(lambda: "got 400" in scarab.capture("m").splitlines(), 30, what="the allocation under the new cap")
    report = json.loads(scarab.ok("limit", "-t", "m", "--memory", "none", "--json"))
    assert report["limits"] == [0, 0, 100] and report["enforcement"] == "setrlimit"
    bad = scarab.run("limit", "-t", "m", "--memory", "2X")
    assert bad.returncode == 2 and "is not a size" in bad.stderr


def test_new_limits_and_record_hold_from_the_first_program_start(scarab: ScarabEnv) -> None:
    """`new --memory/--tasks/--record` go in the create itself: the first program starts limited
    (it reads its own limits at once) and its first bytes are recorded as it writes them (not
    only in the screen a late start opens with)."""
    reads = "grep -E 'Max (processes|address space)' /proc/self/limits; echo first-$((2*3)); exec cat"
    scarab.ok("new", "-d", "-s", "l", "--memory", "300M", "--tasks", "77", "--record", "--", "sh", "-c", reads)
    wait_for(lambda: "first-6" in scarab.capture("l"), what="the program's first lines")
    soft = {" ".join(words[:-3]): words[-3] for words in map(str.split, scarab.capture("l").splitlines())
            if words[:1] == ["Max"]}  # fmt: skip
    assert soft == {"Max processes": "77", "Max address space": str(300 * 2**20)}
    [item] = status(scarab, "l")
    events = [json.loads(line) for line in Path(str(item["path"])).read_text().splitlines()[1:]]
    assert any("first-6" in event[2] for event in events[1:] if event[1] == "o")


def test_bad_limits_are_refused_naming_the_form_and_create_nothing(scarab: ScarabEnv) -> None:
    for flag, value, says in (
        ("--memory", "2X", "memory limit '2X' is not a size: write it as 512M, 2G or 1.5G"),
        ("--cpu", "-1", "CPU limit '-1' is not a share: write it as 50% (half a CPU) or 200% (two CPUs)"),
        ("--tasks", "abc", "task limit 'abc' is not a number of processes: write it as a whole number, e.g. 500"),
    ):
        refused = scarab.run("new", "-d", "-s", "bad", flag, value, "--", "sh")
        assert refused.returncode == 2 and f"scarab new: error: argument {flag}: {says}" in refused.stderr
    assert scarab.daemon_pid() is None  # refused before anything was asked of a daemon

    # Another client's create is checked by the daemon too: refused, nothing made, the daemon goes on.
    for limits, says in (([5, 0, 0], "memory 5 bytes is below 1M"), ([0, -2, 0], "each -1 (none), 0"),
                         ([1], "give [memory bytes, cpu percent, tasks]")):  # fmt: skip
        create = p.SessionCreate(name="bad", command=["sh"], limits=limits)
        with pytest.raises(BadRequest, match=re.escape(says)):
            scarab.ask(lambda client, create=create: client.request(create))
    assert scarab.sessions() == []


def test_limits_are_kept_through_a_reboot(scarab: ScarabEnv) -> None:
    config = scarab.root / "config" / "scarab"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text("tasks = 400\n")  # a default the session then drops
    sid = new_sh(scarab, "r", "--memory", "200M")
    wait_for(lambda: "[scarab: limits memory 200M, tasks 400 (setrlimit" in scarab.capture("r", "--scrollback"))
    scarab.ok("limit", "-t", "r", "--tasks", "none")
    stored = scarab.db().execute("SELECT limits FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
    assert json.loads(stored) == [200 * 2**20, 0, 0]
    type_line(scarab, "r", "echo before-$((2*3))")
    wait_for(lambda: "before-6" in scarab.snapshot_text(sid), what="the snapshot to be saved")
    scarab.kill_all()  # the reboot: daemon, host and shell gone; the session is resurrected
    wait_for(lambda: scarab.session("r")["state"] == "running", what="r to be running again")
    wait_for(lambda: "[scarab: limits memory 200M (setrlimit" in scarab.capture("r", "--scrollback"),
             what="the new shell limited as the old one")  # fmt: skip
    report = json.loads(scarab.ok("limit", "-t", "r", "--json"))
    assert report["limits"] == [200 * 2**20, 0, 0]  # not config.toml's tasks again
    allocate = f"{sys.executable} -c 'b = bytearray(400 * 2**20)'"
    type_line(scarab, "r", allocate + "; echo exit-$?")
    wait_for(lambda: "exit-1" in scarab.capture("r").splitlines(), 30, what="the allocation to fail")
    assert "MemoryError" in scarab.capture("r")


def test_usage_figures_within_ten_percent_of_proc(scarab: ScarabEnv) -> None:
    new_sh(scarab, "u")
    hold = "import time; b = bytearray(80 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(120)"
    type_line(scarab, "u", f'{sys.executable} -c "{hold}" &')
    host = scarab.session("u")["host_pid"]

    def proc_rss() -> int:
        total = 0
        for pid in _descendants(int(host)):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")), 0)
        return total

    wait_for(lambda: proc_rss() > 80 * 2**20, 30, what="the program to hold 80 MB")
    listed = json.loads(scarab.ok("ls", "--json"))[0]
    measured = proc_rss()
    assert abs(listed["memory"] - measured) <= 0.1 * measured
    assert listed["cpu"] >= 0 and listed["limits"] == ""

    # CPU %: a busy program, looked at twice; /proc read around each look bounds what the host can
    # have measured between its two looks (the picker shows these same figures).
    type_line(scarab, "u", f"timeout 30 {sys.executable} -c 'while True: pass' &")
    wait_for(lambda: sum(_comm(pid).startswith("python") for pid in _descendants(int(host))) == 2,
             what="the busy program beside the one holding memory")  # fmt: skip
    programs = _descendants(int(host))  # read once: each look at /proc is then a few file reads

    def proc_cpu() -> float:
        total = 0
        for pid in programs:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    async def looks() -> tuple[float, float, float]:
        client = await Client.connect(scarab.paths, autostart=False)  # one connection: short round trips
        try:
            for _attempt in range(5):  # a host slower than ls's half second is listed without figures
                t_a, c_a = time.monotonic(), proc_cpu()
                first = await client.request(p.SessionList(usage=True))
                t_b, c_b = time.monotonic(), proc_cpu()
                await asyncio.sleep(1.0)  # the interval the share is measured over
                t_c, c_c = time.monotonic(), proc_cpu()
                second = await client.request(p.SessionList(usage=True))
                t_d, c_d = time.monotonic(), proc_cpu()
                assert isinstance(first, p.Listed) and isinstance(second, p.Listed)
                if first.sessions[0].cpu >= 0 and second.sessions[0].cpu >= 0:
                    break
        finally:
            await client.close()
        return 100 * (c_c - c_b) / (t_d - t_a), second.sessions[0].cpu, 100 * (c_d - c_a) / (t_c - t_b)

    low, shown, high = asyncio.run(looks())
    assert low > 5, (low, shown, high)  # the busy program ran (a loaded machine gives it less than a CPU)
    assert 0.9 * low <= shown <= 1.1 * high, (low, shown, high)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        found += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return found


CAST = [
    {"version": 2, "width": 40, "height": 5, "timestamp": 0},
    [0.1, "o", "one\r\n"],
    [0.2, "m", ""],
    [5.2, "o", "two\r\n"],
    [5.3, "r", "50x6"],
    [10.3, "o", "three\r\n"],
]


def write_cast(path: Path) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in CAST))
    return path


def test_play_writes_the_output_with_idle_limit(scarab: ScarabEnv) -> None:
    cast = write_cast(scarab.root / "p.cast")
    started = time.monotonic()
    played = scarab.run("play", str(cast), "--idle-limit", "0.2", check=True)
    took = time.monotonic() - started
    assert played.stdout == "one\ntwo\nthree\n"  # (text mode reads \r\n as \n)
    assert took < 5  # 10.3 s of recording, idle gaps cut to 0.2 s
    fast = scarab.run("play", str(cast), "--speed", "50", check=True)
    assert fast.stdout == played.stdout
    bad = scarab.run("play", str(scarab.root / "missing.cast"))
    assert bad.returncode == 1 and "scarab: cannot open" in bad.stderr
    (scarab.root / "not.cast").write_text("hello\n")
    notcast = scarab.run("play", str(scarab.root / "not.cast"))
    assert notcast.returncode == 1 and "is not an asciicast v2 recording" in notcast.stderr


def test_play_keys_pause_step_quit(scarab: ScarabEnv) -> None:
    cast = write_cast(scarab.root / "k.cast")
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(scarab.env)
        os.execv(sys.executable, [sys.executable, "-m", "scarab", "play", str(cast)])
    seen = b""

    def read_until(needle: bytes, timeout: float) -> bool:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while needle not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                with contextlib.suppress(OSError):
                    seen += os.read(fd, 4096)
        return needle in seen

    try:
        assert read_until(b"one", 10)
        os.write(fd, b" ")  # pause: "two" (due 5 s later) must not come while paused
        assert not read_until(b"two", 0.5)
        os.write(fd, b".")  # step: the next event at once
        assert read_until(b"two", 5)
        assert not read_until(b"three", 0.5)
        os.write(fd, b"q")
        _, code = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(code) == 0
        assert b"three" not in seen
    finally:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_picker_marks_recording_usage_and_limits(in_env: ScarabEnv) -> None:
    from textual.widgets import OptionList

    from scarab.tui.app import ScarabApp
    from scarab.tui.picker import PickerScreen

    in_env.ok("new", "-d", "-s", "plain", "--", "sh")
    in_env.ok("new", "-d", "-s", "taped", "--record", "--memory", "300M", "--", "sh")

    async def scenario() -> list[str]:
        app = ScarabApp("plain")
        async with app.run_test(size=(120, 30)) as pilot:
            await until(lambda: app.attached.is_set(), 10, what="the attach")
            deadline = time.monotonic() + 30
            while True:
                await pilot.press("ctrl+b", "s")
                await until(lambda: isinstance(app.screen, PickerScreen) and len(app.screen.shown) == 2, 10,
                            what="the picker with both sessions")  # fmt: skip
                options = app.screen.query_one(OptionList)
                rows = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
                # A host slower than ls's half second (a loaded machine) is listed without figures.
                if all("%" in row for row in rows) or time.monotonic() > deadline:
                    return rows
                await pilot.press("escape")
                await until(lambda: not isinstance(app.screen, PickerScreen), 10, what="the picker to close")

    plain, taped = asyncio.run(scenario())
    assert "plain" in plain and "rec" not in plain and "%" in plain
    assert "taped" in taped and "\u25cf rec" in taped and "[memory 300M (setrlimit)]" in taped


def test_play_in_a_new_pane(scarab: ScarabEnv) -> None:
    new_sh(scarab, "pl")
    cast = write_cast(scarab.root / "pane.cast")
    pane = scarab.ok("play", "-t", "pl", str(cast), "--idle-limit", "3").strip()
    assert pane.startswith("%")
    wait_for(lambda: "two" in scarab.capture(pane).splitlines(), 20, what="the recording played in the new pane")

    # Like split-window with a command, the pane closes when the player ends.
    def panes() -> list[str]:
        return [f"%{q['id']}" for q in json.loads(scarab.ok("list-panes", "-t", "pl", "--json"))]

    wait_for(lambda: pane not in panes(), 20, what="the player's pane to close")
    bad = scarab.run("play", "-t", "pl", str(scarab.root / "missing.cast"))
    assert bad.returncode == 1 and "cannot open" in bad.stderr


def test_the_status_bar_says_when_a_recording_stops_itself(in_env: ScarabEnv) -> None:
    from scarab.tui.app import ScarabApp

    config = in_env.root / "config" / "scarab"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text('record_cap = "1M"\nscrollback = 200000\n')
    in_env.ok("new", "-d", "-s", "c", "--record", "--", "sh")

    async def scenario() -> str:
        app = ScarabApp("c")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: app.attached.is_set(), 10, what="the attach")
            await asyncio.to_thread(in_env.ok, "send", "c", "seq 1 150000", "Enter")  # 1.2 MB
            await until(lambda: app.status.notice, 60, what="a notice on the status bar")
            await pilot.pause()
            return str(app.status.render())

    bar = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert "recording stopped: size cap 1M reached" in bar
    [item] = status(in_env, "c")
    assert item["active"] is False and item["reason"] == "size cap 1M reached"
