"""`make bench`: Scarab's figures next to tmux's, measured in the same run on the same machine.

Every figure uses real processes: a private daemon (temporary XDG dirs) and a private tmux server
(`-S` socket, `-f /dev/null`). The headline figures are taken through the real clients, `scarab
attach` and `tmux attach`, each on a pty read by a terminal emulator, with the same code for both:
a keystroke is written to the client's pty and timed until the terminal shows its echo. Rows
marked "(library)" time the client library, not the program people use. Prints a table; README
records runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ptyprocess import PtyProcess  # noqa: E402

from scarab import protocol as p  # noqa: E402
from scarab.client import Client  # noqa: E402
from scarab.errors import BadRequest  # noqa: E402
from scarab.testkit import Sandbox, frame_with, shows, wait_for  # noqa: E402

ROWS: list[tuple[str, str, str, str]] = []


def record(figure: str, target: str, scarab: str, tmux: str = "-") -> None:
    ROWS.append((figure, target, scarab, tmux))
    print(f"{figure}: scarab {scarab} | tmux {tmux} | target {target}", flush=True)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


# -- tmux -------------------------------------------------------------------------------------------


class Tmux:
    def __init__(self, env: Sandbox) -> None:
        self.env = dict(env.env, TERM="xterm-256color")
        self.socket = str(env.root / "bench-tmux.sock")

    def __call__(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", *args], env=self.env,
                              capture_output=True, text=True, timeout=60, check=True).stdout  # fmt: skip

    def new(self, name: str, command: str = "sh") -> None:
        self("new-session", "-d", "-s", name, "-x", "80", "-y", "24", command)

    def server_pid(self) -> int:
        return int(self("display-message", "-p", "#{pid}").strip())

    def attach_pty(self, name: str) -> PtyProcess:
        argv = ["tmux", "-S", self.socket, "-f", "/dev/null", "attach", "-t", name]
        return PtyProcess.spawn(argv, env=self.env, dimensions=(25, 80))

    def kill(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, ProcessLookupError):
            os.kill(self.server_pid(), signal.SIGKILL)


def pty_wait(proc: PtyProcess, needle: bytes, timeout: float = 60, keep: int = 64, answer: bool = False) -> float:
    """Seconds until `needle` shows in what `proc` writes (the terminal's view). With `answer`, a
    terminal emulator answers the program's queries (DA, DSR, DECRQM) as a real terminal would."""
    from scarab.daemon.emulator import Emulator

    emu = Emulator(80, 25, on_reply=proc.write) if answer else None
    start = time.perf_counter()
    seen = b""
    while needle not in seen:
        remaining = start + timeout - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError(needle)
        ready, _, _ = select.select([proc.fd], [], [], remaining)
        if ready:
            data = os.read(proc.fd, 65536)
            if emu is not None:
                emu.feed(data)
            seen = seen[-keep:] + data
    return time.perf_counter() - start


def pty_drain(proc: PtyProcess, quiet: float = 0.3) -> None:
    while select.select([proc.fd], [], [], quiet)[0]:
        os.read(proc.fd, 65536)


def tmux_memory(tmux: Tmux) -> str:
    """PSS per idle session of the tmux server, 1 vs 50 sessions."""
    tmux.new("idle-base", "sh")
    one = pss_kb(tmux.server_pid())
    for i in range(49):
        tmux.new(f"idle{i}")
    fifty = pss_kb(tmux.server_pid())
    return f"{(fifty - one) / 49:.0f} KB"


# -- through the real clients ----------------------------------------------------------------------


class PtyScreen:
    """A client on an 80x25 pty, its output fed to a terminal emulator that answers its queries."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        from scarab.daemon.emulator import Emulator

        self.started = time.perf_counter()
        self.proc = PtyProcess.spawn(argv, env=env, dimensions=(25, 80), cwd=env["HOME"])
        self.emu = Emulator(80, 25, on_reply=self.proc.write)
        self.raw = b""  # only kept while `emulate` is off (the flood: tmux's bytes would drown pyte)
        self.emulate = True

    def pump(self, timeout: float) -> bool:
        if not select.select([self.proc.fd], [], [], max(0.0, timeout))[0]:
            return False
        try:
            data = os.read(self.proc.fd, 65536)
        except OSError:
            return False
        if self.emulate:
            self.emu.feed(data)
        else:
            self.raw = self.raw[-64:] + data
        return True

    def wait(self, predicate: Callable[[], object], timeout: float = 60) -> float:
        """Seconds until `predicate()` holds."""
        start = time.perf_counter()
        while not predicate():
            left = start + timeout - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{predicate}: {self.text()!r}")
            self.pump(left)
        return time.perf_counter() - start

    def drain(self, quiet: float = 0.3) -> None:
        while self.pump(quiet):
            pass

    def text(self) -> str:
        return "\n".join(self.emu.row(y).text for y in range(self.emu.rows))

    def shows(self, text: str) -> Callable[[], bool]:
        return lambda: text in self.text()

    def cursor_row(self) -> str:
        return self.emu.row(self.emu.cursor[1]).text.rstrip()

    def close(self) -> None:
        if self.proc.isalive():
            self.proc.terminate(force=True)


def typed_echo(screen: PtyScreen, count: int, width: int = 80) -> list[float]:
    """Milliseconds from each keystroke written to the pty until the terminal shows it (the
    session runs `cat` or waits at a shell's prompt: the tty echoes) in the first `width` columns (a
    pane at the left edge). Every 26 keys, ctrl+u erases the line again."""
    screen.drain(0.05)
    x, row = screen.emu.cursor[:2]
    base = screen.emu.row(row).text[:x]  # the prompt, if any, with its trailing space
    samples: list[float] = []
    typed = ""
    for i in range(count):
        char = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        typed += char
        want = base + typed
        start = time.perf_counter()
        screen.proc.write(char.encode())
        screen.wait(lambda want=want: screen.emu.row(row).text[:width].rstrip() == want)
        samples.append((time.perf_counter() - start) * 1000)
        if len(typed) == 26:
            screen.proc.write(b"\x15")
            screen.wait(lambda: screen.emu.row(row).text[:width].rstrip() == base.rstrip())
            typed = ""
            screen.drain(0.02)
    return samples


def prefix_then(screen: PtyScreen, key: bytes) -> float:
    """Write ctrl+b, then (as a separate keystroke) `key`; returns when `key` was written."""
    screen.proc.write(b"\x02")
    time.sleep(0.05)
    start = time.perf_counter()
    screen.proc.write(key)
    return start


def switch_times(screen: PtyScreen, forth: tuple[bytes, str], back: tuple[bytes, str], count: int = 20) -> str:
    """Prefix + key, alternately `forth` and `back`, each timed until its text is shown and the other's
    is gone: "p50 / max ms"."""
    switches = []
    for i in range(count):
        (key, want), (_key, gone) = (forth, back) if i % 2 == 0 else (back, forth)
        start = prefix_then(screen, key)
        screen.wait(lambda want=want, gone=gone: want in screen.text() and gone not in screen.text())
        switches.append((time.perf_counter() - start) * 1000)
        screen.drain(0.05)
    return f"{statistics.median(switches):.1f} / {max(switches):.1f} ms"


def seq_flood(screen: PtyScreen) -> str:
    """`seq 1 1000000` typed into the active pane, timed until its last line reaches the terminal
    (raw bytes: a terminal emulator in Python would be what is measured)."""
    screen.drain()
    screen.emulate = False
    start = time.perf_counter()
    screen.proc.write(b"seq 1 1000000; echo flood-$((1+1))done\r")
    screen.wait(lambda: b"flood-2done" in screen.raw, timeout=300)
    return f"{time.perf_counter() - start:.2f} s"


class Clients:
    """How to start each real client and how to ask each server for a session."""

    def __init__(self, env: Sandbox, tmux: Tmux) -> None:
        self.env = env
        self.tmux = tmux

    def new(self, kind: str, name: str, command: str) -> None:
        if kind == "tmux":
            self.tmux.new(name, command)
        else:
            subprocess.run([sys.executable, "-m", "scarab", "new", "-d", "-x", "80", "-y", "24", "-s", name, "--",
                            "sh", "-c", command], env=self.env.env, check=True, capture_output=True)  # fmt: skip

    def split(self, kind: str, name: str, command: str, horizontal: bool = True) -> None:
        """A new pane beside (or below) the active one, which stays active (-d)."""
        flags = ["-d", "-h" if horizontal else "-v"]
        if kind == "tmux":
            self.tmux("split-window", *flags, "-t", name, command)
        else:
            subprocess.run([sys.executable, "-m", "scarab", "split-window", *flags, "-t", name, "--", "sh", "-c",
                            command], env=self.env.env, check=True, capture_output=True)  # fmt: skip

    def new_window(self, kind: str, name: str, command: str) -> None:
        if kind == "tmux":
            self.tmux("new-window", "-d", "-t", name, command)
        else:
            subprocess.run([sys.executable, "-m", "scarab", "new-window", "-d", "-t", name, "--", "sh", "-c",
                            command], env=self.env.env, check=True, capture_output=True)  # fmt: skip

    def kill(self, kind: str, name: str) -> None:
        if kind == "tmux":
            self.tmux("kill-session", "-t", name)
        else:
            subprocess.run([sys.executable, "-m", "scarab", "kill", "--force", name], env=self.env.env,
                           capture_output=True)  # fmt: skip

    def tiled(self, kind: str, name: str) -> None:
        if kind == "tmux":
            self.tmux("select-layout", "-t", name, "tiled")
        else:
            subprocess.run([sys.executable, "-m", "scarab", "select-layout", "-t", name, "tiled"], env=self.env.env,
                           check=True, capture_output=True)  # fmt: skip

    def attach(self, kind: str, name: str) -> PtyScreen:
        env = dict(self.env.env, TERM="xterm-256color")
        if kind == "tmux":
            return PtyScreen(["tmux", "-S", self.tmux.socket, "-f", "/dev/null", "attach", "-t", name], env)
        return PtyScreen([sys.executable, "-m", "scarab", "attach", name], env)


def client_figures(clients: Clients, kind: str, runs: int = 9) -> dict[str, str]:
    """Every headline figure of one real client (`kind`: tmux or scarab)."""
    out: dict[str, str] = {}
    clients.new(kind, "echo", "exec cat")
    screen = clients.attach(kind, "echo")
    try:
        screen.wait(screen.shows("[echo]"))  # both status bars name the session so
        samples = typed_echo(screen, 200)
        out["echo"] = f"{statistics.median(samples):.2f} / {pct(samples, 0.99):.2f} ms"
    finally:
        screen.close()

    # Cold attach (the server already runs) until the screen shows, until a key typed is echoed,
    # then the detach key until the client has exited and given the terminal back.
    clients.new(kind, "marker", "echo cold-attach-marker; exec cat")
    shown, keyed, detached = [], [], []
    for _ in range(runs):
        screen = clients.attach(kind, "marker")
        try:
            screen.wait(screen.shows("cold-attach-marker"))
            shown.append((time.perf_counter() - screen.started) * 1000)
            screen.proc.write(b"k")
            screen.wait(lambda screen=screen: screen.cursor_row().endswith("k"))
            keyed.append((time.perf_counter() - screen.started) * 1000)
            screen.proc.write(b"\x15")
            screen.wait(lambda screen=screen: not screen.cursor_row())
            screen.wait(screen.shows("[marker]"))
            screen.drain(0.1)
            start = prefix_then(screen, b"d")
            screen.wait(lambda screen=screen: not screen.proc.isalive() and not screen.pump(0))
            detached.append((time.perf_counter() - start) * 1000)
            assert "detached" in screen.text(), screen.text()  # the terminal was given back
        finally:
            screen.close()
    out["cold"] = f"{statistics.median(shown):.0f} ms"
    out["keys"] = f"{statistics.median(keyed):.0f} ms"
    out["detach"] = f"{statistics.median(detached):.1f} ms (max {max(detached):.1f})"

    # Switch between two neighbouring sessions with prefix ) and prefix (, until the other is shown.
    clients.new(kind, "switch-a", "echo screen-of-a; exec cat")
    clients.new(kind, "switch-b", "echo screen-of-b; exec cat")
    screen = clients.attach(kind, "switch-a")
    try:
        screen.wait(screen.shows("[switch-a]"))
        screen.drain()
        out["switch"] = switch_times(screen, (b")", "screen-of-b"), (b"(", "screen-of-a"))
    finally:
        screen.close()

    # `seq 1 1000000` through the client until its last line reaches the terminal.
    clients.new(kind, "flood", "exec sh")
    screen = clients.attach(kind, "flood")
    try:
        screen.wait(screen.shows("[flood]"))
        out["flood"] = seq_flood(screen)
    finally:
        screen.close()
    return out


def pane_figures(clients: Clients, kind: str) -> dict[str, str]:
    """The windows-and-panes figures of one real client (`kind`: tmux or scarab)."""
    out: dict[str, str] = {}
    # Echo in the left pane while the right pane of the same window floods, ~60,000 lines a second
    # (flat out, the terminal emulator reading the client here could not keep up with tmux's redraws).
    clients.new(kind, "beside", "exec cat")
    clients.split(kind, "beside", "while :; do seq 1 3000; sleep 0.05; done")
    screen = clients.attach(kind, "beside")
    try:
        screen.wait(screen.shows("[beside]"))
        samples = typed_echo(screen, 200, width=39)
        out["beside"] = f"{statistics.median(samples):.2f} / {pct(samples, 0.99):.2f} ms"
    finally:
        screen.close()
    clients.kill(kind, "beside")

    # Switch windows with prefix n / prefix p until the other window is drawn.
    clients.new(kind, "windows", "echo window-zero; exec cat")
    clients.new_window(kind, "windows", "echo window-one; exec cat")
    screen = clients.attach(kind, "windows")
    try:
        screen.wait(screen.shows("window-zero"))
        screen.drain()
        out["window"] = switch_times(screen, (b"n", "window-one"), (b"p", "window-zero"))
    finally:
        screen.close()

    # `seq 1 1000000` in one of four visible panes.
    clients.new(kind, "four", "exec sh")
    for _ in range(3):
        clients.split(kind, "four", "exec cat")
    clients.tiled(kind, "four")
    screen = clients.attach(kind, "four")
    try:
        screen.wait(screen.shows("[four]"))
        out["four"] = seq_flood(screen)
    finally:
        screen.close()
    return out


def pane_memory(clients: Clients) -> tuple[str, str]:
    """PSS an idle extra pane costs: the server (tmux) or the session's host (scarab), 1 vs 4 panes."""
    clients.new("tmux", "panes-mem", "sh")
    pid = clients.tmux.server_pid()
    one = pss_kb(pid)
    for _ in range(3):
        clients.split("tmux", "panes-mem", "sh", horizontal=False)
    time.sleep(0.5)  # the server settles its allocations; the figure is a size, not a time
    tmux = (pss_kb(pid) - one) / 3
    clients.new("scarab", "panes-mem", "sh")
    listing = subprocess.run([sys.executable, "-m", "scarab", "ls", "--json"], env=clients.env.env,
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    host = next(s["host_pid"] for s in json.loads(listing) if s["name"] == "panes-mem")
    one = pss_kb(host)
    for _ in range(3):
        clients.split("scarab", "panes-mem", "sh", horizontal=False)
    time.sleep(0.5)
    scarab = (pss_kb(host) - one) / 3
    return f"{scarab:.0f} KB", f"{tmux:.0f} KB"


MANY_SESSIONS = 50
MANY_PANES = 4


async def _many_scarab(count: int, panes: int) -> None:
    control = await Client.connect()

    async def split(name: str, horizontal: bool) -> None:
        # Right after SessionCreate's reply the daemon may not have the new session's Layout yet
        # ("can't find pane: %-1"); tmux's split-window never fails so. Asked again until it has.
        deadline = time.monotonic() + 10
        while True:
            try:
                await control.request(p.SplitWindow(target=name, horizontal=horizontal, detached=True, command=["sh"]))
                return
            except BadRequest:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.01)

    try:
        for i in range(count):
            await control.request(p.SessionCreate(name=f"many{i}", command=["sh"]))
            for k in range(panes - 1):
                await split(f"many{i}", k % 2 == 0)
            await control.request(p.SelectLayout(target=f"many{i}", layout="tiled"))
    finally:
        await control.close()


def many_panes(clients: Clients, kind: str) -> tuple[str, str]:
    """50 sessions of 4 idle shells, tiled: what they add to the server's PSS (tmux) or the daemon's,
    zygote's and hosts' (scarab), and keystroke echo in the first pane of one of them."""
    env = clients.env

    def pss() -> int:
        if kind == "tmux":
            return pss_kb(clients.tmux.server_pid())
        return sum(pss_kb(pid) for pid in [*env.pids_named("scarab-daemon"), *env.zygote_pids(), *env.host_pids()])

    clients.new(kind, "many-base", "sh")  # the server is running before the figure's start
    time.sleep(0.5)
    before = pss()
    if kind == "tmux":
        for i in range(MANY_SESSIONS):
            clients.tmux.new(f"many{i}", "sh")
            for k in range(MANY_PANES - 1):
                clients.tmux("split-window", "-d", "-h" if k % 2 == 0 else "-v", "-t", f"many{i}", "sh")
            clients.tmux("select-layout", "-t", f"many{i}", "tiled")
    else:
        asyncio.run(_many_scarab(MANY_SESSIONS, MANY_PANES))
    time.sleep(1.0)  # the servers settle their allocations; the figure is a size, not a time
    added = (pss() - before) / 1024
    memory = f"{added:.0f} MB ({added / MANY_SESSIONS:.2f} MB a session)"
    screen = clients.attach(kind, f"many{MANY_SESSIONS // 2}")
    try:
        screen.wait(lambda: screen.cursor_row().endswith("$"))
        samples = typed_echo(screen, 100, width=39)
        echo = f"{statistics.median(samples):.2f} / {pct(samples, 0.99):.2f} ms"
    finally:
        screen.close()
    for i in range(MANY_SESSIONS):
        clients.kill(kind, f"many{i}")
    clients.kill(kind, "many-base")
    return memory, echo


def panes(clients: Clients) -> None:
    tmux = pane_figures(clients, "tmux")
    scarab = pane_figures(clients, "scarab")
    ratio = float(scarab["four"].split()[0]) / float(tmux["four"].split()[0])
    record("echo in a pane while the pane beside it prints ~60,000 lines/s (p50 / p99, 200 keys)", "<= 20 ms p99",
           scarab["beside"], tmux["beside"])  # fmt: skip
    record("switch window, prefix n / p until the other window is drawn (p50 / max of 20)", "<= 30 ms p50",
           scarab["window"], tmux["window"])  # fmt: skip
    record("`seq 1 1000000` in one of four visible panes until its last line shows", "<= 2x tmux",
           f"{scarab['four']} ({ratio:.2f}x)", tmux["four"])  # fmt: skip
    scarab_pane, tmux_pane = pane_memory(clients)
    record("memory of an idle extra pane (PSS of the host / tmux server, 1 vs 4 panes)", "<= 1 MB",
           scarab_pane, tmux_pane)  # fmt: skip
    tmux_memory, tmux_echo = many_panes(clients, "tmux")
    scarab_memory, scarab_echo = many_panes(clients, "scarab")
    record(f"{MANY_SESSIONS} sessions x {MANY_PANES} idle panes: PSS added (daemon + hosts / tmux server)",
           "all work", scarab_memory, tmux_memory)  # fmt: skip
    record("same: echo in a pane of one of them (p50 / p99, 100 keys)", "-", scarab_echo, tmux_echo)


def headline(clients: Clients) -> None:
    tmux = client_figures(clients, "tmux")
    scarab = client_figures(clients, "scarab")
    ratio = float(scarab["flood"].split()[0]) / float(tmux["flood"].split()[0])
    for key, figure, target in (
        ("echo", "keystroke echo through the real client, session runs `cat` (p50 / p99, 200 keys)", "<= 2.5 / 8 ms"),
        ("cold", "attach until the session's screen shows (median of 9)", "<= 100 ms"),
        ("keys", "attach until a key typed is echoed (median of 9)", "<= 250 ms"),
        ("detach", "detach key until the client has exited, terminal restored (median of 9)", "<= 50 ms"),
        ("switch", "switch session, prefix ) / ( until the other is shown (p50 / max of 20)", "<= 20 ms p50"),
    ):
        record(figure, target, scarab[key], tmux[key])
    record("`seq 1 1000000` through the real client until its last line shows", "<= 1.5x tmux",
           f"{scarab['flood']} ({ratio:.2f}x)", tmux["flood"])  # fmt: skip


# -- scarab -----------------------------------------------------------------------------------------


async def echo_samples(
    client: Client, target: str, count: int, stop: asyncio.Task[p.Frame] | None = None, pause: float = 0.0
) -> list[float]:
    """Keystroke-to-frame times in a session running `sleep` (the terminal echoes; the cursor column
    says which keystroke a frame shows). Every 26 keys, ctrl+u erases the line again."""
    samples: list[float] = []
    column = 0
    for i in range(count):
        if stop is not None and stop.done():
            break
        start = time.perf_counter()
        client.send(p.Input(target=target, data=b"abcdefghijklmnopqrstuvwxyz"[i % 26 : i % 26 + 1]))
        column += 1
        await frame_with(client, lambda f, column=column: f.cursor[0] == column, timeout=120)
        samples.append((time.perf_counter() - start) * 1000)
        if column == 26:
            client.send(p.Input(target=target, data=b"\x15"))
            await frame_with(client, lambda f: f.cursor[0] == 0, timeout=120)
            column = 0
        if pause:
            await asyncio.sleep(pause)
    return samples


async def scarab_figures(env: Sandbox, tmux_memory: str) -> None:
    """The client library's and the daemon's own figures (no terminal, no Textual)."""
    control = await Client.connect()
    # Echo through an attached client.
    await control.request(p.SessionCreate(name="bench", command=["sleep", "100000"]))
    viewer = await Client.connect()
    await viewer.request(p.SessionAttach(target="bench", cols=80, rows=24))
    await frame_with(viewer, lambda f: f.full, timeout=120)
    samples = await echo_samples(viewer, "bench", 200)
    record("(library) keystroke echo, input sent until its frame arrives (p50 / p99)", "-",
           f"{statistics.median(samples):.2f} / {pct(samples, 0.99):.2f} ms")  # fmt: skip
    await viewer.close()

    # seq 1 1000000 with a client attached, until the last line is shown; echo in another session meanwhile.
    await control.request(p.SessionCreate(name="flood", command=["sh"]))
    await control.request(p.SessionCreate(name="other", command=["sleep", "100000"]))
    flood = await Client.connect()
    await flood.request(p.SessionAttach(target="flood", cols=80, rows=24))
    await frame_with(flood, shows("$"), timeout=120)
    other = await Client.connect()
    await other.request(p.SessionAttach(target="other", cols=80, rows=24))
    await frame_with(other, lambda f: f.full, timeout=120)
    start = time.perf_counter()
    flood.send(p.Input(target="flood", data=b"seq 1 1000000; echo flood-$((1+1))done\r"))
    done = asyncio.create_task(frame_with(flood, shows("flood-2done"), timeout=120))
    echo = await echo_samples(other, "other", 2000, stop=done, pause=0.01)
    await done
    flood_s = time.perf_counter() - start
    record("(library) `seq 1 1000000` until its last line arrives", "-", f"{flood_s:.2f} s")
    record("(library) same flood: echo p99 in another attached session", "<= 20 ms",
           f"{pct(echo, 0.99):.1f} ms (p50 {statistics.median(echo):.1f}, n={len(echo)})")  # fmt: skip
    await flood.close()
    await other.close()

    # In-app session switch, daemon side: attach request until the other session's full frame.
    switcher = await Client.connect()
    switches = []
    for i in range(40):
        target = "bench" if i % 2 else "other"
        start = time.perf_counter()
        await switcher.request(p.SessionAttach(target=target))
        await frame_with(switcher, lambda f: f.full, timeout=120)
        switches.append((time.perf_counter() - start) * 1000)
    await switcher.close()
    record("(library) session switch, attach request until the full frame (p50 / max)", "<= 10 ms",
           f"{statistics.median(switches):.1f} / {max(switches):.1f} ms")  # fmt: skip

    # A trivial Textual app's first screen: the floor under a cold attach's "keys handled".
    floors = [first_screen([sys.executable, "-c", TEXTUAL_FLOOR], b"floor-marker")[0] for _ in range(5)]
    record("(floor) a trivial Textual app's first screen (median of 5)", "-", f"{statistics.median(floors):.0f} ms")

    for name in ("bench", "flood", "other"):
        await control.request(p.SessionDelete(target=name, force=True))
    await control.close()
    await session_figures(env, tmux_memory)


async def session_figures(env: Sandbox, tmux_memory: str) -> None:
    """Memory per idle session, a daemon restart's adoption of 50, and 200 sessions in one daemon."""
    control = await Client.connect()
    # Memory per idle session: PSS of daemon + zygote + hosts, 1 vs 50 sessions.
    await control.request(p.SessionCreate(name="idle0", command=["sh"]))

    def total_pss() -> int:
        return sum(pss_kb(pid) for pid in [control.daemon_pid, *env.zygote_pids(), *env.host_pids()])

    await asyncio.sleep(0.5)
    one = total_pss()
    for i in range(1, 50):
        await control.request(p.SessionCreate(name=f"idle{i}", command=["sh"]))
    await asyncio.sleep(0.5)
    fifty = total_pss()
    record("memory per idle session (PSS, daemon + host; 50 sessions)", "<= 3 MB",
           f"{(fifty - one) / 49 / 1024:.2f} MB each ({fifty / 1024:.0f} MB for 50)", tmux_memory)  # fmt: skip

    # Daemon restart with 50 live sessions until all are adopted.
    daemon = control.daemon_pid
    await control.close()
    os.kill(daemon, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{daemon}").exists() or "Z" in Path(f"/proc/{daemon}/stat").read_text())
    start = time.perf_counter()
    control = await Client.connect()
    listing = await control.request(p.SessionList())
    adopt_s = time.perf_counter() - start
    assert isinstance(listing, p.Listed)
    running = sum(1 for s in listing.sessions if s.state == "running" and s.host_pid)
    record("daemon restart with 50 live sessions until all are adopted", "<= 1 s",
           f"{adopt_s:.2f} s ({running}/50 adopted)")  # fmt: skip

    # 200 sessions: create all, list, attach each.
    start = time.perf_counter()
    for i in range(50, 200):
        await control.request(p.SessionCreate(name=f"idle{i}", command=["sh"]))
    create_s = time.perf_counter() - start
    lists = []
    for _ in range(20):
        t0 = time.perf_counter()
        listing = await control.request(p.SessionList())
        lists.append((time.perf_counter() - t0) * 1000)
    assert isinstance(listing, p.Listed) and len(listing.sessions) == 200
    attach = await Client.connect()
    t0 = time.perf_counter()
    for s in listing.sessions:
        await attach.request(p.SessionAttach(target=s.id))
        await frame_with(attach, lambda f: f.full, timeout=120)
    attach_s = time.perf_counter() - t0
    await attach.close()
    record("200 sessions: create 150 more, list, attach each", "all work, list <= 50 ms",
           f"create {create_s / 150 * 1000:.0f} ms each, list {statistics.median(lists):.1f} ms, "
           f"attach {attach_s / 200 * 1000:.1f} ms each")  # fmt: skip
    await control.close()


GREP_SESSIONS = 50
GREP_LINES = 10_000


async def grep_figures(env: Sandbox) -> None:
    """`scarab grep` over 50 sessions of 10,000 scrollback lines each: every host searches at once."""
    control = await Client.connect()
    fill = f"head -c {GREP_LINES * 57} /dev/urandom | base64 -w 76; echo grep-end-marker; exec cat"
    for i in range(GREP_SESSIONS):
        await control.request(p.SessionCreate(name=f"grep{i}", command=["sh", "-c", fill]))

    async def filled(name: str) -> bool:
        reply = await control.request(p.HistoryRequest(target=name, start=-1, count=1))
        return isinstance(reply, p.History) and reply.total >= GREP_LINES - 24

    deadline = time.monotonic() + 600
    for i in range(GREP_SESSIONS):
        while not await filled(f"grep{i}"):
            assert time.monotonic() < deadline, "the sessions did not fill"
            await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # the last parse and snapshot settle

    async def timed(pattern: str) -> tuple[float, int]:
        samples, hits = [], 0
        for _ in range(7):
            t0 = time.perf_counter()
            reply = await control.request(p.Grep(pattern=pattern))
            samples.append((time.perf_counter() - t0) * 1000)
            assert isinstance(reply, p.GrepHits) and not reply.skipped
            hits = len(reply.hit_list())
        return statistics.median(samples), hits

    lines = GREP_SESSIONS * GREP_LINES
    rare_ms, rare = await timed("grep-end-marker")
    some_ms, some = await timed("abc")
    regex_ms, _ = await timed(r"[0-9]{4}\+")
    words_ms, _ = await timed("error|warn")  # smartcase: the case ignored
    record(f"grep: {GREP_SESSIONS} sessions x {GREP_LINES:,} lines, request until the hits (median of 7)",
           "<= 300 ms", f"{rare_ms:.0f} ms ({rare} hits), {some_ms:.0f} ms (`abc`: {some} hits), "
           f"{regex_ms:.0f} ms (a regex), {words_ms:.0f} ms (`error|warn`); {lines:,} lines")  # fmt: skip
    t0 = time.perf_counter()
    cli = subprocess.run([sys.executable, "-m", "scarab", "grep", "grep-end-marker"], env=env.env, capture_output=True)
    cli_ms = (time.perf_counter() - t0) * 1000
    assert cli.returncode == 0 and cli.stdout.count(b"grep-end-marker") == GREP_SESSIONS
    record("`scarab grep` the same, the whole command", "-", f"{cli_ms:.0f} ms")
    for i in range(GREP_SESSIONS):
        await control.request(p.SessionDelete(target=f"grep{i}", force=True))
    await control.close()


TEXTUAL_FLOOR = (
    "from textual.app import App\nfrom textual.widgets import Static\n"
    "class T(App):\n    def compose(self):\n        yield Static('floor-marker')\nT().run()\n"
)


def first_screen(argv: list[str], marker: bytes, then: bytes | None = None) -> tuple[float, float]:
    """Milliseconds from starting `argv` on an 80x25 pty until `marker` is on its screen, and
    until `then` is too (the same when there is no `then`)."""
    start = time.perf_counter()
    proc = PtyProcess.spawn(argv, env=dict(os.environ), dimensions=(25, 80))
    try:
        pty_wait(proc, marker, answer=True)
        shown = (time.perf_counter() - start) * 1000
        if then is not None:
            pty_wait(proc, then, answer=True)
        return shown, (time.perf_counter() - start) * 1000
    finally:
        proc.terminate(force=True)


def scrollback_memory() -> None:
    from scarab.daemon.emulator import Emulator

    line = ("\x1b[1;32m" + "x" * 20 + "\x1b[0m" + "".join(chr(97 + i % 26) for i in range(180))) + "\r\n"
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    emu = Emulator(200, 50, scrollback=10_000)
    for _ in range(10_050 // 50):
        emu.feed((line * 50).encode())
    after = tracemalloc.take_snapshot()
    size = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    tracemalloc.stop()
    assert len(emu.history) == 10_000
    record("10,000 lines x 200 columns of scrollback", "<= 8 MB", f"{size / 1e6:.1f} MB")


def main(argv: list[str]) -> int:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    tmux_version = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
          f"{tmux_version}")  # fmt: skip
    env = Sandbox.create()
    try:
        for key in ("XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME", "SHELL", "PS1"):
            os.environ[key] = env.env[key]
        # The daemon snapshots at its default interval (the sandbox's tests use 0.2 s); the clients'
        # commands start it with the sandbox's environment.
        os.environ.pop("SCARAB_SNAPSHOT_INTERVAL", None)
        env.env.pop("SCARAB_SNAPSHOT_INTERVAL", None)
        if argv == ["sessions"]:  # `benchmarks/run.py sessions`: memory, restart, 200 sessions alone
            tmux = Tmux(env)
            try:
                memory = tmux_memory(tmux)
            finally:
                tmux.kill()
            asyncio.run(session_figures(env, memory))
        elif argv != ["grep"]:  # `benchmarks/run.py grep`: that figure alone
            tmux = Tmux(env)
            try:
                clients = Clients(env, tmux)
                headline(clients)
                if argv != ["headline"]:
                    panes(clients)
                memory = tmux_memory(tmux)
            finally:
                tmux.kill()
            for name in (
                "echo",
                "marker",
                "switch-a",
                "switch-b",
                "flood",
                "windows",
                "four",
                "panes-mem",
            ):  # the library figures start afresh
                subprocess.run(
                    [sys.executable, "-m", "scarab", "kill", "--force", name], env=env.env, capture_output=True
                )
            asyncio.run(scarab_figures(env, memory))
            scrollback_memory()
        if argv != ["sessions"]:
            asyncio.run(grep_figures(env))
    finally:
        env.destroy()
    print("\n| figure | target | scarab | tmux |\n|---|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
