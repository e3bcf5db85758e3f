"""TUI copy-mode layer: tmux's copy mode over one pane — move, search, select, copy.

A view over the pane's history and screen as they were when it opened (history.py pages the rows by
stable index, so output arriving meanwhile never moves it and only the rows in sight travel),
driven by tmux's key tables (`copy-mode-vi`, `copy-mode`; scarab.tui.bindings) whose command names
are this widget's actions. As in tmux it is a mode of one pane: the app lays the widget over that
pane's rectangle of the window (the other panes go on updating beside it) and gives it the keys
while its pane is the active one. Its outward effects go through four callables the app gives it:
fetch history rows, grep the pane (search finds every matching row in the host, so a match 9,000
rows up is found without downloading them), copy text (paste buffer, outer clipboard), and ask
on the status line (the search prompt, as tmux's).

Columns are cells, as in tmux's grid: a wide character covers two, a combining mark none (it
belongs to the character before it). The cursor only ever stands on a character's first cell, so a
motion steps over characters, and what a selection copies is the characters whose cells it covers.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, WorkerCancelled, WorkerFailed
from wcwidth import wcwidth

from scarab.errors import ScarabError
from scarab.keys import Key, key_from_textual
from scarab.search import compile_pattern
from scarab.tui.bindings import KeyTable
from scarab.tui.history import Fetch, HistoryView
from scarab.tui.terminal import Drag

__all__ = ["CopyMode", "CopyView", "Jump", "Point", "RowCells", "row_cells"]

Grep = Callable[[str], Awaitable[list[int]]]  # pattern -> stable indexes of the rows that match
Copy = Callable[[str], Awaitable[None]]
# The status-line prompt (scarab.tui.dialogs.StatusPrompt.ask): label, value, hears every edit.
Ask = Callable[[str, str, Callable[[str], Awaitable[None]] | None], "asyncio.Future[str | None]"]

# tmux's default styles: mode-style (selection, position), copy-mode-match-style, -current-match-style.
SELECTION = Style(color="black", bgcolor="yellow")
MATCH = Style(color="black", bgcolor="cyan")
CURRENT_MATCH = Style(color="black", bgcolor="magenta")
CURSOR = Style(reverse=True)
POSITION = Style(color="black", bgcolor="yellow")
# tmux's word-separators (3.3a): a word is a run of other characters, or a run of these.
WORD_SEPARATORS = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~")
WHEEL_LINES = 5  # tmux's scroll-up/-down by the wheel
CLICK_COPY_DELAY = 0.3  # tmux's DoubleClick1Pane / TripleClick1Pane: select, `run -d0.3`, copy
MAX_COUNT = 10_000
# The actions a count repeats (tmux repeats motions and searches, not selection or copy).
REPEATABLE = frozenset(
    [
        "cursor_left",
        "cursor_right",
        "cursor_up",
        "cursor_down",
        "next_word",
        "previous_word",
        "next_word_end",
        "next_space",
        "previous_space",
        "next_space_end",
        "halfpage_up",
        "halfpage_down",
        "page_up",
        "page_down",
        "search_again",
        "search_reverse",
    ]
)


class Point(NamedTuple):
    """A cell of the view: `row` 0 is the oldest history row kept, the screen's rows follow."""

    row: int
    col: int


@dataclass(frozen=True)
class Jump:
    """Open at a search hit: the row's stable index and the pattern to highlight."""

    row: int
    pattern: str


