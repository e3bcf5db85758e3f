"""The real `scarab attach` in a pty, read as a terminal would: cursor, title, detach, one attach."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import sqlite3
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ptyprocess import PtyProcess

from scarab import protocol as p
from scarab.client import Client
from scarab.daemon.emulator import Emulator
from tests.helpers import ScarabEnv, emu_text, status_shows, wait_for

COLS, ROWS = 60, 12


class Terminal:
    """A client on a pty, its output fed to an emulator that answers its queries like a terminal."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        # cwd outside the repository: `-m scarab` imports the installed code, as a user's would.
        env = dict(env, TERM="xterm-256color")
        self.proc = PtyProcess.spawn(argv, env=env, dimensions=(ROWS, COLS), cwd=env["HOME"])
        self.screen = Emulator(COLS, ROWS, on_reply=self.proc.write)
        self.output = bytearray()

    def pump(self, timeout: float) -> None:
        if select.select([self.proc.fd], [], [], timeout)[0]:
            try:
                data = os.read(self.proc.fd, 65536)
            except OSError:  # the client exited and the pty is gone
                data = b""
            self.output += data
            self.screen.feed(data)

    def wait(self, predicate: Callable[[], object], what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {self.text()!r}"
            self.pump(0.05)

    def text(self) -> str:
        return emu_text(self.screen)

    def close(self) -> None:
        if self.proc.isalive():
            self.proc.terminate(force=True)


def test_cursor_shape_visibility_and_title_reach_the_outer_terminal(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "work", "--", "sh")
    term = Terminal([sys.executable, "-m", "scarab", "attach", "work"], scarab.env)
    try:
        term.wait(lambda: "[work]" in term.text(), "the status bar")
        # vim's insert mode asks for a blinking bar; the program names its window.
        term.proc.write(b"printf '\\033[5 q\\033]2;my-title\\007'; echo done-$((1+1))\r")
        term.wait(lambda: "done-2" in term.text().splitlines(), "the command's output")
        term.wait(lambda: term.screen.screen.cursor_shape == 5, "the bar cursor")
        term.wait(lambda: term.screen.title == "my-title", "the title")
        # The outer cursor is the session's: after the prompt on the line below the output, shown.
        prompt_row = term.text().splitlines().index("done-2") + 1
        term.wait(lambda: term.screen.cursor[:3] == (2, prompt_row, True), "the cursor after the prompt")
        assert b"\x1b[7m" not in term.output.split(b"done-2")[-1]  # no reverse-video cell drawn as cursor
        term.proc.write(b"printf '\\033[?25l'; echo hidden\r")
        term.wait(lambda: not term.screen.cursor[2], "the cursor hidden")

        term.proc.write(b"\x02")  # ctrl+b, then d
        time.sleep(0.05)  # the prefix and the command as separate keystrokes, as typed
        start = time.monotonic()
        term.proc.write(b"d")
        term.wait(lambda: not term.proc.isalive(), "the client to exit")
        elapsed = time.monotonic() - start
        term.pump(0.2)
        tail = bytes(term.output).rsplit(b"\x1b[?1049l", 1)
        assert len(tail) == 2, "the alternate screen was not left"
        assert b"\x1b[0 q" in tail[0][-200:]  # the terminal's default cursor shape back
        assert b"[detached (from session work)]" in tail[1]
        assert term.proc.exitstatus == 0
        assert elapsed < 2.0  # sanity only; `make bench` measures it (a few ms)
        attrs = termios.tcgetattr(term.proc.fd)
        assert attrs[3] & termios.ECHO and attrs[3] & termios.ICANON  # the tty is cooked again
        wait_for(lambda: scarab.session("work")["attached"] == 0, what="the daemon to see the detach")
    finally:
        term.close()


def test_a_cold_attach_attaches_once_on_the_first_paints_connection(scarab: ScarabEnv) -> None:
    # A peer on the daemon's socket that records what each connection sends.
    scarab.paths.prepare_runtime()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(scarab.paths.socket))
    server.listen(4)
    info = p.SessionInfo(id="x" * 32, name="fake", created_at=0, last_attached=0, cols=COLS, rows=ROWS - 1,
                         state="running", command=["sh"], cwd="/", attached=1)  # fmt: skip
    received: list[list[p.Message]] = []
    stop = threading.Event()

    def frame(seq: int, text: str, full: bool) -> p.Frame:
        return p.Frame(session_id=info.id, seq=seq, cols=COLS, rows=ROWS - 1, cursor=[len(text), seq - 1, 1, 0],
                       modes=0, title="", full=full, lines=[[seq - 1, text, [[len(text), 0]]]],
                       styles=[[-1, -1, 0]])  # fmt: skip

    def serve(conn: socket.socket) -> None:
        messages: list[p.Message] = []
        received.append(messages)
        buffer = bytearray()
        with conn:
            conn.settimeout(0.1)
            while not stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    return
                buffer += data
                for payload in p.split_frames(buffer):
                    msg = p.decode(payload)
                    messages.append(msg)
                    match msg:
                        case p.Hello():
                            conn.sendall(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="daemon", pid=1)))
                        case p.SessionAttach():
                            conn.sendall(p.encode(p.Attached(session=info)) + p.encode(frame(1, "painted", True)))
                        case p.SessionList():
                            conn.sendall(p.encode(p.Listed(sessions=[info])))
                            # Later output of the session, on the connection the app now owns.
                            conn.sendall(p.encode(frame(2, "after-handover", False)))

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    term = Terminal([sys.executable, "-m", "scarab", "attach", "fake"], scarab.env)
    try:
        term.wait(lambda: "after-handover" in term.text(), "a frame after the app took over")
        assert "painted" in term.text()
        term.proc.write(b"k")
        term.wait(lambda: any(isinstance(m, p.Input) for m in received[0]), "the key on the first connection")
        assert len(received) == 1, "the app opened a second connection"
        attaches = [m for m in received[0] if isinstance(m, p.SessionAttach)]
        assert len(attaches) == 1
        assert not any(isinstance(m, p.FrameAck) for m in received[0])  # a local client sends no acks
    finally:
        term.close()
        stop.set()
        acceptor.join(5)
        server.close()
        Path(scarab.paths.socket).unlink(missing_ok=True)


