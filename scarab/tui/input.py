"""TUI input layer: the terminal's bytes to Textual events, with keys decided as tmux decides them.

Textual's own input parser loses keys a terminal multiplexer must pass on (it turns `ESC b` into
ctrl+left, drops the Alt of Alt+Enter, ctrl+alt+a and Alt+Backspace, takes shift+F3 for a cursor
position report, and garbles Esc followed by more keys in one read), and its driver looks at a
pending lone Esc only every 100 ms. `KeyDriver` is Textual's Linux driver reading with
`TerminalInput` instead: keys go through `scarab.keys.decode` (tmux's rules), woken for the escape
time; what is not a key (mouse reports, focus, bracketed paste, the terminal's replies to Textual's
queries) is handed to Textual's parser, whole, so Textual keeps handling those itself.

The driver's input thread and Textual's parser are not public API: `install` checks that this
Textual is one this was written for (`TEXTUAL_RANGE`, pinned in pyproject.toml) and refuses to
start otherwise, rather than quietly mangling keys.
"""

from __future__ import annotations

import codecs
import os
import re
import selectors
import time
from collections.abc import Iterable
from importlib import metadata
from typing import TYPE_CHECKING

from textual import events
from textual.message import Message

from scarab.errors import ScarabError
from scarab.keys import ESC, Key, Mod, decode, textual_key

if TYPE_CHECKING:
    from textual.driver import Driver
    from textual.drivers.linux_driver import LinuxDriver

__all__ = ["TEXTUAL_RANGE", "TerminalInput", "install", "key_events"]

# How often the input thread looks at the app's exit flag when nothing is typed (Textual's own cadence).
_IDLE_WAKE = 0.1

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

    def wait(self) -> float | None:
        """Seconds until the escape time of a pending sequence runs out (then call `tick`), or None."""
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

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


def install() -> type[Driver]:
    """The driver class that reads keys as tmux does; a clear refusal on a Textual where that cannot
    be done (keys would silently reach programs wrong)."""
    version = metadata.version("textual")
    low, high = TEXTUAL_RANGE
    wanted = f"Textual >= {'.'.join(map(str, low))}, < {'.'.join(map(str, high))}"
    try:
        from textual import constants
        from textual._xterm_parser import XTermParser
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError as exc:
        raise ScarabError(
            f"Textual {version} lacks what scarab's key input builds on ({exc}); install {wanted}"
        ) from None
    if not low <= _version(version) < high or not all(
        callable(getattr(cls, name, None))
        for cls, name in ((LinuxDriver, "run_input_thread"), (LinuxDriver, "process_message"), (XTermParser, "feed"))
    ):
        raise ScarabError(
            f"scarab's key input was written for {wanted}, found Textual {version}; "
            f"install a Textual in that range (pip install 'textual>={'.'.join(map(str, low))},<{high[0]}')"
        )
    # Keys are read as tmux 3.3a reads them: the legacy encoding, not the kitty keyboard protocol
    # (which Textual would otherwise ask the terminal for at start-up).
    setattr(constants, "DISABLE_KITTY_KEY", True)  # noqa: B010 (a Final constant)
    return _key_driver(LinuxDriver)


def _key_driver(base: type[LinuxDriver]) -> type[Driver]:
    class KeyDriver(base):  # type: ignore[valid-type,misc]
        """Textual's Linux driver, reading its input with `TerminalInput`."""

        def run_input_thread(self) -> None:
            parser = TerminalInput()
            decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
            with selectors.DefaultSelector() as selector:
                selector.register(self.fileno, selectors.EVENT_READ)
                while not self.exit_event.is_set():
                    wait = parser.wait()
                    for _key, _mask in selector.select(_IDLE_WAKE if wait is None else min(wait, _IDLE_WAKE)):
                        data = os.read(self.fileno, 4096)
                        if not data:  # stdin closed: nothing more will come
                            self.exit_event.wait(_IDLE_WAKE)
                        for message in parser.feed(decode(data)) if data else ():
                            self.process_message(message)
                    for message in parser.tick():
                        self.process_message(message)

        def send_message(self, message: Message) -> None:
            # Textual's wraps each event in a coroutine and a Task (run_coroutine_threadsafe); a
            # keystroke only needs to be in the app's queue: one loop callback, no Task.
            self._loop.call_soon_threadsafe(self._app.post_message, message)

    return KeyDriver
