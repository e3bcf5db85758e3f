"""Pre-filter layer (pure): the parser; splits a decoded stream into text and parsed sequences.

pyte's parser cannot be extended for private markers (`CSI > 4;2 m`), intermediates (`CSI 2 SP q`),
colon parameters (`CSI 38:2::1:2:3 m`), string sequences (DCS/APC/PM/SOS) or charset designation in
UTF-8 mode; fed those, it draws their bytes as text. So this state machine is the only parser: it
emits `Text` (printable text and C0 controls) and parsed `Csi`, `Osc`, `Esc`, `Designate` and
`Shift` tokens, which the emulator dispatches to its screen's verbs.

It is stateful across chunks, so output is identical however the stream is split, and bounded: a
CSI longer than MAX_CSI or a string longer than MAX_STRING is dropped without buffering the rest.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Csi", "Designate", "Esc", "Osc", "Prefilter", "Shift", "Text", "Token"]

MAX_CSI = 256
MAX_STRING = 1 << 20


class Text(NamedTuple):
    text: str


class Csi(NamedTuple):
    marker: str  # one of "<=>?" or ""
    params: str  # digits, ";" and ":"
    inter: str  # intermediate bytes (" ", "!", "$", '"', ...)
    final: str


class Osc(NamedTuple):
    payload: str


class Esc(NamedTuple):
    """A two-character escape (`ESC 7`, `ESC M`, `ESC c`, `ESC =`) or `ESC # 8`."""

    seq: str


class Designate(NamedTuple):
    """`ESC ( 0`: character set `code` into slot G0..G3 (`slot` is one of "()*+")."""

    slot: str
    code: str


class Shift(NamedTuple):
    """SO (1) / SI (0): invoke G1 / G0."""

    g: int


Token = Text | Csi | Osc | Esc | Designate | Shift

_GROUND = 0
_ESC = 1
_ESC_INTER = 2
_CSI = 3
_STRING = 4
_STRING_ESC = 5

# Text runs end at ESC, SO/SI, CAN/SUB, and C1 controls (which UTF-8 terminals do not execute).
_SPECIAL = re.compile("[\x1b\x0e\x0f\x18\x1a\x80-\x9f]")
_CSI_BODY = re.compile("[\x20-\x3f]*")
_CSI_SHAPE = re.compile(r"([<=>?]?)([0-9;:]*)([\x20-\x2f]*)\Z")
_STRING_END_OSC = re.compile("[\x07\x1b\x18\x1a\x9c]")
_STRING_END = re.compile("[\x1b\x18\x1a\x9c]")
_C0_IN_CSI = "\x07\x08\x09\x0a\x0b\x0c\x0d"


class Prefilter:
    def __init__(self) -> None:
        self.state = _GROUND
        self.buf: list[str] = []
        self.size = 0
        self.overflow = False
        self.kind = ""  # for _STRING: "]" OSC, "P" DCS, "_" APC, "^" PM, "X" SOS
        self.inter = ""

    def feed(self, data: str) -> list[Token]:
        out: list[Token] = []
        emit = out.append
        i, n = 0, len(data)
        while i < n:
            state = self.state
            if state == _GROUND:
                m = _SPECIAL.search(data, i)
                if m is None:
                    emit(Text(data[i:]))
                    break
                j = m.start()
                if j > i:
                    emit(Text(data[i:j]))
                c = data[j]
                i = j + 1
                if c == "\x1b":
                    self.state = _ESC
                elif c == "\x0e":
                    emit(Shift(1))
                elif c == "\x0f":
                    emit(Shift(0))
                # CAN/SUB outside a sequence and C1 controls are dropped.
            elif state == _ESC:
                c = data[i]
                i += 1
                if c == "[":
                    self._start(_CSI)
                elif c in "]P_^X":
                    self._start(_STRING)
                    self.kind = c
                elif "\x20" <= c <= "\x2f":
                    self.state = _ESC_INTER
                    self.inter = c
                elif c == "\x1b":
                    pass  # ESC ESC: the first one is abandoned
                elif c in "\x18\x1a":
                    self.state = _GROUND
                elif c < "\x20":
                    emit(Text(c))  # C0 controls execute even inside a sequence
                else:
                    self.state = _GROUND
                    emit(Esc("\x1b" + c))
            elif state == _ESC_INTER:
                c = data[i]
                i += 1
                if "\x20" <= c <= "\x2f":
                    self.inter += c
                    if len(self.inter) > 4:
                        self.state = _GROUND
                    continue
                if c == "\x1b":
                    self.state = _ESC  # a new escape abandons this one
                    self.inter = ""
                    continue
                if c in "\x18\x1a":
                    self.state = _GROUND
                    self.inter = ""
                    continue
                if c < "\x20":
                    emit(Text(c))  # C0 controls execute inside a sequence, which goes on
                    continue
                self.state = _GROUND
                inter, self.inter = self.inter, ""
                if inter in ("(", ")", "*", "+"):
                    emit(Designate(inter, c))
                elif inter == "#":
                    emit(Esc("\x1b#" + c))
                # ESC % (character set switching) and others would take pyte out of UTF-8: dropped.
            elif state == _CSI:
                m = _CSI_BODY.match(data, i)
                assert m is not None
                j = m.end()
                if j > i:
                    self._collect(data[i:j], MAX_CSI)
                    i = j
                if i >= n:
                    break
                c = data[i]
                i += 1
                if "\x40" <= c <= "\x7e":
                    self.state = _GROUND
                    if not self.overflow:
                        token = _csi("".join(self.buf), c)
                        if token is not None:
                            emit(token)
                elif c in _C0_IN_CSI:
                    emit(Text(c))
                elif c == "\x1b":
                    self.state = _ESC  # an unterminated CSI is abandoned
                elif c in "\x18\x1a":
                    self.state = _GROUND
                else:
                    self.overflow = True  # anything else makes the sequence invalid; wait for its final
            elif state == _STRING:
                pattern = _STRING_END_OSC if self.kind == "]" else _STRING_END
                m = pattern.search(data, i)
                if m is None:
                    self._collect(data[i:], MAX_STRING)
                    break
                j = m.start()
                self._collect(data[i:j], MAX_STRING)
                c = data[j]
                i = j + 1
                if c == "\x1b":
                    self.state = _STRING_ESC
                else:
                    self._end_string(emit, terminated=c in "\x07\x9c")
            else:  # _STRING_ESC
                c = data[i]
                if c == "\\":
                    i += 1
                    self._end_string(emit, terminated=True)
                else:
                    # ESC inside a string ends it (xterm does the same) and starts a new sequence.
                    self._end_string(emit, terminated=True)
                    self.state = _ESC
        return out

    def _start(self, state: int) -> None:
        self.state = state
        self.buf = []
        self.size = 0
        self.overflow = False

    def _collect(self, chunk: str, limit: int) -> None:
        if self.overflow or not chunk:
            return
        self.size += len(chunk)
        if self.size > limit:
            self.overflow = True
            self.buf = []
        else:
            self.buf.append(chunk)

    def _end_string(self, emit: object, terminated: bool) -> None:
        self.state = _GROUND
        if self.kind == "]" and terminated and not self.overflow:
            emit(Osc("".join(self.buf)))  # type: ignore[operator]
        self.buf = []
        # DCS, APC, PM and SOS payloads are swallowed: nothing a multiplexer must act on.


def _csi(body: str, final: str) -> Csi | None:
    m = _CSI_SHAPE.match(body)
    if m is None:
        return None  # markers in the middle, parameters after intermediates: not a valid sequence
    return Csi(m.group(1), m.group(2), m.group(3), final)
