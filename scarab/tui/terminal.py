"""Terminal widget layer: draws a session's grid from frames and turns keys, mouse and paste into bytes.

Line API: each row is kept as a Strip and only rows a frame changed are refreshed, and painted at
once (`paint_now`) instead of at Textual's next frame tick. The session's cursor is the outer
terminal's own cursor, placed, shaped (DECSCUSR) and shown or hidden as the session asks. Input
leaves as a `TerminalView.ToProgram` message carrying bytes; the app sends them to the daemon. Keys
are encoded by `scarab.keys` (tmux's encoding), the one encoder the CLI's `send` uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from textual import events
from textual.geometry import Offset, Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from scarab import protocol as p
from scarab.config import DEFAULT_PREFIX
from scarab.keys import Key, encode, key_from_textual
from scarab.styles import Mode
from scarab.tui.keys import encode_mouse, encode_paste
from scarab.tui.styles import UNUSED, rich_style, same_width_everywhere

__all__ = ["TerminalView", "paint_now"]

HIDE_CURSOR = "\x1b[?25l"
DEFAULT_CURSOR = "\x1b[0 q"  # DECSCUSR 0: the terminal's own default shape


def paint_now(widget: Widget) -> None:
    """Put `widget`'s pending refreshes on the terminal now, not at Textual's next frame tick.

    A refresh reaches the terminal through three message hops (widget idle -> Update to the screen
    -> screen idle) and then a 60 Hz timer: a keystroke's echo waited up to a tick for it, most of
    its latency through the client. This hands the widget to its screen at once and runs the
    screen's same update (layout if needed, then the compositor's partial render of the dirty
    regions), so what lies over the view (a dialog, the picker) is composed exactly as a timed
    update would be; only the wait goes. While the app batches updates or the widget's screen is
    not the one shown, the timer does it as before."""
    app = widget.app
    screen = widget.screen
    if app._batch_count or screen is not app.screen or not screen.is_current or not widget.display:
        return
    if widget._repaint_required:
        widget._repaint_required = False  # what the widget's idle handler would have posted
        screen._dirty_widgets.add(widget)
    screen._on_timer_update()


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
        self._strips: dict[int, Strip] = {}  # by session row
        self._terminal_cursor = ""  # the visibility and shape last sent to the outer terminal
        # The session's cell shown at this view's top left: not (0, 0) only when the session is
        # larger than the view (another client's size is the session's): it pans with the cursor.
        self.pan = (0, 0)

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
            ascii_row = text.isascii()
            for count, index in runs:
                part = text[pos : pos + count]
                if not ascii_row:
                    part = same_width_everywhere(part)  # cells where the emulator put them
                segments.append(Segment(part, styles[index] if index < len(styles) else None))
                pos += count
            self.lines[y] = segments
            self._strips.pop(y, None)
            if dirty is not None:
                dirty.add(y)
        self.cursor = (frame.cursor[0], frame.cursor[1], bool(frame.cursor[2]), frame.cursor[3])
        if self._follow_cursor():
            dirty = None
        self.modes = frame.modes
        self.title = frame.title
        if dirty is None:
            self.refresh()
        else:
            for y in dirty:
                self.refresh_line(y)
        self.place_cursor()
        paint_now(self)

    def _follow_cursor(self) -> bool:
        """Pan so the cursor stays in sight when the session is larger than the view, moving as
        little as possible (tmux does the same for a smaller client). True if the pan changed."""
        width, height = self.size.width, self.size.height
        x, y = self.cursor[0], self.cursor[1]
        pan_x, pan_y = self.pan
        pan_x = min(max(pan_x, x - width + 1, 0), x, max(0, self.cols - width)) if width else 0
        pan_y = min(max(pan_y, y - height + 1, 0), y, max(0, self.rows - height)) if height else 0
        if (pan_x, pan_y) == self.pan:
            return False
        self.pan = (pan_x, pan_y)
        self._strips.clear()
        return True

    def refresh_line(self, y: int) -> None:
        """Redraw session row `y`, if it is in sight."""
        view_y = y - self.pan[1]
        if 0 <= view_y < self.size.height:
            self.refresh(Region(0, view_y, self.size.width, 1))

    def render_line(self, y: int) -> Strip:
        row = y + self.pan[1]
        strip = self._strips.get(row)
        if strip is None:
            strip = self._render_row(row)
            self._strips[row] = strip
        return strip

    def _render_row(self, row: int) -> Strip:
        width = self.size.width
        pan_x = self.pan[0]
        shown = min(width, self.cols - pan_x)  # session columns in sight
        if row < self.rows:
            segments = self.lines[row] if row < len(self.lines) else []
            strip = Strip(segments).extend_cell_length(pan_x + shown).crop(pan_x, pan_x + shown)
            if shown >= width:
                return strip
            # A view larger than the session (a smaller client sets its size): as tmux, a border
            # after the last column and dots over the unused area.
            return Strip([*strip, Segment("│", UNUSED), Segment("·" * (width - shown - 1), UNUSED)], width)
        if row == self.rows:
            return Strip([Segment("─" * shown + "┘", UNUSED), Segment("·" * max(0, width - shown - 1), UNUSED)], width)
        return Strip([Segment("·" * width, UNUSED)], width)

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self._follow_cursor()
        self.post_message(self.Resized(event.size.width, event.size.height))
        self.place_cursor()

    def on_focus(self) -> None:
        self.place_cursor()

    def on_blur(self) -> None:
        self.place_cursor()

    # -- the outer terminal's cursor --------------------------------------------------------------

    def place_cursor(self) -> None:
        """The outer terminal's cursor on the session's, with its shape, as tmux does.

        Textual moves the terminal cursor to `app.cursor_position` after each update it paints (and
        keeps it hidden); visibility and shape are sent here when they change. Hidden while the
        view does not have the focus (a dialog is open) or the session hides it."""
        x, y, visible, shape = self.cursor
        x, y = x - self.pan[0], y - self.pan[1]  # in this view
        region = self.content_region
        shown = visible and self.has_focus and 0 <= x < region.width and 0 <= y < region.height
        position = Offset(region.x + x, region.y + y)
        wanted = f"\x1b[?25h\x1b[{shape} q" if shown else HIDE_CURSOR
        app = self.app
        moved = position != app.cursor_position
        app.cursor_position = position
        driver = app._driver
        if driver is None or app.is_headless:
            self._terminal_cursor = wanted
            return
        out = ""
        if moved and shown:
            # A frame that only moves the cursor changes no row, so no update would move it.
            out += f"\x1b[{position.y + 1};{position.x + 1}H"
        if wanted != self._terminal_cursor:
            out += wanted
            self._terminal_cursor = wanted
        if out:
            driver.write(out)
            driver.flush()

    def terminal_cursor(self) -> str:
        """The cursor visibility and shape last sent to the terminal (for tests)."""
        return self._terminal_cursor

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
            button, event.x + self.pan[0], event.y + self.pan[1], press=press, motion=motion, shift=event.shift,
            meta=event.meta, ctrl=event.ctrl, sgr=bool(self.modes & Mode.MOUSE_SGR),
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
