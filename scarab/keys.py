"""Keys layer (pure): tmux `send-keys` key names to the bytes a terminal would send.

`Enter`, `Tab`, `BSpace`, `Escape`, `Space`, arrows, `Home`/`End`, `PPage`/`NPage`, `IC`/`DC`, `F1`-`F12`,
`BTab`, with `C-` (control) and `M-` (meta, ESC prefix) modifiers; anything else is literal text.
"""

from __future__ import annotations

__all__ = ["key_bytes", "send_keys_bytes"]

_NAMED: dict[str, bytes] = {
    "enter": b"\r",
    "tab": b"\t",
    "btab": b"\x1b[Z",
    "bspace": b"\x7f",
    "backspace": b"\x7f",
    "escape": b"\x1b",
    "esc": b"\x1b",
    "space": b" ",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "home": b"\x1b[1~",
    "end": b"\x1b[4~",
    "ic": b"\x1b[2~",
    "insert": b"\x1b[2~",
    "dc": b"\x1b[3~",
    "delete": b"\x1b[3~",
    "ppage": b"\x1b[5~",
    "pageup": b"\x1b[5~",
    "pgup": b"\x1b[5~",
    "npage": b"\x1b[6~",
    "pagedown": b"\x1b[6~",
    "pgdn": b"\x1b[6~",
    "f1": b"\x1bOP",
    "f2": b"\x1bOQ",
    "f3": b"\x1bOR",
    "f4": b"\x1bOS",
    "f5": b"\x1b[15~",
    "f6": b"\x1b[17~",
    "f7": b"\x1b[18~",
    "f8": b"\x1b[19~",
    "f9": b"\x1b[20~",
    "f10": b"\x1b[21~",
    "f11": b"\x1b[23~",
    "f12": b"\x1b[24~",
}


def _ctrl(char: str) -> bytes | None:
    c = char.lower()
    if "a" <= c <= "z":
        return bytes([ord(c) - ord("a") + 1])
    special = {" ": 0, "@": 0, "2": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31, "?": 127, "/": 31}
    code = special.get(c)
    return bytes([code]) if code is not None else None


def key_bytes(key: str) -> bytes | None:
    """One key name (`C-c`, `M-x`, `Enter`, `F5`) as bytes, or None when it is not a key name."""
    meta = False
    ctrl = False
    rest = key
    while len(rest) > 2 and rest[1] == "-" and rest[0] in "CMSsmc":
        if rest[0] in "Cc":
            ctrl = True
        elif rest[0] in "Mm":
            meta = True
        else:
            return None  # shift is folded into the key itself by the caller (e.g. BTab)
        rest = rest[2:]
    if not (ctrl or meta) and rest.lower() not in _NAMED:
        return None
    named = _NAMED.get(rest.lower())
    if named is not None:
        if ctrl and named in (b" ",):
            named = b"\x00"
        elif ctrl:
            return None
        data = named
    elif len(rest) == 1:
        if ctrl:
            ctl = _ctrl(rest)
            if ctl is None:
                return None
            data = ctl
        else:
            data = rest.encode()
    else:
        return None
    return b"\x1b" + data if meta else data


def send_keys_bytes(keys: list[str], literal: bool = False) -> bytes:
    """Arguments of `scarab send` as bytes: key names become keys, other words are typed as text."""
    if literal:
        return "".join(keys).encode()
    out = bytearray()
    for key in keys:
        data = key_bytes(key)
        out += data if data is not None else key.encode()
    return bytes(out)
