"""Layout layer: the pure arithmetic of one window's pane tree. No IO, no other daemon module.

A window is an n-ary tree of cells, as in tmux: a left-right or a top-bottom container holds cells
side by side, a leaf holds one pane, and neighbours share a one-cell border. Every pane rectangle
comes from this tree; the session host owns one `Layout` per window and asks it for rectangles,
borders and the layout string after each operation. A `Layout` is a small mutable value owned by
exactly one caller: every operation checks its arguments before it changes anything, so a refused
operation (a `BadRequest` with a message for the user) leaves the layout as it was.

The arithmetic follows tmux 3.3a so that the same commands give the same geometry, cell for cell:
`layout.c` (split, close, resize-adjust, resize of the whole window, spread), `layout-set.c` (the
five presets and their cycling), `layout-custom.c` (the layout string with its checksum, parse and
print), and where the commands use them: `cmd-split-window.c` (-l/-p/-b/-f), `cmd-resize-pane.c`
(-L/-R/-U/-D, -x/-y, -Z), `cmd-select-pane.c` and `window.c` (neighbour by direction with wrap-around
and the most-recently-active tie-break, zoom, the pane list order, which pane becomes active),
`cmd-swap-pane.c`, `cmd-select-layout.c`, `resize.c` (window resize unzooms and re-zooms) and
`screen-redraw.c` (which border cells are highlighted for the active pane). tests/test_layout.py
compares the results with a real tmux server. Not modelled: `pane-border-status` lines (Scarab has
no pane status lines), so no cell is taken for them.

Where Scarab deliberately differs: a refused split or layout string leaves a zoomed window zoomed
(tmux unzooms before it finds the error); percentages over 100 and sizes over WINDOW_MAXIMUM are
refused rather than clamped; a layout string with an empty pane is refused; and three inputs on which
a tmux 3.3a server dies or spins forever get a sound result instead (see `split`, `_spread_fits`,
`_tiled`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from scarab.errors import BadRequest

__all__ = [
    "PANE_MINIMUM",
    "PRESETS",
    "WINDOW_MAXIMUM",
    "Axis",
    "Border",
    "Direction",
    "Layout",
    "Rect",
    "checksum",
]

PANE_MINIMUM = 1  # tmux.h: the smallest pane, in cells, in either direction
WINDOW_MAXIMUM = 10_000  # tmux.h: the largest window, in cells, in either direction
PRESETS = ("even-horizontal", "even-vertical", "main-horizontal", "main-vertical", "tiled")
_U32 = 1 << 32  # tmux does this arithmetic in u_int; where it can wrap, the wrap is part of the result


class Axis(Enum):
    """How a container arranges its cells: tmux's LAYOUT_LEFTRIGHT / LAYOUT_TOPBOTTOM."""

    LEFT_RIGHT = "{}"
    TOP_BOTTOM = "[]"


class Direction(Enum):
    LEFT = "L"
    RIGHT = "R"
    UP = "U"
    DOWN = "D"

    @property
    def axis(self) -> Axis:
        return Axis.LEFT_RIGHT if self in (Direction.LEFT, Direction.RIGHT) else Axis.TOP_BOTTOM


@dataclass(frozen=True, slots=True)
class Rect:
    """A pane's place in the window, in cells: tmux's pane_left, pane_top, pane_width, pane_height."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Border:
    """A straight run of border cells along which nothing changes: the panes it touches and whether it
    is drawn in the active pane's colour (tmux's rule, including its half-and-half split of the one
    border between exactly two panes)."""

    x: int
    y: int
    length: int
    vertical: bool
    panes: tuple[int, ...]
    active: bool


class _Cell:
    """One node of the tree: a container (`axis` set, `children`) or a leaf (`pane` set)."""

    __slots__ = ("axis", "children", "pane", "parent", "sx", "sy", "xoff", "yoff")

    def __init__(self, parent: _Cell | None, sx: int = 0, sy: int = 0) -> None:
        self.parent = parent
        self.axis: Axis | None = None
        self.children: list[_Cell] = []
        self.pane: int | None = None
        self.sx, self.sy, self.xoff, self.yoff = sx, sy, 0, 0

    def size(self, axis: Axis) -> int:
        return self.sx if axis is Axis.LEFT_RIGHT else self.sy

    def grow(self, axis: Axis, change: int) -> None:
        if axis is Axis.LEFT_RIGHT:
            self.sx += change
        else:
            self.sy += change

    def leaves(self) -> list[_Cell]:
        if self.axis is None:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    def clone(self, parent: _Cell | None = None) -> _Cell:
        cell = _Cell(parent, self.sx, self.sy)
        cell.axis, cell.pane, cell.xoff, cell.yoff = self.axis, self.pane, self.xoff, self.yoff
        cell.children = [child.clone(cell) for child in self.children]
        return cell

    def replace_in_parent(self, new: _Cell) -> None:
        assert self.parent is not None
        siblings = self.parent.children
        siblings[siblings.index(self)] = new
        new.parent = self.parent


# ---------------------------------------------------------------------------------------------- tree
# Free functions over cells, one per routine of tmux's layout.c; names say which.


def _fix_offsets(cell: _Cell) -> None:
    """layout_fix_offsets1: children placed one after another, one cell of border between."""
    offset = cell.xoff if cell.axis is Axis.LEFT_RIGHT else cell.yoff
    for child in cell.children:
        if cell.axis is Axis.LEFT_RIGHT:
            child.xoff, child.yoff = offset, cell.yoff
            offset += child.sx + 1
        else:
            child.xoff, child.yoff = cell.xoff, offset
            offset += child.sy + 1
        _fix_offsets(child)


def _resize_check(cell: _Cell, axis: Axis) -> int:
    """layout_resize_check: how much `cell` can give up along `axis` without a pane under the minimum."""
    if cell.axis is None:
        return max(cell.size(axis) - PANE_MINIMUM, 0)
    if cell.axis is axis:
        return sum(_resize_check(child, axis) for child in cell.children)
    return min(_resize_check(child, axis) for child in cell.children)


def _resize_adjust(cell: _Cell, axis: Axis, change: int) -> None:
    """layout_resize_adjust: grow or shrink a cell, spreading the change over its children one cell at
    a time, round robin from the first (the caller has bounded `change` to what is available)."""
    cell.grow(axis, change)
    if cell.axis is None:
        return
    if cell.axis is not axis:
        for child in cell.children:
            _resize_adjust(child, axis, change)
        return
    while change != 0:
        for child in cell.children:
            if change == 0:
                break
            if change > 0:
                _resize_adjust(child, axis, 1)
                change -= 1
            elif _resize_check(child, axis) > 0:
                _resize_adjust(child, axis, -1)
                change += 1


def _destroy_cell(cell: _Cell, root: _Cell) -> _Cell | None:
    """layout_destroy_cell: remove a cell, give its space (and its border) to the previous sibling, or
    to the next one if it was first; a container left with one child is replaced by that child.
    Returns the new root."""
    parent = cell.parent
    if parent is None:
        return None
    index = parent.children.index(cell)
    other = parent.children[1] if index == 0 else parent.children[index - 1]
    assert parent.axis is not None
    _resize_adjust(other, parent.axis, cell.size(parent.axis) + 1)
    del parent.children[index]
    if len(parent.children) == 1:
        only = parent.children[0]
        if parent.parent is None:
            only.parent = None
            only.xoff = only.yoff = 0
            return only
        parent.replace_in_parent(only)
    return root


def _new_pane_size(previous: int, cell: _Cell, axis: Axis, size: int, count_left: int, size_left: int) -> int:
    """layout_new_pane_size: a child's share of a container resized from `previous` to `size`."""
    if count_left == 1:
        return size_left
    available = _resize_check(cell, axis)
    minimum = (PANE_MINIMUM + 1) * (count_left - 1)
    own = cell.size(axis)
    minimum = max(minimum, own - available)
    new_size = (own * size) // previous
    maximum = (size_left - minimum) % _U32
    new_size = min(new_size, maximum)
    return max(new_size, PANE_MINIMUM)


