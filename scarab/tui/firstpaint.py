"""First-paint layer: the session's screen on the terminal before the Textual app is up.

Importing and starting Textual takes ~250-350 ms; the session's screen is known ~50 ms after
`scarab attach` starts. So the attach command first fetches the session's `Layout` and a full frame
of each visible pane of its current window over a plain blocking socket and paints them with ANSI
on the alternate screen, each pane at its place and the borders between them, then starts the app, which enters the same
alternate screen (a no-op there) and repaints the same rows, taking over the first paint's
connection, already attached, rather than attaching a second time. The tty is put in raw mode at
once (no echo over the painted screen, no line editing); while Textual imports, `KeyRelay` sends
the keys typed to the session and paints its frames; keys typed in the app's own last ~100 ms of
start-up wait in the tty for it. The tty's settings from before are given back when the app ends
(`restore_tty`). No Textual here, and
anything unexpected (no daemon, no such session, a slow answer) just skips the first paint: the
app does the real attach either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import socket
import sys
import termios
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from scarab import protocol as p
from scarab.errors import ProtocolError
from scarab.styles import Line, Mode, Style, line_to_ansi
from scarab.tui.panes import Scene, scene_of, single_pane

if TYPE_CHECKING:
    from scarab.config import Config
    from scarab.paths import Paths

__all__ = [
    "EarlyAttach",
    "FirstPaint",
    "KeyRelay",
    "default_session",
    "first_paint",
    "leave_first_paint",
    "paint",
    "render_frame",
    "render_window",
    "restore_tty",
]

BUDGET = 0.3  # seconds: past this the app, which attaches anyway, is nearly up itself

ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"  # alternate screen, cursor hidden, cleared
LEAVE = "\x1b[2J\x1b[?25h\x1b[?1049l"
CURSOR_KEYS_ON, CURSOR_KEYS_OFF = "\x1b[?1h", "\x1b[?1l"  # DECCKM: arrows as the session wants them
ACTIVE_BORDER = "\x1b[32m"  # tmux's pane-active-border-style: green


class FirstPaint(NamedTuple):
    """What was painted: the app starts from it, so its own first paint shows the same rows."""

    session: p.SessionInfo
    frames: dict[int, p.Frame]  # by pane: a full frame of each visible pane
    tty_attrs: list[Any]  # the terminal's settings before the first paint made it raw
    connection: socket.socket  # attached to `session`: the app's connection to the daemon
    pending: bytes  # what was read from `connection` past the frames: the start of the app's stream
    daemon_pid: int
    layout: p.Layout | None = None  # None: a host that describes no panes (one pane)

    def scene(self) -> Scene:
        if self.layout is not None and self.layout.panes:
            return scene_of(self.layout)
        frame = next(iter(self.frames.values()))
        return single_pane(frame.pane, frame.cols, frame.rows)


def default_session(sessions: list[p.SessionInfo]) -> p.SessionInfo | None:
    """What `scarab` without a target attaches to: the most recently attached running session."""
    running = [s for s in sessions if s.state != "exited"]
    return max(running, key=lambda s: s.last_attached) if running else None


def first_paint(socket_path: Path, target: str | None, status_bar: bool, out: TextIO) -> FirstPaint | None:
    """Paint `target`'s screen (or the session `scarab` would pick) on `out`, if it can."""
    try:
        cols, rows = os.get_terminal_size(out.fileno())
    except (OSError, ValueError):
        return None
    rows -= 1 if status_bar else 0  # the app's terminal view is this size, so no resize follows
    if cols < 1 or rows < 1:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        fetched = _fetch(sock, socket_path, target, cols, rows)
        if fetched is None:
            sock.close()
            return None
        screen = render_window(fetched.scene(), fetched.frames)
        attrs = termios.tcgetattr(out.fileno())
    except (OSError, EOFError, ProtocolError, termios.error, ValueError, TypeError, IndexError):
        sock.close()
        return None  # no daemon, no answer in time, or a frame that does not add up: the app copes
    tty.setraw(out.fileno(), termios.TCSANOW)  # TCSANOW: keys typed so far stay queued for the app
    out.write(ENTER + screen)
    out.flush()
    return fetched._replace(tty_attrs=attrs)


def restore_tty(out: TextIO, painted: FirstPaint) -> None:
    """The terminal's settings as they were before the first paint."""
    with contextlib.suppress(termios.error, OSError):
        termios.tcsetattr(out.fileno(), termios.TCSANOW, painted.tty_attrs)


def leave_first_paint(out: TextIO, painted: FirstPaint) -> None:
    """Undo the first paint when the app never started (it restores the screen itself)."""
    painted.connection.close()
    restore_tty(out, painted)
    out.write(LEAVE)
    out.flush()


