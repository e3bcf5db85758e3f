"""TUI copy-mode layer: tmux's copy mode over one pane — move, search, select, copy.

A view over the pane's history and screen as they were when it opened (history.py pages the rows by
stable index, so output arriving meanwhile never moves it and only the rows in sight travel),
driven by tmux's key tables (`copy-mode-vi`, `copy-mode`; scarab.tui.bindings) whose command names
are this screen's actions. Its outward effects go through three callables the app gives it: fetch
history rows, grep the pane (search finds every matching row in the host, so a match 9,000 rows up
is found without downloading them), and copy text (paste buffer, outer clipboard).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Input, Static

from scarab.errors import ScarabError
from scarab.keys import key_from_textual
from scarab.search import compile_pattern
from scarab.tui.bindings import KeyTable
from scarab.tui.history import Fetch, HistoryView

__all__ = ["CopyModeScreen", "CopyView", "Jump", "Point"]

Grep = Callable[[str], Awaitable[list[int]]]  # pattern -> stable indexes of the rows that match
Copy = Callable[[str], Awaitable[None]]

# tmux's default styles: mode-style (selection, position), copy-mode-match-style, -current-match-style.
SELECTION = Style(color="black", bgcolor="yellow")
MATCH = Style(color="black", bgcolor="cyan")
CURRENT_MATCH = Style(color="black", bgcolor="magenta")
CURSOR = Style(reverse=True)
POSITION = Style(color="black", bgcolor="yellow")
# tmux's word-separators (3.3a): a word is a run of other characters, or a run of these.
WORD_SEPARATORS = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~")
WHEEL_LINES = 5  # tmux's scroll-up/-down by the wheel
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


def _word_class(char: str) -> int:
    return 0 if char.isspace() else 1 if char in WORD_SEPARATORS else 2


def _space_class(char: str) -> int:
    return 0 if char.isspace() else 2


class CopyView(HistoryView):
    """The rows with the cursor, selection, search matches and position drawn over them."""

    def __init__(self, fetch: Fetch, screen: list[list[Segment]], *, id: str | None = None) -> None:
        super().__init__(fetch, screen, id=id)
        self.cursor = Point(0, 0)
        self.mark: Point | None = None  # the selection's other end, while selecting
        self.line_mode = False
        self.rectangle = False
        self.rx: re.Pattern[str] | None = None  # matches highlighted
        self.current: tuple[int, int, int] | None = None  # (row, start, end) of the current match
        self.message = ""  # shown instead of the position until the next key
        self.dragging = False
        self.on_drag_end: Callable[[], None] | None = None
        self.on_word: Callable[[Point, int], None] | None = None

    @property
    def rows_total(self) -> int:
        return self.history_rows + len(self.screen_rows)

    def row_text(self, row: int) -> str | None:
        segments = self.row_segments(row) if 0 <= row < self.rows_total else []
        return None if segments is None else "".join(seg.text for seg in segments)

    def char_at(self, point: Point) -> str:
        text = self.row_text(point.row) or ""
        return text[point.col] if 0 <= point.col < len(text) else " "

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
        return (start.col if row == start.row else 0, end.col + 1 if row == end.row else max(self.size.width, 1))

    def selected_rows(self) -> range:
        if self.mark is None:
            return range(0)
        start, end = sorted((self.mark, self.cursor))
        return range(start.row, end.row + 1)

    def selection_text(self) -> str:
        """The selected text, each line without trailing blanks (as tmux copies)."""
        lines = []
        for row in self.selected_rows():
            span = self.selection_span(row)
            text = self.row_text(row) or ""
            if span is not None:
                lines.append(text[span[0] : span[1]].rstrip())
        return "\n".join(lines)

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
        if self.rx is not None and text:
            overlays += [(m.start(), m.end(), MATCH) for m in self.rx.finditer(text) if m.end() > m.start()]
        if self.current is not None and self.current[0] == row:
            overlays.append((self.current[1], self.current[2], CURRENT_MATCH))
        span = self.selection_span(row)
        if span is not None:
            overlays.append((span[0], span[1], SELECTION))
        if self.cursor.row == row:
            overlays.append((self.cursor.col, self.cursor.col + 1, CURSOR))
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

    def _point(self, event: events.MouseEvent) -> Point:
        return Point(min(self.scroll_offset.y + event.y, max(self.rows_total - 1, 0)), max(0, event.x))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if event.button != 1:
            return
        event.stop()
        self.cursor = self._point(event)
        self.mark, self.line_mode, self.dragging = None, False, True
        self.capture_mouse()
        self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.dragging:
            event.stop()
            point = self._point(event)
            if self.mark is None and point != self.cursor:
                self.mark = self.cursor
            self.cursor = point
            self.keep_cursor_in_sight()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if not self.dragging:
            return
        event.stop()
        self.dragging = False
        self.release_mouse()
        if self.mark is not None and self.on_drag_end is not None:
            self.on_drag_end()

    def on_click(self, event: events.Click) -> None:
        if event.chain >= 2 and self.on_word is not None:
            event.stop()
            self.on_word(self._point(event), event.chain)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_to(y=self.scroll_y - WHEEL_LINES, animate=False, force=True, immediate=True)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_to(y=self.scroll_y + WHEEL_LINES, animate=False, force=True, immediate=True)


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


class CopyModeScreen(ModalScreen[None]):
    """Copy mode over one pane (`prefix [`): `table`'s keys run the actions below."""

    DEFAULT_CSS = """
    CopyModeScreen { background: $background; }
    CopyModeScreen #prompt { dock: bottom; height: 1; display: none; }
    CopyModeScreen #prompt.open { display: block; }
    CopyModeScreen #prompt Static { width: auto; background: $warning; color: $background; }
    CopyModeScreen #prompt Input { border: none; height: 1; padding: 0; width: 1fr; }
    """

    def __init__(
        self,
        table: KeyTable,
        fetch: Fetch,
        screen: list[list[Segment]],
        cursor: tuple[int, int],
        grep: Grep,
        copy: Copy,
        jump: Jump | None = None,
        page_up: bool = False,
    ) -> None:
        super().__init__()
        self.table = table
        self.history = CopyView(fetch, screen, id="copy")
        self.history.on_drag_end = self._drag_copied
        self.history.on_word = self._clicked_word
        self.start_cursor = cursor
        self.grep = grep
        self.copy = copy
        self.jump = jump
        self.page_up_at_open = page_up
        self.search_pattern = ""
        self.search_down = True
        self.search_origin: Point | None = None  # where an incremental search started
        self.incremental = False
        self.hits: list[int] = []  # view rows with a match of search_pattern (from the host)
        self.goal = 0  # the column up/down aim at
        self.count = 0  # a repeat count being typed (vi)

    def compose(self) -> ComposeResult:
        yield self.history
        with Horizontal(id="prompt"):
            yield Static("", id="prompt-label")
            yield Input(id="prompt-input")

    def on_mount(self) -> None:
        self.history.focus()
        # Not awaited here: the first page travels while Textual lays the screen out.
        self.run_worker(self._load(), group="copy-load")

    async def _load(self) -> None:
        view = self.history
        try:
            await view.load(self.app.size.height)
        except ScarabError as exc:  # the session ended or its host is away: say so, stay usable
            view.message = str(exc)
            view.refresh()
            return
        x, y = self.start_cursor
        view.cursor = Point(view.history_rows + min(max(y, 0), max(len(view.screen_rows) - 1, 0)), max(x, 0))
        self.goal = view.cursor.col
        if self.jump is not None:
            self.search_pattern = self.jump.pattern
            await self._search(self.jump.pattern, True, Point(self.jump.row - view.oldest, -1))
        elif self.page_up_at_open:
            self.action_page_up()
        view.refresh()

    # -- keys -------------------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        if self.query_one("#prompt").has_class("open"):
            if event.key in ("escape", "ctrl+g"):
                event.stop()
                self._close_prompt(restore=True)
            return  # the prompt's Input takes it
        event.stop()
        event.prevent_default()
        key = key_from_textual(event.key, event.character)
        if self.history.message:
            self.history.message = ""
            self.history.refresh()
        if key is None:
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
        """The cursor to (row, col); up and down (`keep_goal`) aim at the column the cursor last
        moved to across, as tmux and vi do, stopping at the end of a shorter line."""
        view = self.history
        row = min(max(row, 0), max(view.rows_total - 1, 0))
        if keep_goal:
            text = view.row_text(row) or ""
            col = min(col, max(len(text) - 1, 0))
        else:
            self.goal = max(col, 0)
        view.cursor = Point(row, max(col, 0))
        view.keep_cursor_in_sight()

    def _goal(self) -> int:
        return self.goal

    def action_cursor_left(self) -> None:
        self._move(self.history.cursor.row, self.history.cursor.col - 1)

    def action_cursor_right(self) -> None:
        cursor = self.history.cursor
        self._move(cursor.row, min(cursor.col + 1, max(self.history.size.width - 1, 0)))

    def action_cursor_up(self) -> None:
        self._move(self.history.cursor.row - 1, self._goal(), keep_goal=True)

    def action_cursor_down(self) -> None:
        self._move(self.history.cursor.row + 1, self._goal(), keep_goal=True)

    def action_start_of_line(self) -> None:
        self._move(self.history.cursor.row, 0)

    def action_back_to_indentation(self) -> None:
        text = self.history.row_text(self.history.cursor.row) or ""
        self._move(self.history.cursor.row, len(text) - len(text.lstrip()) if text.strip() else 0)

    def action_end_of_line(self) -> None:
        text = (self.history.row_text(self.history.cursor.row) or "").rstrip()
        self._move(self.history.cursor.row, max(len(text) - 1, 0))

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
        length = len(self.history.row_text(point.row) or "")
        if point.col < length:
            return Point(point.row, point.col + 1)
        return Point(point.row + 1, 0) if point.row + 1 < self.history.rows_total else None

    def _previous(self, point: Point) -> Point | None:
        if point.col > 0:
            return Point(point.row, min(point.col - 1, len(self.history.row_text(point.row) or "")))
        if point.row == 0:
            return None
        return Point(point.row - 1, len(self.history.row_text(point.row - 1) or ""))

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
            text = view.selection_text()
            try:
                await self.copy(text)
            except ScarabError as exc:
                view.message = str(exc)
                view.refresh()
                return
        self.action_cancel()

    def action_cancel(self) -> None:
        if self.is_current:
            self.dismiss(None)

    def _drag_copied(self) -> None:
        self.run_worker(self.action_copy_selection_and_cancel(), group="copy-keys")

    def _clicked_word(self, point: Point, clicks: int) -> None:
        """Double click: the word there; triple click: the line. Copied, as tmux does."""
        view = self.history
        if clicks >= 3:
            view.mark, view.line_mode, view.cursor = point, True, point
        else:
            text = view.row_text(point.row) or ""
            kind = _word_class(view.char_at(point))
            start = end = min(point.col, max(len(text) - 1, 0))
            while start > 0 and _word_class(text[start - 1]) == kind:
                start -= 1
            while end + 1 < len(text) and _word_class(text[end + 1]) == kind:
                end += 1
            view.mark, view.line_mode, view.cursor = Point(point.row, start), False, Point(point.row, end)
        view.refresh()
        self._drag_copied()

    # -- search -------------------------------------------------------------------------------------------

    def _open_prompt(self, label: str, down: bool, incremental: bool) -> None:
        self.search_down, self.incremental = down, incremental
        self.search_origin = self.history.cursor
        self.query_one("#prompt-label", Static).update(f"({label}) ")
        prompt = self.query_one("#prompt-input", Input)
        prompt.value = ""
        self.query_one("#prompt").add_class("open")
        prompt.focus()

    def _close_prompt(self, restore: bool = False) -> None:
        self.query_one("#prompt").remove_class("open")
        self.history.focus()
        if restore and self.search_origin is not None:
            self.history.current = None
            self._move(*self.search_origin)

    def action_search_forward(self) -> None:
        self._open_prompt("search down", True, incremental=False)

    def action_search_backward(self) -> None:
        self._open_prompt("search up", False, incremental=False)

    def action_search_forward_incremental(self) -> None:
        self._open_prompt("search down", True, incremental=True)

    def action_search_backward_incremental(self) -> None:
        self._open_prompt("search up", False, incremental=True)

    async def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.incremental and event.value and self.search_origin is not None:
            self.search_pattern = event.value
            await self._search(event.value, self.search_down, self.search_origin)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_prompt()
        if event.value and not self.incremental:
            self.search_pattern = event.value
            await self._search(event.value, self.search_down, self.history.cursor)

    async def action_search_again(self) -> None:
        if self.search_pattern:
            await self._search(self.search_pattern, self.search_down, self.history.cursor, again=True)

    async def action_search_reverse(self) -> None:
        if self.search_pattern:
            await self._search(self.search_pattern, not self.search_down, self.history.cursor, again=True, flip=True)

    async def _search_word(self, down: bool) -> None:
        view = self.history
        text = view.row_text(view.cursor.row) or ""
        col = view.cursor.col
        if not 0 <= col < len(text) or _word_class(text[col]) != 2:
            return
        start, end = col, col
        while start > 0 and _word_class(text[start - 1]) == 2:
            start -= 1
        while end + 1 < len(text) and _word_class(text[end + 1]) == 2:
            end += 1
        self.search_pattern, self.search_down = re.escape(text[start : end + 1]), down
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
            spans = [(m.start(), m.end()) for m in rx.finditer(view.row_text(row) or "") if m.end() > m.start()]
            if row == origin.row:
                spans = [s for s in spans if (s[0] > origin.col if down else s[0] < origin.col)]
            if spans:
                start, end = spans[0] if down else spans[-1]
                return row, start, end
        return None