def _set_size_check(cell: _Cell, axis: Axis, size: int) -> bool:
    """layout_set_size_check: could `cell` and everything in it be resized to `size` along `axis`?"""
    if cell.axis is None:
        return size >= PANE_MINIMUM
    available = size
    count = len(cell.children)
    if cell.axis is axis:
        if available < count * 2 - 1:
            return False
        previous = cell.size(axis)
        for index, child in enumerate(cell.children):
            new_size = _new_pane_size(previous, child, axis, size, count - index, available)
            if index == count - 1:
                if new_size > available:
                    return False
                available -= new_size
            else:
                if new_size + 1 > available:
                    return False
                available -= new_size + 1
            if not _set_size_check(child, axis, new_size):
                return False
        return True
    return all(child.axis is None or _set_size_check(child, axis, size) for child in cell.children)


def _resize_child_cells(cell: _Cell) -> None:
    """layout_resize_child_cells: fit the children into their container's (new) size, proportionally."""
    if cell.axis is None:
        return
    axis = cell.axis
    count = len(cell.children)
    previous = sum(child.size(axis) for child in cell.children) + count - 1
    available = cell.size(axis)
    for index, child in enumerate(cell.children):
        if axis is Axis.TOP_BOTTOM:
            child.sx, child.xoff = cell.sx, cell.xoff
            child.sy = _new_pane_size(previous, child, axis, cell.sy, count - index, available)
            available = (available - (child.sy + 1)) % _U32
        else:
            child.sx = _new_pane_size(previous, child, axis, cell.sx, count - index, available)
            available = (available - (child.sx + 1)) % _U32
            child.sy = cell.sy
        _resize_child_cells(child)


def _spread_cell(parent: _Cell) -> bool:
    """layout_spread_cell: make a container's children equal (the last takes what is left)."""
    number = len(parent.children)
    if number <= 1 or parent.axis is None:
        return False
    axis = parent.axis
    size = parent.size(axis)
    if size < number - 1:
        return False
    each = (size - (number - 1)) // number
    if each == 0 or not _spread_fits(parent):
        return False
    changed = False
    for index, child in enumerate(parent.children):
        if index == number - 1:
            each = size - (each + 1) * (number - 1)
        change = each - child.size(axis)
        _resize_adjust(child, axis, change)
        changed = changed or change != 0
    return changed


def _spread_fits(parent: _Cell) -> bool:
    """Whether every child of `parent` can take an equal share. tmux does not ask, and its server
    spins forever shrinking a child (a container of several panes) below what its panes need; here
    such a container is left as it is."""
    assert parent.axis is not None
    axis, number = parent.axis, len(parent.children)
    size = parent.size(axis)
    each = (size - (number - 1)) // number
    for index, child in enumerate(parent.children):
        share = size - (each + 1) * (number - 1) if index == number - 1 else each
        if child.size(axis) - share > _resize_check(child, axis):
            return False
    return True


def _leaf(parent: _Cell | None, pane: int, sx: int, sy: int) -> _Cell:
    cell = _Cell(parent, sx, sy)
    cell.pane = pane
    return cell


def _node(parent: _Cell | None, axis: Axis, sx: int, sy: int) -> _Cell:
    cell = _Cell(parent, sx, sy)
    cell.axis = axis
    return cell


# ---------------------------------------------------------------------------------------- the string


def checksum(body: str) -> int:
    """layout-custom.c's layout_checksum: a 16-bit rotate-and-add over the string's bytes."""
    csum = 0
    for byte in body.encode():
        csum = ((csum >> 1) + ((csum & 1) << 15) + byte) & 0xFFFF
    return csum


def _dump_cell(cell: _Cell) -> str:
    text = f"{cell.sx}x{cell.sy},{cell.xoff},{cell.yoff}"
    if cell.pane is not None:
        return f"{text},{cell.pane}"
    assert cell.axis is not None
    opening, closing = cell.axis.value[0], cell.axis.value[1]
    return text + opening + ",".join(_dump_cell(child) for child in cell.children) + closing


def _dump(root: _Cell) -> str:
    body = _dump_cell(root)
    return f"{checksum(body):04x},{body}"


_CELL = re.compile(r"(\d+)x(\d+),(\d+),(\d+)(?:,(\d+)(?!\d*x))?")
_MAX_LAYOUT = 65_536  # far more than any real window's string; a longer one is refused, not parsed