def render_frame(frame: p.Frame, x: int = 0, y: int = 0, clear: bool = True) -> str:
    """A frame's rows as ANSI, at (x, y) of the screen: each row positioned, styled, and cleared
    to its end (`clear`: a pane that reaches the right edge; the others are blanked to their width
    first, so a shorter row leaves nothing of the longer one behind)."""
    styles = [Style(*(int(v) for v in s[:3])) for s in frame.styles]
    parts = []
    for row, text, runs in frame.lines:
        line = Line(str(text), tuple((int(count), styles[int(index)]) for count, index in runs))
        at = f"\x1b[{int(row) + y + 1};{x + 1}H"
        blank = "" if clear else at + " " * frame.cols
        parts.append(f"{blank}{at}{line_to_ansi(line)}\x1b[0m" + ("\x1b[K" if clear else ""))
    return "".join(parts)


def render_window(scene: Scene, frames: dict[int, p.Frame]) -> str:
    """The current window as ANSI: each visible pane's frame at its place, then the borders
    (the active pane's in tmux's green), as the app draws them."""
    parts = []
    for rect in scene.panes:
        frame = frames.get(rect.pane)
        if frame is not None:
            parts.append(render_frame(frame, rect.x, rect.y, clear=rect.x + rect.width >= scene.cols))
    for y in range(scene.rows):
        for piece in scene.row(y):
            if piece.pane < 0 and piece.text.strip():
                colour = ACTIVE_BORDER if piece.active else ""
                parts.append(f"\x1b[{y + 1};{piece.x + 1}H{colour}{piece.text}\x1b[0m")
    return "".join(parts)


def _cursor_of(scene: Scene, frames: dict[int, p.Frame]) -> bytes:
    frame = frames.get(scene.active)
    rect = scene.rect(scene.active)
    if frame is None or rect is None:
        return b"\x1b[?25l"
    return _cursor(frame, rect.x, rect.y)


def _fetch(sock: socket.socket, socket_path: Path, target: str | None, cols: int, rows: int) -> FirstPaint | None:
    """Attach on `sock` and read up to the session's first full frame (tty_attrs left empty)."""
    conn = _Blocking(sock, time.monotonic() + BUDGET)
    sock.settimeout(BUDGET)
    sock.connect(str(socket_path))
    conn.send(p.Hello(version=p.PROTOCOL_VERSION, role="client", pid=os.getpid()))
    hello = conn.recv()
    p.check_hello(hello)
    assert isinstance(hello, p.Hello)
    if target is None:
        conn.send(p.SessionList())
        listing = conn.recv()
        chosen = default_session(listing.sessions) if isinstance(listing, p.Listed) else None
        if chosen is None:
            return None  # the app will create a session: nothing to show yet
        target = chosen.id
    conn.send(p.SessionAttach(target=target, cols=cols, rows=rows))
    attached = conn.recv()
    if not isinstance(attached, p.Attached):
        return None
    session = attached.session.id
    layout: p.Layout | None = None
    frames: dict[int, p.Frame] = {}
    while True:
        try:
            msg = conn.recv()
        except TimeoutError:
            if layout is None and len(frames) == 1:
                break  # a host that sends no Layout: its one pane is the window
            raise
        if isinstance(msg, p.Layout) and msg.session_id == session and msg.panes:
            layout, frames = msg, {}  # the frames that count are those after it
        elif isinstance(msg, p.Frame) and msg.session_id == session and (msg.full or msg.pane in frames):
            frames[msg.pane] = _merge(frames[msg.pane], msg) if msg.pane in frames else msg
        if layout is not None and all(rect.pane in frames for rect in scene_of(layout).panes):
            break
    return FirstPaint(attached.session, frames, [], sock, conn.unread(), hello.pid, layout)


def _merge(old: p.Frame, new: p.Frame) -> p.Frame:
    from scarab.outbox import merge_frames

    return dataclasses.replace(merge_frames(old, new), pane=new.pane)


