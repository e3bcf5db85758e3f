"""TUI keys layer (pure): Textual key events to the bytes a terminal sends, and mouse reports.

Encodes from `event.key` through tables, never from `event.character` alone: Pilot and real terminals
disagree on `character` for control keys. Cursor-key mode (DECCKM) switches arrows to SS3 form.
"""

from __future__ import annotations

__all__ = ["encode_key", "encode_mouse", "encode_paste"]

_CSI_LETTER = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_CSI_TILDE = {"insert": 2, "delete": 3, "pageup": 5, "pagedown": 6, "f5": 15, "f6": 17, "f7": 18, "f8": 19,
              "f9": 20, "f10": 21, "f11": 23, "f12": 24}  # fmt: skip
_SS3_F = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
_PLAIN = {
    "enter": b"\r",
    "tab": b"\t",
    "backspace": b"\x7f",
    "escape": b"\x1b",
    "space": b" ",
}
_CTRL_SPECIAL = {
    "@": 0, "space": 0, "at": 0, "2": 0,
    "left_square_bracket": 27, "[": 27,
    "backslash": 28, "\\": 28,
    "right_square_bracket": 29, "]": 29,
    "circumflex_accent": 30, "^": 30, "6": 30,
    "underscore": 31, "_": 31, "minus": 31, "/": 31, "slash": 31,
    "question_mark": 127, "?": 127,
}  # fmt: skip


def encode_key(key: str, character: str | None, cursor_keys: bool = False) -> bytes | None:
    """Bytes for one Textual key (`ctrl+c`, `alt+x`, `shift+up`, `f5`, `a`); None if it has none."""
    if key == "shift+tab":
        return b"\x1b[Z"
    parts = key.split("+")
    base = parts[-1]
    mods = set(parts[:-1])
    shift, alt, ctrl = "shift" in mods, "alt" in mods or "meta" in mods, "ctrl" in mods
    prefix = b"\x1b" if alt else b""
    modifier = 1 + shift + 2 * alt + 4 * ctrl

    if base in _CSI_LETTER:
        letter = _CSI_LETTER[base]
        if modifier > 1:
            return f"\x1b[1;{modifier}{letter}".encode()
        return f"\x1b{'O' if cursor_keys else '['}{letter}".encode()
    if base in _CSI_TILDE:
        n = _CSI_TILDE[base]
        return f"\x1b[{n};{modifier}~".encode() if modifier > 1 else f"\x1b[{n}~".encode()
    if base in _SS3_F:
        return f"\x1b[1;{modifier}{_SS3_F[base]}".encode() if modifier > 1 else f"\x1bO{_SS3_F[base]}".encode()
    if ctrl:
        if len(base) == 1 and base.isalpha():
            return prefix + bytes([ord(base.lower()) - ord("a") + 1])
        code = _CTRL_SPECIAL.get(base)
        if code is not None:
            return prefix + bytes([code])
        if base in _PLAIN:
            return prefix + _PLAIN[base]
        return None
    if base in _PLAIN:
        return prefix + _PLAIN[base]
    if character and character.isprintable():
        return prefix + character.encode()
    if len(base) == 1 and base.isprintable():
        return prefix + (base.upper() if shift else base).encode()
    return None


def encode_paste(text: str, bracketed: bool) -> bytes:
    # Terminals send newlines in a paste as CR, as if Enter was typed.
    data = text.replace("\r\n", "\r").replace("\n", "\r").encode()
    if bracketed:
        # A paste containing the end marker could otherwise escape the bracket.
        data = data.replace(b"\x1b[201~", b"")
        return b"\x1b[200~" + data + b"\x1b[201~"
    return data


def encode_mouse(button: int, x: int, y: int, *, press: bool, motion: bool = False, shift: bool = False,
                 meta: bool = False, ctrl: bool = False, sgr: bool = True) -> bytes | None:  # fmt: skip
    """A mouse report. `button`: 0 left, 1 middle, 2 right, 3 none (motion), 64/65 wheel up/down."""
    code = button + (4 if shift else 0) + (8 if meta else 0) + (16 if ctrl else 0) + (32 if motion else 0)
    if sgr:
        return f"\x1b[<{code};{x + 1};{y + 1}{'M' if press else 'm'}".encode()
    if x > 222 or y > 222:
        return None  # the legacy encoding cannot express it
    if not press:
        code = 3 + (code & ~3)
    return bytes([0x1B, ord("["), ord("M"), 32 + code, 33 + x, 33 + y])
