"""Styles layer (pure, shared by host and client): cell styles, colour encoding, modes, ANSI output.

A colour is an int: -1 default, 0-255 a palette index (so clients can theme 0-15), or
TRUECOLOR | 0xRRGGBB. A style is (fg, bg, flags). Lines travel and are stored as text plus
runs of (char_count, style).
"""

from __future__ import annotations

import enum
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "DEFAULT_STYLE",
    "TRUECOLOR",
    "Attr",
    "Line",
    "Mode",
    "Style",
    "line_to_ansi",
    "sgr",
]

TRUECOLOR = 0x1000000


class Attr(enum.IntFlag):
    BOLD = 1
    ITALIC = 2
    UNDERLINE = 4
    REVERSE = 8
    STRIKE = 16
    BLINK = 32
    DIM = 64


class Mode(enum.IntFlag):
    """Terminal modes a client must honour when encoding input."""

    CURSOR_KEYS = 1  # DECCKM: arrows send ESC O A
    KEYPAD = 2  # DECKPAM
    MOUSE_X10 = 4  # ?9
    MOUSE_NORMAL = 8  # ?1000
    MOUSE_BUTTON = 16  # ?1002
    MOUSE_ANY = 32  # ?1003
    MOUSE_SGR = 64  # ?1006
    BRACKETED_PASTE = 128  # ?2004
    ALT_SCREEN = 256  # ?1049 / ?1047 / ?47
    FOCUS = 512  # ?1004


class Style(NamedTuple):
    fg: int = -1
    bg: int = -1
    flags: int = 0


DEFAULT_STYLE = Style()


class Line(NamedTuple):
    """One row: its text (wide characters once, no padding cells) and (char_count, style) runs."""

    text: str
    runs: tuple[tuple[int, Style], ...]


def _colour_sgr(colour: int, background: bool) -> str:
    if colour < 0:
        return "49" if background else "39"
    if colour & TRUECOLOR:
        rgb = colour & 0xFFFFFF
        return f"{48 if background else 38};2;{rgb >> 16};{(rgb >> 8) & 0xFF};{rgb & 0xFF}"
    if colour < 8:
        return str((40 if background else 30) + colour)
    if colour < 16:
        return str((100 if background else 90) + colour - 8)
    return f"{48 if background else 38};5;{colour}"


_FLAG_SGR = (
    (Attr.BOLD, "1"),
    (Attr.DIM, "2"),
    (Attr.ITALIC, "3"),
    (Attr.UNDERLINE, "4"),
    (Attr.BLINK, "5"),
    (Attr.REVERSE, "7"),
    (Attr.STRIKE, "9"),
)


@lru_cache(maxsize=4096)
def sgr(style: Style) -> str:
    """The escape sequence that sets exactly `style` from any previous state."""
    parts = ["0"]
    parts += [code for flag, code in _FLAG_SGR if style.flags & flag]
    if style.fg != -1:
        parts.append(_colour_sgr(style.fg, False))
    if style.bg != -1:
        parts.append(_colour_sgr(style.bg, True))
    return "\x1b[" + ";".join(parts) + "m"


def line_to_ansi(line: Line) -> str:
    """A row as text with SGR sequences, resetting at the end when it used any style."""
    out: list[str] = []
    pos = 0
    current = DEFAULT_STYLE
    for count, style in line.runs:
        if style != current:
            out.append(sgr(style))
            current = style
        out.append(line.text[pos : pos + count])
        pos += count
    if current != DEFAULT_STYLE:
        out.append("\x1b[0m")
    return "".join(out)
