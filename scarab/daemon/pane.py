"""Pane layer: one pane of a session host — its PTY and child, its emulator, its frame pacing.

A pane reads its PTY, keeps the bytes until the host's parse round gives it time (the host shares
one parse budget per loop turn among the panes that have output, so a flooding pane never starves
its neighbours), and builds frames of its changed rows, coalesced (first frame after ~0.5 ms, then
at most 60/s). It does not know windows or the daemon: the host (`PaneHost`) decides whether a
frame goes out (only visible panes are drawn) and what a pane's exit means.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from typing import Protocol

from scarab import protocol as p
from scarab.daemon.banner import Offer
from scarab.daemon.emulator import Emulator
from scarab.daemon.hostctl import HostControls, PaneRef
from scarab.daemon.hostio import Loop, Timer
from scarab.daemon.procinfo import foreground
from scarab.daemon.pty import Child
from scarab.daemon.screens import capture_pages, history_page, snapshot_head
from scarab.daemon.windows import parse_window_name
from scarab.search import Hit, search_lines
from scarab.styles import Line, Mode, Style

__all__ = ["Pane", "PaneHost", "encode_frame", "encode_rows"]

FIRST_FRAME_DELAY = 0.0005  # lets the rest of a burst arrive; an echo is never held longer
FRAME_INTERVAL = 1 / 60
SMALL_OUTPUT = 512  # bytes: below this a frame goes out at once, whatever the frame rate
READ_SIZE = 65536
MAX_BATCH = 256 * 1024
# Each batch read from the PTY is parsed in slices that start at MIN_SLICE bytes and double while
# they stay quick (a flood of plain text reaches 256 KB slices within a dozen), and shrink when one
# was slow: bytes that are slow to parse (REP, erase on a huge screen) never keep the host from
# answering. A slice is also never more than the last slice's pace says fits in the pane's share
# (its share shrinks at once when a neighbour is typed into).
MIN_SLICE = 64
# Output after a pause this long starts with MIN_SLICE again (the parser catching up with a flood
# for a moment is no pause: tiny slices there cost a third of a flood's parse).
PAUSE = 1 / 60
NAME_CHECK = 0.5  # seconds between looks at the foreground program (automatic-rename), as tmux
REAP_WAIT = 5.0  # seconds a killed pane's program is waited for


def encode_rows(rows: Iterable[tuple[int, Line]]) -> tuple[list[list[object]], list[list[int]]]:
    """Rows as `[index, text, runs]` with a style table local to them (the Frame/History encoding)."""
    table: dict[Style, int] = {}
    lines: list[list[object]] = []
    for index, line in rows:
        runs = [[count, table.setdefault(style, len(table))] for count, style in line.runs]
        lines.append([index, line.text, runs])
    return lines, [list(style) for style in table]


def encode_frame(
    emu: Emulator, session_id: str, seq: int, rows: list[int], full: bool, bell: bool = False, pane: int = 0
) -> p.Frame:
    """A Frame of `rows` with a style table local to this frame."""
    lines, styles = encode_rows((y, emu.row(y)) for y in rows)
    wrapped = emu.wrapped_screen(rows)
    x, cy, visible, shape = emu.cursor
    return p.Frame(
        session_id=session_id,
        seq=seq,
        cols=emu.cols,
        rows=emu.rows,
        cursor=[x, cy, int(visible), shape],
        modes=emu.modes,
        title=emu.title,
        full=full,
        lines=lines,
        styles=styles,
        bell=bell,
        pane=pane,
        wrapped=wrapped or None,
    )


class PaneHost(Protocol):
    """What a pane needs from the host that owns it."""

    controls: HostControls  # recording and limits: told of each pane's output, size and program

    def want_parse(self, pane: Pane) -> None:
        """The pane has unparsed output: give it time in the next parse round."""

    def send_frame(self, pane: Pane, full: bool) -> bool:
        """Send the pane's frame now if it is shown and the daemon keeps up; False: try later."""

    def pane_exited(self, pane: Pane) -> None:
        """The pane's program has gone and its output is all parsed."""

    def pane_renamed(self, pane: Pane) -> None:
        """The pane's title or foreground program changed."""

    def pass_clipboard(self, pane: Pane) -> None:
        """The pane's program may have copied (OSC 52)."""


