"""Emulator layer: bytes in, screen + scrollback + dirty rows out; replies through one callback.

A hardened pyte `Screen` subclass behind a stateful pre-filter (prefilter.py). pyte does what it does
well (cursor motion, erasing, scrolling regions, modes); Scarab handles what pyte lacks or gets
wrong: SGR (so 256-colour indexes and truecolor stay distinct, with dim and colon forms), wide and
zero-width characters, the alternate screen, SU/SD, REP, `CSI s/u`, DECSCUSR, DECSTR, keypad mode,
DEC line drawing in UTF-8 mode, OSC title/cwd, and replies to DSR/CPR/DA1/DA2/DECRQM/XTVERSION.
Rows leaving the top of the main screen are frozen into a compact scrollback (text + style runs);
`HistoryScreen` is never used. No IO happens here.

References: ECMA-48; DEC STD 070 / VT510 manual (DECSCUSR, DECRQM, DECSTR); xterm ctlseqs.
"""

from __future__ import annotations

import codecs
import re
import urllib.parse
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pyte
from pyte import modes as mo
from wcwidth import wcwidth

from scarab.daemon.prefilter import Csi, Designate, Esc, Osc, Prefilter, Shift, Text, Token
from scarab.styles import DEFAULT_STYLE, TRUECOLOR, Attr, Line, Mode, Style, line_to_ansi

__all__ = ["DEFAULT_SCROLLBACK", "Emulator"]

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
_DECCKM = 1 << 5

# Colours travel inside pyte's Char.fg/bg strings in our own form: "default", "p<index>",
# "#rrggbb"; a "d:" prefix on fg marks dim (pyte's Char has no field for it).
_SGR_FLAGS = {1: "bold", 3: "italics", 4: "underscore", 5: "blink", 7: "reverse", 9: "strikethrough"}
_SGR_CLEAR = {22: ("bold",), 23: ("italics",), 24: ("underscore",), 25: ("blink",), 27: ("reverse",),
              29: ("strikethrough",)}  # fmt: skip


@lru_cache(maxsize=4096)
def _colour(value: str) -> int:
    if value.startswith("p"):
        return int(value[1:])
    if value.startswith("#"):
        return TRUECOLOR | int(value[1:], 16)
    return -1


_EMPTY_LINE = Line("", ())
# Cell attributes (Char fields after `data`) -> Style; bounded by the distinct styles a session uses.
_STYLE_OF: dict[tuple[Any, ...], Style] = {}


@lru_cache(maxsize=8192)
def _style(fg: str, bg: str, bold: bool, italics: bool, underscore: bool, strike: bool, reverse: bool,
           blink: bool) -> Style:  # fmt: skip
    dim = fg.startswith("d:")
    if dim:
        fg = fg[2:]
    flags = (
        (Attr.BOLD if bold else 0)
        | (Attr.DIM if dim else 0)
        | (Attr.ITALIC if italics else 0)
        | (Attr.UNDERLINE if underscore else 0)
        | (Attr.STRIKE if strike else 0)
        | (Attr.REVERSE if reverse else 0)
        | (Attr.BLINK if blink else 0)
    )
    style = Style(_colour(fg), _colour(bg), int(flags))
    # The default style is one shared object, so rows can test it with `is`.
    return DEFAULT_STYLE if style == DEFAULT_STYLE else style


def _plain_line(text: str, style: Style) -> Line:
    """The Line `row()` gives for `text` drawn in one style on a fresh row."""
    if style is DEFAULT_STYLE:
        text = text.rstrip(" ")
    return Line(text, ((len(text), style),)) if text else _EMPTY_LINE


# Printable ASCII lines joined by CR LF, worth the fast path when long.
_PLAIN_LINES = re.compile(r"[\x20-\x7e]*(?:\r\n[\x20-\x7e]*)+\Z")
FAST_PATH_MIN = 256


