"""TUI keys layer (pure): pastes and mouse reports as the bytes a terminal sends.

Keys themselves are encoded by `scarab.keys`, the one encoder the CLI's `send` uses too.
"""

from __future__ import annotations

__all__ = ["encode_mouse", "encode_paste"]


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