def test_attached_clients_are_told_of_session_changes_and_the_status_bar_follows(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "work", "--", "sh")
    term = Terminal([sys.executable, "-m", "scarab", "attach", "work"], scarab.env)

    async def pushed() -> list[str]:
        # A client attached through the library gets the list pushed, with no request of its own.
        client = await Client.connect(scarab.paths)
        try:
            await client.request(p.SessionAttach(target="work", cols=40, rows=10))
            scarab.ok("new", "-d", "-s", "other", "--", "sh")
            while True:
                msg = await asyncio.wait_for(client.events.get(), 20)
                if isinstance(msg, p.SessionsChanged) and len(msg.sessions) == 2:
                    return sorted(s.name for s in msg.sessions)
        finally:
            await client.close()

    try:
        term.wait(lambda: status_shows(term.text(), "work"), "the status bar")
        assert asyncio.run(pushed()) == ["other", "work"]
        # Counted in tmux's order, by name (the order prefix ( and ) go through): "other" comes first.
        term.wait(lambda: status_shows(term.text(), "work", "2/2"), "the status bar to count the new session")
        scarab.ok("rename", "other", "renamed")
        scarab.ok("kill", "renamed")
        term.wait(lambda: status_shows(term.text(), "work"), "the status bar to drop the killed session")
    finally:
        term.close()


# `python -m scarab attach work`, counting the updates Textual's compositor paints.
COUNT_COMPOSITOR = """
import runpy, sys
from textual._compositor import Compositor
note, real = sys.argv[1], Compositor.render_update
def counted(self, *args, **kwargs):
    update = real(self, *args, **kwargs)
    with open(note, "a") as out:
        out.write("u")
    return update
Compositor.render_update = counted
sys.argv = ["scarab", "attach", "work"]
runpy.run_module("scarab", run_name="__main__")
"""


