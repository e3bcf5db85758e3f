"""TUI window layer (pure): what to draw of the attached session's current window, from `Layout`.

The client never computes geometry: the host's `Layout` says where every pane is and which cells are
border cells (runs, with tmux's highlight rule already applied). This layer only turns it into what
a view draws, as tmux 3.3a draws it: each visible pane's rectangle, each border cell's line
character with its joins (`screen-redraw.c`, screen_redraw_type_of_cell: which of a cell's four
neighbours are border cells, the window's own edge counting as one), the status bar's window list
(the default `window-status-format`), display-panes' numbers (`cmd-display-panes.c`), and which pane
or border lies under a cell. No Textual and no IO here: `scarab.tui.terminal` draws a `Scene`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from scarab import protocol as p

__all__ = [
    "Cell",
    "Piece",
    "Rect",
    "Scene",
    "line_char",
    "number_cells",
    "scene_of",
    "single_pane",
    "window_list",
]

# tmux's CELL_* line characters by the neighbours that are border cells: (left, right, up, down).
_JOINS: dict[tuple[bool, bool, bool, bool], str] = {
    (True, True, True, True): "┼",
    (True, True, True, False): "┴",
    (True, True, False, True): "┬",
    (True, True, False, False): "─",
    (True, False, True, True): "┤",
    (True, False, True, False): "┘",
    (True, False, False, True): "┐",
    (False, True, True, True): "├",
    (False, True, True, False): "└",
    (False, True, False, True): "┌",
    (False, False, True, True): "│",
}
OUTSIDE = "·"  # tmux's CELL_OUTSIDE: beyond the window, where this client is larger than it

# display-panes' digits: 5x5, each `#` a cell drawn in the pane's colour (tmux's clock font).
_DIGITS = (
    ("#####", "#...#", "#...#", "#...#", "#####"),
    ("....#", "....#", "....#", "....#", "....#"),
    ("#####", "....#", "#####", "#....", "#####"),
    ("#####", "....#", "#####", "....#", "#####"),
    ("#...#", "#...#", "#####", "....#", "....#"),
    ("#####", "#....", "#####", "....#", "#####"),
    ("#####", "#....", "#####", "#...#", "#####"),
    ("#####", "....#", "....#", "....#", "....#"),
    ("#####", "#...#", "#####", "#...#", "#####"),
    ("#####", "#...#", "#####", "....#", "#####"),
)


def line_char(left: bool, right: bool, up: bool, down: bool) -> str:
    """The line character of a border cell whose neighbours on those sides are border cells
    (a cell with fewer than two is outside the window, as in tmux)."""
    return _JOINS.get((left, right, up, down), OUTSIDE)


class Rect(NamedTuple):
    """A visible pane's place in the window, in cells."""

    pane: int
    x: int
    y: int
    width: int
    height: int

    def contains(self, x: int, y: int) -> bool:
        return self.x <= x < self.x + self.width and self.y <= y < self.y + self.height


class Cell(NamedTuple):
    """One border cell: its line character and whether it is lit as the active pane's border."""

    char: str
    active: bool


class Piece(NamedTuple):
    """A run of one window row: `width` cells of pane `pane`'s row `row`, or (pane -1) border text."""

    x: int
    width: int
    pane: int = -1
    row: int = 0
    text: str = ""
    active: bool = False


@dataclass(frozen=True, eq=False)
class Scene:
    """The current window as drawn: `cols` x `rows` cells of panes and borders, plus the cells of
    the window's own right and bottom edges (row `rows`, column `cols`: shown only where the view
    is larger than the window)."""

    cols: int
    rows: int
    panes: tuple[Rect, ...]  # the visible panes, in pane order
    active: int  # the active pane's id, -1 if none
    cells: Mapping[tuple[int, int], Cell] = field(default_factory=dict)
    windows: tuple[p.WindowInfo, ...] = ()
    window: p.WindowInfo | None = None  # the current window
    order: tuple[int, ...] = ()  # every pane of the current window in pane order (display-panes' numbers)
    _rows: dict[int, tuple[Piece, ...]] = field(default_factory=dict, repr=False)

    @property
    def zoomed(self) -> bool:
        return self.window is not None and "Z" in self.window.flags

    @property
    def synchronized(self) -> bool:
        return self.window is not None and self.window.synchronize

    def rect(self, pane: int) -> Rect | None:
        return next((r for r in self.panes if r.pane == pane), None)

    def pane_at(self, x: int, y: int) -> int | None:
        """The visible pane under window cell (x, y), if any."""
        return next((r.pane for r in self.panes if r.contains(x, y)), None)

    def on_border(self, x: int, y: int) -> bool:
        """Whether (x, y) is a border cell between panes (not the window's edge)."""
        return x < self.cols and y < self.rows and (x, y) in self.cells

    def row(self, y: int) -> tuple[Piece, ...]:
        """Window row `y` (0 <= y < rows) as runs left to right: pane rows, border text, blanks."""
        pieces = self._rows.get(y)
        if pieces is None:
            pieces = self._rows[y] = self._build_row(y)
        return pieces

    def edge_row(self) -> str:
        """Row `rows`: the window's bottom edge, with its joins and the corner (`cols` + 1 cells)."""
        return "".join(self.cells[(x, self.rows)].char for x in range(self.cols + 1))

    def edge_cell(self, y: int) -> str:
        """Column `cols` of row `y`: the window's right edge."""
        return self.cells[(self.cols, y)].char

    def _build_row(self, y: int) -> tuple[Piece, ...]:
        out: list[Piece] = []
        covered = sorted((r.x, r) for r in self.panes if r.y <= y < r.y + r.height)
        x = 0
        text, text_x, lit = "", 0, False

        def flush() -> None:
            nonlocal text
            if text:
                out.append(Piece(text_x, len(text), text=text, active=lit))
            text = ""

        panes = iter(covered)
        upcoming = next(panes, None)
        while x < self.cols:
            if upcoming is not None and upcoming[0] == x:
                flush()
                rect = upcoming[1]
                width = min(rect.width, self.cols - x)
                out.append(Piece(x, width, pane=rect.pane, row=y - rect.y))
                x += max(width, 1)
                upcoming = next(panes, None)
                continue
            cell = self.cells.get((x, y))
            char, active = (cell.char, cell.active) if cell is not None else (" ", False)
            if text and active != lit:
                flush()
            if not text:
                text_x, lit = x, active
            text += char
            x += 1
        flush()
        return tuple(out)