def _parse(text: str) -> _Cell:
    """layout_parse's syntax half: checksum, then the tree, with the pane id of each leaf if given.
    Raises ValueError; the caller words the error as tmux does."""
    if len(text) > _MAX_LAYOUT or not re.fullmatch(r"[0-9a-fA-F]{4},.*", text, re.DOTALL):
        raise ValueError
    body = text[5:]
    if int(text[:4], 16) != checksum(body):
        raise ValueError
    position = 0

    def construct(parent: _Cell | None, depth: int) -> _Cell:
        nonlocal position
        match = _CELL.match(body, position)
        if match is None or depth > 256:
            raise ValueError
        position = match.end()
        sx, sy, xoff, yoff = (int(group) for group in match.groups()[:4])
        cell = _Cell(parent, sx, sy)
        cell.xoff, cell.yoff = xoff, yoff
        if match.group(5) is not None:
            cell.pane = int(match.group(5))
        following = body[position : position + 1]
        if following in ("", ",", "}", "]"):
            if cell.pane is None:
                cell.pane = -1  # a leaf without an id (older tmux): filled in by the caller
            return cell
        axis = {"{": Axis.LEFT_RIGHT, "[": Axis.TOP_BOTTOM}.get(following)
        if axis is None:
            raise ValueError
        cell.axis, cell.pane = axis, None
        while True:
            position += 1
            cell.children.append(construct(cell, depth + 1))
            if body[position : position + 1] != ",":
                break
        if body[position : position + 1] != axis.value[1]:
            raise ValueError
        position += 1
        return cell

    root = construct(None, 0)
    if position != len(body):
        raise ValueError
    return root


def _check(cell: _Cell) -> bool:
    """layout_check: every container's children exactly fill it, borders included."""
    if cell.axis is None:
        return True
    if cell.axis is Axis.LEFT_RIGHT:
        if any(child.sy != cell.sy for child in cell.children):
            return False
        return all(_check(c) for c in cell.children) and sum(c.sx + 1 for c in cell.children) - 1 == cell.sx
    if any(child.sx != cell.sx for child in cell.children):
        return False
    return all(_check(c) for c in cell.children) and sum(c.sy + 1 for c in cell.children) - 1 == cell.sy


def _percentage(value: str, limit: int, fallback: int) -> int:
    """args_string_percentage for the main-pane options: a number of cells or `N%` of `limit`; a value
    out of range falls back as tmux's preset code does."""
    if value.endswith("%"):
        digits = value[:-1]
        if not digits.isdigit() or int(digits) > 100:
            return fallback
        return limit * int(digits) // 100
    if not value.isdigit() or int(value) > limit:
        return fallback
    return int(value)


# ------------------------------------------------------------------------------------------- windows


