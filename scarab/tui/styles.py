"""TUI styles layer (pure): protocol styles to Rich styles, cached."""

from __future__ import annotations

from functools import lru_cache

from rich.cells import cell_len
from rich.color import Color
from rich.style import Style as RichStyle

from scarab.styles import TRUECOLOR, Attr

__all__ = ["UNUSED", "rich_style", "same_width_everywhere"]


def _colour(value: int) -> Color | None:
    if value < 0:
        return None
    if value & TRUECOLOR:
        rgb = value & 0xFFFFFF
        return Color.from_rgb(rgb >> 16, (rgb >> 8) & 0xFF, rgb & 0xFF)
    return Color.from_ansi(value & 0xFF)


@lru_cache(maxsize=4096)
def rich_style(fg: int, bg: int, flags: int) -> RichStyle:
    return RichStyle(
        color=_colour(fg),
        bgcolor=_colour(bg),
        bold=bool(flags & Attr.BOLD) or None,
        dim=bool(flags & Attr.DIM) or None,
        italic=bool(flags & Attr.ITALIC) or None,
        underline=bool(flags & Attr.UNDERLINE) or None,
        reverse=bool(flags & Attr.REVERSE) or None,
        strike=bool(flags & Attr.STRIKE) or None,
        blink=bool(flags & Attr.BLINK) or None,
    )


UNUSED = RichStyle(dim=True)  # the border and dots where a view is larger than its session


@lru_cache(maxsize=4096)
def _same_width(char: str) -> str:
    from wcwidth import wcwidth  # here: importing it costs ~60 ms, and cold attach rarely needs it

    width = wcwidth(char)
    if width < 0 or cell_len(char) == width:
        return char
    # Rich (so Textual's layout) and the terminal would disagree on where the next cell starts.
    return " " * width


def same_width_everywhere(text: str) -> str:
    """`text` with each character whose width Rich measures differently from wcwidth (what the
    session's emulator, tmux and the terminal use) replaced by blanks of the emulator's width.

    An emoji modifier (`🏽` in `👍🏽`) is 2 cells to the emulator and tmux 3.3a but 0 to Rich: drawn
    as is, every cell after it (a border too) lands 2 columns away from where Textual placed it."""
    if text.isascii():
        return text
    return "".join(map(_same_width, text))