def _params(text: str, default: int = 0) -> list[int]:
    """`1;;3` -> [1, default, 3]; colon sub-parameters keep only their first part."""
    out = []
    for part in text.split(";") if text else [""]:
        head = part.split(":", 1)[0]
        out.append(min(int(head), MAX_PARAM) if head.isdigit() else default)
    return out


class _Screen(pyte.Screen):  # type: ignore[misc]
    """pyte's screen with scrollback capture, the alternate screen and correct wide characters."""

    def __init__(self, columns: int, lines: int, scrollback: int) -> None:
        self.history: deque[Line] = deque(maxlen=max(0, scrollback))
        self.pushed = 0  # rows ever pushed into history: the stable index of the next one
        self.alt_saved: tuple[Any, Any] | None = None  # (main buffer, main cursor) while on alt screen
        self.alt_cursor: Any = None  # the cursor saved by ?1049h
        self.private_modes = Mode(0)
        self.cursor_shape = 0
        self.last_char = ""
        self._cells: dict[str, Any] = {}
        self._cells_attrs: Any = None
        super().__init__(columns, lines)

    def reset(self) -> None:
        super().reset()
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
        attrs = cursor.attrs
        if attrs is not self._cells_attrs:
            self._cells, self._cells_attrs = {}, attrs
        cells = self._cells
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
                        line[cursor.x] = attrs._replace(data=" ")  # the half cell a wide char cannot use
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
                line[x - 1] = line[x - 1]._replace(data=" ")
            end = x + width
            if end < columns and line[end].data == "" and line[end - 1].data != "":
                line[end] = line[end]._replace(data=" ")
            cell = cells.get(char)
            if cell is None:
                cell = cells[char] = attrs._replace(data=char)
            line[x] = cell
            if width == 2 and x + 1 < columns:
                stub = cells.get("")
                if stub is None:
                    stub = cells[""] = attrs._replace(data="")
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
            line[x] = line[x]._replace(data=line[x].data + char)
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
        physical: list[str] = []
        for seg in rest[i:]:
            if len(seg) <= columns:
                physical.append(seg)
            else:
                physical.extend(seg[k : k + columns] for k in range(0, len(seg), columns))
        attrs = self.cursor.attrs
        style = _STYLE_OF.get(attrs[1:]) or _style(*attrs[1:9])
        n = len(physical)
        old_rows = min(n, lines)
        maxlen = self.history.maxlen
        if maxlen:
            append = self.history.append
            scrolled = physical[: max(0, n - lines)]
            # Rows that would be pushed out of the bounded scrollback again are never built.
            skip = max(0, old_rows + len(scrolled) - maxlen)
            for y in range(skip, old_rows):
                append(self.row(y))
            for chunk in scrolled[max(0, skip - old_rows) :]:
                append(_plain_line(chunk, style))
            self.pushed += old_rows + len(scrolled)  # the skipped ones too: they were pushed, then dropped
        keep = [self.buffer[y] for y in range(old_rows, lines)]
        if attrs is not self._cells_attrs:
            self._cells, self._cells_attrs = {}, attrs
        cells = self._cells
        buffer = type(self.buffer)(self.buffer.default_factory)  # type: ignore[attr-defined]
        for y, line in enumerate(keep):
            buffer[y] = line
        for y, chunk in enumerate(physical[max(0, n - lines) :], start=len(keep)):
            row = buffer[y]
            for x, char in enumerate(chunk):
                cell = cells.get(char)
                if cell is None:
                    cell = cells[char] = attrs._replace(data=char)
                row[x] = cell
        self.buffer = buffer
        self.cursor.x = len(physical[-1])
        self.cursor.y = lines - 1
        last = next((seg for seg in reversed(rest) if seg), "")
        if last:
            self.last_char = last[-1]
        self.dirty.update(range(lines))
        return True

    def repeat(self, count: int) -> None:
        """REP: the last graphic character again, `count` times (bounded by the screen)."""
        if self.last_char:
            self.draw(self.last_char * min(max(count, 1), self.columns * self.lines))

    # -- scrolling --------------------------------------------------------------------------------

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        # Only a full-screen scroll on the main screen pushes a row into scrollback, as in tmux.
        if self.cursor.y == bottom and top == 0 and self.alt_saved is None and self.history.maxlen:
            self.history.append(self.row(0))
            self.pushed += 1
        super().index()

    def scroll(self, count: int, up: bool) -> None:
        """SU / SD: scroll the region without moving the cursor."""
        top, bottom = self.margins or (0, self.lines - 1)
        x, y = self.cursor.x, self.cursor.y
        self.cursor.y = bottom if up else top
        for _ in range(min(max(count, 1), bottom - top + 1)):
            self.index() if up else self.reverse_index()
        self.cursor.x, self.cursor.y = x, y

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        """ED; `CSI 3 J` erases the scrollback only (xterm's "erase saved lines", as tmux does),
        where pyte would erase the screen."""
        if how == 3:
            self.history.clear()
        else:
            super().erase_in_display(how, *args, **kwargs)

    # -- rows -------------------------------------------------------------------------------------

    def row(self, y: int) -> Line:
        """Row `y` as text + style runs. Only cells that were written are visited: pyte keeps
        rows as sparse dicts, and a row frozen into scrollback is usually short."""
        line = self.buffer[y]
        if not line:
            return _EMPTY_LINE
        columns = self.columns
        chars: list[str] = []
        runs: list[tuple[int, Style]] = []
        last_style: Style | None = None
        count = 0
        expected = 0
        styles = _STYLE_OF
        for x in sorted(line):
            if x >= columns:
                break
            cell = line[x]
            data = cell.data
            if x > expected:  # unwritten cells are default blanks
                gap = x - expected
                chars.append(" " * gap)
                if last_style is DEFAULT_STYLE:
                    count += gap
                else:
                    if last_style is not None:
                        runs.append((count, last_style))
                    last_style, count = DEFAULT_STYLE, gap
            expected = x + 1
            if not data:
                continue  # second half of a wide character
            key = cell[1:]
            style = styles.get(key)
            if style is None:
                if len(styles) > 65536:
                    styles.clear()  # a hostile stream of distinct colours must not grow memory
                style = styles[key] = _style(*key[:8])
            chars.append(data)
            if style is last_style:
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

    # -- SGR --------------------------------------------------------------------------------------

    def sgr(self, text: str) -> None:
        """SGR with `;` or `:` separators; colours kept as palette index or rgb."""
        groups = [part.split(":") for part in text.split(";")] if text else [[""]]
        attrs = self.cursor.attrs
        changes: dict[str, Any] = {}
        fg = attrs.fg
        i = 0
        while i < len(groups):
            group = groups[i]
            head = group[0]
            code = int(head) if head.isdigit() else 0
            i += 1
            if code == 0:
                changes = {name: False for name in _SGR_FLAGS.values()}
                fg, changes["bg"] = "default", "default"
            elif code in _SGR_FLAGS:
                if code == 4 and len(group) > 1 and group[1] == "0":
                    changes["underscore"] = False  # 4:0 is "no underline"
                else:
                    changes[_SGR_FLAGS[code]] = True
            elif code == 2:
                fg = fg if fg.startswith("d:") else "d:" + fg
            elif code == 22:
                changes["bold"] = False
                fg = fg.removeprefix("d:")
            elif code in _SGR_CLEAR:
                for name in _SGR_CLEAR[code]:
                    changes[name] = False
            elif 30 <= code <= 37 or 90 <= code <= 97 or code == 39:
                colour = "default" if code == 39 else f"p{code - 30 if code < 90 else code - 82}"
                fg = ("d:" if fg.startswith("d:") else "") + colour
            elif 40 <= code <= 47 or 100 <= code <= 107 or code == 49:
                changes["bg"] = "default" if code == 49 else f"p{code - 40 if code < 100 else code - 92}"
            elif code in (38, 48, 58):
                if len(group) > 1:
                    args = group[1:]  # colon form: 38:5:n, 38:2::r:g:b or 38:2:r:g:b
                    if args[0] == "2" and len(args) >= 5:
                        args = ["2", *args[-3:]]
                else:
                    kind = groups[i][0] if i < len(groups) else ""
                    take = 2 if kind == "5" else 4 if kind == "2" else 1
                    args = [g[0] for g in groups[i : i + take]]
                    i += take
                picked = _sgr_colour(args)
                if picked is not None and code != 58:  # 58 (underline colour) is not kept
                    if code == 38:
                        fg = ("d:" if fg.startswith("d:") else "") + picked
                    else:
                        changes["bg"] = picked
        if fg != attrs.fg:
            changes["fg"] = fg
        if changes:
            self.cursor.attrs = attrs._replace(**changes)

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
            elif mode == 3:
                continue  # DECCOLM would resize to 132 columns under the user; tmux ignores it too
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
        self.cursor.attrs = self.default_char
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
                if blank == excess or any(cell.data not in (" ", "") for cell in self.buffer[y].values()):
                    break
                blank += 1
            top = excess - blank
            if self.alt_saved is None and self.history.maxlen:
                for y in range(top):
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