class Layout:
    """One window's panes: their tree, their order, which is active and last, and zoom.

    Pane ids are the caller's (the host numbers panes like tmux's `%N`). `panes` is tmux's pane list
    order: it decides pane numbers, `next`, the presets' order and how a layout string is assigned.
    `size` is the window's size; it can exceed `target` (the size the clients asked for) when the
    panes cannot shrink that far, as tmux's window can.
    """

    def __init__(
        self,
        pane: int,
        cols: int,
        rows: int,
        *,
        main_pane_width: str = "80",
        main_pane_height: str = "24",
        other_pane_width: str = "0",
        other_pane_height: str = "0",
    ) -> None:
        cols, rows = _window_size(cols, rows)
        self._root = _leaf(None, pane, cols, rows)
        self._saved: _Cell | None = None  # the unzoomed tree while zoomed
        self._panes = [pane]
        self._active = pane
        self._last: int | None = None
        self._points = {pane: 1}  # tmux's active_point: higher = more recently active
        self._clock = 1
        self._preset = -1  # tmux's w->lastlayout
        self._size = (cols, rows)
        self._target = (cols, rows)
        self.options = {
            "main-pane-width": main_pane_width,
            "main-pane-height": main_pane_height,
            "other-pane-width": other_pane_width,
            "other-pane-height": other_pane_height,
        }

    # ---- reading

    @property
    def panes(self) -> tuple[int, ...]:
        return tuple(self._panes)

    @property
    def active(self) -> int:
        return self._active

    @property
    def last(self) -> int | None:
        return self._last

    @property
    def zoomed(self) -> bool:
        return self._saved is not None

    @property
    def size(self) -> tuple[int, int]:
        """The window's (cols, rows)."""
        return self._size

    @property
    def target(self) -> tuple[int, int]:
        """The (cols, rows) the clients asked for; `size` exceeds it while the panes cannot shrink that far."""
        return self._target

    def copy(self) -> Layout:
        other = Layout.__new__(Layout)
        other.__dict__.update(self.__dict__)
        other._root = self._root.clone()
        other._saved = self._saved.clone() if self._saved is not None else None
        other._panes = list(self._panes)
        other._points = dict(self._points)
        other.options = dict(self.options)
        return other

    def rects(self) -> dict[int, Rect]:
        """Every pane's rectangle, as tmux's list-panes reports it (while zoomed, the hidden panes keep
        their place in the unzoomed tree)."""
        out: dict[int, Rect] = {}
        for tree in (self._saved, self._root):
            for leaf in tree.leaves() if tree is not None else ():
                assert leaf.pane is not None
                out[leaf.pane] = Rect(leaf.xoff, leaf.yoff, leaf.sx, leaf.sy)
        return {pane: out[pane] for pane in self._panes}

    def visible(self) -> dict[int, Rect]:
        """The rectangles drawn on screen: all panes, or only the zoomed one."""
        if self._saved is not None:
            return {self._active: Rect(0, 0, self._root.sx, self._root.sy)}
        return self.rects()

    def to_string(self) -> str:
        """tmux's #{window_layout}: the unzoomed tree, with checksum."""
        return _dump(self._saved if self._saved is not None else self._root)

    def visible_string(self) -> str:
        """tmux's #{window_visible_layout}: the tree as shown (one cell while zoomed)."""
        return _dump(self._root)

    def index(self, pane: int) -> int:
        """The pane's number in the window (tmux's pane_index with pane-base-index 0)."""
        self._require(pane)
        return self._panes.index(pane)

    def pane_at(self, x: int, y: int) -> int | None:
        """window_get_active_at: the visible pane under a cell (a pane's right and bottom borders count
        as its own, as for tmux's mouse)."""
        for pane, rect in self.visible().items():
            if rect.x <= x <= rect.x + rect.width and rect.y <= y <= rect.y + rect.height:
                return pane
        return None

    def neighbour(self, pane: int, direction: Direction) -> int | None:
        """window_pane_find_*: the pane beside `pane` in `direction`, on the unzoomed tree, wrapping
        around the window's edge; of several candidates the most recently active, then the first."""
        self._require(pane)
        rects = self._tree_rects()
        me = rects[pane]
        cols, rows = self._size
        best: int | None = None
        for other in self._panes:
            if other == pane:
                continue
            rect = rects[other]
            if direction in (Direction.LEFT, Direction.RIGHT):
                if direction is Direction.LEFT:
                    edge = me.x if me.x != 0 else cols + 1
                    touching = rect.x + rect.width + 1 == edge
                else:
                    edge = me.x + me.width + 1
                    touching = rect.x == (0 if edge >= cols else edge)
                low, high, start, end = me.y, me.y + me.height, rect.y, rect.y + rect.height - 1
            else:
                if direction is Direction.UP:
                    edge = me.y if me.y != 0 else rows + 1
                    touching = rect.y + rect.height + 1 == edge
                else:
                    edge = me.y + me.height + 1
                    touching = rect.y == (0 if edge >= rows else edge)
                low, high, start, end = me.x, me.x + me.width, rect.x, rect.x + rect.width - 1
            if not touching:
                continue
            if not ((start < low and end > high) or low <= start <= high or low <= end <= high):
                continue
            if best is None or self._points.get(other, 0) > self._points.get(best, 0):
                best = other
        return best

    def borders(self) -> tuple[Border, ...]:
        """The border cells to draw, in runs along which the touching panes and the highlight do not
        change. Computed on the visible tree (a zoomed window has no borders)."""
        if self._saved is not None:
            return ()
        rects = self.rects()
        lines: list[tuple[bool, int, int, int]] = []  # (vertical, fixed coordinate, start, length)

        def walk(cell: _Cell) -> None:
            for child in cell.children[:-1]:
                if cell.axis is Axis.LEFT_RIGHT:
                    lines.append((True, child.xoff + child.sx, cell.yoff, cell.sy))
                else:
                    lines.append((False, child.yoff + child.sy, cell.xoff, cell.sx))
            for child in cell.children:
                walk(child)

        walk(self._root)
        out: list[Border] = []
        for vertical, fixed, start, length in sorted(lines):
            run: tuple[tuple[int, ...], bool] | None = None
            run_start = start
            for along in range(start, start + length + 1):
                if along < start + length:
                    x, y = (fixed, along) if vertical else (along, fixed)
                    key: tuple[tuple[int, ...], bool] | None = (
                        tuple(p for p in self._panes if _on_frame(rects[p], x, y)),
                        self._active_border(rects, x, y),
                    )
                else:
                    key = None
                if key != run:
                    if run is not None:
                        bx, by = (fixed, run_start) if vertical else (run_start, fixed)
                        out.append(Border(bx, by, along - run_start, vertical, run[0], run[1]))
                    run, run_start = key, along
        return tuple(out)

    def _active_border(self, rects: dict[int, Rect], x: int, y: int) -> bool:
        """screen_redraw_pane_border for the active pane, with tmux 3.3a's default
        pane-border-indicators=colour: when the window has exactly two panes and the second in pane
        order is right of (below) the first, only the active pane's half of that border is lit."""
        me = rects[self._active]
        if me.x <= x < me.x + me.width and me.y <= y < me.y + me.height:
            return False
        second = rects[self._panes[1]] if len(self._panes) == 2 else None
        right, bottom = me.x + me.width, me.y + me.height
        if second is not None and second.x != 0:
            if me.x == 0 and x == me.width and y <= me.height // 2:
                return True
            if me.x != 0 and x == me.x - 1 and y > me.height // 2:
                return True
        elif (me.y == 0 or y >= me.y - 1) and y <= bottom and ((me.x != 0 and x == me.x - 1) or x == right):
            return True
        if second is not None and second.y != 0:
            if me.y == 0 and y == me.height and x <= me.width // 2:
                return True
            return me.y != 0 and y == me.y - 1 and x > me.width // 2
        return (me.x == 0 or x >= me.x - 1) and x <= right and ((me.y != 0 and y == me.y - 1) or y == bottom)

    # ---- changing

    def resize(self, cols: int, rows: int) -> None:
        """resize.c's resize_window: the clients' size changed. The panes grow or shrink in proportion
        (none below the minimum: then the window stays larger than asked); a zoom is kept."""
        cols, rows = _window_size(cols, rows)
        self._target = (cols, rows)
        self._apply_target()

    def split(
        self,
        pane: int,
        axis: Axis,
        new_pane: int,
        *,
        size: int | None = None,
        percent: int | None = None,
        before: bool = False,
        full: bool = False,
        detached: bool = False,
    ) -> None:
        """split-window: `axis` LEFT_RIGHT is `-h`. `size` (-l, cells) or `percent` (-p / -l N%, of the
        pane, or of the window with `full`, -f) is the new pane's size, clamped as tmux does; `before`
        (-b) puts the new pane left/above. The new pane becomes active unless `detached` (-d)."""
        self._require(pane)
        if new_pane in self._panes:
            raise BadRequest(f"pane {new_pane} is already in this window")
        if size is not None and percent is not None:
            raise BadRequest("give a size in cells or a percentage, not both")
        if size is not None and not 0 <= size <= WINDOW_MAXIMUM:
            raise BadRequest(f"bad size {size}: give a number of cells from 0 to {WINDOW_MAXIMUM}")
        if percent is not None and not 0 <= percent <= 100:
            raise BadRequest(f"bad percentage {percent}: give 0 to 100")
        if percent is not None:
            # As tmux, a percentage of the pane as it is now: all of the window if it is zoomed.
            rect = self.rects()[pane]
            basis = self._size if full else (rect.width, rect.height)
            size = (basis[0] if axis is Axis.LEFT_RIGHT else basis[1]) * percent // 100
        # Split a copy and keep it only if it worked, so that a refused split changes nothing.
        trial = self.copy()
        trial._unzoom()
        if not trial._split_tree(pane, axis, new_pane, -1 if size is None else size, before, full):
            raise BadRequest("no space for new pane")
        if full and not _sound(trial._root, self._size):
            # tmux's check before a full-size split can pass where squeezing nested cells then wraps
            # around in unsigned arithmetic (its server dies on the result): refuse instead.
            raise BadRequest("no space for new pane")
        self.__dict__.update(trial.__dict__)
        if full:
            self._panes.insert(0 if before else len(self._panes), new_pane)
        else:
            self._panes.insert(self._panes.index(pane) + (0 if before else 1), new_pane)
        self._points[new_pane] = 0
        if not detached:
            self._set_active(new_pane)

    def close(self, pane: int) -> None:
        """kill-pane (or the pane's program exiting): its space goes to the previous sibling (the next
        if it was first); the last active pane becomes active. The last pane of a window cannot be
        closed here: that closes the window, which is the caller's business."""
        self._require(pane)
        if len(self._panes) == 1:
            raise BadRequest("cannot close the last pane of a window; close the window instead")
        self._unzoom()
        leaf = self._leaf(pane)
        root = _destroy_cell(leaf, self._root)
        assert root is not None
        self._root = root
        _fix_offsets(self._root)
        index = self._panes.index(pane)
        if pane == self._active:
            successor = self._last
            if successor is None:
                successor = self._panes[index - 1] if index > 0 else self._panes[index + 1]
            self._active, self._last = successor, None
        elif pane == self._last:
            self._last = None
        del self._panes[index]
        del self._points[pane]

    def resize_pane(self, pane: int, direction: Direction, amount: int = 1) -> None:
        """resize-pane -L/-R/-U/-D N: move the border on that side of the pane (or the one of the
        nearest enclosing container that has such a border), taking space from further neighbours
        when the nearest cannot give it, as tmux's layout_resize_pane does. Unzooms."""
        self._require(pane)
        if not 1 <= amount <= WINDOW_MAXIMUM:
            raise BadRequest(f"bad adjustment {amount}: give a number of cells from 1 to {WINDOW_MAXIMUM}")
        self._unzoom()
        change = amount if direction in (Direction.RIGHT, Direction.DOWN) else -amount
        self._resize_pane(pane, direction.axis, change)

    def resize_pane_to(self, pane: int, *, width: int | None = None, height: int | None = None) -> None:
        """resize-pane -x/-y: make the pane (or its enclosing cell along that axis) that size, as far
        as its neighbours allow. Unzooms."""
        self._require(pane)
        for value in (width, height):
            if value is not None and not 0 <= value <= WINDOW_MAXIMUM:
                raise BadRequest(f"bad size {value}: give a number of cells from 0 to {WINDOW_MAXIMUM}")
        self._unzoom()
        for axis, value in ((Axis.LEFT_RIGHT, width), (Axis.TOP_BOTTOM, height)):
            if value is None:
                continue
            cell, parent = self._enclosing(pane, axis)
            if parent is None:
                continue
            current = cell.size(axis)
            change = current - value if cell is parent.children[-1] else value - current
            self._resize_pane(pane, axis, change)

    def drag_border(self, x: int, y: int, to_x: int, to_y: int) -> bool:
        """The mouse drags the border under (x, y) to (to_x, to_y) (cmd-resize-pane.c's mouse update):
        the borders at and next to that cell move by the difference. Returns whether anything moved."""
        if self._saved is not None:
            return False
        cells: list[_Cell] = []
        for dx, dy in ((0, 0), (0, 1), (1, 0), (0, -1), (-1, 0)):
            found = _search_by_border(self._root, x + dx, y + dy)
            if found is not None and all(found is not seen for seen in cells):
                cells.append(found)
        moved = False
        for cell in cells:
            assert cell.parent is not None and cell.parent.axis is not None
            axis = cell.parent.axis
            if to_y != y and axis is Axis.TOP_BOTTOM:
                self._resize_layout(cell, axis, to_y - y, opposite=False)
                moved = True
            elif to_x != x and axis is Axis.LEFT_RIGHT:
                self._resize_layout(cell, axis, to_x - x, opposite=False)
                moved = True
        return moved

    def select(self, pane: int, *, keep_zoom: bool = False) -> None:
        """select-pane -t: make `pane` active. Selecting another pane unzooms, unless `keep_zoom` (-Z),
        which zooms the newly selected pane instead."""
        self._require(pane)
        if pane == self._active:
            return
        was_zoomed = self._saved is not None
        self._unzoom()
        self._set_active(pane)
        if was_zoomed and keep_zoom:
            self._zoom(pane)

    def select_direction(self, direction: Direction, *, keep_zoom: bool = False) -> int | None:
        """select-pane -L/-R/-U/-D: the neighbour of the active pane becomes active; none, no change."""
        found = self.neighbour(self._active, direction)
        if found is not None:
            self.select(found, keep_zoom=keep_zoom)
        return found

    def select_next(self, step: int = 1) -> int:
        """select-pane -t :.+ (prefix o): the next pane in pane order, wrapping; negative steps back."""
        index = self._panes.index(self._active)
        pane = self._panes[(index + step) % len(self._panes)]
        self.select(pane)
        return pane

    def select_last(self) -> int:
        """last-pane (prefix ;): the previously active pane; with two panes and none known, the other."""
        pane = self._last
        if pane is None and len(self._panes) == 2:
            pane = next(p for p in self._panes if p != self._active)
        if pane is None:
            raise BadRequest("no last pane")
        self.select(pane)
        return pane

    def swap(self, pane: int, other: int, *, detached: bool = False) -> None:
        """swap-pane -s OTHER -t PANE: the two exchange places in the tree and in pane order; `pane`
        stays (or becomes) active unless `detached` (-d). Unzooms."""
        self._require(pane)
        self._require(other)
        self._unzoom()
        if pane == other:
            return
        first, second = self._leaf(pane), self._leaf(other)
        first.pane, second.pane = other, pane
        i, j = self._panes.index(pane), self._panes.index(other)
        self._panes[i], self._panes[j] = other, pane
        if not detached:
            self._set_active(pane)
            return
        # tmux's two checks, one after the other, as cmd-swap-pane.c makes them for one window.
        if self._active == other:
            self._set_active(pane)
        if self._active == pane:
            self._set_active(other)

    def swap_next(self, *, previous: bool = False, detached: bool = False) -> None:
        """swap-pane -D (prefix }) or -U (prefix {): swap the active pane with the next/previous."""
        index = self._panes.index(self._active)
        other = self._panes[(index + (-1 if previous else 1)) % len(self._panes)]
        self.swap(self._active, other, detached=detached)

    def toggle_zoom(self, pane: int | None = None) -> bool:
        """resize-pane -Z (prefix z): zoom `pane` (default: the active one) to fill the window, or
        unzoom. A window of one pane does not zoom. Returns whether the window is now zoomed."""
        if self._saved is not None:
            self._unzoom()
            return False
        pane = self._active if pane is None else pane
        self._require(pane)
        self._zoom(pane)
        return self._saved is not None

    def unzoom(self) -> None:
        self._unzoom()

    def select_preset(self, name: str) -> str:
        """select-layout NAME: one of PRESETS, or an unambiguous prefix of one. Returns the full name."""
        matches = [i for i, preset in enumerate(PRESETS) if preset.startswith(name)]
        if len(matches) != 1:
            raise BadRequest(f"unknown layout {name!r}: use one of {', '.join(PRESETS)} or a layout string")
        self._arrange(matches[0])
        return PRESETS[matches[0]]

    def next_preset(self, *, previous: bool = False) -> str:
        """next-layout (prefix Space) / previous-layout: cycle through PRESETS."""
        count = len(PRESETS)
        if previous:
            index = count - 1 if self._preset <= 0 else self._preset - 1
        else:
            index = 0 if self._preset in (-1, count - 1) else self._preset + 1
        self._arrange(index)
        return PRESETS[index]

    def spread(self) -> None:
        """select-layout -E: spread the active pane's container (or the nearest enclosing one that is
        not already even) evenly."""
        self._unzoom()
        parent = self._leaf(self._active).parent
        while parent is not None:
            if _spread_cell(parent):
                _fix_offsets(self._root)
                break
            parent = parent.parent
        self._fit()

    def select_layout(self, text: str) -> None:
        """select-layout LAYOUT-STRING: take the tree from a string (as #{window_layout} prints it);
        the panes fill its cells in pane order, as in tmux. Extra cells are dropped from the bottom
        right; then the tree is fitted to the window's size."""
        try:
            parsed = _parse(text)
        except ValueError:
            raise BadRequest(f"invalid layout: {text}") from None
        leaves = parsed.leaves()
        if len(self._panes) > len(leaves):
            raise BadRequest(f"have {len(self._panes)} panes but need {len(leaves)}: {text}")
        root: _Cell | None = parsed
        while len(leaves) > len(self._panes):
            assert root is not None
            root = _destroy_cell(_bottom_right(root), root)
            leaves = root.leaves() if root is not None else []
        assert root is not None
        if not _fit_top(root):
            raise BadRequest(f"size mismatch after applying layout: {text}")
        for leaf, pane in zip(root.leaves(), self._panes, strict=True):
            leaf.pane = pane
        self._unzoom()
        self._install(root)

    @classmethod
    def from_string(cls, text: str, *, cols: int | None = None, rows: int | None = None) -> Layout:
        """A window restored from its stored layout string, pane ids included; pane order is the
        tree's order and the first pane is active. Fitted to cols x rows if given."""
        try:
            root = _parse(text)
        except ValueError:
            raise BadRequest(f"invalid layout: {text}") from None
        panes = [leaf.pane for leaf in root.leaves()]
        if any(pane is None or pane < 0 for pane in panes) or len(set(panes)) != len(panes):
            raise BadRequest(f"a stored layout needs a distinct pane id in every cell: {text}")
        if not _fit_top(root):
            raise BadRequest(f"size mismatch after applying layout: {text}")
        ids = [pane for pane in panes if pane is not None]
        layout = cls(ids[0], *_window_size(root.sx, root.sy))
        layout._panes = ids
        layout._points = dict.fromkeys(ids, 0)
        layout._points[ids[0]] = 1
        layout._root = root
        _fix_offsets(root)
        layout._size = layout._target = (root.sx, root.sy)
        if cols is not None and rows is not None:
            layout.resize(cols, rows)
        return layout

    # ---- internals

    def _require(self, pane: int) -> None:
        if pane not in self._points:
            raise BadRequest(f"no pane {pane} in this window")

    def _tree_rects(self) -> dict[int, Rect]:
        """Every pane's rectangle in the unzoomed tree."""
        tree = self._saved if self._saved is not None else self._root
        return {
            leaf.pane: Rect(leaf.xoff, leaf.yoff, leaf.sx, leaf.sy) for leaf in tree.leaves() if leaf.pane is not None
        }

    def _leaf(self, pane: int) -> _Cell:
        return next(leaf for leaf in self._root.leaves() if leaf.pane == pane)

    def _set_active(self, pane: int) -> None:
        if pane == self._active:
            return
        self._last, self._active = self._active, pane
        self._clock += 1
        self._points[pane] = self._clock

    def _zoom(self, pane: int) -> None:
        """window_zoom: the pane gets a one-cell tree of the window's size; the real tree is kept."""
        if self._saved is not None or len(self._panes) == 1:
            return
        self._set_active(pane)
        self._saved = self._root
        self._root = _leaf(None, pane, *self._size)

    def _unzoom(self) -> None:
        if self._saved is not None:
            self._root, self._saved = self._saved, None

    def _apply_target(self) -> None:
        """resize_window to the target size: unzoom, fit the tree, the window no smaller than the tree,
        zoom again."""
        zoomed = self._saved is not None
        self._unzoom()
        cols, rows = self._target
        _layout_resize(self._root, cols, rows)
        self._size = (max(cols, self._root.sx), max(rows, self._root.sy))
        if zoomed:
            self._zoom(self._active)

    def _install(self, root: _Cell) -> None:
        """A preset or a parsed string replaces the tree: tmux sets the window to the tree's size, then
        fits it back to what the clients asked for."""
        root.parent = None
        root.xoff = root.yoff = 0
        self._root = root
        _fix_offsets(root)
        self._size = (root.sx, root.sy)
        self._fit()

    def _fit(self) -> None:
        """tmux's recalculate_sizes after select-layout: a window the panes made larger than the
        clients' size (or a tree of another size) is fitted back to it."""
        if self._size != self._target:
            self._apply_target()

    def _enclosing(self, pane: int, axis: Axis) -> tuple[_Cell, _Cell | None]:
        """The pane's cell or its nearest ancestor whose parent runs along `axis`, and that parent."""
        cell = self._leaf(pane)
        while cell.parent is not None and cell.parent.axis is not axis:
            cell = cell.parent
        return cell, cell.parent

    def _resize_pane(self, pane: int, axis: Axis, change: int) -> None:
        """layout_resize_pane: the border moved is after the cell, or before it for the last cell."""
        cell, parent = self._enclosing(pane, axis)
        if parent is None:
            return
        if cell is parent.children[-1]:
            cell = parent.children[-2]
        self._resize_layout(cell, axis, change, opposite=True)

    def _resize_layout(self, cell: _Cell, axis: Axis, change: int, *, opposite: bool) -> None:
        """layout_resize_layout: move the border after `cell` by `change`, bit by bit, until done or
        nothing more can move."""
        needed = change
        while needed != 0:
            if change > 0:
                moved = _resize_grow(cell, axis, needed, opposite)
                needed -= moved
            else:
                moved = _resize_shrink(cell, axis, needed)
                needed += moved
            if moved == 0:
                break
        _fix_offsets(self._root)

    def _split_tree(self, pane: int, axis: Axis, new_pane: int, size: int, before: bool, full: bool) -> bool:
        """layout_split_pane + layout_assign_pane on this (unzoomed) layout; False if there is no space."""
        cell = self._root if full else self._leaf(pane)
        sx, sy, xoff, yoff = cell.sx, cell.sy, cell.xoff, cell.yoff
        saved_size = cell.size(axis)
        if saved_size < PANE_MINIMUM * 2 + 1:
            return False
        if size < 0:
            size2 = (saved_size + 1) // 2 - 1
        elif before:
            size2 = (saved_size - size - 1) % _U32
        else:
            size2 = size
        if size2 < PANE_MINIMUM:
            size2 = PANE_MINIMUM
        elif size2 > saved_size - 2:
            size2 = saved_size - 2
        size1 = saved_size - 1 - size2
        new_size = size2 if before else size1
        if full and not _set_size_check(cell, axis, new_size):
            return False
        resize_first = False
        if cell.parent is not None and cell.parent.axis is axis:
            parent = cell.parent
            new = _leaf(parent, new_pane, 0, 0)
            index = parent.children.index(cell)
            parent.children.insert(index if before else index + 1, new)
        elif full and cell.parent is None and cell.axis is axis:
            # The new full-size pane joins the root container: squeeze the old children first.
            if axis is Axis.LEFT_RIGHT:
                cell.sx = new_size
                _resize_child_cells(cell)
                cell.sx = saved_size
                new = _leaf(cell, new_pane, saved_size - 1 - new_size, sy)
            else:
                cell.sy = new_size
                _resize_child_cells(cell)
                cell.sy = saved_size
                new = _leaf(cell, new_pane, sx, saved_size - 1 - new_size)
            resize_first = True
            cell.children.insert(0 if before else len(cell.children), new)
        else:
            parent = _node(cell.parent, axis, sx, sy)
            parent.xoff, parent.yoff = xoff, yoff
            if cell.parent is None:
                self._root = parent
            else:
                cell.replace_in_parent(parent)
            cell.parent = parent
            new = _leaf(parent, new_pane, 0, 0)
            parent.children = [new, cell] if before else [cell, new]
        first, second = (new, cell) if before else (cell, new)
        if not resize_first:
            if axis is Axis.LEFT_RIGHT:
                first.sx, first.sy, second.sx, second.sy = size1, sy, size2, sy
            else:
                first.sx, first.sy, second.sx, second.sy = sx, size1, sx, size2
            if full:
                _resize_child_cells(cell)
        _fix_offsets(self._root)
        return True

    def _arrange(self, index: int) -> None:
        """layout_set_select: build preset `index` from the pane order, then fit the window."""
        self._unzoom()
        self._preset = index
        if len(self._panes) > 1:
            cols, rows = self._size
            builder = (_even_horizontal, _even_vertical, _main_horizontal, _main_vertical, _tiled)[index]
            self._install(builder(self._panes, cols, rows, self.options))
        self._fit()