class Pane:
    def __init__(self, pane_id: int, loop: Loop, host: PaneHost, emu: Emulator, command: list[str], cwd: str) -> None:
        self.id = pane_id
        self.loop = loop
        self.host = host
        self.emu = emu
        self.command = command
        self.start_cwd = cwd
        self.child: Child | None = None
        self.exit_status: int | None = None
        self.pending_input = bytearray()
        self.flush_timer: Timer | None = None
        self.last_flush = 0.0
        self.pending_output = 0  # bytes parsed since the last frame
        self.unparsed = bytearray()  # read from the PTY, not parsed yet
        self.reading = False  # whether the PTY is watched (not while MAX_BATCH waits to be parsed)
        self.slice = MIN_SLICE
        self.pace = 0.0  # bytes per second the last slice was parsed at (0: not known)
        self.parsed_at = 0.0  # when the last slice was parsed
        self.output_ended = False
        self.reap_deadline = 0.0
        self.current = ""  # the foreground program (automatic-rename)
        self.title = ""
        self.name_checked = 0.0
        self.name_timer: Timer | None = None
        # The capture being paged out (HostCapture page 0 takes the rows) and its next page.
        self.capture: Iterator[str] | None = None
        self.capture_ahead: str | None = None
        # A resurrected pane's offer to run its last foreground program again (banner.py).
        self.offer: Offer | None = None

    # -- the program --------------------------------------------------------------------------------

    def start(self, env: dict[str, str]) -> None:
        # Like tmux's $TMUX_PANE: a command run in the pane targets it by default.
        env = {**env, "SCARAB_PANE": f"%{self.id}"}
        controls = self.host.controls
        self.child = Child.spawn(self.command, self.start_cwd, env, self.emu.cols, self.emu.rows, controls.preexec())
        controls.spawned(self.ref())
        self._read(True)

    def ref(self) -> PaneRef:
        return PaneRef(self.id, self.emu, self.pid if self.alive else 0, tuple(self.command))

    @property
    def pid(self) -> int:
        return self.child.pid if self.child is not None else 0

    @property
    def alive(self) -> bool:
        return self.child is not None and self.exit_status is None

    def cwd(self) -> str:
        return (self.child.cwd() if self.alive and self.child else None) or self.start_cwd

    def resize(self, cols: int, rows: int) -> None:
        if (cols, rows) == (self.emu.cols, self.emu.rows):
            return
        self.emu.resize(cols, rows)
        self.host.controls.resize(self.id, cols, rows)
        if self.alive and self.child is not None:
            self.child.resize(cols, rows)

    def terminate(self) -> None:
        """End the program as a closing terminal does; its exit arrives as usual."""
        if self.alive and self.child is not None:
            self.child.terminate()

    def close(self) -> None:
        """Forget the pane now: stop watching its fd, end its program, drop its timers."""
        if self.flush_timer is not None:
            self.flush_timer.cancel()
            self.flush_timer = None
        if self.child is not None:
            self._read(False)
            self.loop.remove_writer(self.child.fd)
            if self.exit_status is None:
                self.child.terminate()
                self.reap_deadline = time.monotonic() + REAP_WAIT
                self.loop.call_later(0.01, self._reap_closed)
            self.child.close()
        self.unparsed.clear()
        if self.name_timer is not None:
            self.name_timer.cancel()
            self.name_timer = None

    def _reap_closed(self) -> None:
        """A killed pane's program is waited for (no zombie is left behind), a while: one that
        ignores SIGHUP keeps running, as under a terminal that closed, and init reaps it later."""
        assert self.child is not None
        if self.child.reap() is None and time.monotonic() < self.reap_deadline:
            self.loop.call_later(0.05, self._reap_closed)

    # -- output -------------------------------------------------------------------------------------

    def on_output(self) -> None:
        if self._take_output():
            self.host.want_parse(self)

    def _take_output(self) -> bool:
        """Read what the PTY holds now (up to MAX_BATCH waiting); False if it held nothing. Under a
        flood the PTY hands out ~4 KB per read and holds ~16 KB: the program blocks when it is full."""
        assert self.child is not None
        was_waiting = bool(self.unparsed)
        got = 0
        while len(self.unparsed) < MAX_BATCH:
            data = self.child.read(READ_SIZE)
            if data is None:
                break
            if not data:
                self.output_ended = True
                break
            self.host.controls.output(self.id, data)
            self.unparsed += data
            got += len(data)
        if not got and not self.output_ended:
            return False
        if not was_waiting and time.monotonic() - self.parsed_at > PAUSE:
            self.slice = MIN_SLICE
        # Until MAX_BATCH waits: then the program waits, as it would for a terminal.
        if self.output_ended or len(self.unparsed) >= MAX_BATCH:
            self._read(False)
        return True

    def _read(self, on: bool) -> None:
        """Watch the PTY for output, or stop."""
        assert self.child is not None
        if on and not self.reading:
            self.loop.add_reader(self.child.fd, self.on_output)
        elif not on and self.reading:
            self.loop.remove_reader(self.child.fd)
        self.reading = on

    def parse(self, deadline: float, budget: float) -> bool:
        """Parse until `deadline`; returns whether bytes are left for the next round. `budget` is this
        pane's share of the round, which sizes its slices."""
        assert self.child is not None
        while self.unparsed:
            size = min(self.slice, max(MIN_SLICE, int(self.pace * budget))) if self.pace else self.slice
            chunk = bytes(self.unparsed[:size])
            del self.unparsed[: len(chunk)]
            started = time.monotonic()
            self.emu.feed(chunk)
            self.parsed_at = time.monotonic()
            took = self.parsed_at - started
            if took > 0:
                self.pace = len(chunk) / took
            self.pending_output += len(chunk)
            if took > 2 * budget:
                self.slice = max(MIN_SLICE, self.slice // 4)
            elif took < budget / 2:
                self.slice = min(MAX_BATCH, self.slice * 2)
            # Keys waiting (the daemon's input) end this pane's turn early: they are written, and a
            # neighbour's echo drawn, before the next slice.
            if time.monotonic() >= deadline or self.loop.urgent_ready():
                break
            # The PTY holds only ~16 KB: read between slices, and a flooding program writes on the
            # other core while we parse instead of waiting for our turn to end.
            if not self.output_ended:
                self._take_output()
        self.schedule_flush()
        self.host.pass_clipboard(self)
        if not self.output_ended and len(self.unparsed) < MAX_BATCH:
            self._read(True)
        if self.unparsed:
            return True
        if self.output_ended:
            self._child_gone()
        return False

    def _child_gone(self) -> None:
        assert self.child is not None
        self._read(False)
        self.loop.remove_writer(self.child.fd)
        self.reap_deadline = time.monotonic() + REAP_WAIT
        self._reap()

    def _reap(self) -> None:
        assert self.child is not None
        status = self.child.reap()
        if status is None and time.monotonic() < self.reap_deadline:
            self.loop.call_later(0.01, self._reap)
            return
        self.exit_status = status if status is not None else 0
        self.child.close()
        self.flush()
        self.host.pane_exited(self)

    # -- input --------------------------------------------------------------------------------------

    def keys(self, data: bytes) -> None:
        """Keys typed into the pane (never the emulator's replies): the first answer a standing offer."""
        if self.offer is not None:
            offer, self.offer = self.offer, None
            data = offer.take(data)
        if data:
            self.write_input(data)

    def offer_again(self, argv: tuple[str, ...]) -> None:
        """Show the banner under the restored screen; Enter will run `argv` in the new shell."""
        self.offer = Offer(argv)
        self.emu.feed(f"{self.offer.banner()}\r\n".encode())

    def write_input(self, data: bytes) -> None:
        """Write to the PTY now; whatever it cannot take yet waits for writability, in order."""
        if not self.alive or self.child is None:
            return
        if self.pending_input:
            self.pending_input += data
            return
        written = self.child.write(data)
        if written < len(data):
            self.pending_input += data[written:]
            self.loop.add_writer(self.child.fd, self._drain_input)

    def paste(self, data: bytes) -> None:
        """A paste buffer typed into the program, bracketed when it asked for bracketed paste
        (tmux's paste-buffer -p), so an editor or shell takes it as text and not as commands."""
        if self.emu.modes & Mode.BRACKETED_PASTE:
            data = b"\x1b[200~" + data.replace(b"\x1b[201~", b"") + b"\x1b[201~"
        self.write_input(data)

    def _drain_input(self) -> None:
        assert self.child is not None
        written = self.child.write(bytes(self.pending_input[:READ_SIZE]))
        del self.pending_input[:written]
        if not self.pending_input:
            self.loop.remove_writer(self.child.fd)

    # -- frames -------------------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        if self.flush_timer is not None:
            return
        delay = FIRST_FRAME_DELAY
        if self.pending_output > SMALL_OUTPUT:
            # Bulk output: at most FRAME_INTERVAL apart, intermediate screens skipped. Small output
            # (echo, a prompt) is never held back by the rate limit, so typing stays instant.
            delay = max(delay, self.last_flush + FRAME_INTERVAL - time.monotonic())
        self.flush_timer = self.loop.call_later(delay, self.flush)

    def flush(self) -> None:
        if self.flush_timer is not None:
            self.flush_timer.cancel()
            self.flush_timer = None
        self._check_names()
        if not self.host.send_frame(self, False):
            return
        self.pending_output = 0

    def frame(self, session_id: str, seq: int, full: bool) -> p.Frame:
        """The frame of what changed (or everything): the dirty rows are taken."""
        if self.flush_timer is not None:
            self.flush_timer.cancel()
            self.flush_timer = None
        dirty = self.emu.take_dirty()
        rows = list(range(self.emu.rows)) if full else sorted(dirty)
        bell, self.emu.bell = self.emu.bell, False
        self.last_flush = time.monotonic()
        return encode_frame(self.emu, session_id, seq, rows, full, bell, self.id)

    def retry_flush(self) -> None:
        """The daemon is behind: look again shortly (dirty rows keep accumulating meanwhile)."""
        if self.flush_timer is None:
            self.flush_timer = self.loop.call_later(FRAME_INTERVAL, self.flush)

    def _check_names(self, late: bool = False) -> None:
        """A changed title, or (at most every NAME_CHECK) foreground program, tells the host. After
        output, one more look follows NAME_CHECK later (the shell may be starting a job just now, or
        a job may have just ended); while a job runs, the looks go on, output or not, as tmux's name
        timer does. A shell waiting at its prompt costs no wake-ups."""
        now = time.monotonic()
        changed = self.emu.title != self.title
        self.title = self.emu.title
        if self.alive and self.child is not None:
            if now - self.name_checked >= NAME_CHECK:
                self.name_checked = now
                command, job = self.child.foreground()
                current = parse_window_name(command) if command else ""  # tmux's pane_current_command
                if current and current != self.current:
                    self.current, changed = current, True
                if (job or not late) and self.name_timer is None:
                    self.name_timer = self.loop.call_later(NAME_CHECK, self._late_names)
            elif self.name_timer is None:
                self.name_timer = self.loop.call_later(self.name_checked + NAME_CHECK - now, self._late_names)
        if changed:
            self.host.pane_renamed(self)

    def _late_names(self) -> None:
        self.name_timer = None
        self._check_names(late=True)

    # -- reading the screen ---------------------------------------------------------------------------

    def snapshot(self) -> p.Snapshot:
        """The screen now, and the stable index range of the history (the daemon pages through it)."""
        cwd = self.cwd()
        # The program in the foreground, if not the pane's own (the shell): a resurrection offers it.
        fg = foreground(self.pid) if self.alive else None
        data = snapshot_head(self.emu, cwd, fg.argv if fg is not None and not fg.is_shell else ())
        total = self.emu.history_total
        return p.Snapshot(cwd=cwd, data=data, first=total - len(self.emu.history), total=total, pane=self.id)

    def save_rows(self, start: int, stop: int) -> p.SaveRows:
        first, end, data = history_page(self.emu, start, stop)
        return p.SaveRows(start=first, stop=end, data=data)

    def capture_page(self, scrollback: bool, ansi: bool, page: int) -> p.Captured:
        """Page 0 takes the rows (a consistent moment); each call builds one bounded page of text."""
        if page == 0:
            self.capture = capture_pages(self.emu, scrollback, ansi)
            self.capture_ahead = next(self.capture, "")
        text = self.capture_ahead or ""
        self.capture_ahead = None if self.capture is None else next(self.capture, None)
        if self.capture_ahead is None:
            self.capture = None
        return p.Captured(text=text, more=self.capture_ahead is not None)

    def grep(self, rx: re.Pattern[str], limit: int) -> tuple[list[Hit], bool]:
        """Rows matching `rx`: history by stable index, then the screen's rows numbered on from there
        (`total + y`, the index each will have once scrolled off)."""
        emu = self.emu
        lines = emu.history.texts()  # no styles built: a coloured history costs seconds
        lines += [line.text for line in emu.screen_lines()]
        return search_lines(rx, lines, emu.history_total - len(emu.history), limit)

    def history(self, session_id: str, start: int, count: int) -> p.History:
        first, rows = self.emu.history_rows(start, min(count, p.MAX_HISTORY_ROWS))
        lines, styles = encode_rows(enumerate(rows, start=first))
        total = self.emu.history_total
        oldest = total - len(self.emu.history)
        history = self.emu.history
        wrapped = self.emu.wrapped_history(first, first + len(rows))
        return p.History(
            session_id=session_id, first=first, oldest=oldest, total=total, lines=lines, styles=styles, pane=self.id,
            limit=history.maxlen, size=history.nbytes() if count == 0 else 0, wrapped=wrapped or None,
        )  # fmt: skip
