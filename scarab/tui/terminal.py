"""Terminal widget layer: draws the current window from `Layout` and per-pane frames, and turns keys,
mouse and paste into bytes and commands.

Each pane's grid is a `PaneScreen`, fed by the frames carrying its id; `TerminalView` draws the
current window as the `Scene` of `scarab.tui.panes` says (each visible pane's rows at its rectangle,
the border cells between them, lit for the active pane), with the line API: a frame's changed rows
are refreshed as regions of the window's rows and painted at once (`paint_now`) instead of at
Textual's next frame tick. The active pane's cursor is the outer terminal's own cursor, placed,
shaped (DECSCUSR) and shown or hidden as that pane asks; its modes decide how keys, paste and mouse
are encoded. Input leaves as a `ToProgram` message carrying bytes (for the active pane, or for the
pane under the mouse); window and pane commands the mouse gives (focus a pane, drag a border) leave
as `Command` messages. Keys are encoded by `scarab.keys` (tmux's encoding), the one encoder the
CLI's `send` uses too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style as RichStyle
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
from scarab.tui.panes import number_cells, scene_of, single_pane
from scarab.tui.styles import UNUSED, rich_style, same_width_everywhere

__all__ = ["Drag", "PaneScreen", "TerminalView", "paint_now"]

HIDE_CURSOR = "\x1b[?25l"
DEFAULT_CURSOR = "\x1b[0 q"  # DECSCUSR 0: the terminal's own default shape
DISPLAY_PANES_TIME = 1.0  # tmux's display-panes-time
REPEAT_TIME = 0.5  # tmux's repeat-time: keys bound with -r repeat without the prefix meanwhile

# tmux's pane-border-style (default) and pane-active-border-style
# (`#{?pane_in_mode,fg=yellow,#{?synchronize-panes,fg=red,fg=green}}`).
BORDER = RichStyle()
ACTIVE_BORDER = RichStyle(color="green")
SYNCHRONIZED_BORDER = RichStyle(color="red")
IN_MODE_BORDER = RichStyle(color="yellow")
# display-panes-colour (blue) and display-panes-active-colour (red)
NUMBER = (RichStyle(color="blue"), RichStyle(bgcolor="blue"))
ACTIVE_NUMBER = (RichStyle(color="red"), RichStyle(bgcolor="red"))


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


@dataclass
class Drag:
    """A mouse drag begun on a pane whose program has not taken the mouse (tmux's MouseDrag1Pane),
    in the pane's cells: copy mode opens on it selecting from `start`; until its rows have arrived
    the view only records where the mouse is (`at`) and whether the button was let go."""

    start: tuple[int, int]
    at: tuple[int, int]
    released: bool = False
    clicks: int = 1  # 2: a double click (the word there), 3: a triple click (the line)


class PaneScreen:
    """One pane's grid as its frames describe it: rows of segments, cursor, modes, title; each row
    rendered once into a Strip until a frame changes it."""

    def __init__(self, pane: int) -> None:
        self.pane = pane
        self.cols = 0
        self.rows = 0
        self.modes = 0
        self.title = ""
        self.cursor = (0, 0, True, 0)
        self.lines: list[list[Segment]] = []
        self.wrapped: set[int] = set()  # rows that wrapped into the next (copy mode joins them)
        self._strips: dict[int, Strip] = {}

    def apply(self, frame: p.Frame) -> set[int] | None:
        """Apply one frame; the rows it changed (None: all of them)."""
        dirty: set[int] | None = set()
        if frame.full or (frame.cols, frame.rows) != (self.cols, self.rows):
            self.cols, self.rows = frame.cols, frame.rows
            self.lines = [[] for _ in range(frame.rows)]
            self.wrapped.clear()
            self._strips.clear()
            dirty = None
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
            self.wrapped.discard(y)
            self._strips.pop(y, None)
            if dirty is not None:
                dirty.add(y)
        if frame.wrapped:
            self.wrapped.update(frame.wrapped)
        self.cursor = (frame.cursor[0], frame.cursor[1], bool(frame.cursor[2]), frame.cursor[3])
        self.modes = frame.modes
        self.title = frame.title
        return dirty

    def strip(self, row: int, width: int) -> Strip:
        """Row `row` exactly `width` cells wide (cut, or padded with blanks)."""
        strip = self._strips.get(row)
        if strip is None or strip.cell_length != width:
            segments = self.lines[row] if 0 <= row < len(self.lines) else []
            strip = Strip(segments).extend_cell_length(width).crop(0, width)
            self._strips[row] = strip
        return strip

    def text(self) -> list[str]:
        return ["".join(seg.text for seg in line).rstrip() for line in self.lines]

    @property
    def mouse(self) -> int:
        """The mouse modes its program asked for (0: the program has not taken the mouse)."""
        return self.modes & (Mode.MOUSE_X10 | Mode.MOUSE_NORMAL | Mode.MOUSE_BUTTON | Mode.MOUSE_ANY)


class TerminalView(Widget, can_focus=True):
    """The attached session's current window: its visible panes, their borders, its active pane's cursor."""

    DEFAULT_CSS = """
    TerminalView {
        width: 1fr;
        height: 1fr;
        background: $background;
    }
    """

    @dataclass
    class ToProgram(Message):
        """Bytes for a program: keys and paste for the active pane (`pane` -1), mouse reports for
        the pane under the pointer."""

        data: bytes
        pane: int = -1

    @dataclass
    class Resized(Message):
        """The widget changed size: the window should follow (window-size "latest")."""

        cols: int
        rows: int

    @dataclass
    class Prefix(Message):
        """The prefix key was pressed, then `key` (or a key that repeats a repeatable command)."""

        key: str
        character: str | None

    @dataclass
    class Command(Message):
        """A window or pane command the mouse or display-panes gave (SelectPane, DragBorder)."""

        message: p.Message

    @dataclass
    class Scroll(Message):
        """The wheel went up over `pane`, whose program has not taken the mouse: copy mode there."""

        pane: int

    @dataclass
    class Dragged(Message):
        """Button 1 dragged (or double or triple clicked) on `pane`, whose program has not taken
        the mouse: copy mode there, selecting as the mouse does."""

        pane: int
        drag: Drag

    def __init__(self, prefix: Key | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prefix = prefix or DEFAULT_PREFIX
        self.prefix_pending = False
        self.repeatable: frozenset[Key] = frozenset()  # prefix keys bound with tmux's -r
        self.repeat_until = 0.0  # while monotonic() is below, a repeatable key needs no prefix
        self.session_id = ""
        self.session_layout: p.Layout | None = None
        self.scene = single_pane(0, 80, 24)
        self.screens: dict[int, PaneScreen] = {}
        self.numbers_until = 0.0  # display-panes: the numbers show until then
        self._numbers: dict[tuple[int, int], tuple[str, bool]] = {}
        self._rows: dict[int, Strip] = {}  # by view row
        self._drag: tuple[int, int] | None = None  # the border cell being dragged, in window cells
        self._terminal_cursor = ""  # the visibility and shape last sent to the outer terminal
        # Where program input goes: posted (it bubbles to the app), unless the owner takes it
        # directly (the app does: a keystroke's bytes then leave in the handler that read the key).
        self.to_program: Callable[[TerminalView.ToProgram], object] = self.post_message
        # The window's cell shown at this view's top left: not (0, 0) only when the window is
        # larger than the view (another client's size is the window's): it pans with the cursor.
        self.pan = (0, 0)
        self.in_mode: frozenset[int] = frozenset()  # the panes in copy mode (the app lays it over them)
        self._pressed: tuple[int, tuple[int, int]] | None = None  # button 1 down on a pane: (pane, cell)
        self._dragging: tuple[int, Drag] | None = None  # a drag copy mode opens on, until let go

    # -- what the active pane says ------------------------------------------------------------------

    @property
    def active(self) -> PaneScreen:
        screen = self.screens.get(self.scene.active)
        return screen if screen is not None else PaneScreen(self.scene.active)

    @property
    def modes(self) -> int:
        return self.active.modes

    @property
    def title(self) -> str:
        return self.active.title

    @property
    def cursor(self) -> tuple[int, int, bool, int]:
        return self.active.cursor

    @property
    def lines(self) -> list[list[Segment]]:
        """The active pane's rows."""
        return self.active.lines

    @property
    def cols(self) -> int:
        return self.scene.cols

    @property
    def rows(self) -> int:
        return self.scene.rows

    # -- frames and layout ------------------------------------------------------------------------

    def clear(self, session_id: str) -> None:
        """Attached to another session: nothing of the previous one is kept (its frames follow)."""
        self._session(session_id)
        self._redraw()

    def _session(self, session_id: str) -> None:
        if session_id != self.session_id:
            self.session_id = session_id
            self.session_layout = None
            self.screens.clear()
            self.scene = single_pane(-1, self.scene.cols, self.scene.rows)
            self.numbers_until = 0.0

    def apply(self, frame: p.Frame) -> None:
        """Apply one frame of one pane: a full frame replaces its grid, others only their rows."""
        self._session(frame.session_id)
        screen = self.screens.get(frame.pane)
        if screen is None:
            screen = self.screens[frame.pane] = PaneScreen(frame.pane)
        dirty = screen.apply(frame)
        if self.session_layout is None and self._single(frame):
            dirty = None
        rect = self.scene.rect(frame.pane)
        if rect is None:
            return  # not drawn in this window (a frame racing a window switch)
        if frame.pane == self.scene.active and self._follow_cursor():
            dirty = None
        if dirty is None:
            self._redraw()
        else:
            pan_x, pan_y = self.pan
            rows = [rect.y + row - pan_y for row in sorted(dirty) if row < rect.height]
            if self._paint_rows(rows):
                return
            for row in dirty:
                if row < rect.height:
                    self._refresh_row(rect.y + row - pan_y, Region(rect.x - pan_x, rect.y + row - pan_y, rect.width, 1))
        self.place_cursor()
        paint_now(self)

    def _paint_rows(self, rows: list[int]) -> bool:
        """Rows of this view straight to the terminal, when nothing lies over the view and no other
        update is pending: each row rendered as Textual renders it (this widget's styles, cached per
        row) and written with the cursor in one piece, instead of through the compositor, which
        would look for every widget in the rows' region and cut their lines into spans. False when
        the compositor must do it (a dialog or notification over the view, a layout or repaint
        pending, updates batched, headless)."""
        app = self.app
        driver = app._driver
        screen = self.screen
        if (
            driver is None
            or app.is_headless
            or app._batch_count
            or screen is not app.screen
            or not screen.is_current
            or not self.display
            or self._repaint_required
            or self._repaint_regions
            or screen._layout_required
            or screen._dirty_widgets
        ):
            return False
        region = self.content_region
        for widget, (shown, _clip) in screen._compositor.visible_widgets.items():  # topmost first
            if widget is self:
                break
            if shown.overlaps(region):
                return False
        else:
            return False  # not on the screen at all
        offset = self.content_offset
        out = []
        console = app.console
        for y in rows:
            if not 0 <= y < region.height:
                continue
            self._rows.pop(y, None)
            line = Region(0, y, region.width, 1).translate(offset)
            self._styles_cache.set_dirty(line)
            (strip,) = self._styles_cache.render_widget(self, line)
            out.append(f"\x1b[{region.y + y + 1};{region.x + 1}H{strip.render(console)}")
        cursor = self._cursor_update()
        position = app.cursor_position
        out.append(f"\x1b[{position.y + 1};{position.x + 1}H{cursor}")
        driver.write("".join(out))
        driver.flush()
        return True

    def _single(self, frame: p.Frame) -> bool:
        """No Layout (yet): the first pane seen fills the window, as a one-pane session's does.
        Whether the scene changed."""
        if self.scene.active in self.screens and frame.pane != self.scene.active:
            return False
        if frame.pane == self.scene.active and (frame.cols, frame.rows) == (self.cols, self.rows):
            return False
        self.scene = single_pane(frame.pane, frame.cols, frame.rows)
        return True

    def apply_layout(self, layout: p.Layout) -> None:
        """The session's windows and panes changed: draw its current window as `layout` says.
        A Layout without panes is a host that has not described them (yet): its one pane's frames
        fill the window, as before any Layout."""
        self._session(layout.session_id)
        if not layout.panes:
            return
        self.session_layout = layout
        self.scene = scene_of(layout)
        alive = {pane.id for pane in layout.panes}
        for gone in [pane for pane in self.screens if pane not in alive]:
            del self.screens[gone]
        if self.numbers_until:
            self._numbers = number_cells(self.scene)
        self._follow_cursor()
        self._redraw()
        self.place_cursor()
        paint_now(self)

    def _redraw(self) -> None:
        self._rows.clear()
        self.refresh()

    def _refresh_row(self, view_y: int, region: Region) -> None:
        if 0 <= view_y < self.size.height:
            self._rows.pop(view_y, None)
            self.refresh(region)

    def _follow_cursor(self) -> bool:
        """Pan so the active pane's cursor stays in sight when the window is larger than the view,
        moving as little as possible (tmux does the same for a smaller client). True if it moved."""
        width, height = self.size.width, self.size.height
        rect = self.scene.rect(self.scene.active)
        cx, cy = self.cursor[0], self.cursor[1]
        x, y = (rect.x + cx, rect.y + cy) if rect is not None else (cx, cy)
        pan_x, pan_y = self.pan
        pan_x = min(max(pan_x, x - width + 1, 0), x, max(0, self.cols - width)) if width else 0
        pan_y = min(max(pan_y, y - height + 1, 0), y, max(0, self.rows - height)) if height else 0
        if (pan_x, pan_y) == self.pan:
            return False
        self.pan = (pan_x, pan_y)
        self._rows.clear()
        return True

    def set_in_mode(self, panes: frozenset[int]) -> None:
        """The panes now in copy mode: the active pane's border is yellow while it is in one."""
        if panes != self.in_mode:
            self.in_mode = panes
            self._redraw()

    # -- drawing ----------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        strip = self._rows.get(y)
        if strip is None:
            strip = self._rows[y] = self._render_row(y + self.pan[1])
        return strip

    def _border_style(self, active: bool) -> RichStyle:
        if not active:
            return BORDER
        if self.scene.active in self.in_mode:
            return IN_MODE_BORDER
        return SYNCHRONIZED_BORDER if self.scene.synchronized else ACTIVE_BORDER

    def _window_row(self, row: int) -> Strip:
        segments: list[Segment] = []
        for piece in self.scene.row(row):
            if piece.pane >= 0:
                screen = self.screens.get(piece.pane)
                if screen is None:
                    segments.append(Segment(" " * piece.width))
                else:
                    segments.extend(screen.strip(piece.row, piece.width))
            else:
                segments.append(Segment(piece.text, self._border_style(piece.active)))
        strip = Strip(segments, self.scene.cols)
        if self._numbers and time.monotonic() < self.numbers_until:
            strip = self._with_numbers(strip, row)
        return strip

    def _with_numbers(self, strip: Strip, row: int) -> Strip:
        cells = sorted((x, cell) for (x, y), cell in self._numbers.items() if y == row and 0 <= x < self.scene.cols)
        if not cells:
            return strip
        cuts = sorted(({c for x, _ in cells for c in (x, x + 1)} - {0}) | {self.scene.cols})
        parts = list(strip.divide(cuts))
        starts = [0, *cuts[:-1]]
        rect_active = self.scene.rect(self.scene.active)
        for x, (char, background) in cells:
            pane = self.scene.pane_at(x, row)
            colours = ACTIVE_NUMBER if rect_active is not None and pane == rect_active.pane else NUMBER
            index = starts.index(x)
            parts[index] = Strip([Segment(char, colours[1] if background else colours[0])], 1)
        return Strip.join(parts)

    def _render_row(self, row: int) -> Strip:
        width = self.size.width
        pan_x = self.pan[0]
        cols, rows = self.scene.cols, self.scene.rows
        shown = min(width, cols - pan_x)  # window columns in sight
        if row < rows:
            strip = self._window_row(row)
            if pan_x or shown < cols:
                strip = strip.crop(pan_x, pan_x + shown)
            if shown >= width:
                return strip
            # A view larger than the window (a smaller client sets its size): as tmux, its edge
            # after the last column and dots over the unused area.
            edge = Segment(self.scene.edge_cell(row), BORDER)
            return Strip([*strip, edge, Segment("·" * (width - shown - 1), UNUSED)], width)
        if row == rows:
            bottom = self.scene.edge_row()[pan_x : pan_x + shown + 1]
            return Strip([Segment(bottom, BORDER), Segment("·" * max(0, width - shown - 1), UNUSED)], width)
        return Strip([Segment("·" * width, UNUSED)], width)

    def text(self) -> list[str]:
        """The window as drawn, as plain text rows (for tests and screenshots)."""
        return ["".join(seg.text for seg in self._window_row(y)).rstrip() for y in range(self.scene.rows)]

    def pane_text(self, pane: int) -> list[str]:
        """One pane's rows as plain text."""
        screen = self.screens.get(pane)
        return screen.text() if screen is not None else []

    def on_resize(self, event: events.Resize) -> None:
        self._rows.clear()
        self._follow_cursor()
        self.post_message(self.Resized(event.size.width, event.size.height))
        self.place_cursor()

    def on_focus(self) -> None:
        self.place_cursor()

    def on_blur(self) -> None:
        self.place_cursor()

    # -- display-panes ------------------------------------------------------------------------------

    def show_numbers(self) -> None:
        """display-panes (prefix q): each pane's index over it for a second; typing one selects it."""
        self._numbers = number_cells(self.scene)
        self.numbers_until = time.monotonic() + DISPLAY_PANES_TIME
        self._redraw()
        self.set_timer(DISPLAY_PANES_TIME, self._numbers_timeout)

    def hide_numbers(self) -> None:
        if self.numbers_until:
            self.numbers_until = 0.0
            self._numbers = {}
            self._redraw()

    def _numbers_timeout(self) -> None:
        if self.numbers_until and time.monotonic() >= self.numbers_until - 0.01:
            self.hide_numbers()

    # -- the outer terminal's cursor --------------------------------------------------------------

    def place_cursor(self) -> None:
        """The outer terminal's cursor on the active pane's, with its shape, as tmux does.

        Textual moves the terminal cursor to `app.cursor_position` after each update it paints (and
        keeps it hidden); visibility and shape are sent here when they change. Hidden while the
        view does not have the focus (a dialog is open) or the pane hides it."""
        app = self.app
        moved_from = app.cursor_position
        out = self._cursor_update()
        driver = app._driver
        if driver is None or app.is_headless:
            return
        position = app.cursor_position
        if position != moved_from and self._terminal_cursor != HIDE_CURSOR:
            # A frame that only moves the cursor changes no row, so no update would move it.
            out = f"\x1b[{position.y + 1};{position.x + 1}H" + out
        if out:
            driver.write(out)
            driver.flush()

    def _cursor_update(self) -> str:
        """Set `app.cursor_position` to the active pane's cursor; the visibility and shape to send
        if they changed ("" if not)."""
        cx, cy, visible, shape = self.cursor
        rect = self.scene.rect(self.scene.active)
        inside = rect is not None and 0 <= cx < rect.width and 0 <= cy < rect.height
        x, y = (rect.x + cx, rect.y + cy) if rect is not None else (cx, cy)
        x, y = x - self.pan[0], y - self.pan[1]  # in this view
        region = self.content_region
        shown = visible and inside and self.has_focus and 0 <= x < region.width and 0 <= y < region.height
        self.app.cursor_position = Offset(region.x + x, region.y + y)
        wanted = f"\x1b[?25h\x1b[{shape} q" if shown else HIDE_CURSOR
        if wanted == self._terminal_cursor:
            return ""
        self._terminal_cursor = wanted
        return wanted

    def terminal_cursor(self) -> str:
        """The cursor visibility and shape last sent to the terminal (for tests)."""
        return self._terminal_cursor

    # -- input ------------------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        command = self.key(event)
        if command is not None:
            self.post_message(command)

    def key(self, event: events.Key) -> TerminalView.Prefix | None:
        """A key typed on the pane: to its program, or the prefix and a command key (returned, for
        the app to run before it looks at the next key)."""
        event.stop()
        event.prevent_default()
        if self.prefix_pending:
            self.prefix_pending = False
            return self.Prefix(event.key, event.character)
        key = key_from_textual(event.key, event.character)
        if key is None:
            return None
        if self.numbers_until:
            self.hide_numbers()
            plain = len(key.name) == 1 and not key.mods
            index = "0123456789abcdefghijklmnopqrstuvwxyz".find(key.name) if plain else -1
            if 0 <= index < len(self.scene.order):
                self.post_message(self.Command(p.SelectPane(target=f"%{self.scene.order[index]}")))
                return None
        if self.repeat_until:
            if key in self.repeatable and time.monotonic() < self.repeat_until:
                return self.Prefix(event.key, event.character)
            self.repeat_until = 0.0
        if key == self.prefix:
            self.prefix_pending = True
            return self.Prefix("", None)  # lets the status bar show the indicator
        data = encode(key, cursor_keys=bool(self.modes & Mode.CURSOR_KEYS))
        if data:
            self.to_program(self.ToProgram(data))
        return None

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        self.to_program(self.ToProgram(encode_paste(event.text, bool(self.modes & Mode.BRACKETED_PASTE))))

    def _under(self, event: events.MouseEvent) -> tuple[int, int, int | None]:
        """The window cell under the pointer and the visible pane there, if any."""
        x, y = event.x + self.pan[0], event.y + self.pan[1]
        return x, y, self.scene.pane_at(x, y)

    def _screen_under(self, event: events.MouseEvent) -> PaneScreen | None:
        pane = self._under(event)[2]
        return self.screens.get(pane) if pane is not None else None

    def _report(self, event: events.MouseEvent, button: int, press: bool, motion: bool = False) -> bool:
        """Send the event to the program of the pane under the pointer, if it has taken the mouse."""
        x, y, pane = self._under(event)
        if pane is None:
            return False
        screen = self.screens.get(pane)
        rect = self.scene.rect(pane)
        if screen is None or rect is None or not screen.mouse:
            return False
        data = encode_mouse(
            button, x - rect.x, y - rect.y, press=press, motion=motion, shift=event.shift, meta=event.meta,
            ctrl=event.ctrl, sgr=bool(screen.modes & Mode.MOUSE_SGR),
        )  # fmt: skip
        if data:
            self.to_program(self.ToProgram(data, pane if self.session_layout is not None else -1))
        event.stop()
        return True

    def on_mouse_down(self, event: events.MouseDown) -> None:
        x, y, pane = self._under(event)
        self._pressed = None
        if pane is None:
            if self.session_layout is not None and self.scene.on_border(x, y) and event.button == 1:
                self._drag = (x, y)  # tmux's MouseDrag1Border: resize-pane -M
                self.capture_mouse()
            return
        if pane != self.scene.active and self.session_layout is not None:
            self.post_message(self.Command(p.SelectPane(target=f"%{pane}")))  # MouseDown1Pane
        if not self._report(event, max(0, event.button - 1), True) and event.button == 1:
            self._pressed = (pane, self._in_pane(pane, x, y))  # a drag from here selects (MouseDrag1Pane)

    def _in_pane(self, pane: int, x: int, y: int) -> tuple[int, int]:
        """Window cell (x, y) in `pane`'s cells, kept inside it (a drag never leaves its pane)."""
        rect = self.scene.rect(pane)
        if rect is None:
            return (0, 0)
        return (min(max(x - rect.x, 0), rect.width - 1), min(max(y - rect.y, 0), rect.height - 1))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._pressed = None
        if self._dragging is not None:
            # Let go before copy mode lay over the pane (or outside it): copy mode sees it here.
            pane, drag = self._dragging
            drag.at, drag.released = self._in_pane(pane, *self._under(event)[:2]), True
            self._dragging = None
        if self._drag is not None:
            self._drag_to(event)
            self._drag = None
            self.release_mouse()
            return
        screen = self._screen_under(event)
        if screen is not None and not screen.modes & Mode.MOUSE_X10:
            self._report(event, max(0, event.button - 1), False)

    def on_click(self, event: events.Click) -> None:
        x, y, pane = self._under(event)
        screen = self.screens.get(pane) if pane is not None else None
        if event.chain >= 2 and pane is not None and screen is not None and not screen.mouse:
            at = self._in_pane(pane, x, y)  # DoubleClick1Pane / TripleClick1Pane: the word or the line
            self.post_message(self.Dragged(pane, Drag(at, at, released=True, clicks=min(event.chain, 3))))

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag is not None:
            self._drag_to(event)
            return
        if self._dragging is not None and event.button == 1:
            pane, drag = self._dragging  # followed outside copy mode's pane (it stops at the edge)
            drag.at = self._in_pane(pane, *self._under(event)[:2])
            return
        if self._pressed is not None and event.button == 1:
            pane, start = self._pressed
            at = self._in_pane(pane, *self._under(event)[:2])
            if at != start:
                self._pressed = None
                self._dragging = (pane, Drag(start, at))
                self.post_message(self.Dragged(pane, self._dragging[1]))
                return
        screen = self._screen_under(event)
        if screen is not None and (
            screen.modes & Mode.MOUSE_ANY or (screen.modes & Mode.MOUSE_BUTTON and event.button)
        ):
            self._report(event, max(0, event.button - 1) if event.button else 3, True, motion=True)

    def _drag_to(self, event: events.MouseEvent) -> None:
        assert self._drag is not None
        x, y = event.x + self.pan[0], event.y + self.pan[1]
        if (x, y) != self._drag:
            fx, fy = self._drag
            self.post_message(self.Command(p.DragBorder(target="", x=fx, y=fy, to_x=x, to_y=y)))
            self._drag = (x, y)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if not self._report(event, 64, True):
            event.stop()
            pane = self._under(event)[2]
            if pane is not None:
                self.post_message(self.Scroll(pane))  # like tmux: the wheel opens the pane's history

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._report(event, 65, True)