# ----------------------------------------------------------------------------------- free helpers


def _window_size(cols: int, rows: int) -> tuple[int, int]:
    if not (1 <= cols <= WINDOW_MAXIMUM and 1 <= rows <= WINDOW_MAXIMUM):
        raise BadRequest(f"bad window size {cols}x{rows}: columns and rows must be 1 to {WINDOW_MAXIMUM}")
    return cols, rows


def _on_frame(rect: Rect, x: int, y: int) -> bool:
    """Whether a cell lies on the one-cell frame around `rect` (its borders and their corners)."""
    inside = rect.x <= x < rect.x + rect.width and rect.y <= y < rect.y + rect.height
    return not inside and rect.x - 1 <= x <= rect.x + rect.width and rect.y - 1 <= y <= rect.y + rect.height


def _sound(root: _Cell, size: tuple[int, int]) -> bool:
    """Whether a tree fills `size` exactly with panes of at least the minimum size."""
    if (root.sx, root.sy) != size or not _check(root):
        return False
    return all(leaf.sx >= PANE_MINIMUM and leaf.sy >= PANE_MINIMUM for leaf in root.leaves())


def _bottom_right(cell: _Cell) -> _Cell:
    while cell.axis is not None:
        cell = cell.children[-1]
    return cell


def _fit_top(root: _Cell) -> bool:
    """layout_parse's repair of a top cell larger than its children (older tmux wrote such strings),
    then layout_check."""
    if root.axis is Axis.LEFT_RIGHT:
        sx = sum(child.sx + 1 for child in root.children)
        sy = root.children[-1].sy + 1
    elif root.axis is Axis.TOP_BOTTOM:
        sx = root.children[-1].sx + 1
        sy = sum(child.sy + 1 for child in root.children)
    else:
        sx, sy = root.sx + 1, root.sy + 1
    root.sx, root.sy = sx - 1, sy - 1
    if not (1 <= root.sx <= WINDOW_MAXIMUM and 1 <= root.sy <= WINDOW_MAXIMUM):
        return False
    return _sound(root, (root.sx, root.sy))  # tmux accepts an empty pane here; Scarab refuses it