def _border_cells(borders: list[list[int]], cols: int, rows: int) -> dict[tuple[int, int], Cell]:
    lit: dict[tuple[int, int], bool] = {}
    for run in borders:
        x, y, length, vertical, active = (int(v) for v in run[:5])
        for i in range(max(0, length)):
            cx, cy = (x, y + i) if vertical else (x + i, y)
            if 0 <= cx < cols and 0 <= cy < rows:
                lit[(cx, cy)] = bool(active)
    # The window's right and bottom edges are border cells to their neighbours (tmux's
    # screen_redraw_cell_border), so a pane border meeting the edge of a larger client joins it.
    for y in range(rows + 1):
        lit.setdefault((cols, y), False)
    for x in range(cols):
        lit.setdefault((x, rows), False)

    def border(x: int, y: int) -> bool:
        return (x, y) in lit

    cells = {}
    for (x, y), active in lit.items():
        left = x == 0 or border(x - 1, y)
        right = border(x + 1, y)
        up = y == 0 or border(x, y - 1)
        down = border(x, y + 1)
        cells[(x, y)] = Cell(line_char(left, right, up, down), active)
    return cells


def scene_of(layout: p.Layout) -> Scene:
    """The current window of `layout` (the window flagged `*`), as drawn."""
    windows = tuple(layout.windows)
    window = next((w for w in windows if "*" in w.flags), windows[0] if windows else None)
    index = window.index if window is not None else None
    mine = [pane for pane in layout.panes if index is None or pane.window == index]
    rects = tuple(Rect(pane.id, pane.left, pane.top, pane.width, pane.height) for pane in mine if pane.visible)
    active = window.active_pane if window is not None else next((pane.id for pane in mine if pane.active), -1)
    return Scene(
        cols=layout.cols,
        rows=layout.rows,
        panes=rects,
        active=active,
        cells=_border_cells(layout.borders, layout.cols, layout.rows),
        windows=windows,
        window=window,
        order=tuple(pane.id for pane in mine),
    )


def single_pane(pane: int, cols: int, rows: int) -> Scene:
    """A session whose `Layout` has not arrived (yet): its one pane fills the window."""
    return Scene(cols, rows, (Rect(pane, 0, 0, cols, rows),), pane, _border_cells([], cols, rows), order=(pane,))


def window_list(windows: tuple[p.WindowInfo, ...]) -> list[tuple[str, bool]]:
    """The status bar's windows with tmux's default `window-status-format`
    (`#I:#W#{?window_flags,#{window_flags}, }`): `0:bash*`, `1:vim-`, `2:top `; and whether each is
    the current window."""
    return [(f"{w.index}:{w.name}{w.flags or ' '}", "*" in w.flags) for w in sorted(windows, key=lambda w: w.index)]


def number_cells(scene: Scene) -> dict[tuple[int, int], tuple[str, bool]]:
    """display-panes (prefix q): each visible pane's index in its centre, as tmux draws it: big
    5x5 digits when the pane has room, else the number in plain text; its size in its top right
    corner when it is taller than 6. Cells as (character, whether in the background colour),
    keyed by window cell; the colour is the active one for the active pane."""
    out: dict[tuple[int, int], tuple[str, bool]] = {}
    for rect in scene.panes:
        index = scene.order.index(rect.pane) if rect.pane in scene.order else 0
        number = str(index)
        cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
        if rect.width < len(number):
            continue
        letter = chr(ord("a") + index - 10) if 9 < index < 35 else ""
        if rect.width < len(number) * 6 or rect.height < 5:
            label = f"{number} {letter}" if letter and rect.width >= len(number) + 2 else number
            start = cx - len(number) // 2 if not letter else cx - (len(number) + 2) // 2
            for i, char in enumerate(label):
                out[(start + i, cy)] = (char, False)
            continue
        left, top = cx - len(number) * 3, cy - 2
        for digit in number:
            for j, line in enumerate(_DIGITS[int(digit)]):
                for i, mark in enumerate(line):
                    if mark == "#":
                        out[(left + i, top + j)] = (" ", True)
            left += 6
        if rect.height > 6:
            size = f"{rect.width}x{rect.height}"
            if rect.width >= len(size):
                for i, char in enumerate(size):
                    out[(rect.x + rect.width - len(size) + i, rect.y)] = (char, False)
            if letter:
                out[(cx + len(number) * 3 - 2, top + 5)] = (letter, False)
    return out