class RowCells(NamedTuple):
    """A row's characters as the screen lays them out: each character (with the zero-width
    characters joined to it), the cell it starts at, its offset in the row's text, and the cells
    all of them cover."""

    chars: tuple[str, ...]
    starts: tuple[int, ...]
    offsets: tuple[int, ...]
    width: int

    def index_at(self, x: int) -> int:
        """The character covering cell `x` (len(chars) past the end)."""
        lo, hi = 0, len(self.starts)
        while lo < hi:  # the last start <= x
            mid = (lo + hi) // 2
            if self.starts[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        if lo and x < self.width:
            return lo - 1
        return len(self.chars)

    def snap(self, x: int) -> int:
        """The first cell of the character covering cell `x` (past the text: `x` itself, each blank
        after it one cell)."""
        i = self.index_at(x)
        return self.starts[i] if i < len(self.chars) else max(x, 0)

    def next_x(self, x: int) -> int:
        i = self.index_at(x)
        return self.starts[i + 1] if i + 1 < len(self.chars) else max(x + 1, self.width)

    def previous_x(self, x: int) -> int:
        if x > self.width:
            return x - 1
        i = self.index_at(x)
        return self.starts[i - 1] if 0 < i <= len(self.chars) else 0

    def char_at(self, x: int) -> str:
        i = self.index_at(x)
        return self.chars[i] if i < len(self.chars) else " "

    def last_x(self) -> int:
        """The first cell of the last character that is not a blank (0 on a blank row)."""
        for i in range(len(self.chars) - 1, -1, -1):
            if not self.chars[i].isspace():
                return self.starts[i]
        return 0

    def x_of_offset(self, offset: int) -> int:
        """The cell where the character at text offset `offset` starts (a match's start and end)."""
        lo, hi = 0, len(self.offsets)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.offsets[mid] < offset:
                lo = mid + 1
            else:
                hi = mid
        return self.starts[lo] if lo < len(self.starts) else self.width

    def text(self, left: int, right: int) -> str:
        """The characters starting in cells [left, right)."""
        return "".join(c for c, x in zip(self.chars, self.starts, strict=True) if left <= x < right)


@lru_cache(maxsize=4096)
def row_cells(text: str) -> RowCells:
    """`text` (a row as the emulator sends it: a wide character once, its second cell not at all;
    combining marks after their character) laid out in cells as the emulator laid it out."""
    if text.isascii():
        positions = tuple(range(len(text)))
        return RowCells(tuple(text), positions, positions, len(text))
    chars: list[str] = []
    starts: list[int] = []
    offsets: list[int] = []
    x = 0
    for offset, char in enumerate(text):
        width = wcwidth(char)
        if width <= 0 and chars:
            chars[-1] += char  # zero-width: part of the character before
            continue
        chars.append(char)
        starts.append(x)
        offsets.append(offset)
        x += 2 if width == 2 else 1
    return RowCells(tuple(chars), tuple(starts), tuple(offsets), x)


def _word_class(char: str) -> int:
    return 0 if char.isspace() else 1 if char in WORD_SEPARATORS else 2


def _space_class(char: str) -> int:
    return 0 if char.isspace() else 2


class CopyView(HistoryView):
    """The rows with the cursor, selection, search matches and position drawn over them."""

    def __init__(
        self, fetch: Fetch, screen: list[list[Segment]], screen_wrapped: set[int], *, id: str | None = None
    ) -> None:
        super().__init__(fetch, screen, id=id)
        self.screen_wrapped = screen_wrapped  # the screen's rows that wrapped into the next
        self.cursor = Point(0, 0)
        self.mark: Point | None = None  # the selection's other end, while selecting
        self.line_mode = False
        self.rectangle = False
        self.rx: re.Pattern[str] | None = None  # matches highlighted
        self.current: tuple[int, int, int] | None = None  # (row, start, end) of the current match
        self.message = ""  # shown instead of the position until the next key
        self.dragging = False
        # Opened by a drag on the pane: its moves are recorded here until the first rows arrive
        # (then the selection goes on from where the mouse is).
        self.drag: Drag | None = None
        self.on_drag_end: Callable[[], None] | None = None
        self.on_word: Callable[[Point, int], None] | None = None
        self.on_press: Callable[[], None] | None = None
        # A scroll down reached the bottom: copy mode the wheel opened ends then (copy-mode -e).
        self.on_bottom: Callable[[], None] | None = None
        self.pane_width = 0  # the pane's width, known before this view is laid out

    @property
    def rows_total(self) -> int:
        return self.history_rows + len(self.screen_rows)

    def row_text(self, row: int) -> str | None:
        segments = self.row_segments(row) if 0 <= row < self.rows_total else []
        return None if segments is None else "".join(seg.text for seg in segments)

    def is_wrapped(self, row: int) -> bool:
        """Whether view row `row` wrapped into the next (the program wrote on past its end)."""
        if row < self.history_rows:
            return self.oldest + row in self.wrapped
        return row - self.history_rows in self.screen_wrapped

    def cells(self, row: int) -> RowCells:
        """Row `row`'s characters by cell (an empty row while it has not arrived)."""
        return row_cells(self.row_text(row) or "")

    def char_at(self, point: Point) -> str:
        return self.cells(point.row).char_at(point.col)

    # -- selection ----------------------------------------------------------------------------------

    def selection_span(self, row: int) -> tuple[int, int] | None:
        """The selected columns [start, end) of `row`, if any."""
        if self.mark is None:
            return None
        start, end = sorted((self.mark, self.cursor))
        if not start.row <= row <= end.row:
            return None
        if self.line_mode:
            return 0, max(self.size.width, 1)
        if self.rectangle:
            left, right = sorted((self.mark.col, self.cursor.col))
            return left, right + 1
        right = self.cells(row).next_x(end.col) if row == end.row else max(self.size.width, 1)
        return (start.col if row == start.row else 0, right)

    def selected_rows(self) -> range:
        if self.mark is None:
            return range(0)
        start, end = sorted((self.mark, self.cursor))
        return range(start.row, end.row + 1)

    def selection_text(self, vi: bool = False) -> str:
        """The selected characters, each line without trailing blanks, as tmux copies: a row that
        wrapped into the next is joined to it (a long line comes back whole), other rows end
        with a newline; a rectangle's rows stay apart. With vi keys a line selection keeps its
        last newline too (tmux's window_copy_get_selection: its end is past the line's end), so
        pasted into a shell the last line runs as well."""
        out: list[str] = []
        rows = self.selected_rows()
        for row in rows:
            span = self.selection_span(row)
            if span is None:
                continue
            text = self.cells(row).text(*span)
            if row == rows[-1]:
                out.append(text.rstrip() + ("\n" if vi and self.line_mode else ""))
            elif not self.rectangle and self.is_wrapped(row):
                out.append(text)
            else:
                out.append(text.rstrip() + "\n")
        return "".join(out)

    async def fetch_rows(self, rows: range) -> None:
        """Make sure every history row of `rows` has arrived (a selection or a hit out of sight)."""
        missing = [r for r in rows if r < self.history_rows and self.row_segments(r) is None]
        while missing:
            start = missing[0]
            reply = await self._fetch(self.oldest + start, min(missing[-1] - start + 1, 1000))
            self._take(reply)
            if not reply.lines:
                return
            missing = [r for r in missing if self.row_segments(r) is None and r >= start + len(reply.lines)]

    # -- drawing ------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        row = self.scroll_offset.y + y
        width = self.size.width
        if not self.loaded or width <= 0:
            return strip
        overlays: list[tuple[int, int, Style]] = []
        text = self.row_text(row)
        cells = row_cells(text or "")
        if self.rx is not None and text:
            overlays += [
                (cells.x_of_offset(m.start()), cells.x_of_offset(m.end()), MATCH)
                for m in self.rx.finditer(text)
                if m.end() > m.start()
            ]
        if self.current is not None and self.current[0] == row:
            overlays.append((self.current[1], self.current[2], CURRENT_MATCH))
        span = self.selection_span(row)
        if span is not None:
            overlays.append((span[0], span[1], SELECTION))
        if self.cursor.row == row:
            overlays.append((self.cursor.col, cells.next_x(self.cursor.col), CURSOR))
        strip = _overlay(strip, overlays, width)
        if y == 0:
            # tmux's position: rows scrolled up from the bottom / history rows.
            position = f"{int(self.max_scroll_y - self.scroll_y)}/{self.history_rows}"
            label = f"[{self.message or position}]"[:width]
            strip = Strip.join([strip.crop(0, width - len(label)), Strip([Segment(label, POSITION)])])
        return strip

    def keep_cursor_in_sight(self) -> None:
        top, height = self.scroll_offset.y, max(self.size.height, 1)
        if self.cursor.row < top:
            self.scroll_to(y=self.cursor.row, animate=False, force=True, immediate=True)
        elif self.cursor.row >= top + height:
            self.scroll_to(y=self.cursor.row - height + 1, animate=False, force=True, immediate=True)
        self.refresh()

    # -- mouse: drag selects and copies on release; double click a word, triple click a line ---------

    def _point(self, x: int, y: int) -> Point:
        """The character under view cell (x, y); a drag out of the pane stops at its edges (a
        selection never crosses a border)."""
        row = min(max(self.scroll_offset.y + y, 0), max(self.rows_total - 1, 0))
        x = min(max(x, 0), max((self.size.width or self.pane_width) - 1, 0))
        return Point(row, self.cells(row).snap(x))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1:
            return
        event.stop()
        if self.drag is not None:
            return  # the rows of the drag or clicks that opened copy mode are not here yet
        if self.on_press is not None:
            self.on_press()
        self.cursor = self._point(event.x, event.y)
        self.mark, self.line_mode, self.dragging = None, False, True
        self.capture_mouse()
        self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.drag is not None:  # opened by this drag, its rows not here yet: where it is
            self.drag.at = (event.x, event.y)
        elif self.dragging:
            event.stop()
            point = self._point(event.x, event.y)
            if self.mark is None and point != self.cursor:
                self.mark = self.cursor
            self.cursor = point
            self.keep_cursor_in_sight()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self.drag is not None:
            self.drag.at, self.drag.released = (event.x, event.y), True
        if not self.dragging:
            return
        event.stop()
        point = self._point(event.x, event.y)  # where it was let go, if no move said so
        if self.mark is None and point != self.cursor:
            self.mark = self.cursor
        self.cursor = point
        self.dragging = False
        self.release_mouse()
        if self.mark is not None and self.on_drag_end is not None:
            self.on_drag_end()

    def on_click(self, event: events.Click) -> None:
        if self.drag is not None and event.chain >= 2:  # more clicks before the rows came
            event.stop()
            self.drag.start = self.drag.at = (event.x, event.y)
            self.drag.clicks, self.drag.released = min(event.chain, 3), True
        elif event.chain >= 2 and self.on_word is not None:
            event.stop()
            self.on_word(self._point(event.x, event.y), event.chain)

    # Textual's own wheel scrolling is prevented: it scrolled a few rows more after these five.
    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        event.prevent_default()
        self.scroll_to(y=self.scroll_y - WHEEL_LINES, animate=False, force=True, immediate=True)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        event.prevent_default()
        self.scroll_to(y=self.scroll_y + WHEEL_LINES, animate=False, force=True, immediate=True)
        self.scrolled_down()

    def scrolled_down(self) -> None:
        if self.on_bottom is not None and self.loaded and self.scroll_offset.y >= self.max_scroll_y:
            self.on_bottom()


def _overlay(strip: Strip, overlays: list[tuple[int, int, Style]], width: int) -> Strip:
    """`strip` with each overlay's style laid over its cells, later overlays on top."""
    if not overlays:
        return strip
    cuts = sorted({min(max(c, 0), width) for start, end, _ in overlays for c in (start, end)} | {width})
    pieces = strip.divide(cuts)
    out: list[Strip] = []
    left = 0
    for piece, right in zip(pieces, cuts, strict=False):
        style = None
        for start, end, over in overlays:
            if start <= left and right <= end and right > left:
                style = over if style is None else style + over
        out.append(Strip(Segment.apply_style(piece, post_style=style)) if style is not None else piece)
        left = right
    return Strip.join(out)


class CopyMode(Widget):
    """Copy mode over one pane (`prefix [`): `table`'s keys run the actions below. The app places
    it over the pane's rectangle and removes it when it posts `Closed`."""

    DEFAULT_CSS = """
    CopyMode { position: absolute; layer: copy; background: $background; }
    """

    @dataclass
    class Closed(Message):
        """Copy mode of `pane` ended (copied, or left): the app takes the widget away."""

        copy_mode: CopyMode

    @dataclass
    class PrefixKey(Message):
        """The prefix key, typed in copy mode: the next key is a command for the app, as in tmux."""

    def __init__(
        self,
        pane: int,
        table: KeyTable,
        fetch: Fetch,
        screen: list[list[Segment]],
        cursor: tuple[int, int],
        grep: Grep,
        copy: Copy,
        ask: Ask,
        *,
        screen_wrapped: set[int] | None = None,
        prefix: Key | None = None,
        jump: Jump | None = None,
        page_up: bool = False,
        drag: Drag | None = None,
        select_pane: Callable[[], None] | None = None,
        scroll_exit: bool = False,
    ) -> None:
        """`scroll_exit`: opened by the wheel, it ends when scrolled back to the bottom (tmux's
        copy-mode -e)."""
        super().__init__()
        self.pane = pane
        self.table = table
        self.prefix = prefix
        self.history = CopyView(fetch, screen, set(screen_wrapped or ()), id="copy")
        self.history.on_drag_end = self._drag_copied
        self.history.on_word = self._clicked_word
        self.history.on_press = select_pane
        self.history.on_bottom = self.action_cancel if scroll_exit else None
        self.history.drag = drag
        self.start_cursor = cursor
        self.grep = grep
        self.copy = copy
        self.ask = ask
        self.searching: Worker[None] | None = None  # a search asked for on the prompt, until done
        self.jump = jump
        self.page_up_at_open = page_up
        self.drag = drag  # opened by a drag on the pane: the selection follows the mouse
        self.closed = False
        self.click_copy: Timer | None = None  # the copy a double or triple click makes, due soon
        self.mounted = False
        self.wants_keys = False
        self.started = False  # its first rows are here and the cursor placed
        self.search_pattern = ""
        self.search_down = True
        self.search_origin: Point | None = None  # where an incremental search started
        self.incremental = False
        self.hits: list[int] = []  # view rows with a match of search_pattern (from the host)
        self.goal = 0  # the column up/down aim at (tmux's lastcx)
        self.goal_at: Point | None = None  # where the last up/down left the cursor
        self.count = 0  # a repeat count being typed (vi)

    def compose(self) -> ComposeResult:
        yield self.history

    def on_mount(self) -> None:
        self.mounted = True
        if self.wants_keys:
            self.take_keys()
        # Not awaited here: the first page travels while Textual lays the widget out.
        self.run_worker(self._load(), group="copy-load")

    def take_keys(self) -> None:
        """Its pane is the active one: keys come here; given as soon as the widget is mounted (a
        widget not mounted yet cannot take the focus)."""
        self.wants_keys = True
        if self.mounted:
            self.screen.set_focus(self.history, scroll_visible=False)  # now: Widget.focus() waits a turn

    async def _load(self) -> None:
        view = self.history
        try:
            await view.load(max(len(view.screen_rows), 1))  # the pane's height: a screenful
        except ScarabError as exc:  # the session ended or its host is away: say so, stay usable
            view.message = str(exc)
            view.refresh()
            return
        x, y = self.start_cursor
        row = view.history_rows + min(max(y, 0), max(len(view.screen_rows) - 1, 0))
        view.cursor = Point(row, view.cells(row).snap(max(x, 0)))
        self.started = True
        if self.jump is not None:
            self.search_pattern = self.jump.pattern
            await self._search(self.jump.pattern, True, Point(self.jump.row - view.oldest, -1))
        elif self.page_up_at_open:
            self.action_page_up()
        elif self.drag is not None:
            self._start_drag(self.drag)
        view.refresh()

    def follow(self, drag: Drag) -> None:
        """Another drag or clicks on the pane, begun before this widget lay over it."""
        if self.started:
            self._start_drag(drag)
        else:
            self.drag = self.history.drag = drag

    def _start_drag(self, drag: Drag) -> None:
        """The drag (or the clicks) that opened copy mode, on the rows now here: the selection from
        where it began to where the mouse is, copied when the button is (or was) let go."""
        view = self.history
        view.drag = None
        view.mark = view._point(*drag.start)
        if drag.clicks >= 2:
            self._clicked_word(view.mark, drag.clicks)
            return
        view.cursor = view._point(*drag.at)
        if drag.released:
            if view.cursor == view.mark:  # a click, not a drag: nothing selected
                self.action_cancel()
            else:
                self._drag_copied()
        else:
            view.dragging = True
            view.capture_mouse()

    # -- keys -------------------------------------------------------------------------------------------

    async def key(self, event: events.Key) -> None:
        """A key for copy mode (the app hands each one over and waits until it is done)."""
        event.stop()
        event.prevent_default()
        if self.searching is not None:
            # Typed after a search's Enter: they act after it, on where it went, as in tmux.
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await self.searching.wait()
            self.searching = None
        key = key_from_textual(event.key, event.character)
        if self.history.message:
            self.history.message = ""
            self.history.refresh()
        if key is None:
            return
        if key == self.prefix:
            self.count = 0
            self.post_message(self.PrefixKey())
            return
        if (
            self.table.name == "copy-mode-vi"
            and not key.mods
            and key.name.isdigit()
            and (key.name != "0" or self.count)
        ):
            self.count = min(self.count * 10 + int(key.name), MAX_COUNT)  # vi's repeat count: 5j
            return
        binding = self.table.lookup(key)
        count, self.count = max(self.count, 1), 0
        if binding is None:
            return
        for _ in range(count if binding.action in REPEATABLE else 1):
            # Awaited: keys act in the order typed, a search's jump before the next key's move.
            await self.run_action(binding.action)

    # -- cursor movement ----------------------------------------------------------------------------------

    def _move(self, row: int, col: int, keep_goal: bool = False) -> None:
        """The cursor to (row, col); up and down (`keep_goal`, with `_goal()`) stop at the end of a
        shorter line and remember where they left the cursor."""
        view = self.history
        row = min(max(row, 0), max(view.rows_total - 1, 0))
        cells = view.cells(row)
        if keep_goal:
            col = min(col, cells.starts[-1] if cells.starts else 0)
        view.cursor = Point(row, cells.snap(max(col, 0)))
        self.goal_at = view.cursor if keep_goal else None
        view.keep_cursor_in_sight()

    def _goal(self) -> int:
        """The column up and down aim at. As tmux's lastcx, it is the cursor's column whenever the
        cursor is not where the last up or down left it: however it got there (a motion, a search,
        a click, `o`), j then keeps that column; through a run of up and down it stays the column
        they started from, across shorter lines."""
        cursor = self.history.cursor
        if cursor != self.goal_at:
            self.goal = cursor.col
        return self.goal

    def action_cursor_left(self) -> None:
        cursor = self.history.cursor
        self._move(cursor.row, self.history.cells(cursor.row).previous_x(cursor.col))

    def action_cursor_right(self) -> None:
        cursor = self.history.cursor
        after = self.history.cells(cursor.row).next_x(cursor.col)
        if after < self.history.size.width:  # the pane's last column is as far as it goes
            self._move(cursor.row, after)

    def action_cursor_up(self) -> None:
        self._move(self.history.cursor.row - 1, self._goal(), keep_goal=True)

    def action_cursor_down(self) -> None:
        self._move(self.history.cursor.row + 1, self._goal(), keep_goal=True)

    def action_start_of_line(self) -> None:
        self._move(self.history.cursor.row, 0)

    def action_back_to_indentation(self) -> None:
        cells = self.history.cells(self.history.cursor.row)
        first = next((x for c, x in zip(cells.chars, cells.starts, strict=True) if not c.isspace()), 0)
        self._move(self.history.cursor.row, first)

    def action_end_of_line(self) -> None:
        self._move(self.history.cursor.row, self.history.cells(self.history.cursor.row).last_x())

    def action_history_top(self) -> None:
        self._move(0, 0)

    def action_history_bottom(self) -> None:
        view = self.history
        self._move(view.rows_total - 1, 0)
        view.scroll_to(y=view.max_scroll_y, animate=False, force=True, immediate=True)

    def _in_sight(self, fraction: float) -> None:
        view = self.history
        height = min(view.size.height, view.rows_total)
        self._move(view.scroll_offset.y + int((height - 1) * fraction), self._goal(), keep_goal=True)

    def action_top_line(self) -> None:
        self._in_sight(0)

    def action_middle_line(self) -> None:
        self._in_sight(0.5)

    def action_bottom_line(self) -> None:
        self._in_sight(1)

    def _scroll(self, rows: int) -> None:
        """Scroll the view by `rows`; the cursor keeps its place on the screen, as in tmux."""
        view = self.history
        before = view.scroll_offset.y
        view.scroll_to(y=before + rows, animate=False, force=True, immediate=True)
        moved = view.scroll_offset.y - before
        if moved == 0:  # at an end: the cursor goes the rest of the way
            moved = rows
        self._move(view.cursor.row + moved, self._goal(), keep_goal=True)
        if rows > 0:
            view.scrolled_down()

    def action_page_up(self) -> None:
        self._scroll(-max(self.history.size.height - 1, 1))

    def action_page_down(self) -> None:
        self._scroll(max(self.history.size.height - 1, 1))

    def action_halfpage_up(self) -> None:
        self._scroll(-max(self.history.size.height // 2, 1))

    def action_halfpage_down(self) -> None:
        self._scroll(max(self.history.size.height // 2, 1))

    # Word motions: the text is read as one stream, each line end a blank between the lines.

    def _next(self, point: Point) -> Point | None:
        cells = self.history.cells(point.row)
        if point.col < cells.width:
            return Point(point.row, cells.next_x(point.col))
        return Point(point.row + 1, 0) if point.row + 1 < self.history.rows_total else None

    def _previous(self, point: Point) -> Point | None:
        if point.col > 0:
            cells = self.history.cells(point.row)
            return Point(point.row, cells.previous_x(min(point.col, cells.width)))
        if point.row == 0:
            return None
        return Point(point.row - 1, self.history.cells(point.row - 1).width)

    def _word_start_forward(self, classify: Callable[[str], int]) -> None:
        view = self.history
        point: Point | None = view.cursor
        kind = classify(view.char_at(view.cursor))
        while point is not None and kind and classify(view.char_at(point)) == kind:
            point = self._next(point)
        while point is not None and classify(view.char_at(point)) == 0:
            point = self._next(point)
        if point is not None:
            self._move(*point)

    def _word_end_forward(self, classify: Callable[[str], int]) -> None:
        view = self.history
        point = self._next(view.cursor)
        while point is not None and classify(view.char_at(point)) == 0:
            point = self._next(point)
        if point is None:
            return
        kind = classify(view.char_at(point))
        while (after := self._next(point)) is not None and classify(view.char_at(after)) == kind:
            point = after
        self._move(*point)

    def _word_start_backward(self, classify: Callable[[str], int]) -> None:
        view = self.history
        point = self._previous(view.cursor)
        while point is not None and classify(view.char_at(point)) == 0:
            point = self._previous(point)
        if point is None:
            return
        kind = classify(view.char_at(point))
        while (before := self._previous(point)) is not None and classify(view.char_at(before)) == kind:
            point = before
        self._move(*point)

    def action_next_word(self) -> None:
        self._word_start_forward(_word_class)

    def action_next_space(self) -> None:
        self._word_start_forward(_space_class)

    def action_next_word_end(self) -> None:
        self._word_end_forward(_word_class)

    def action_next_space_end(self) -> None:
        self._word_end_forward(_space_class)

    def action_previous_word(self) -> None:
        self._word_start_backward(_word_class)

    def action_previous_space(self) -> None:
        self._word_start_backward(_space_class)

    # -- selection and copy --------------------------------------------------------------------------------

    def action_begin_selection(self) -> None:
        view = self.history
        view.mark, view.line_mode = view.cursor, False
        view.refresh()

    def action_select_line(self) -> None:
        view = self.history
        view.mark, view.line_mode = view.cursor, True
        view.refresh()

    def action_rectangle_toggle(self) -> None:
        self.history.rectangle = not self.history.rectangle
        self.history.refresh()

    def action_other_end(self) -> None:
        view = self.history
        if view.mark is not None:
            view.mark, view.cursor = view.cursor, view.mark
            view.keep_cursor_in_sight()

    def action_clear_selection(self) -> None:
        if self.history.mark is None:
            self.action_cancel()
            return
        self.history.mark = None
        self.history.refresh()

    async def action_copy_selection_and_cancel(self) -> None:
        view = self.history
        if view.mark is not None:
            await view.fetch_rows(view.selected_rows())
            text = view.selection_text(vi=self.table.name == "copy-mode-vi")
            try:
                await self.copy(text)
            except ScarabError as exc:
                view.message = str(exc)
                view.refresh()
                return
        self.action_cancel()

    def action_cancel(self) -> None:
        if not self.closed:
            self.closed = True
            self.post_message(self.Closed(self))

    def _drag_copied(self) -> None:
        self.run_worker(self.action_copy_selection_and_cancel(), group="copy-keys")

    def _clicked_word(self, point: Point, clicks: int) -> None:
        """Double click: the word there; triple click: the line. Copied, as tmux does."""
        view = self.history
        if clicks >= 3:
            view.mark, view.line_mode, view.cursor = point, True, point
        else:
            cells = view.cells(point.row)
            chars = cells.chars
            start = end = min(cells.index_at(point.col), max(len(chars) - 1, 0))
            kind = _word_class(chars[start]) if chars else 0
            while start > 0 and _word_class(chars[start - 1]) == kind:
                start -= 1
            while end + 1 < len(chars) and _word_class(chars[end + 1]) == kind:
                end += 1
            first, last = (cells.starts[start], cells.starts[end]) if chars else (0, 0)
            view.mark, view.line_mode, view.cursor = Point(point.row, first), False, Point(point.row, last)
        view.refresh()
        # Copied a moment later, as tmux does (`run -d0.3`): a third click makes it the line.
        if self.click_copy is not None:
            self.click_copy.stop()
        self.click_copy = self.set_timer(CLICK_COPY_DELAY, self._drag_copied)

    # -- search -------------------------------------------------------------------------------------------

    def _open_prompt(self, label: str, down: bool, incremental: bool) -> None:
        """tmux's search prompt, on the status line: `(search down)` or `(search up)`. vi's
        searches on Enter; emacs's as the pattern is typed, starting from the last pattern (tmux's
        -i -I "#{pane_search_string}"). Cancelled, the cursor goes back to where it was."""
        self.search_down, self.incremental = down, incremental
        self.search_origin = self.history.cursor
        answer = self.ask(
            f"({label})", self.search_pattern if incremental else "", self._typed if incremental else None
        )
        self.searching = self.run_worker(self._answered(answer), group="copy-search")

    async def _typed(self, pattern: str) -> None:
        if pattern and self.search_origin is not None:
            self.search_pattern = pattern
            await self._search(pattern, self.search_down, self.search_origin)

    async def _answered(self, answer: asyncio.Future[str | None]) -> None:
        pattern = await answer
        if pattern is None:
            if self.search_origin is not None:
                self.history.current = None
                self._move(*self.search_origin)
        elif pattern and not self.incremental:
            self.search_pattern = pattern
            await self._search(pattern, self.search_down, self.history.cursor)

    def action_search_forward(self) -> None:
        self._open_prompt("search down", True, incremental=False)

    def action_search_backward(self) -> None:
        self._open_prompt("search up", False, incremental=False)

    def action_search_forward_incremental(self) -> None:
        self._open_prompt("search down", True, incremental=True)

    def action_search_backward_incremental(self) -> None:
        self._open_prompt("search up", False, incremental=True)

    async def action_search_again(self) -> None:
        if self.search_pattern:
            await self._search(self.search_pattern, self.search_down, self.history.cursor, again=True)

    async def action_search_reverse(self) -> None:
        if self.search_pattern:
            await self._search(self.search_pattern, not self.search_down, self.history.cursor, again=True, flip=True)

    async def _search_word(self, down: bool) -> None:
        view = self.history
        cells = view.cells(view.cursor.row)
        chars = cells.chars
        index = cells.index_at(view.cursor.col)
        if index >= len(chars) or _word_class(chars[index]) != 2:
            return
        start, end = index, index
        while start > 0 and _word_class(chars[start - 1]) == 2:
            start -= 1
        while end + 1 < len(chars) and _word_class(chars[end + 1]) == 2:
            end += 1
        self.search_pattern, self.search_down = re.escape("".join(chars[start : end + 1])), down
        await self._search(self.search_pattern, down, view.cursor)

    async def action_search_forward_word(self) -> None:
        await self._search_word(True)

    async def action_search_backward_word(self) -> None:
        await self._search_word(False)

    async def _search(self, pattern: str, down: bool, origin: Point, again: bool = False, flip: bool = False) -> None:
        """Move to the next match of `pattern` after (`down`) or before `origin`, wrapping; every
        match in sight is highlighted, the current one differently. The host says which rows match."""
        view = self.history
        try:
            rx = compile_pattern(pattern)
            if not again or view.rx is None or view.rx.pattern != rx.pattern:
                self.hits = sorted({row - view.oldest for row in await self.grep(pattern)})
        except ScarabError as exc:
            view.rx, view.current, view.message = None, None, str(exc)
            view.refresh()
            return
        if not flip:
            self.search_down = down
        view.rx = rx
        hits = [row for row in self.hits if 0 <= row < view.rows_total]
        found = await self._next_match(rx, hits, origin, down)
        wrapped = False
        if found is None and hits:
            wrapped = True
            edge = Point(-1, 0) if down else Point(view.rows_total, 0)
            found = await self._next_match(rx, hits, edge, down)
        if found is None:
            view.current, view.message = None, "not found"
            view.refresh()
            return
        row, start, _end = found
        view.current = found
        view.message = "search wrapped" if wrapped else ""
        self._move(row, start)

    async def _next_match(
        self, rx: re.Pattern[str], hits: list[int], origin: Point, down: bool
    ) -> tuple[int, int, int] | None:
        view = self.history
        rows = [r for r in hits if r >= origin.row] if down else [r for r in reversed(hits) if r <= origin.row]
        for row in rows:
            await view.fetch_rows(range(row, row + 1))
            cells = view.cells(row)
            spans = [
                (cells.x_of_offset(m.start()), cells.x_of_offset(m.end()))
                for m in rx.finditer(view.row_text(row) or "")
                if m.end() > m.start()
            ]
            if row == origin.row:
                spans = [s for s in spans if (s[0] > origin.col if down else s[0] < origin.col)]
            if spans:
                start, end = spans[0] if down else spans[-1]
                return row, start, end
        return None
