"""Banner layer: a resurrected pane's offer to run its last foreground program again. Pure.

When a snapshot is saved, the pane's foreground program is read from /proc (procinfo.foreground);
if it was not the pane's own program (the shell), its command line goes into the snapshot. A pane
restored from that snapshot shows one line under its old screen,
`[scarab: was running "vim notes.md" — Enter to run again, Esc to dismiss]`, and the offer decides
what the first keys typed into the pane do: Enter types the command into the new shell, Esc
dismisses the offer, anything else dismisses it and goes to the shell as typed. Nothing runs on
its own.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

__all__ = ["Offer"]

ENTER = (b"\r", b"\n", b"\x1bOM")  # Enter as terminals send it (and keypad Enter in application mode)
ESCAPE = b"\x1b"


@dataclass(frozen=True)
class Offer:
    argv: tuple[str, ...]

    @property
    def command(self) -> str:
        return shlex.join(self.argv)

    def banner(self) -> str:
        return f'[scarab: was running "{self.command}" \u2014 Enter to run again, Esc to dismiss]'

    def take(self, keys: bytes) -> bytes:
        """The bytes that go to the shell for the first `keys` typed while the offer stands (it
        stands no longer afterwards)."""
        if keys in ENTER:
            return self.command.encode() + b"\r"
        if keys == ESCAPE:
            return b""
        return keys
