"""Scrollback storage layer (host side, pure): history rows kept where the garbage collector never looks.

A `Line` is a NamedTuple holding `(count, Style)` pairs, and CPython's collector tracks every
NamedTuple (it untracks only exact tuples whose items are untracked). 10,000 rows of per-character
truecolour are ~4 million tracked objects: each full collection walked them all, ~1.3 s on the 2-core
VM, and a keystroke's echo waited for it (issue 11, item 9). So a row frozen into scrollback is an
exact tuple `(text, (count, fg, bg, flags, count, fg, bg, flags, ...))` of strings and ints, which
the collector untracks the first time it sees it; such a row is also about half the size. Rows go
back to `Line`s only when read (a history page, a capture), a bounded number at a time.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from scarab.styles import DEFAULT_STYLE, Line, Style

__all__ = ["Frozen", "Scrollback", "freeze", "freeze_packed", "thaw"]

# (text, flat runs): the runs as count, fg, bg, flags, count, fg, bg, flags, ...
Frozen = tuple[str, tuple[int, ...]]


def freeze(line: Line) -> Frozen:
    """A Line as an untrackable row."""
    return (line.text, tuple(itertools.chain.from_iterable((count, *style) for count, style in line.runs)))


def freeze_packed(text: str, runs: Iterable[Any], styles: list[tuple[int, int, int]]) -> Frozen:
    """A row in the frame row encoding (`runs` of `[count, style_index]` into `styles`, whose
    values are ints) as an untrackable row, without building a Style per run.
    IndexError/TypeError/ValueError if damaged."""
    if not isinstance(text, str):
        raise TypeError("row text is not a string")
    flat = tuple(itertools.chain.from_iterable([(count, *styles[index]) for count, index in runs]))
    if type(sum(flat[::4])) is not int:  # one C-speed check instead of int() per run
        raise TypeError("row run counts are not integers")
    return (text, flat)


@lru_cache(maxsize=4096)
def _style(fg: int, bg: int, flags: int) -> Style:
    # Shared Style values; the default one is DEFAULT_STYLE itself (code tests it by identity).
    style = Style(fg, bg, flags)
    return DEFAULT_STYLE if style == DEFAULT_STYLE else style


def thaw(row: Frozen) -> Line:
    """A frozen row as a Line."""
    text, flat = row
    it = iter(flat)
    return Line(
        text, tuple([(count, _style(fg, bg, flags)) for count, fg, bg, flags in zip(it, it, it, it, strict=True)])
    )


class Scrollback:
    """The rows that left the top of the main screen, oldest first, at most `maxlen` of them.
    Takes and gives `Line`s; holds frozen rows."""

    def __init__(self, maxlen: int) -> None:
        self.rows: deque[Frozen] = deque(maxlen=max(0, maxlen))

    @property
    def maxlen(self) -> int:
        return self.rows.maxlen or 0

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Line]:
        return map(thaw, self.rows)

    def __getitem__(self, index: int) -> Line:
        return thaw(self.rows[index])

    def append(self, line: Line) -> None:
        self.rows.append(freeze(line))

    def extend(self, lines: Iterable[Line]) -> None:
        self.rows.extend(map(freeze, lines))

    def clear(self) -> None:
        self.rows.clear()

    def room(self) -> int:
        """How many more rows fit before the oldest are dropped."""
        return self.maxlen - len(self.rows)

    def prepend(self, rows: list[Frozen]) -> int:
        """Put older rows (oldest first) in front of the current ones, as many as there is room
        for (the newest of them first); how many were put."""
        take = min(len(rows), self.room())
        if take:
            self.rows.extendleft(reversed(rows[len(rows) - take :]))
        return take

    def frozen(self, offset: int = 0) -> Iterator[Frozen]:
        """The frozen rows from position `offset` on (walked to from the nearer end: pages are
        mostly asked for near the newest rows of a long history)."""
        size = len(self.rows)
        if offset <= size // 2:
            return itertools.islice(self.rows, offset, None)
        tail = list(itertools.islice(reversed(self.rows), size - offset))
        tail.reverse()
        return iter(tail)

    def lines(self, offset: int, count: int) -> list[Line]:
        """Up to `count` rows from position `offset`, as Lines."""
        return [thaw(row) for row in itertools.islice(self.frozen(offset), max(0, count))]
