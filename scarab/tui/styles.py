"""TUI styles layer (pure): protocol styles to Rich styles, cached."""

from __future__ import annotations

from functools import lru_cache

from rich.color import Color
from rich.style import Style as RichStyle

from scarab.styles import TRUECOLOR, Attr

__all__ = ["rich_style"]


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