class KeyRelay(threading.Thread):
    """While Textual imports and starts: keys typed reach the session, and its frames are painted.

    Importing Textual takes most of a cold attach (~200 ms here); meanwhile this thread does the
    app's two jobs over the first paint's connection: bytes read from the tty go to the session as
    they came (the outer terminal is switched to the session's cursor-key mode, so they are what the
    app would send), and the session's frames are painted as they arrive, with the real cursor. At
    the prefix key it stops reading the tty and holds that key and what followed, a command for the
    app. `handover` stops it before the app reads the tty and gives the app the screen as last
    painted and every byte not consumed."""

    def __init__(self, painted: FirstPaint, prefix: bytes, tty_in: int, out: int) -> None:
        super().__init__(name="scarab-first-keys", daemon=True)
        self.painted = painted
        self.prefix = prefix
        self.tty_in = tty_in
        self.out = out
        self.frames = dict(painted.frames)
        self.scene = painted.scene()
        self.buffer = bytearray(painted.pending)
        self.kept: list[bytes] = []  # messages that are not this session's frames, whole, for the app
        self.held = b""
        self._stop_r, self._stop_w = os.pipe()
        active = self.frames.get(self.scene.active)
        self._cursor_keys = active is not None and bool(active.modes & Mode.CURSOR_KEYS)
        self._merge: Callable[[p.Frame, p.Frame], p.Frame] = lambda old, new: new

    def run(self) -> None:
        from scarab.outbox import merge_frames  # asyncio comes with it: off the first paint's path

        self._merge = merge_frames
        sock = self.painted.connection
        session = self.painted.session.id
        reading = True
        sock.settimeout(None)  # select says when to read; an Input is small enough to go at once
        with contextlib.suppress(OSError, EOFError, ProtocolError, ValueError, TypeError, IndexError):
            os.write(
                self.out, (CURSOR_KEYS_ON if self._cursor_keys else "").encode() + _cursor_of(self.scene, self.frames)
            )
            self._take_frames()
            while True:
                fds = [self._stop_r, sock.fileno(), *([self.tty_in] if reading else [])]
                ready = select.select(fds, [], [])[0]
                if self._stop_r in ready:
                    return
                if self.tty_in in ready:
                    data = os.read(self.tty_in, 4096)
                    cut = data.find(self.prefix) if self.prefix else -1
                    if cut >= 0:
                        data, self.held, reading = data[:cut], data[cut:], False
                    if data:
                        sock.sendall(p.encode(p.Input(target=session, data=data)))
                if sock.fileno() in ready:
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        return  # the daemon went away: the app reconnects
                    self.buffer += chunk
                    self._take_frames()

    def _take_frames(self) -> None:
        for payload in p.split_frames(self.buffer):
            if not self.kept:  # after a message kept for the app, everything is the app's, in order
                with contextlib.suppress(ProtocolError, ValueError, TypeError, IndexError):
                    msg = p.decode(payload)
                    rect = self.scene.rect(msg.pane) if isinstance(msg, p.Frame) else None
                    old = self.frames.get(rect.pane) if rect is not None else None
                    if (
                        isinstance(msg, p.Frame)
                        and rect is not None
                        and old is not None
                        and (msg.session_id == old.session_id and (msg.cols, msg.rows) == (old.cols, old.rows))
                    ):
                        # First: a frame that does not add up is the app's.
                        screen = render_frame(msg, rect.x, rect.y, clear=rect.x + rect.width >= self.scene.cols)
                        self.frames[rect.pane] = dataclasses.replace(self._merge(old, msg), pane=msg.pane)
                        os.write(self.out, screen.encode() + _cursor_of(self.scene, self.frames))
                        continue
            self.kept.append(p.HEADER.pack(len(payload)) + payload)

    def handover(self) -> tuple[FirstPaint, bytes]:
        """Stop; the first paint as the app should start from it, and the keys held for the app."""
        os.write(self._stop_w, b"x")
        self.join()
        os.close(self._stop_r)
        os.close(self._stop_w)
        with contextlib.suppress(OSError):
            os.write(self.out, (CURSOR_KEYS_OFF if self._cursor_keys else "").encode())
        painted = self.painted._replace(frames=self.frames, pending=b"".join(self.kept) + bytes(self.buffer))
        return painted, self.held


def _cursor(frame: p.Frame, left: int = 0, top: int = 0) -> bytes:
    x, y, visible, shape = (int(v) for v in frame.cursor[:4])
    shown = f"\x1b[?25h\x1b[{shape} q" if visible else "\x1b[?25l"
    return f"\x1b[{y + top + 1};{x + left + 1}H{shown}".encode()


class _Blocking:
    """Framed messages over a blocking socket, every read within the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()
        self.ready: list[bytes] = []

    def send(self, msg: p.Message) -> None:
        self.sock.sendall(p.encode(msg))

    def recv(self) -> p.Message:
        while not self.ready:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no first frame in time")
            self.sock.settimeout(left)
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError
            self.buffer += data
            self.ready = p.split_frames(self.buffer)
        return p.decode(self.ready.pop(0))

    def unread(self) -> bytes:
        """The bytes received but not yet returned as messages, as they came."""
        return b"".join(p.HEADER.pack(len(payload)) + payload for payload in self.ready) + bytes(self.buffer)


class EarlyAttach(NamedTuple):
    """A first paint with its key relay running: what the app starts from."""

    target: str | None
    painted: FirstPaint
    relay: KeyRelay


def paint(target: str | None, paths: Paths, config: Config) -> EarlyAttach | None:
    """Paint `target` (None: the session `scarab` would pick) and relay keys to it until the app
    takes over, when both ends are terminals and the daemon answers in time."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    from scarab.keys import encode

    painted = first_paint(paths.socket, target, config.status_bar, sys.stdout)
    if painted is None:
        return None
    relay = KeyRelay(painted, encode(config.prefix) or b"", sys.stdin.fileno(), sys.stdout.fileno())
    relay.start()
    return EarlyAttach(target, painted, relay)
