"""Emulator layer: bytes in, screen + scrollback + dirty rows out; replies through one callback.

A hardened pyte `Screen` subclass behind a stateful pre-filter (prefilter.py). The pre-filter parses
the stream once; its tokens are dispatched here, through tables, straight to the screen's verbs
(pyte's own parser is not used). pyte does what it does well (cursor motion, scrolling regions,
modes); Scarab handles what pyte lacks or gets wrong: SGR (sgr.py; a cell holds a `Style`), wide
and zero-width characters, erasing as tmux does (the background colour only, at a cost bounded by
the cells that change), the alternate screen, SU/SD, REP, `CSI s/u`, DECSCUSR, DECSTR, keypad mode,
DEC line drawing in UTF-8 mode, OSC title, and replies to DSR/CPR/DA1/DA2/DECRQM/XTVERSION.
Rows leaving the top of the main screen are frozen into a compact scrollback (scrollback.py);
`HistoryScreen` is never used. No IO happens here, except one line on stderr when a sequence
fails to apply (counted in `Emulator.errors`; a strict emulator raises instead).

References: ECMA-48; DEC STD 070 / VT510 manual (DECSCUSR, DECRQM, DECSTR); xterm ctlseqs.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import gc
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import repeat
from typing import Any, NamedTuple

import pyte
from pyte import modes as mo
from pyte.screens import StaticDefaultDict
from wcwidth import wcwidth

from scarab.daemon.prefilter import Csi, Designate, Esc, Osc, Prefilter, Shift, Text, Token
from scarab.daemon.scrollback import Frozen, SavedPage, Scrollback
from scarab.daemon.sgr import apply_sgr
from scarab.styles import DEFAULT_STYLE, Attr, Line, Mode, Style

__all__ = ["DEFAULT_SCROLLBACK", "Cell", "Emulator"]

DEFAULT_SCROLLBACK = 10_000
MAX_PARAM = 9999  # as pyte: larger parameters are clamped, never trusted as counts
MAX_CELL = 32  # characters one cell may hold (a base plus combining marks, ZWJ sequences): bounded

# DEC special graphics (ESC ( 0), VT100 User Guide table 3-9.
_LINE_DRAWING = str.maketrans(
    "`abcdefghijklmnopqrstuvwxyz{|}~",
    "◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·",
)

# Private DEC modes (pyte stores them shifted left by 5) that clients must honour.
_PRIVATE_MODES = {
    1: Mode.CURSOR_KEYS,
    9: Mode.MOUSE_X10,
    1000: Mode.MOUSE_NORMAL,
    1002: Mode.MOUSE_BUTTON,
    1003: Mode.MOUSE_ANY,
    1006: Mode.MOUSE_SGR,
    2004: Mode.BRACKETED_PASTE,
    1004: Mode.FOCUS,
}
_ALT_SCREEN_MODES = (47, 1047, 1049)
# DECCOLM would resize to 132 columns under the user; DECSCNM (reverse screen) is not kept by tmux.
_IGNORED_PRIVATE_MODES = (3, 5)
_DECCKM = 1 << 5


class Cell(NamedTuple):
    """One screen cell: its characters ("" for the right half of a wide character) and style."""

    data: str
    style: Style


BLANK = Cell(" ", DEFAULT_STYLE)
_EMPTY_LINE = Line("", ())


# Cells are shared, per style and character: a screen holds few distinct ones. Bounded, so a
# hostile stream of distinct colours or characters cannot grow memory.
_CELLS: dict[Style, dict[str, Cell]] = {}
MAX_SHARED_CELLS = 4096


def _cells(style: Style) -> dict[str, Cell]:
    """The shared cells of `style`, by character."""
    cells = _CELLS.get(style)
    if cells is None or len(cells) > MAX_SHARED_CELLS:
        if len(_CELLS) > MAX_SHARED_CELLS:
            _CELLS.clear()
        cells = _CELLS[style] = {}
    return cells


@lru_cache(maxsize=64)
def _plain_runs(style: Style, columns: int) -> list[tuple[int, ...]]:
    """The frozen runs of a row of n cells in one style, by n (0 to `columns`); shared by every
    such row (a frozen row is immutable)."""
    return [()] + [(n, *style) for n in range(1, columns + 1)]


def _frozen_plain(texts: list[str], style: Style, columns: int) -> list[Frozen]:
    """Each text (at most `columns` long) as the frozen history row of a fresh row it was drawn on
    in one style (what `freeze(row(y))` gives), without building cells or Lines: a flood's lines
    scroll off by the thousand, and building each cost more than the rest of the parse. Built by
    C-level iteration (map, zip) with shared runs: one new tuple per row, no bytecode per row."""
    if style is DEFAULT_STYLE:
        texts = list(map(str.rstrip, texts, repeat(" ")))
    return list(zip(texts, map(_plain_runs(style, columns).__getitem__, map(len, texts)), strict=True))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic garbage collection meanwhile. A flood's thousands of new history rows (tuples
    of strings and ints: no cycles) each count towards the next collection; collected as they come,
    they are walked again and again on their way to the oldest generation (a third of a flood's
    parse). Collected afterwards, they are untracked in one pass."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Printable ASCII lines joined by CR LF, worth the fast path when long.
_PLAIN_LINES = re.compile(r"[\x20-\x7e]*(?:\r\n[\x20-\x7e]*)+\Z")
FAST_PATH_MIN = 256
# C0 controls (and DEL) inside a Text token: executed or dropped, never drawn.
_CONTROLS = re.compile("[\x00-\x1f\x7f]")


def _params(text: str, default: int = 0) -> list[int]:
    """`1;;3` -> [1, default, 3]; colon sub-parameters keep only their first part."""
    out = []
    for part in text.split(";") if text else [""]:
        head = part.split(":", 1)[0]
        out.append(min(int(head), MAX_PARAM) if head.isdigit() else default)
    return out


class _Screen(pyte.Screen):  # type: ignore[misc]
    """pyte's screen with `Cell`s, scrollback capture, the alternate screen and correct wide
    characters. A row is pyte's sparse dict of cells whose `default` is what its unwritten cells
    show: BLANK, or a blank in the background colour a whole-row erase left."""

    # pyte types its rows and cursor with its own Char; here they hold Cells.
    buffer: Any
    cursor: Any

    def __init__(self, columns: int, lines: int, scrollback: int) -> None:
        self.history = Scrollback(scrollback)
        self.pushed = 0  # rows ever pushed into history: the stable index of the next one
        # The stable indexes of history rows that wrapped into the next (tmux's GRID_LINE_WRAPPED);
        # a screen row that wrapped carries `wrapped = True` on its dict, moving with it.
        self.wrapped_history: set[int] = set()
        self.alt_saved: tuple[Any, Any] | None = None  # (main buffer, main cursor) while on alt screen
        self.alt_cursor: Any = None  # the cursor saved by ?1049h
        self.private_modes = Mode(0)
        self.cursor_shape = 0
        self.last_char = ""
        super().__init__(columns, lines)

    @property
    def default_char(self) -> Any:
        return BLANK

    def reset(self) -> None:
        super().reset()
        self.cursor = pyte.screens.Cursor(0, 0, BLANK)  # type: ignore[arg-type]
        self.alt_saved = None
        self.alt_cursor = None
        self.private_modes = Mode(0)
        self.cursor_shape = 0
        self.last_char = ""

    # -- text -------------------------------------------------------------------------------------

    def draw(self, data: str) -> None:
        """pyte's draw, plus: wide characters wrap instead of overflowing the last column, writing
        over half a wide character blanks the other half, and zero-width characters (ZWJ, VS16,
        combining marks) join the previous cell instead of ending the text run."""
        columns = self.columns
        cursor = self.cursor
        autowrap = mo.DECAWM in self.mode
        insert = mo.IRM in self.mode
        style = cursor.attrs.style
        cells = _cells(style)
        line = self.buffer[cursor.y]
        for char in data:
            width = 1 if " " <= char <= "~" else wcwidth(char)
            if width <= 0:
                if width == 0:
                    self._join(char)
                continue
            if width > columns:
                continue  # a wide character cannot be shown on a one-column screen at all
            if cursor.x + width > columns:
                if autowrap:
                    if cursor.x < columns and width == 2:
                        line[cursor.x] = Cell(" ", style)  # the half cell a wide char cannot use
                    line.wrapped = True  # copied joined to the next row, as tmux does
                    self.dirty.add(cursor.y)
                    cursor.x = 0
                    self.linefeed()
                    line = self.buffer[cursor.y]
                else:
                    cursor.x = columns - width
            x = cursor.x
            if insert:
                self.insert_characters(width)
            # Overwriting half of a wide character blanks its other half.
            if x and line[x].data == "":
                line[x - 1] = Cell(" ", line[x - 1].style)
            end = x + width
            if end < columns and line[end].data == "" and line[end - 1].data != "":
                line[end] = Cell(" ", line[end].style)
            cell = cells.get(char)
            if cell is None:
                cell = cells[char] = Cell(char, style)
            line[x] = cell
            if width == 2 and x + 1 < columns:
                stub = cells.get("")
                if stub is None:
                    stub = cells[""] = Cell("", style)
                line[x + 1] = stub
            cursor.x = end
            self.last_char = char
        self.dirty.add(cursor.y)

    def _join(self, char: str) -> None:
        x, y = self.cursor.x, self.cursor.y
        if x == 0:
            if y == 0:
                return
            y, x = y - 1, self.columns
        line = self.buffer[y]
        x -= 1
        if line[x].data == "" and x:
            x -= 1  # the second half of a wide character: join the character itself
        if len(line[x].data) < MAX_CELL:
            line[x] = Cell(line[x].data + char, line[x].style)
            self.dirty.add(y)

    def write_lines(self, text: str) -> bool:
        """Fast path for a run of printable ASCII lines joined by CR LF (what `cat`, `seq`, `ls` and
        logs mostly are): lines that will scroll off go straight to scrollback as compact rows, and
        only the last screenful is materialised as cells. Same result as drawing character by
        character (a test checks); returns False, doing nothing, when the screen's state needs the
        general path (scroll margins, alternate screen, insert mode, no autowrap)."""
        if (
            self.alt_saved is not None
            or (self.margins is not None and tuple(self.margins) != (0, self.lines - 1))
            or mo.DECAWM not in self.mode
            or mo.IRM in self.mode
        ):
            return False
        segments = text.split("\r\n")
        self.draw(segments[0])
        rest = segments[1:]
        i = 0
        while i < len(rest) and self.cursor.y < self.lines - 1:  # rows below the cursor may hold text
            self.carriage_return()
            self.linefeed()
            self.draw(rest[i])
            i += 1
        if i == len(rest):
            return True
        columns, lines = self.columns, self.lines
        physical: list[str] = rest[i:]
        wrapped: set[int] = set()  # which of `physical` wrapped into the next
        if max(map(len, physical)) > columns:
            physical = []
            for seg in rest[i:]:
                if len(seg) <= columns:
                    physical.append(seg)
                else:
                    first = len(physical)
                    physical.extend(seg[k : k + columns] for k in range(0, len(seg), columns))
                    wrapped.update(range(first, len(physical) - 1))
        style = self.cursor.attrs.style
        n = len(physical)
        old_rows = min(n, lines)
        maxlen = self.history.maxlen
        if maxlen:
            append = self.history.append
            scrolled = physical[: max(0, n - lines)]
            # Rows that would be pushed out of the bounded scrollback again are never built.
            skip = max(0, old_rows + len(scrolled) - maxlen)
            for y in range(skip, old_rows):
                if getattr(self.buffer.get(y), "wrapped", False):
                    self._pushed_wrapped(self.pushed + y)
                append(self.row(y))
            first_kept = max(0, skip - old_rows)
            for k in sorted(wrapped):
                if first_kept <= k < len(scrolled):
                    self._pushed_wrapped(self.pushed + old_rows + k)
            with _collector_paused():
                self.history.extend_frozen(_frozen_plain(scrolled[first_kept:], style, columns))
            self.pushed += old_rows + len(scrolled)  # the skipped ones too: they were pushed, then dropped
        keep = [self.buffer[y] for y in range(old_rows, lines)]
        cells = _cells(style)
        buffer = type(self.buffer)(self.buffer.default_factory)  # type: ignore[attr-defined]
        for y, line in enumerate(keep):
            buffer[y] = line
        for y, k in enumerate(range(max(0, n - lines), n), start=len(keep)):
            chunk = physical[k]
            row = buffer[y]
            if k in wrapped:
                row.wrapped = True
            for x, char in enumerate(chunk):
                cell = cells.get(char)
                if cell is None:
                    cell = cells[char] = Cell(char, style)
                row[x] = cell
        self.buffer = buffer
        self.cursor.x = len(physical[-1])
        self.cursor.y = lines - 1
        last = next((seg for seg in reversed(rest) if seg), "")
        if last:
            self.last_char = last[-1]
        self.dirty.update(range(lines))
        return True

    def repeat(self, count: int = 1) -> None:
        """REP: the last graphic character again, `count` times but never past the end of the line,
        as tmux does: one sequence costs at most a row, however large its count."""
        if self.last_char:
            self.draw(self.last_char * min(max(count, 1), self.columns - self.cursor.x))

    # -- scrolling --------------------------------------------------------------------------------

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        # Only a full-screen scroll on the main screen pushes a row into scrollback, as in tmux.
        if self.cursor.y == bottom and top == 0 and self.alt_saved is None and self.history.maxlen:
            if getattr(self.buffer.get(0), "wrapped", False):
                self._pushed_wrapped(self.pushed)
            self.history.append(self.row(0))
            self.pushed += 1
        super().index()

    def scroll(self, count: int, up: bool) -> None:
        """SU / SD: scroll the region by `count` rows without moving the cursor, in one pass over
        the region whatever the count. Rows scrolled off the top of a full-width main screen go to
        scrollback, as `index()` sends them."""
        top, bottom = self.margins or (0, self.lines - 1)
        n = min(max(count, 1), bottom - top + 1)
        buffer = self.buffer
        if up:
            if top == 0 and self.alt_saved is None and self.history.maxlen:
                for y in range(n):
                    if getattr(buffer.get(y), "wrapped", False):
                        self._pushed_wrapped(self.pushed + y)
                self.history.extend(self.row(y) for y in range(n))
                self.pushed += n
            moves = [(y, y + n) for y in range(top, bottom + 1)]
        else:
            moves = [(y, y - n) for y in range(bottom, top - 1, -1)]
        for y, source in moves:
            line = buffer.pop(source, None) if top <= source <= bottom else None
            if line is None:
                buffer.pop(y, None)
            else:
                buffer[y] = line
        self.dirty.update(range(top, bottom + 1))

    def _pushed_wrapped(self, index: int) -> None:
        """History row `index` wrapped into the next; indexes that fell off history go now and then."""
        flags = self.wrapped_history
        flags.add(index)
        if len(flags) > 2 * max(self.history.maxlen, 1000):
            oldest = self.pushed - self.history.maxlen
            self.wrapped_history = {i for i in flags if i >= oldest}

    # -- erasing ----------------------------------------------------------------------------------

    def _fill(self) -> Cell:
        """What erased cells become: blanks in the current background colour only (tmux, xterm)."""
        bg = self.cursor.attrs.style.bg
        return BLANK if bg == -1 else Cell(" ", Style(bg=bg))

    def _erase(self, y: int, start: int, stop: int) -> None:
        """Erase columns start..stop-1 of row `y`, costing what changes: a whole row is replaced
        by an empty one whose default is the fill, and unwritten cells are not visited."""
        start, stop = max(start, 0), min(stop, self.columns)
        if start >= stop:
            return
        self.dirty.add(y)
        fill = self._fill()
        buffer = self.buffer
        if start == 0 and stop == self.columns:
            if fill is BLANK:
                buffer.pop(y, None)
            else:
                buffer[y] = StaticDefaultDict(fill)
            return
        line = buffer[y]
        if fill == line.default:
            # Unwritten cells already show the fill: drop the written ones in range.
            span = range(start, stop)
            doomed = [x for x in line if x in span] if len(line) < len(span) else [x for x in span if x in line]
            for x in doomed:
                del line[x]
        else:
            line.update(dict.fromkeys(range(start, stop), fill))

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        """ED: 0 cursor to end, 1 start to cursor, 2 the whole screen; 3 the scrollback only
        (xterm's "erase saved lines", as tmux does), where pyte would erase the screen."""
        x, y = self.cursor.x, self.cursor.y
        if how == 0:
            self._erase(y, x, self.columns)
            rows = range(y + 1, self.lines)
        elif how == 1:
            self._erase(y, 0, x + 1)
            rows = range(y)
        elif how == 2:
            rows = range(self.lines)
        else:
            if how == 3:
                self.history.clear()
            return
        for row in rows:
            self._erase(row, 0, self.columns)

    def erase_in_line(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        """EL: 0 cursor to end, 1 start to cursor, 2 the whole row."""
        x, y = self.cursor.x, self.cursor.y
        if how == 0:
            self._erase(y, x, self.columns)
        elif how == 1:
            self._erase(y, 0, x + 1)
        elif how == 2:
            self._erase(y, 0, self.columns)

    def erase_characters(self, count: int | None = None) -> None:
        """ECH: `count` cells from the cursor, which does not move."""
        x = self.cursor.x
        self._erase(self.cursor.y, x, x + min(max(count or 1, 1), self.columns))

    def alignment_display(self) -> None:
        """DECALN: the screen filled with `E`, a row at a time (each row's default cell)."""
        fill = Cell("E", DEFAULT_STYLE)
        for y in range(self.lines):
            self.buffer[y] = StaticDefaultDict(fill)
        self.dirty.update(range(self.lines))

    # -- rows -------------------------------------------------------------------------------------

    def row(self, y: int) -> Line:
        """Row `y` as text + style runs. Only cells that were written are visited: pyte keeps
        rows as sparse dicts, and a row frozen into scrollback is usually short."""
        line = self.buffer.get(y)
        if not line and (line is None or line.default is BLANK):
            return _EMPTY_LINE
        columns = self.columns
        blank = line.default
        blank_style = blank.style
        chars: list[str] = []
        runs: list[tuple[int, Style]] = []
        last_style: Style | None = None
        count = 0
        expected = 0
        keys = sorted(line)
        if blank is not BLANK:
            keys.append(columns)  # unwritten cells up to the right edge show the row's default
        for x in keys:
            if x > expected:  # unwritten cells show the row's default
                gap = min(x, columns) - expected
                chars.append(blank.data * gap)
                if blank_style is last_style or blank_style == last_style:
                    count += gap
                else:
                    if last_style is not None:
                        runs.append((count, last_style))
                    last_style, count = blank_style, gap
            if x >= columns:
                break
            expected = x + 1
            cell = line[x]
            data = cell.data
            if not data:
                continue  # second half of a wide character
            style = cell.style
            chars.append(data)
            if style is last_style or style == last_style:
                count += len(data)
            else:
                if last_style is not None:
                    runs.append((count, last_style))
                last_style, count = style, len(data)
        if last_style is not None:
            runs.append((count, last_style))
        text = "".join(chars)
        # Trailing default blanks carry nothing; clients pad rows to the screen width. Only the last
        # run is default: blanks before it (a background colour, reverse video) are content.
        if runs and runs[-1][1] is DEFAULT_STYLE:
            count = runs[-1][0]
            cut = min(count, len(text) - len(text.rstrip(" ")))
            if cut:
                runs[-1:] = [(count - cut, DEFAULT_STYLE)] if count > cut else []
                text = text[: len(text) - cut]
        return Line(text, tuple(runs))

    def sgr(self, params: str) -> None:
        self.cursor.attrs = Cell(" ", apply_sgr(self.cursor.attrs.style, params))

    # -- modes ------------------------------------------------------------------------------------

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            modes = self._private(modes, True)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            modes = self._private(modes, False)
        super().reset_mode(*modes, **kwargs)

    def _private(self, modes: tuple[int, ...], on: bool) -> tuple[int, ...]:
        """Handle the private modes pyte lacks; return the ones pyte should still see."""
        rest = []
        for mode in modes:
            flag = _PRIVATE_MODES.get(mode)
            if flag is not None:
                self.private_modes = self.private_modes | flag if on else self.private_modes & ~flag
                if mode != 1:
                    continue
            if mode in _ALT_SCREEN_MODES:
                self._alternate(on, save_cursor=mode == 1049)
            elif mode in _IGNORED_PRIVATE_MODES:
                continue
            else:
                rest.append(mode)
        return tuple(rest)

    def _alternate(self, on: bool, save_cursor: bool) -> None:
        if save_cursor and on:
            # 1049 saves the cursor like DECSC even when already on the alternate screen (xterm, tmux).
            c = self.cursor
            self.alt_cursor = pyte.screens.Cursor(c.x, c.y, c.attrs)
        if on and self.alt_saved is None:
            cursor = self.cursor
            self.alt_saved = (self.buffer, cursor)
            self.buffer = type(self.buffer)(self.buffer.default_factory)  # type: ignore[attr-defined]
            self.cursor = pyte.screens.Cursor(cursor.x, cursor.y, cursor.attrs)
            self.private_modes |= Mode.ALT_SCREEN
        elif not on and self.alt_saved is not None:
            self.buffer, self.cursor = self.alt_saved
            self.alt_saved = None
            self.private_modes &= ~Mode.ALT_SCREEN
        if save_cursor and not on and self.alt_cursor is not None:
            # ... and 1049 off restores it even when the alternate screen was not active.
            c = self.alt_cursor
            self.cursor = pyte.screens.Cursor(c.x, c.y, c.attrs)
        self.cursor.x = min(self.cursor.x, self.columns - 1)
        self.cursor.y = min(self.cursor.y, self.lines - 1)
        self.dirty.update(range(self.lines))

    def mode_state(self, mode: int, private: bool) -> int:
        """DECRQM answer: 1 set, 2 reset, 0 not recognised."""
        if private:
            if mode in _PRIVATE_MODES:
                return 1 if self.private_modes & _PRIVATE_MODES[mode] else 2
            if mode in _ALT_SCREEN_MODES:
                return 1 if self.alt_saved is not None else 2
            if mode in (1, 3, 5, 6, 7, 25):
                return 1 if (mode << 5) in self.mode else 2
            return 0
        if mode in (4, 20):
            return 1 if mode in self.mode else 2
        return 0

    def soft_reset(self) -> None:
        """DECSTR: modes, margins, attributes and saved cursor to defaults; the screen stays."""
        self.set_mode(mo.DECTCEM, mo.DECAWM)
        self.reset_mode(mo.IRM, mo.DECOM)
        self.mode.discard(_DECCKM)
        self.private_modes &= ~(Mode.CURSOR_KEYS | Mode.KEYPAD)
        self.margins = None
        self.cursor.attrs = BLANK
        self.cursor_shape = 0
        self.savepoints.clear()

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Shrinking drops blank rows below the cursor first, then pushes rows off the top into
        scrollback (as tmux does); the cursor always ends inside the screen."""
        lines = lines or self.lines
        columns = columns or self.columns
        if lines < self.lines:
            excess = self.lines - lines
            blank = 0
            for y in range(self.lines - 1, self.cursor.y, -1):
                line = self.buffer.get(y)
                if blank == excess or (line is not None and not _is_blank(line)):
                    break
                blank += 1
            top = excess - blank
            if self.alt_saved is None and self.history.maxlen:
                for y in range(top):
                    if getattr(self.buffer.get(y), "wrapped", False):
                        self._pushed_wrapped(self.pushed + y)
                    self.history.append(self.row(y))
                self.pushed += top
            old = self.buffer
            self.buffer = type(old)(old.default_factory)  # type: ignore[attr-defined]
            for y in range(lines):
                if y + top in old:
                    self.buffer[y] = old[y + top]
            self.cursor.y = max(0, self.cursor.y - top)
            self.lines = lines
            self.dirty.update(range(lines))
            self.set_margins()
        old_columns = self.columns
        super().resize(lines, columns)
        # pyte keeps tab stops past the new right edge (a TAB would then leave the screen) and sets
        # none in added columns; keep the default every-8 stops, as tmux does.
        self.tabstops = {t for t in self.tabstops if t < self.columns} | set(
            range((old_columns + 7) // 8 * 8, self.columns, 8)
        )
        self.cursor.x = min(self.cursor.x, self.columns)
        self.cursor.y = min(self.cursor.y, self.lines - 1)


def _is_blank(line: dict[int, Cell]) -> bool:
    """Whether a row shows nothing but default blanks."""
    return line.default is BLANK and all(cell.data in (" ", "") for cell in line.values())  # type: ignore[attr-defined]


class Emulator:
    """One session's terminal state. `strict` (tests) raises what a sequence that fails to apply
    raised; otherwise that sequence is dropped, counted in `errors`, and the stream goes on."""

    def __init__(
        self,
        cols: int,
        rows: int,
        scrollback: int = DEFAULT_SCROLLBACK,
        on_reply: Callable[[bytes], None] | None = None,
        strict: bool = False,
    ) -> None:
        self.screen = screen = _Screen(cols, rows, scrollback)
        self.prefilter = Prefilter()
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._on_reply = on_reply
        screen.write_process_input = self._reply  # type: ignore[method-assign]  # DSR/CPR answers
        self.bell = False
        self.clipboard: bytes | None = None  # the last text a program set with OSC 52, not yet taken
        self.charsets = {"(": "B", ")": "B", "*": "B", "+": "B"}
        self.shift = 0
        self.fast_path = True  # off only in the test that compares both paths
        self.strict = strict
        self.errors = 0  # sequences dropped because applying them raised
        # The dispatch tables: each parsed token goes straight to a verb (pyte's Stream tables show
        # the same mapping; its parser is not used). C0 controls, ECMA-48 8.3; others are dropped.
        self._controls: dict[str, Callable[[], None]] = {
            "\x07": self._ring,
            "\x08": screen.backspace,
            "\x09": screen.tab,
            "\x0a": screen.linefeed,
            "\x0b": screen.linefeed,
            "\x0c": screen.linefeed,
            "\x0d": screen.carriage_return,
        }
        # Two-character escapes and DECALN (VT510 manual); others are ignored.
        self._escapes: dict[str, Callable[[], None]] = {
            "\x1b7": screen.save_cursor,  # DECSC
            "\x1b8": screen.restore_cursor,  # DECRC
            "\x1bD": screen.index,  # IND
            "\x1bE": self._next_line,  # NEL
            "\x1bM": screen.reverse_index,  # RI
            "\x1bH": screen.set_tab_stop,  # HTS
            "\x1bc": self._reset,  # RIS
            "\x1b=": self._keypad_application,  # DECKPAM
            "\x1b>": self._keypad_numeric,  # DECKPNM
            "\x1b#8": screen.alignment_display,  # DECALN
        }
        # CSI final byte (no marker, no intermediates) -> the verb and how many parameters it takes.
        self._csi_verbs: dict[str, tuple[Callable[..., None], int]] = {
            "@": (screen.insert_characters, 1),  # ICH
            "A": (screen.cursor_up, 1),  # CUU
            "B": (screen.cursor_down, 1),  # CUD
            "C": (screen.cursor_forward, 1),  # CUF
            "D": (screen.cursor_back, 1),  # CUB
            "E": (screen.cursor_down1, 1),  # CNL
            "F": (screen.cursor_up1, 1),  # CPL
            "G": (screen.cursor_to_column, 1),  # CHA
            "H": (screen.cursor_position, 2),  # CUP
            "J": (screen.erase_in_display, 1),  # ED
            "K": (screen.erase_in_line, 1),  # EL
            "L": (screen.insert_lines, 1),  # IL
            "M": (screen.delete_lines, 1),  # DL
            "P": (screen.delete_characters, 1),  # DCH
            "S": (self._scroll_up, 1),  # SU
            "T": (self._scroll_down, 1),  # SD
            "X": (screen.erase_characters, 1),  # ECH
            "`": (screen.cursor_to_column, 1),  # HPA
            "a": (screen.cursor_forward, 1),  # HPR
            "b": (screen.repeat, 1),  # REP
            "c": (self._device_attributes, 1),  # DA1
            "d": (screen.cursor_to_line, 1),  # VPA
            "e": (screen.cursor_down, 1),  # VPR
            "f": (screen.cursor_position, 2),  # HVP
            "g": (screen.clear_tab_stop, 1),  # TBC
            "h": (screen.set_mode, MAX_PARAM),  # SM
            "l": (screen.reset_mode, MAX_PARAM),  # RM
            "n": (screen.report_device_status, 1),  # DSR
            "r": (screen.set_margins, 2),  # DECSTBM
            "t": (self._window_report, 1),  # XTWINOPS: only the size report
        }

    def reconfigure(self, cols: int, rows: int, scrollback: int, on_reply: Callable[[bytes], None] | None) -> None:
        """Turn this never-fed emulator into a fresh one of this size.

        How a host forked from the zygote gets its emulator: building one (the screen and the
        dispatch tables of bound methods) touches pages of the zygote that fork then copies into
        every host (measured: ~160 KB per idle host); a blank one the zygote built is shared until
        written to."""
        self._on_reply = on_reply
        if scrollback != self.screen.history.maxlen:
            self.screen.history = Scrollback(scrollback)
        if (cols, rows) != (self.cols, self.rows):
            self.resize(cols, rows)

    def _reply(self, data: str) -> None:
        if self._on_reply is not None:
            self._on_reply(data.encode())

    @property
    def cols(self) -> int:
        return int(self.screen.columns)

    @property
    def rows(self) -> int:
        return int(self.screen.lines)

    @property
    def title(self) -> str:
        return str(self.screen.title)

    @property
    def modes(self) -> int:
        modes = self.screen.private_modes
        if _DECCKM in self.screen.mode:
            modes |= Mode.CURSOR_KEYS
        return int(modes)

    @property
    def cursor(self) -> tuple[int, int, bool, int]:
        c = self.screen.cursor
        return (min(c.x, self.cols - 1), min(c.y, self.rows - 1), mo.DECTCEM in self.screen.mode,
                self.screen.cursor_shape)  # fmt: skip

    @property
    def history(self) -> Scrollback:
        return self.screen.history

    @property
    def history_total(self) -> int:
        """Rows ever pushed into history: one past the stable index of the newest."""
        return int(self.screen.pushed)

    def history_rows(self, start: int, count: int) -> tuple[int, list[Line]]:
        """Up to `count` history rows from stable index `start` (clamped to what is kept);
        a negative `start` counts back from the newest. Returns the first index and the rows."""
        history = self.screen.history
        total = self.screen.pushed
        oldest = total - len(history)
        if start < 0:
            start = total + start
        start = min(max(start, oldest), total)
        end = min(total, start + max(0, count))
        return start, history.lines(start - oldest, end - start)

    def clear_history(self) -> None:
        self.screen.history.clear()
        self.screen.wrapped_history = set()

    def wrapped_history(self, start: int, stop: int) -> list[int]:
        """The history rows of [start, stop) (stable indexes) that wrapped into the next: restored
        rows as their saved pages say (they come first), then rows that scrolled off this screen."""
        screen = self.screen
        history = screen.history
        saved: list[int] = []
        if history.saved_rows:
            oldest = screen.pushed - len(history)
            saved = [oldest + i for i in history.saved_wrapped(start - oldest, stop - oldest)]
        flags = screen.wrapped_history
        return saved + [i for i in range(start, stop) if i in flags] if flags else saved

    def wrapped_screen(self, rows: Iterable[int]) -> list[int]:
        """Which of the screen's `rows` wrapped into the next."""
        buffer = self.screen.buffer
        return [y for y in rows if getattr(buffer.get(y), "wrapped", False)]

    # -- input ------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        for token in self.prefilter.feed(self.decoder.decode(data)):
            try:
                self._dispatch(token)
            except Exception as exc:
                if self.strict:
                    raise
                self._dropped(token, exc)

    def _dropped(self, token: Token, exc: Exception) -> None:
        """A sequence that raised is dropped and the stream goes on; the first failure and every
        power of two after it leave one line in the host's log, so a bug shows without a flood."""
        self.errors += 1
        if self.errors & (self.errors - 1) == 0:
            what = repr(token)[:80]
            print(f"scarab: emulator dropped {what}: {type(exc).__name__}: {exc} ({self.errors} so far)",
                  file=sys.stderr)  # fmt: skip

    def _dispatch(self, token: Token) -> None:
        match token:
            case Text(text=text):
                if self.charsets["(" if self.shift == 0 else ")"] == "0":
                    text = text.translate(_LINE_DRAWING)
                elif self.fast_path and len(text) >= FAST_PATH_MIN:
                    # A read often ends between CR and LF: peel the halves off the ends, the lines
                    # between still take the fast path.
                    head = "\n" if text[0] == "\n" else ""
                    tail = "\r" if text[-1] == "\r" else ""
                    body = text[len(head) : len(text) - len(tail)]
                    if _PLAIN_LINES.match(body):
                        if head:
                            self.screen.linefeed()
                        if self.screen.write_lines(body):
                            if tail:
                                self.screen.carriage_return()
                            return
                        text = body + tail
                self._text(text)
            case Csi():
                self._csi(token)
            case Osc(payload=payload):
                self._osc(payload)
            case Esc(seq=seq):
                verb = self._escapes.get(seq)
                if verb is not None:
                    verb()
            case Designate(slot=slot, code=code):
                self.charsets[slot] = code
            case Shift(g=g):
                self.shift = g

    def _text(self, text: str) -> None:
        """Printable runs are drawn; C0 controls between them go to their verbs."""
        draw = self.screen.draw
        controls = self._controls
        pos = 0
        for match in _CONTROLS.finditer(text):
            start = match.start()
            if start > pos:
                draw(text[pos:start])
            verb = controls.get(text[start])
            if verb is not None:
                verb()
            pos = start + 1
        if pos < len(text):
            draw(text[pos:] if pos else text)

    def _csi(self, seq: Csi) -> None:
        screen = self.screen
        marker, params, inter, final = seq
        if inter:
            if inter == " " and final == "q":  # DECSCUSR
                screen.cursor_shape = min(_params(params)[0], 6)
            elif inter == "!" and final == "p":  # DECSTR
                screen.soft_reset()
            elif inter == "$" and final == "p" and marker in ("", "?") and params.isdigit() and len(params) < 6:
                mode = int(params)  # DECRQM
                state = screen.mode_state(mode, marker == "?")
                self._reply(f"\x1b[{marker}{mode};{state}$y")
            return
        if marker == ">":
            if final == "c":  # DA2: identify as tmux does, since TERM says tmux
                self._reply("\x1b[>84;0;0c")
            elif final == "q":  # XTVERSION
                self._reply("\x1bP>|scarab\x1b\\")
            return  # XTMODKEYS (`CSI > 4;2 m`) and friends: ignored, never drawn
        if marker == "?":
            args = _params(params.replace(":", ";"))
            if final == "h":
                screen.set_mode(*args, private=True)
            elif final == "l":
                screen.reset_mode(*args, private=True)
            elif final in "JK":  # DECSED / DECSEL: no protected cells here, so plain erasing
                (screen.erase_in_display if final == "J" else screen.erase_in_line)(args[0])
            elif final == "n" and args[0] == 6:  # DECXCPR
                self._reply(f"\x1b[?{screen.cursor.y + 1};{min(screen.cursor.x, self.cols - 1) + 1}R")
            return
        if marker:
            return  # `<` and `=` private sequences: nothing here uses them
        if final == "m":
            screen.sgr(params)
        elif ":" in params:
            return  # colon parameters mean nothing outside SGR
        elif final in "su":  # SCOSC / SCORC; with parameters it would be DECSLRM, not supported
            if not params:
                (screen.save_cursor if final == "s" else screen.restore_cursor)()
        else:
            entry = self._csi_verbs.get(final)
            if entry is not None:
                verb, count = entry
                verb(*_params(params)[:count])

    def _osc(self, payload: str) -> None:
        code, _, rest = payload.partition(";")
        if code in ("0", "2"):
            self.screen.title = rest[:256]
        elif code in ("10", "11") and rest == "?":
            # Programs ask the background to choose a palette; report a dark terminal.
            colour = "ffff/ffff/ffff" if code == "10" else "0000/0000/0000"
            self._reply(f"\x1b]{code};rgb:{colour}\x1b\\")
        elif code == "52":
            self._set_clipboard(rest)
        # Ignored: OSC 7 (the host reads the child's working directory from /proc, right for every
        # program, where OSC 7 from a shell over ssh would name a remote path); OSC 8 hyperlinks
        # (the text stays, the link is dropped); anything else.

    def _set_clipboard(self, rest: str) -> None:
        """OSC 52 (xterm's Manipulate Selection Data): `selection;base64`. Kept for the host to
        pass on; whether it sets a paste buffer is the daemon's setting (tmux's set-clipboard).
        A query (`?`) is never answered: a program may not read what the user copied elsewhere."""
        _selection, _, data = rest.partition(";")
        if data == "?":
            return
        with contextlib.suppress(binascii.Error, ValueError):  # not base64: dropped, as xterm does
            self.clipboard = base64.b64decode(data, validate=False) or None

    # -- verbs the screen does not have -----------------------------------------------------------

    def _ring(self) -> None:
        self.bell = True

    def _next_line(self) -> None:
        self.screen.carriage_return()
        self.screen.index()

    def _reset(self) -> None:
        """RIS: everything back to power-on state."""
        self.charsets = dict.fromkeys(self.charsets, "B")
        self.shift = 0
        self.screen.reset()

    def _keypad_application(self) -> None:
        self.screen.private_modes |= Mode.KEYPAD

    def _keypad_numeric(self) -> None:
        self.screen.private_modes &= ~Mode.KEYPAD

    def _scroll_up(self, count: int) -> None:
        self.screen.scroll(count or 1, up=True)

    def _scroll_down(self, count: int) -> None:
        self.screen.scroll(count or 1, up=False)

    def _device_attributes(self, kind: int) -> None:
        if kind == 0:
            self._reply("\x1b[?1;2c")  # DA1: VT100 with advanced video, as tmux answers

    def _window_report(self, op: int) -> None:
        if op == 18:
            self._reply(f"\x1b[8;{self.rows};{self.cols}t")

    # -- output -----------------------------------------------------------------------------------

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)

    def take_dirty(self) -> set[int]:
        dirty = {y for y in self.screen.dirty if 0 <= y < self.rows}
        self.screen.dirty.clear()
        return dirty

    def row(self, y: int) -> Line:
        return self.screen.row(y)  # type: ignore[no-any-return]

    def screen_lines(self) -> list[Line]:
        return [self.row(y) for y in range(self.rows)]

    def push_history(self, rows: Sequence[Frozen]) -> None:
        """Saved rows (oldest first) into scrollback, as if they had just scrolled off this screen:
        they are numbered on from the next stable index."""
        self.screen.history.extend_frozen(list(rows))
        self.screen.pushed += len(rows)

    def push_saved_history(self, pages: Iterable[SavedPage]) -> None:
        """Saved pages of rows (oldest first) into scrollback, undecoded until read, numbered on
        from the next stable index."""
        self.screen.pushed += self.screen.history.push_saved(pages)

    def show(self, lines: Sequence[Line], marker: str, wrapped: Collection[int] = ()) -> None:
        """Show saved rows (a restored screen) and a dim marker line below them, each cell in its
        saved style; nothing is parsed. Like output, they scroll the screen (and its rows into
        history) as they would have scrolled the old one; the new program writes below them.
        The rows in `wrapped` (their indexes in `lines`) wrapped into the next, and still do."""
        screen = self.screen
        saved = list(lines)
        while saved and not saved[-1].text:
            saved.pop()
        for i, line in enumerate([*saved, Line(marker, ((len(marker), Style(flags=Attr.DIM)),))]):
            pos = 0
            for count, style in line.runs:
                screen.cursor.attrs = Cell(" ", style)
                screen.draw(line.text[pos : pos + count])
                pos += count
            if i in wrapped and i < len(saved) - 1:  # the last one is followed by the marker
                screen.buffer[screen.cursor.y].wrapped = True
            screen.cursor.attrs = BLANK
            screen.carriage_return()
            screen.linefeed()
