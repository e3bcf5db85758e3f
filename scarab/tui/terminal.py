"""Terminal widget layer: draws a session's grid from frames and turns keys, mouse and paste into bytes.

Line API: each row is kept as a Strip and only rows a frame changed are refreshed. Input leaves as
a `TerminalView.ToProgram` message carrying bytes; the app sends them to the daemon. Keys are
encoded by `scarab.keys` (tmux's encoding), the one encoder the CLI's `send` uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from scarab import protocol as p
from scarab.config import DEFAULT_PREFIX
from scarab.keys import Key, encode, key_from_textual
from scarab.styles import Mode
from scarab.tui.keys import encode_mouse, encode_paste
from scarab.tui.styles import CURSOR, rich_style

__all__ = ["TerminalView"]


class TerminalView(Widget, can_focus=True):
    """The attached session's screen."""

    DEFAULT_CSS = """
    TerminalView {
        width: 1fr;
        height: 1fr;
        background: $background;
    }
    """

    @dataclass
    class ToProgram(Message):
        """Bytes for the program in the session (keys, paste, mouse)."""

        data: bytes

    @dataclass
    class Resized(Message):
        """The widget changed size: the session should follow (window-size "latest")."""

        cols: int
        rows: int

    @dataclass
    class Prefix(Message):
        """The prefix key was pressed, then `key`: a command for the app."""

        key: str
        character: str | None

    def __init__(self, prefix: Key | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prefix = prefix or DEFAULT_PREFIX
        self.prefix_pending = False
        self.session_id = ""
        self.cols = 80
        self.rows = 24
        self.modes = 0
        self.title = ""
        self.cursor = (0, 0, True, 0)
        self.lines: list[list[Segment]] = []
        self._strips: dict[int, Strip] = {}

    # -- frames -----------------------------------------------------------------------------------

    def apply(self, frame: p.Frame) -> None:
        """Apply one frame: a full frame replaces everything, others only their rows."""
        resized = (frame.cols, frame.rows) != (self.cols, self.rows)
        if frame.full or resized or frame.session_id != self.session_id:
            self.session_id = frame.session_id
            self.cols, self.rows = frame.cols, frame.rows
            self.lines = [[] for _ in range(frame.rows)]
            self._strips.clear()
            dirty: set[int] | None = None
        else:
            dirty = set()
        styles = [rich_style(int(s[0]), int(s[1]), int(s[2])) for s in frame.styles]
        for y, text, runs in frame.lines:
            if not 0 <= y < self.rows:
                continue
            segments = []
            pos = 0
            for count, index in runs:
                segments.append(Segment(text[pos : pos + count], styles[index] if index < len(styles) else None))
                pos += count
            self.lines[y] = segments
            self._strips.pop(y, None)
            if dirty is not None:
                dirty.add(y)
        old_cursor_row = self.cursor[1]
        self.cursor = (frame.cursor[0], frame.cursor[1], bool(frame.cursor[2]), frame.cursor[3])
        if dirty is not None:
            dirty |= {old_cursor_row, self.cursor[1]}
            for y in dirty:
                self._strips.pop(y, None)
        self.modes = frame.modes
        self.title = frame.title
        if dirty is None:
            self.refresh()
        else:
            for y in dirty:
                self.refresh_line(y)

    def refresh_line(self, y: int) -> None:
        self.refresh(self.region.__class__(0, y, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            segments = self.lines[y] if y < len(self.lines) else []
            x, cy, visible, _shape = self.cursor
            if visible and cy == y and self.has_focus:
                segments = _with_cursor(segments, x)
            strip = Strip(segments).extend_cell_length(self.size.width).crop(0, self.size.width)
            self._strips[y] = strip
        return strip

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.post_message(self.Resized(event.size.width, event.size.height))

    def on_focus(self) -> None:
        self._strips.pop(self.cursor[1], None)
        self.refresh_line(self.cursor[1])

    def on_blur(self) -> None:
        self.on_focus()

    def text(self) -> list[str]:
        """The grid as plain text rows (for tests and screenshots)."""
        return ["".join(seg.text for seg in line).rstrip() for line in self.lines]

    # -- input ------------------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        if self.prefix_pending:
            self.prefix_pending = False
            self.post_message(self.Prefix(event.key, event.character))
            return
        key = key_from_textual(event.key, event.character)
        if key is None:
            return
        if key == self.prefix:
            self.prefix_pending = True
            self.post_message(self.Prefix("", None))  # lets the status bar show the indicator
            return
        data = encode(key, cursor_keys=bool(self.modes & Mode.CURSOR_KEYS))
        if data:
            self.post_message(self.ToProgram(data))

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.post_message(self.ToProgram(encode_paste(event.text, bool(self.modes & Mode.BRACKETED_PASTE))))

    def _mouse_mode(self) -> int:
        return self.modes & (Mode.MOUSE_X10 | Mode.MOUSE_NORMAL | Mode.MOUSE_BUTTON | Mode.MOUSE_ANY)

    def _report(self, event: events.MouseEvent, button: int, press: bool, motion: bool = False) -> bool:
        if not self._mouse_mode():
            return False
        data = encode_mouse(
            button, event.x, event.y, press=press, motion=motion, shift=event.shift, meta=event.meta,
            ctrl=event.ctrl, sgr=bool(self.modes & Mode.MOUSE_SGR),
        )  # fmt: skip
        if data:
            self.post_message(self.ToProgram(data))
        event.stop()
        return True

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._report(event, max(0, event.button - 1), True)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if not self.modes & Mode.MOUSE_X10:
            self._report(event, max(0, event.button - 1), False)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.modes & Mode.MOUSE_ANY or (self.modes & Mode.MOUSE_BUTTON and event.button):
            self._report(event, max(0, event.button - 1) if event.button else 3, True, motion=True)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not self._report(event, 64, True):
            event.stop()
            self.post_message(self.Prefix("[", "["))  # like tmux: the wheel opens the scrollback

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._report(event, 65, True)


def _with_cursor(segments: list[Segment], x: int) -> list[Segment]:
    """Segments with the cell at column `x` drawn in reverse video."""
    out: list[Segment] = []
    col = 0
    placed = False
    for seg in segments:
        width = seg.cell_length
        if not placed and col <= x < col + width:
            before, rest = seg.split_cells(x - col)
            if before.text:
                out.append(before)
            if rest.text:
                cell, after = rest.split_cells(1 if rest.cell_length else 0)
                if not cell.text:  # a wide character straddles x
                    cell, after = rest.split_cells(2)
                out.append(Segment(cell.text, (cell.style or RichStyle()) + CURSOR))
                if after.text:
                    out.append(after)
            placed = True
        else:
            out.append(seg)
        col += width
    if not placed:
        if x > col:
            out.append(Segment(" " * (x - col)))
        out.append(Segment(" ", CURSOR))
    return out
