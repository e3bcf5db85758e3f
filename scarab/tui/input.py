"""TUI input layer: the terminal's bytes to Textual events, with keys decided as tmux decides them.

Textual's own input parser loses keys a terminal multiplexer must pass on (it turns `ESC b` into
ctrl+left, drops the Alt of Alt+Enter, ctrl+alt+a and Alt+Backspace, takes shift+F3 for a cursor
position report, and garbles Esc followed by more keys in one read). `TerminalInput` replaces it in
Textual's Linux driver: keys go through `scarab.keys.decode` (tmux's rules); what is not a key
(mouse reports, focus, bracketed paste, the terminal's replies to Textual's queries) is handed to
Textual's parser, whole, so Textual keeps handling those itself.

This replaces a private piece of Textual (`textual._xterm_parser.XTermParser`, looked up by
`textual.drivers.linux_driver`). `install` checks the pieces are where this was written for
(Textual `TEXTUAL_RANGE`) and refuses to start otherwise, rather than quietly mangling keys.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from importlib import metadata

from textual import events
from textual.message import Message

from scarab.errors import ScarabError
from scarab.keys import ESC, Key, Mod, decode, textual_key

__all__ = ["TEXTUAL_RANGE", "TerminalInput", "install", "key_events"]

TEXTUAL_RANGE = ((8, 2), (9, 0))
"""Textual versions whose driver this parser was written for: at least the first, below the second."""


PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
_FOCUS = ("\x1b[I", "\x1b[O")
# Sequences that are not keys: mouse reports, and replies to Textual's queries (mode reports, in-band resize).
_NOT_KEYS = re.compile(r"\x1b\[<\d+;-?\d+;-?\d+[Mm]|\x1b\[M[\s\S]{3}|\x1b\[\?[\d;]*\$?[\x40-\x7e]|\x1b\[48;[\d;:]*t")
_NOT_KEYS_PARTIAL = re.compile(r"\x1b\[(<[\d;-]*|M[\s\S]{0,2}|\?[\d;]*\$?|48;[\d;:]*)")
_PARTIAL_MAX = 64


def key_events(key: Key) -> list[events.Key]:
    """Textual key events for one key. Esc then a named key (`ESC ESC [A`) stays two keys, as tmux sends it."""
    if key.mods & Mod.META and not key.mods & Mod.IMPLIED_META and len(key.name) > 1 and key.name != "BSpace":
        return [*key_events(Key(ESC)), *key_events(Key(key.name, key.mods & ~Mod.META))]
    name, character = textual_key(key)
    return [events.Key(name, character)]


class TerminalInput:
    """Drop-in for Textual's XTermParser: `feed` the terminal's text, `tick` for the escape time."""

    def __init__(self, debug: bool = False) -> None:
        from textual._xterm_parser import XTermParser

        self._textual = XTermParser(debug)  # mouse, focus and replies: Textual's own handling
        self._buffer = ""
        self._paste: list[str] | None = None
        self._deadline: float | None = None
        # How long a lone Esc, or the start of a sequence, waits for the rest (tmux's escape-time).
        delay = os.environ.get("ESCDELAY", "")
        self._escape_time = max(1, int(delay) if delay.isdigit() else 10) / 1000

    def feed(self, data: str) -> Iterable[Message]:
        if not data:  # end of input: whatever is pending is complete
            return self._drain(expire=True)
        self._buffer += data
        return self._drain(expire=False)

    def tick(self) -> Iterable[Message]:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return self._drain(expire=True)
        return ()

    def _drain(self, expire: bool) -> list[Message]:
        out: list[Message] = []
        while self._buffer:
            if self._paste is not None:
                if not self._take_paste(out):
                    break
                continue
            taken = self._take_not_key(out)
            if taken is None:
                found = decode(self._buffer, expired=expire)
                if found is None:
                    break
                key, taken = found
                out.extend(key_events(key))
            if not taken:
                if not expire:
                    break
                taken = self._expired_not_key(out)
            self._buffer = self._buffer[taken:]
            self._deadline = None
            expire = False  # the escape time ends only the sequence that was waiting for it
        if self._buffer and self._deadline is None and self._paste is None:
            self._deadline = time.monotonic() + self._escape_time
        return out

    def _take_paste(self, out: list[Message]) -> bool:
        """Collect a bracketed paste; True when its end was found."""
        assert self._paste is not None
        end = self._buffer.find(PASTE_END)
        if end < 0:
            keep = len(self._buffer) - (len(PASTE_END) - 1)  # the end marker may be arriving in pieces
            if keep > 0:
                self._paste.append(self._buffer[:keep])
                self._buffer = self._buffer[keep:]
            return False
        self._paste.append(self._buffer[:end])
        self._buffer = self._buffer[end + len(PASTE_END) :]
        out.append(events.Paste("".join(self._paste).replace("\x00", "")))
        self._paste = None
        return True

    def _take_not_key(self, out: list[Message]) -> int | None:
        """Handle a sequence that is not a key at the start of the buffer: its size, 0 if it may still
        become one, None if it is none."""
        buf = self._buffer
        if not buf.startswith("\x1b["):
            return None
        if buf.startswith(PASTE_START):
            self._paste = []
            return len(PASTE_START)
        if buf.startswith(_FOCUS) or (match := _NOT_KEYS.match(buf)) is not None:
            seq = buf[:3] if buf.startswith(_FOCUS) else match.group(0)  # type: ignore[union-attr]
            if not seq.startswith("\x1b[?") or seq.endswith("$y"):
                out.extend(self._textual.feed(seq))  # other replies (device attributes...) are dropped
            return len(seq)
        if len(buf) < _PARTIAL_MAX and (
            PASTE_START.startswith(buf) or ((m := _NOT_KEYS_PARTIAL.fullmatch(buf)) is not None and m.end() == len(buf))
        ):
            return 0
        return None

    def _expired_not_key(self, out: list[Message]) -> int:
        """The escape time ran out in an unfinished non-key sequence: read it as keys, as tmux would."""
        found = decode(self._buffer, expired=True)
        assert found is not None
        key, taken = found
        out.extend(key_events(key))
        return taken


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def install() -> None:
    """Make Textual's Linux driver read keys with `TerminalInput`; refuse to run on a Textual where
    that cannot be done (the keys would silently reach programs wrong)."""
    version = metadata.version("textual")
    low, high = TEXTUAL_RANGE
    expected = f"Textual >= {'.'.join(map(str, low))}, < {'.'.join(map(str, high))}"
    try:
        from textual import constants
        from textual._xterm_parser import XTermParser
        from textual.drivers import linux_driver
    except ImportError as exc:
        raise ScarabError(
            f"Textual {version} lacks what scarab's key input replaces ({exc}); install {expected}"
        ) from None
    current = getattr(linux_driver, "XTermParser", None)
    if not low <= _version(version) < high or current not in (XTermParser, TerminalInput):
        raise ScarabError(
            f"scarab's key input was written for {expected}, found Textual {version}; "
            f"install a Textual in that range (pip install 'textual>={'.'.join(map(str, low))},<{high[0]}')"
        )
    if not hasattr(constants, "DISABLE_KITTY_KEY"):
        raise ScarabError(f"Textual {version} has no DISABLE_KITTY_KEY; install {expected}")
    linux_driver.XTermParser = TerminalInput  # type: ignore[misc,assignment,attr-defined]
    # Keys are read as tmux 3.3a reads them: the legacy encoding, not the kitty keyboard protocol
    # (which would also stop programs in the session from seeing the keys a terminal sends them).
    setattr(constants, "DISABLE_KITTY_KEY", True)  # noqa: B010 (a Final constant)