def _layout_resize(root: _Cell, cols: int, rows: int) -> None:
    """layout_resize: grow or shrink the whole tree towards cols x rows, never below the minimum."""
    for axis, wanted in ((Axis.LEFT_RIGHT, cols), (Axis.TOP_BOTTOM, rows)):
        current = root.size(axis)
        change = wanted - current
        limit = _resize_check(root, axis)
        if change < 0 and change < -limit:
            change = -limit
        if limit == 0:
            change = 0 if wanted <= current else wanted - current
        if change != 0:
            _resize_adjust(root, axis, change)
    _fix_offsets(root)


def _resize_grow(cell: _Cell, axis: Axis, needed: int, opposite: bool) -> int:
    """layout_resize_pane_grow: `cell` grows, taking from the first sibling after it that can give,
    or (with `opposite`) the nearest one before it."""
    assert cell.parent is not None
    siblings = cell.parent.children
    index = siblings.index(cell)
    donor, size = None, 0
    for other in siblings[index + 1 :]:
        size = _resize_check(other, axis)
        if size > 0:
            donor = other
            break
    if donor is None and opposite:
        for other in reversed(siblings[:index]):
            size = _resize_check(other, axis)
            if size > 0:
                donor = other
                break
    if donor is None:
        return 0
    size = min(size, needed)
    _resize_adjust(cell, axis, size)
    _resize_adjust(donor, axis, -size)
    return size