def test_a_frame_s_rows_reach_the_terminal_without_the_compositor_when_nothing_is_over_the_view(
    scarab: ScarabEnv, tmp_path: Path
) -> None:
    scarab.ok("new", "-d", "-s", "work", "--", "sh")
    note = tmp_path / "updates"
    note.write_text("")
    term = Terminal([sys.executable, "-c", COUNT_COMPOSITOR, str(note)], scarab.env)
    try:
        term.wait(lambda: status_shows(term.text(), "work"), "the status bar")
        # Builtins only: a program run (`clear`) renames the window, and that status-bar update may come late.
        term.proc.write(b"printf '\\033[H\\033[2J'; printf 'be\\033[31mred\\033[0m\\n'\r")
        term.wait(lambda: "bered" in term.text().splitlines(), "the red output")
        before = len(note.read_text())
        for char in "typed":
            term.proc.write(char.encode())
        typed_row = lambda: term.screen.row(term.screen.cursor[1]).text.rstrip()  # noqa: E731
        term.wait(lambda: typed_row().endswith("$ typed"), "the echo")
        # Drawn straight to the terminal, and as the compositor draws it: the styles, the cursor.
        assert len(note.read_text()) == before
        row = next(y for y, text in enumerate(term.text().splitlines()) if text == "bered")
        assert [style.fg for _count, style in term.screen.row(row).runs[:2]] == [-1, 1]
        assert term.screen.cursor[0] == len(typed_row())
        # A dialog over the view: its rows are the compositor's to draw, around the dialog.
        term.proc.write(b"\x02?")
        term.wait(lambda: "C-b then:" in term.text(), "the help screen")
        shown = len(note.read_text())
        scarab.ok("send", "work", "echo under-the-dialog", "Enter")
        wait_for(lambda: len(note.read_text()) > shown, what="the compositor to draw the rows under the dialog")
    finally:
        term.close()


def test_switching_sessions_in_the_client_moves_its_count_in_the_database_too(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "a", "--", "sh", "-c", "echo screen-of-a; exec cat")
    scarab.ok("new", "-d", "-s", "b", "--", "sh", "-c", "echo screen-of-b; exec cat")

    def stored() -> dict[str, int]:
        with contextlib.closing(sqlite3.connect(scarab.paths.database)) as db:
            return dict(db.execute("SELECT name, attached FROM sessions").fetchall())

    term = Terminal([sys.executable, "-m", "scarab", "attach", "a"], scarab.env)
    try:
        term.wait(lambda: status_shows(term.text(), "a", "1/2") and "screen-of-a" in term.text(), "session a")
        assert wait_for(lambda: stored() == {"a": 1, "b": 0})
        term.proc.write(b"\x02")
        term.proc.write(b")")  # switch-client -n
        term.wait(lambda: status_shows(term.text(), "b", "2/2") and "screen-of-b" in term.text(), "session b")
        # `ls` and SQLite agree: a kept no client (it kept 1 in the database while `ls` said 0).
        assert wait_for(lambda: stored() == {"a": 0, "b": 1})
        assert (scarab.session("a")["attached"], scarab.session("b")["attached"]) == (0, 1)
    finally:
        term.close()
    assert wait_for(lambda: stored() == {"a": 0, "b": 0})


def test_the_client_takes_the_terminals_size_from_the_tty_not_from_columns_and_lines(scarab: ScarabEnv) -> None:
    # COLUMNS and LINES are a copy of some terminal's size (Python's readline exports 80x24 to its
    # children when its output is no terminal, as under pytest-xdist): tmux asks the tty, and so must the client.
    scarab.ok("new", "-d", "-s", "work", "--", "sh")
    term = Terminal([sys.executable, "-m", "scarab", "attach", "work"], dict(scarab.env, COLUMNS="80", LINES="24"))

    def sized(cols: int, rows: int) -> bool:
        info = scarab.session("work")
        return (info["cols"], info["rows"]) == (cols, rows - 1)

    try:
        term.wait(lambda: status_shows(term.text(), "work"), "the status bar across the terminal's 60 columns")
        term.wait(lambda: term.text().startswith("$"), "the shell prompt in the top row")
        wait_for(lambda: sized(COLS, ROWS), what="the session at the terminal's size")
        # A resize is read from the tty too (the variables do not follow it).
        term.proc.setwinsize(ROWS - 2, COLS - 10)
        term.screen.resize(COLS - 10, ROWS - 2)
        wait_for(lambda: sized(COLS - 10, ROWS - 2), what="the session at the terminal's new size")
        term.wait(lambda: status_shows(term.text(), "work"), "the status bar across the new 50 columns")
    finally:
        term.close()
