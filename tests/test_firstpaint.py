"""The first paint: a session's screen on the terminal before the Textual app is up."""

from __future__ import annotations

import os
import pty
import socket
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from ptyprocess import PtyProcess

from scarab import protocol as p
from scarab.daemon.emulator import Emulator
from scarab.daemon.host import encode_frame
from scarab.tui.firstpaint import ENTER, default_session, first_paint, render_frame
from tests.helpers import ScarabEnv, wait_for


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
    source = Emulator(30, 4)
    source.feed("plain\r\n\x1b[1;31mbold red\x1b[0m and \x1b[48;5;22mbg\x1b[0m\r\nwide 日本\r\n".encode())
    frame = encode_frame(source, "s", 1, list(range(4)), True)
    shown = Emulator(30, 4)
    shown.feed(render_frame(frame).encode())
    assert shown.capture(ansi=True) == source.capture(ansi=True)


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
        screen = Emulator(40, 10)
        screen.feed(output.split(b"\r\nRESULT")[0])
        assert screen.capture().startswith("first paint here\n")
    # The painting client detached again: the app attaches for real afterwards.
    assert wait_for(lambda: scarab.session("work")["attached"] == 0)


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