def _resize_shrink(cell: _Cell, axis: Axis, needed: int) -> int:
    """layout_resize_pane_shrink: the first of `cell` and its earlier siblings that can give shrinks;
    the sibling right after `cell` gets the space."""
    assert cell.parent is not None
    siblings = cell.parent.children
    index = siblings.index(cell)
    donor, size = None, 0
    for other in reversed(siblings[: index + 1]):
        size = _resize_check(other, axis)
        if size != 0:
            donor = other
            break
    if donor is None or index + 1 >= len(siblings):
        return 0
    size = min(size, -needed)
    _resize_adjust(siblings[index + 1], axis, size)
    _resize_adjust(donor, axis, -size)
    return size


def _search_by_border(cell: _Cell, x: int, y: int) -> _Cell | None:
    """layout_search_by_border: the cell whose trailing border holds (x, y)."""
    last: _Cell | None = None
    for child in cell.children:
        if child.xoff <= x < child.xoff + child.sx and child.yoff <= y < child.yoff + child.sy:
            return _search_by_border(child, x, y)
        if last is None:
            last = child
            continue
        if cell.axis is Axis.LEFT_RIGHT and last.xoff + last.sx <= x < child.xoff:
            return last
        if cell.axis is Axis.TOP_BOTTOM and last.yoff + last.sy <= y < child.yoff:
            return last
        last = child
    return None


