"""SGR layer (pure): Select Graphic Rendition parameters applied to a cell style.

`apply_sgr(style, params)` is the whole job: `params` is the parameter text of one `CSI ... m`
exactly as the pre-filter collected it, with `;` or `:` separators. Colours stay what the program
asked for: a palette index (so clients can theme 0-15) or TRUECOLOR | 0xRRGGBB, never collapsed.

References: ECMA-48 8.3.117 (SGR); ITU T.416 and xterm ctlseqs for the `38;5;n`, `38;2;r;g;b`
and colon (`38:2::r:g:b`) colour forms; kitty's `4:n` underline styles.
"""

from __future__ import annotations

from functools import lru_cache

from scarab.styles import DEFAULT_STYLE, TRUECOLOR, Attr, Style

__all__ = ["apply_sgr"]

_SET = {1: Attr.BOLD, 2: Attr.DIM, 3: Attr.ITALIC, 4: Attr.UNDERLINE, 5: Attr.BLINK, 7: Attr.REVERSE,
        9: Attr.STRIKE}  # fmt: skip
_CLEAR = {22: Attr.BOLD | Attr.DIM, 23: Attr.ITALIC, 24: Attr.UNDERLINE, 25: Attr.BLINK, 27: Attr.REVERSE,
          29: Attr.STRIKE}  # fmt: skip


def _extended_colour(args: list[str]) -> int | None:
    """`5;n` or `2;r;g;b` (the parameters after 38/48/58) -> a colour; None when malformed."""
    if args[0] == "5" and len(args) >= 2:
        return min(int(args[1] or 0), 255)
    if args[0] == "2" and len(args) >= 4:
        r, g, b = (min(int(v or 0), 255) for v in args[1:4])
        return TRUECOLOR | r << 16 | g << 8 | b
    return None


@lru_cache(maxsize=8192)
def apply_sgr(style: Style, params: str) -> Style:
    """`style` after `CSI params m`. Programs repeat a handful of these, hence the cache."""
    groups = [part.split(":") for part in params.split(";")] if params else [[""]]
    fg, bg, flags = style
    i = 0
    while i < len(groups):
        group = groups[i]
        head = group[0]
        code = int(head) if head.isdigit() else 0
        i += 1
        if code == 0:
            fg, bg, flags = -1, -1, 0
        elif code in _SET:
            if code == 4 and len(group) > 1 and group[1] == "0":
                flags &= ~Attr.UNDERLINE  # 4:0 is "no underline"
            else:
                flags |= _SET[code]
        elif code in _CLEAR:
            flags &= ~_CLEAR[code]
        elif 30 <= code <= 37 or 90 <= code <= 97:
            fg = code - 30 if code < 90 else code - 82
        elif 40 <= code <= 47 or 100 <= code <= 107:
            bg = code - 40 if code < 100 else code - 92
        elif code == 39:
            fg = -1
        elif code == 49:
            bg = -1
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
            colour = _extended_colour(args)
            if colour is not None and code == 38:
                fg = colour
            elif colour is not None and code == 48:
                bg = colour
            # 58 (underline colour) is parsed so its arguments are not taken as codes, and not kept.
    result = Style(fg, bg, int(flags))
    # The default style is one shared object, so rows can test it with `is`.
    return DEFAULT_STYLE if result == DEFAULT_STYLE else result