def _sgr_colour(args: list[str]) -> str | None:
    try:
        if args[0] == "5" and len(args) >= 2:
            return f"p{min(int(args[1] or 0), 255)}"
        if args[0] == "2" and len(args) >= 4:
            r, g, b = (min(int(v or 0), 255) for v in args[1:4])
            return f"#{r:02x}{g:02x}{b:02x}"
    except ValueError:
        pass
    return None


class Emulator:
    """One session's terminal state."""

    def __init__(
        self,
        cols: int,
        rows: int,
        scrollback: int = DEFAULT_SCROLLBACK,
        on_reply: Callable[[bytes], None] | None = None,
        allow_clipboard: bool = False,
    ) -> None:
        self.screen = _Screen(cols, rows, scrollback)
        self.stream = pyte.Stream(self.screen)
        self.prefilter = Prefilter()
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._on_reply = on_reply
        self.screen.write_process_input = self._reply  # type: ignore[method-assign]
        self.bell = False
        self.screen.bell = self._ring  # type: ignore[method-assign]
        self.charsets = {"(": "B", ")": "B", "*": "B", "+": "B"}
        self.shift = 0
        self.osc_cwd = ""
        self.allow_clipboard = allow_clipboard
        self.fast_path = True  # off only in the test that compares both paths
        self.clipboard: str | None = None

    def take(self, cols: int, rows: int, scrollback: int, on_reply: Callable[[bytes], None] | None) -> None:
        """Turn this never-fed emulator into a fresh one of this size.

        How a host forked from the zygote gets its emulator: building one (pyte's parser and its
        dispatch tables of bound methods) touches pages of the zygote that fork then copies into
        every host (measured: ~160 KB per idle host); a blank one the zygote built is shared until
        written to."""
        self._on_reply = on_reply
        if scrollback != self.screen.history.maxlen:
            self.screen.history = deque(maxlen=max(0, scrollback))
        if (cols, rows) != (self.cols, self.rows):
            self.resize(cols, rows)

    def _reply(self, data: str) -> None:
        if self._on_reply is not None:
            self._on_reply(data.encode())

    def _ring(self, *args: Any) -> None:
        self.bell = True

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
    def history(self) -> deque[Line]:
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
        offset = start - oldest
        return start, [history[i] for i in range(offset, offset + end - start)]

    def clear_history(self) -> None:
        self.screen.history.clear()

    # -- input ------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        for token in self.prefilter.feed(self.decoder.decode(data)):
            try:
                self._dispatch(token)
            except Exception:
                continue

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
                            self.stream.feed(head)
                        if self.screen.write_lines(body):
                            if tail:
                                self.stream.feed(tail)
                            return
                        text = body + tail
                self.stream.feed(text)
            case Csi():
                self._csi(token)
            case Osc(payload=payload):
                self._osc(payload)
            case Esc(seq=seq):
                if seq == "\x1b=":
                    self.screen.private_modes |= Mode.KEYPAD
                elif seq == "\x1b>":
                    self.screen.private_modes &= ~Mode.KEYPAD
                else:
                    if seq == "\x1bc":  # RIS: everything back to power-on state
                        self.charsets = dict.fromkeys(self.charsets, "B")
                        self.shift = 0
                    self.stream.feed(seq)
            case Designate(slot=slot, code=code):
                self.charsets[slot] = code
            case Shift(g=g):
                self.shift = g

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
        if marker in ("<", "="):
            return
        if marker == "?":
            if final in "hlJK":
                self.stream.feed(f"\x1b[?{params.replace(':', ';')}{final}")
            elif final == "n" and _params(params)[0] == 6:  # DECXCPR
                self._reply(f"\x1b[?{screen.cursor.y + 1};{min(screen.cursor.x, self.cols - 1) + 1}R")
            return
        if final == "m":
            screen.sgr(params)
            return
        if ":" in params:
            return  # colon parameters mean nothing outside SGR
        n = _params(params)[0]
        if final == "S":
            screen.scroll(n or 1, up=True)
        elif final == "T":
            screen.scroll(n or 1, up=False)
        elif final == "b":
            screen.repeat(n or 1)
        elif final == "s" and not params:
            screen.save_cursor()
        elif final == "u" and not params:
            screen.restore_cursor()
        elif final == "c":
            if n == 0:
                self._reply("\x1b[?1;2c")  # DA1: VT100 with advanced video, as tmux answers
        elif final == "t":
            if n == 18:
                self._reply(f"\x1b[8;{self.rows};{self.cols}t")
        elif final in "pqxyz{|}~w":
            return  # DEC private controls with no meaning here; pyte would draw some of them
        else:
            self.stream.feed(f"\x1b[{params}{final}")

    def _osc(self, payload: str) -> None:
        code, _, rest = payload.partition(";")
        if code in ("0", "2"):
            self.screen.title = rest[:256]
        elif code == "7":
            url = urllib.parse.urlparse(rest)
            if url.scheme == "file" and url.path:
                self.osc_cwd = urllib.parse.unquote(url.path)
        elif code in ("10", "11") and rest == "?":
            # Programs ask the background to choose a palette; report a dark terminal.
            colour = "ffff/ffff/ffff" if code == "10" else "0000/0000/0000"
            self._reply(f"\x1b]{code};rgb:{colour}\x1b\\")
        elif code == "52" and self.allow_clipboard:
            self.clipboard = rest.partition(";")[2]
        # OSC 8 hyperlinks: the text stays, the link is dropped. Anything else is ignored.

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

    def capture(self, scrollback: bool = False, ansi: bool = False) -> str:
        """The screen (optionally preceded by scrollback) as text, like `tmux capture-pane -p`."""
        lines = list(self.history) if scrollback else []
        lines += self.screen_lines()
        while lines and not lines[-1].text:
            lines.pop()
        render = line_to_ansi if ansi else (lambda line: line.text)
        return "".join(render(line) + "\n" for line in lines)

    def restore(self, screen: list[str], scrollback: list[str], marker: str) -> None:
        """Show a saved session: old scrollback, old screen, then a marker line above the new shell."""
        saved = [*scrollback, *screen]
        while saved and not saved[-1].strip():
            saved.pop()
        for line in saved:
            self.feed(line.encode() + b"\x1b[0m\r\n")
        self.feed(b"\x1b[0;2m" + marker.encode() + b"\x1b[0m\r\n")
