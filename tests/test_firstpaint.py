"""The first paint: a session's screen on the terminal before the Textual app is up."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import socket
import sys
import termios
import threading
import time
import tty
from pathlib import Path

import pytest
from ptyprocess import PtyProcess

from scarab import protocol as p
from scarab.daemon.emulator import Emulator
from scarab.daemon.pane import encode_frame
from scarab.launch import attach_target
from scarab.tui.firstpaint import ENTER, FirstPaint, KeyRelay, default_session, first_paint, render_frame
from tests.helpers import ScarabEnv, emu_text, wait_for


def session(name: str, state: str, last_attached: int) -> p.SessionInfo:
    return p.SessionInfo(
        id=name, name=name, created_at=0, last_attached=last_attached, cols=80, rows=24, state=state,
        command=["sh"], cwd="/",
    )  # fmt: skip


def test_default_session_is_the_most_recently_attached_running_one() -> None:
    sessions = [session("a", "running", 5), session("b", "exited", 9), session("c", "running", 7)]
    assert default_session(sessions) == sessions[2]
    assert default_session([session("b", "exited", 9)]) is None
    assert default_session([]) is None


def test_render_frame_draws_what_the_frame_holds() -> None:
    # Round trip: emulator -> frame -> ANSI -> another emulator shows the same cells.
    source = Emulator(30, 4, strict=True)
    source.feed("plain\r\n\x1b[1;31mbold red\x1b[0m and \x1b[48;5;22mbg\x1b[0m\r\nwide 日本\r\n".encode())
    frame = encode_frame(source, "s", 1, list(range(4)), True)
    shown = Emulator(30, 4, strict=True)
    shown.feed(render_frame(frame).encode())
    assert emu_text(shown, ansi=True) == emu_text(source, ansi=True)


def test_first_paint_shows_the_session_before_the_app(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "work", "--", "sh", "-c", "printf 'first paint here\\n'; exec cat")
    wait_for(lambda: "first paint here" in scarab.capture("work"))
    script = (
        "import sys; from pathlib import Path; from scarab.tui.firstpaint import first_paint\n"
        f"painted = first_paint(Path({str(scarab.paths.socket)!r}), sys.argv[1] if len(sys.argv) > 1 else None, "
        "True, sys.stdout)\nprint('\\r\\nRESULT', painted.session.name if painted else None)\n"
    )
    for argv, expected in ((["work"], "work"), ([], "work"), (["nonexistent"], "None")):
        proc = PtyProcess.spawn([sys.executable, "-c", script, *argv], env=scarab.env, dimensions=(10, 40))
        output = b""
        try:
            deadline = time.monotonic() + 20
            while b"RESULT" not in output or not output.endswith(b"\n"):
                assert time.monotonic() < deadline, output
                output += proc.read(65536)
        except EOFError:
            pass
        finally:
            proc.terminate(force=True)
        assert f"RESULT {expected}" in output.decode(), output
        if expected == "None":
            assert ENTER.encode() not in output  # nothing painted for a session that is not there
            continue
        screen = Emulator(40, 10, strict=True)
        screen.feed(output.split(b"\r\nRESULT")[0])
        assert emu_text(screen).startswith("first paint here\n")
    # The painting client detached again: the app attaches for real afterwards.
    assert wait_for(lambda: scarab.session("work")["attached"] == 0)


@pytest.mark.timing
def test_first_paint_without_a_daemon_paints_nothing_and_returns_fast(scarab: ScarabEnv) -> None:
    master, slave = pty.openpty()
    termios.tcsetwinsize(slave, (10, 40))
    os.set_blocking(master, False)
    try:
        with os.fdopen(slave, "w") as out:
            start = time.monotonic()
            assert first_paint(scarab.paths.socket, "work", True, out) is None
            assert time.monotonic() - start < 0.5
            with pytest.raises(BlockingIOError):
                os.read(master, 1024)  # nothing was written to the terminal
    finally:
        os.close(master)


def test_a_frame_that_does_not_add_up_is_not_painted(tmp_path: Path) -> None:
    # A peer on the daemon's socket answering with a frame whose style index is past its table.
    path = tmp_path / "fake.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    info = session("x", "running", 0)
    bad = p.Frame(session_id="x", seq=1, cols=40, rows=9, cursor=[0, 0, 1, 0], modes=0, title="", full=True,
                  lines=[[0, "abc", [[3, 7]]]], styles=[[-1, -1, 0]])  # fmt: skip

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)  # Hello
            conn.sendall(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="daemon")))
            conn.recv(65536)  # SessionAttach
            conn.sendall(p.encode(p.Attached(session=info)) + p.encode(bad))
            conn.recv(10)  # until the client hangs up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    master, slave = pty.openpty()
    termios.tcsetwinsize(slave, (10, 40))
    os.set_blocking(master, False)
    try:
        with os.fdopen(slave, "w") as out:
            before = termios.tcgetattr(out.fileno())
            assert first_paint(path, "x", True, out) is None
            assert termios.tcgetattr(out.fileno()) == before  # not left raw
            with pytest.raises(BlockingIOError):
                os.read(master, 1024)
    finally:
        os.close(master)
        thread.join(5)
        server.close()


def test_key_relay_sends_keys_paints_frames_and_holds_the_prefix_for_the_app() -> None:
    # The relay between first paint and app, on a real pty and a real socket pair (the test is the daemon).
    ours, theirs = socket.socketpair()
    master, slave = pty.openpty()
    tty.setraw(slave)  # as the first paint leaves it
    info = session("x", "running", 0)
    full = p.Frame(session_id="x", seq=1, cols=20, rows=3, cursor=[0, 0, 1, 0], modes=0, title="", full=True,
                   lines=[[0, "", []], [1, "", []], [2, "", []]], styles=[])  # fmt: skip
    painted = FirstPaint(info, {0: full}, [], ours, b"", 1)
    relay = KeyRelay(painted, b"\x02", slave, slave)
    relay.start()
    daemon = bytearray()

    def inputs() -> bytes:
        theirs.settimeout(0.05)
        with contextlib.suppress(TimeoutError):
            daemon.extend(theirs.recv(65536))
        return b"".join(m.data for m in map(p.decode, p.split_frames(bytearray(daemon))) if isinstance(m, p.Input))

    try:
        os.write(master, b"ls\r")
        wait_for(lambda: inputs() == b"ls\r", what="the keys at the session")
        echo = p.Frame(session_id="x", seq=2, cols=20, rows=3, cursor=[5, 1, 1, 5], modes=0, title="", full=False,
                       lines=[[1, "$ ls", [[4, 0]]]], styles=[[-1, -1, 0]])  # fmt: skip
        theirs.sendall(p.encode(echo) + p.encode(p.Kicked(session_id="x", reason="later")))
        screen = Emulator(20, 3)
        shown = bytearray()

        def painted_echo() -> bool:
            with contextlib.suppress(BlockingIOError):
                os.set_blocking(master, False)
                shown.extend(os.read(master, 65536))
            screen.feed(bytes(shown))
            shown.clear()
            return screen.row(1).text == "$ ls" and screen.cursor[:2] == (5, 1)

        wait_for(painted_echo, what="the frame painted with the cursor")
        assert screen.screen.cursor_shape == 5
        os.write(master, b"x\x02d")  # x for the session; the prefix and d are a command for the app
        wait_for(lambda: inputs().endswith(b"x"), what="the key before the prefix")
    finally:
        handed, held = relay.handover()
        os.close(master)
        os.close(slave)
        theirs.close()
    assert held == b"\x02d"
    assert handed.frames[0].lines[1][1] == "$ ls" and handed.frames[0].full  # the app starts from the screen shown
    assert [type(p.decode(m)) for m in p.split_frames(bytearray(handed.pending))] == [p.Kicked]
    ours.close()


def test_render_window_draws_each_pane_at_its_place_and_the_borders() -> None:
    from scarab.tui.firstpaint import render_window
    from scarab.tui.panes import scene_of

    layout = p.Layout(
        session_id="s", cols=21, rows=3, windows=[p.WindowInfo(index=0, id=0, name="sh", flags="*", layout="",
        active_pane=1)], panes=[p.PaneInfo(id=0, window=0, left=0, top=0, width=10, height=3, active=False,
        visible=True), p.PaneInfo(id=1, window=0, left=11, top=0, width=10, height=3, active=True, visible=True)],
        borders=[[10, 0, 3, 1, 1]],
    )  # fmt: skip

    def frame(pane: int, text: str) -> p.Frame:
        return p.Frame(session_id="s", seq=1, cols=10, rows=3, cursor=[0, 0, 1, 0], modes=0, title="", full=True,
                       lines=[[0, text, [[len(text), 0]]], [1, "", []], [2, "", []]], styles=[[-1, -1, 0]],
                       pane=pane)  # fmt: skip

    shown = Emulator(21, 3, strict=True)
    shown.feed(render_window(scene_of(layout), {0: frame(0, "left pane!"), 1: frame(1, "right")}).encode())
    # A shorter row later leaves nothing of the longer one behind (the left pane is not cleared to the end).
    shown.feed(render_window(scene_of(layout), {0: frame(0, "le"), 1: frame(1, "right")}).encode())
    assert [shown.row(y).text.rstrip() for y in range(3)] == ["le        │right", "          │", "          │"]

    def fg_at(y: int, x: int) -> int:
        for count, style in shown.row(y).runs:
            if x < count:
                return style.fg
            x -= count
        return -1

    assert [fg_at(y, 10) for y in range(3)] == [2, 2, 2]  # the active pane's border in green
    assert fg_at(0, 0) == -1


def test_only_a_plain_attach_is_painted_before_the_cli_is_imported() -> None:
    assert attach_target([]) == (True, None)
    assert attach_target(["attach"]) == (True, None)
    assert attach_target(["a", "work"]) == (True, "work")
    assert attach_target(["attach", "-t", "work"]) == (True, "work")
    for argv in (["ls"], ["attach", "--ssh", "h"], ["attach", "-t"], ["attach", "a", "b"], ["new"], ["a", "-h"]):
        assert attach_target(argv) == (False, None), argv


# Stands in for `python -m scarab attach work`, noting what was imported when the first paint was made.
EARLY_SPY = """
import runpy, sys
import scarab.tui.firstpaint as firstpaint
note, real = sys.argv[1], firstpaint.first_paint
def spy(*args):
    painted = real(*args)
    loaded = sorted(name for name in ("argparse", "asyncio", "scarab.cli", "textual") if name in sys.modules)
    open(note, "w").write(f"{painted is not None} {loaded}")
    return painted