# ------------------------------------------------------------------------------------------ presets
# layout-set.c: each builds a fresh tree from the pane order and the window's current size.


def _even(panes: list[int], cols: int, rows: int, axis: Axis) -> _Cell:
    n = len(panes)
    if axis is Axis.LEFT_RIGHT:
        sx, sy = max(n * (PANE_MINIMUM + 1) - 1, cols), rows
    else:
        sx, sy = cols, max(n * (PANE_MINIMUM + 1) - 1, rows)
    root = _node(None, axis, sx, sy)
    root.children = [_leaf(root, pane, cols, rows) for pane in panes]
    _spread_cell(root)
    return root


def _even_horizontal(panes: list[int], cols: int, rows: int, options: dict[str, str]) -> _Cell:
    return _even(panes, cols, rows, Axis.LEFT_RIGHT)


def _even_vertical(panes: list[int], cols: int, rows: int, options: dict[str, str]) -> _Cell:
    return _even(panes, cols, rows, Axis.TOP_BOTTOM)


def _main_sizes(available: int, main: str, other: str, fallback: int) -> tuple[int, int]:
    """The main pane's and the other panes' size along the main axis (layout_set_main_h/_v)."""
    main_size = _percentage(main, available, fallback)
    if main_size + PANE_MINIMUM >= available:
        main_size = PANE_MINIMUM if available <= PANE_MINIMUM * 2 else available - PANE_MINIMUM
        return main_size, PANE_MINIMUM
    other_size = _percentage(other, available, 0)
    if other_size == 0:
        return main_size, available - main_size
    if other_size > available or available - other_size < main_size:
        return main_size, available - main_size
    return available - other_size, other_size


def _main(panes: list[int], cols: int, rows: int, options: dict[str, str], axis: Axis) -> _Cell:
    """main-horizontal (axis TOP_BOTTOM: main on top) and main-vertical (LEFT_RIGHT: main on the left)."""
    n = len(panes) - 1
    cross = Axis.LEFT_RIGHT if axis is Axis.TOP_BOTTOM else Axis.TOP_BOTTOM
    if axis is Axis.TOP_BOTTOM:
        main_size, other_size = _main_sizes(rows - 1, options["main-pane-height"], options["other-pane-height"], 24)
        across = max(n * (PANE_MINIMUM + 1) - 1, cols)
        root = _node(None, axis, across, main_size + other_size + 1)
        main = _leaf(root, panes[0], across, main_size)
        others = _Cell(root, across, other_size)
        child_size = (PANE_MINIMUM, other_size)
    else:
        main_size, other_size = _main_sizes(cols - 1, options["main-pane-width"], options["other-pane-width"], 80)
        across = max(n * (PANE_MINIMUM + 1) - 1, rows)
        root = _node(None, axis, main_size + other_size + 1, across)
        main = _leaf(root, panes[0], main_size, across)
        others = _Cell(root, other_size, across)
        child_size = (other_size, PANE_MINIMUM)
    if n == 1:
        others.pane = panes[1]
    else:
        others.axis = cross
        others.children = [_leaf(others, pane, *child_size) for pane in panes[1:]]
        _spread_cell(others)
    root.children = [main, others]
    return root


def _main_horizontal(panes: list[int], cols: int, rows: int, options: dict[str, str]) -> _Cell:
    return _main(panes, cols, rows, options, Axis.TOP_BOTTOM)


def _main_vertical(panes: list[int], cols: int, rows: int, options: dict[str, str]) -> _Cell:
    return _main(panes, cols, rows, options, Axis.LEFT_RIGHT)


def _tiled(panes: list[int], cols: int, rows: int, options: dict[str, str]) -> _Cell:
    n = len(panes)
    nrows = ncolumns = 1
    while nrows * ncolumns < n:
        nrows += 1
        if nrows * ncolumns < n:
            ncolumns += 1
    # tmux computes these in u_int: a window narrower (shorter) than the borders between the columns
    # (rows) wraps to a size of about 2^30 and its server dies. Here such a grid gets minimum panes and
    # the window stays larger than the clients' size, as for any layout that cannot shrink further.
    width = max((cols - (ncolumns - 1)) // ncolumns, PANE_MINIMUM)
    height = max((rows - (nrows - 1)) // nrows, PANE_MINIMUM)
    root = _node(None, Axis.TOP_BOTTOM, max((width + 1) * ncolumns - 1, cols), max((height + 1) * nrows - 1, rows))
    remaining = list(panes)
    for _ in range(nrows):
        if not remaining:
            break
        row = _Cell(root, cols, height)
        root.children.append(row)
        if len(remaining) == 1 or ncolumns == 1:
            row.pane = remaining.pop(0)
            continue
        row.axis = Axis.LEFT_RIGHT
        taken, remaining = remaining[:ncolumns], remaining[ncolumns:]
        row.children = [_leaf(row, pane, width, height) for pane in taken]
        used = len(taken) * (width + 1) - 1
        if cols > used:
            _resize_adjust(row.children[-1], Axis.LEFT_RIGHT, cols - used)
    used = nrows * height + nrows - 1
    if rows > used:
        _resize_adjust(root.children[-1], Axis.TOP_BOTTOM, rows - used)
    return root
