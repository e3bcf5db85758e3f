"""Emulator layer: bytes in, screen + scrollback + dirty rows out; replies through one callback.

A pyte `Screen` subclass that keeps its own compact scrollback (rows frozen to text + style runs as
they scroll off, never `HistoryScreen`), an alternate screen, and a stream that survives handler
errors without losing the rest of the chunk. No IO happens here: the host feeds bytes and reads
rows; terminal replies (DSR, DA) go out through `on_reply`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pyte
from pyte import graphics
from pyte import modes as mo

from scarab.styles import DEFAULT_STYLE, TRUECOLOR, Attr, Line, Mode, Style, line_to_ansi

__all__ = ["DEFAULT_SCROLLBACK", "Emulator"]

DEFAULT_SCROLLBACK = 10_000

_NAMED = {name: i for i, name in enumerate(["black", "red", "green", "brown", "blue", "magenta", "cyan", "white"])}
_NAMED |= {"bright" + name: i + 8 for name, i in list(_NAMED.items())}
_NAMED["yellow"] = 3
_NAMED["brightyellow"] = 11
# pyte turns 256-colour indexes into hex; map the 16-255 cube back to its index so themes apply.
_PALETTE = {hexcode: i for i, hexcode in enumerate(graphics.FG_BG_256) if i >= 16}

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


@lru_cache(maxsize=1024)
def _colour(value: str) -> int:
    if value == "default":
        return -1
    named = _NAMED.get(value)
    if named is not None:
        return named
    index = _PALETTE.get(value)
    if index is not None:
        return index
    try:
        return TRUECOLOR | int(value, 16)
    except ValueError:
        return -1


@lru_cache(maxsize=8192)
def _style(
    fg: str, bg: str, bold: bool, italics: bool, underscore: bool, strike: bool, reverse: bool, blink: bool
) -> Style:
    flags = (
        (Attr.BOLD if bold else 0)
        | (Attr.ITALIC if italics else 0)
        | (Attr.UNDERLINE if underscore else 0)
        | (Attr.STRIKE if strike else 0)
        | (Attr.REVERSE if reverse else 0)
        | (Attr.BLINK if blink else 0)
    )
    return Style(_colour(fg), _colour(bg), int(flags))


class _Screen(pyte.Screen):  # type: ignore[misc]
    """pyte's screen plus scrollback capture and the alternate screen."""

    def __init__(self, columns: int, lines: int, scrollback: int) -> None:
        self.history: deque[Line] = deque(maxlen=max(0, scrollback))
        self.alt_saved: tuple[Any, Any] | None = None  # (main buffer, main cursor) while on alt screen
        self.private_modes = Mode(0)
        super().__init__(columns, lines)

    def reset(self) -> None:
        super().reset()
        self.alt_saved = None
        self.private_modes = Mode(0)

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        # Only a full-screen scroll on the main screen pushes a row into scrollback, as in tmux.
        if self.cursor.y == bottom and top == 0 and self.alt_saved is None and self.history.maxlen:
            self.history.append(self.row(0))
        super().index()

    def row(self, y: int) -> Line:
        line = self.buffer[y]
        chars: list[str] = []
        runs: list[tuple[int, Style]] = []
        last_style: Style | None = None
        count = 0
        for x in range(self.columns):
            cell = line[x]
            data = cell.data
            if not data:
                continue  # second half of a wide character
            style = _style(
                cell.fg,
                cell.bg,
                cell.bold,
                cell.italics,
                cell.underscore,
                cell.strikethrough,
                cell.reverse,
                cell.blink,
            )
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
        # Trailing default blanks carry nothing; clients pad rows to the screen width.
        if runs and runs[-1][1] == DEFAULT_STYLE:
            stripped = text.rstrip(" ")
            cut = len(text) - len(stripped)
            if cut:
                n = runs[-1][0] - cut
                runs[-1:] = [(n, DEFAULT_STYLE)] if n > 0 else []
                text = stripped
        return Line(text, tuple(runs))

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
        if on and self.alt_saved is None:
            cursor = self.cursor
            self.alt_saved = (self.buffer, cursor)
            self.buffer = type(self.buffer)(self.buffer.default_factory)  # type: ignore[attr-defined]
            self.cursor = pyte.screens.Cursor(cursor.x, cursor.y, cursor.attrs)
            if save_cursor:
                self.cursor.x, self.cursor.y = cursor.x, cursor.y
            self.private_modes |= Mode.ALT_SCREEN
        elif not on and self.alt_saved is not None:
            buffer, cursor = self.alt_saved
            self.buffer = buffer
            if save_cursor:
                self.cursor = cursor
            self.cursor.x = min(self.cursor.x, self.columns - 1)
            self.cursor.y = min(self.cursor.y, self.lines - 1)
            self.alt_saved = None
            self.private_modes &= ~Mode.ALT_SCREEN
        self.dirty.update(range(self.lines))

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = lines or self.lines
        if lines < self.lines and self.alt_saved is None:
            # Rows trimmed off the top are not lost: they go to scrollback, as in tmux.
            for y in range(self.lines - lines):
                self.history.append(self.row(y))
        super().resize(lines, columns)
        self.cursor.x = min(self.cursor.x, self.columns - 1)
        self.cursor.y = min(self.cursor.y, self.lines - 1)


class _Stream(pyte.ByteStream):  # type: ignore[misc]
    def _send_to_parser(self, data: str) -> bool | None:
        try:
            return super()._send_to_parser(data)  # type: ignore[no-any-return]
        except Exception:
            # pyte has reset its parser; dropping one bad sequence keeps the rest of the chunk.
            return True


class Emulator:
    """One session's terminal state."""

    def __init__(
        self,
        cols: int,
        rows: int,
        scrollback: int = DEFAULT_SCROLLBACK,
        on_reply: Callable[[bytes], None] | None = None,
    ) -> None:
        self.screen = _Screen(cols, rows, scrollback)
        self.stream = _Stream(self.screen)
        self._on_reply = on_reply
        self.screen.write_process_input = self._reply  # type: ignore[method-assign]
        self.bell = False
        self.screen.bell = self._ring  # type: ignore[method-assign]

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
        if (1 << 5) in self.screen.mode:  # DECCKM, as pyte stores private modes
            modes |= Mode.CURSOR_KEYS
        return int(modes)

    @property
    def cursor(self) -> tuple[int, int, bool, int]:
        c = self.screen.cursor
        return (min(c.x, self.cols - 1), c.y, mo.DECTCEM in self.screen.mode, 0)

    @property
    def history(self) -> deque[Line]:
        return self.screen.history

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)

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
