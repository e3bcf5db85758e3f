"""TUI history layer: a view of a pane's history and screen, paging the history by stable row index.

The host numbers every row it pushes into history (0, 1, 2, ... for the session's life) and serves
ranges of them on request (`HistoryRequest` -> `History`, frame row encoding). The view asks only
for the rows it is about to show: opening it at any history size costs one page, and scrolling
fetches the page around what comes into sight. Rows are cached as segments per stable index, so
a row once fetched never travels again while the view is open. Copy mode (copymode.py) is this view
with a cursor, selection and search drawn over it.

The view is a snapshot, as tmux's copy mode is: the range of rows (`oldest` .. `total`) and the
screen below them are those of the moment it opened; output arriving meanwhile does not move it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rich.segment import Segment
from textual import events
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from scarab import protocol as p
from scarab.tui.styles import rich_style

__all__ = ["HistoryView", "decode_rows"]

Fetch = Callable[[int, int], Awaitable[p.History]]
PAGE = 200  # rows per request beyond the first screenful: a few screens, a few milliseconds


def decode_rows(lines: list[Any], styles: list[Any]) -> dict[int, list[Segment]]:
    """`[index, text, runs]` rows (Frame/History encoding) as segments per index."""
    table = [rich_style(int(s[0]), int(s[1]), int(s[2])) for s in styles]
    rows: dict[int, list[Segment]] = {}
    for index, text, runs in lines:
        segments = []
        pos = 0
        for count, style in runs:
            segments.append(Segment(text[pos : pos + count], table[style] if style < len(table) else None))
            pos += count
        rows[int(index)] = segments
    return rows


class HistoryView(ScrollView, can_focus=True):
    """History rows `oldest` .. `total - 1`, then the screen's rows, drawn with the line API."""

    DEFAULT_CSS = """
    HistoryView { height: 1fr; scrollbar-size-vertical: 0; scrollbar-size-horizontal: 0; background: $background; }
    """

    def __init__(self, fetch: Fetch, screen: list[list[Segment]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._fetch = fetch
        self.screen_rows = screen
        self.oldest = 0
        self.total = 0
        self.rows: dict[int, list[Segment]] = {}
        self.wrapped: set[int] = set()  # stable indexes of history rows that wrapped into the next
        self._wanted: tuple[int, int] | None = None  # the page asked for by the last render
        self._fetching = False
        self.loaded = False  # the first page arrived and the view is at the bottom: rows are drawn
        self._bottom_pending = False

    @property
    def history_rows(self) -> int:
        return self.total - self.oldest

    async def load(self, rows_to_show: int) -> None:
        """The first page: the newest rows, enough to fill the view; sets the range and scrolls
        to the bottom (the screen), as tmux's copy mode opens."""
        reply = await self._fetch(-max(rows_to_show, 1), max(rows_to_show, 1))
        self._take(reply)
        self.virtual_size = Size(self._width(), self.history_rows + len(self.screen_rows))
        # Scrolled once laid out (the view has no height before); rows are drawn from then on, so
        # the top page is never fetched on the way.
        self._bottom_pending = True
        if self.size.height:
            self._show_bottom()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self._width(), self.history_rows + len(self.screen_rows))
        if self._bottom_pending:
            self._show_bottom()

    def _show_bottom(self) -> None:
        self._bottom_pending = False
        self.scroll_to(y=max(0, self.virtual_size.height - self.size.height), animate=False, immediate=True, force=True)
        self.loaded = True
        self.refresh()

    def _width(self) -> int:
        # The view's own width: rows wider than it are cut, as on the screen, and no horizontal
        # scrollbar ever takes a row (nor a vertical one a column: the mode line is the guide).
        return self.size.width

    def _take(self, reply: p.History) -> None:
        if not self.loaded:
            self.oldest, self.total = reply.oldest, reply.total
        self.rows.update(decode_rows(reply.lines, reply.styles))
        if reply.wrapped:
            self.wrapped.update(reply.wrapped)

    def row_segments(self, y: int) -> list[Segment] | None:
        """Row `y` of the view (0 = oldest history row), or None while it is not fetched yet."""
        if y >= self.history_rows:
            screen_y = y - self.history_rows
            return self.screen_rows[screen_y] if screen_y < len(self.screen_rows) else []
        return self.rows.get(self.oldest + y)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        segments = self.row_segments(row) if self.loaded else []
        if segments is None:
            self._want(self.oldest + row)
            segments = []
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width)

    def _want(self, index: int) -> None:
        """Fetch the page around history row `index` (once; the newest request wins)."""
        height = max(self.size.height, 1)
        start = max(self.oldest, index - PAGE // 2 - height)
        self._wanted = (start, PAGE + 2 * height)
        if not self._fetching:
            self._fetching = True
            self.run_worker(self._fetch_wanted(), group="history", exclusive=False)

    async def _fetch_wanted(self) -> None:
        try:
            while self._wanted is not None:
                start, count = self._wanted
                self._wanted = None
                while count > 0:
                    reply = await self._fetch(start, min(count, p.MAX_HISTORY_ROWS))
                    self._take(reply)
                    if not reply.lines:
                        break
                    got = len(reply.lines)
                    start, count = reply.first + got, count - got
                self.refresh()
        finally:
            self._fetching = False

    def text(self) -> list[str]:
        """The rows fetched so far as plain text, oldest first, with None for missing ones (tests)."""
        out = []
        for y in range(self.history_rows + len(self.screen_rows)):
            segments = self.row_segments(y)
            out.append("".join(seg.text for seg in segments).rstrip() if segments is not None else "\0")
        return out