firstpaint.first_paint = spy
sys.argv = ["scarab", "attach", "work"]
runpy.run_module("scarab", run_name="__main__")
"""


def test_scarab_attach_paints_before_importing_the_cli_then_the_app_takes_over(
    scarab: ScarabEnv, tmp_path: Path
) -> None:
    scarab.ok("new", "-d", "-s", "work", "--", "sh", "-c", "printf 'early paint here\\n'; exec cat")
    wait_for(lambda: "early paint here" in scarab.capture("work"))
    note = tmp_path / "loaded"
    env = dict(scarab.env, TERM="xterm-256color")
    proc = PtyProcess.spawn([sys.executable, "-c", EARLY_SPY, str(note)], env=env, dimensions=(25, 80), cwd=env["HOME"])
    screen = Emulator(80, 25, on_reply=proc.write)

    def shows(text: str) -> bool:
        while select.select([proc.fd], [], [], 0.05)[0]:
            with contextlib.suppress(OSError):
                screen.feed(os.read(proc.fd, 65536))
        return text in emu_text(screen)

    try:
        wait_for(lambda: shows("early paint here"), timeout=30, what=lambda: emu_text(screen))
        # Nothing of the CLI, asyncio or Textual was needed for the session's screen to show.
        assert wait_for(lambda: note.read_text(), timeout=30) == "True []"
        wait_for(lambda: shows("[work]"), timeout=30, what=lambda: emu_text(screen))  # the app's status bar
        proc.write(b"typed-after\r")
        wait_for(lambda: shows("typed-after"), timeout=30, what=lambda: emu_text(screen))
        assert scarab.session("work")["attached"] == 1  # one attach: the app took the first paint's connection
    finally:
        proc.terminate(force=True)
