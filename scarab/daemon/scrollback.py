"""Scrollback storage layer (host side, no IO): history rows kept where the garbage collector never looks.

A `Line` is a NamedTuple holding `(count, Style)` pairs, and CPython's collector tracks every
NamedTuple (it untracks only exact tuples whose items are untracked). 10,000 rows of per-character
truecolour are ~4 million tracked objects: each full collection walked them all, ~1.3 s on the 2-core
VM, and a keystroke's echo waited for it (issue 11, item 9). So a row frozen into scrollback is an
exact tuple `(text, (count, fg, bg, flags, count, fg, bg, flags, ...))` of strings and ints, which
the collector untracks the first time it sees it; such a row is also about half the size. Rows go
back to `Line`s only when read (a history page, a capture), a bounded number at a time. A restored
history stays as the saved pages until read (see `Scrollback`). The one outward effect: a line
on stderr (the host's log) when a saved page turns out damaged.
"""

from __future__ import annotations

import itertools
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgpack

from scarab.styles import DEFAULT_STYLE, Line, Style

__all__ = ["Frozen", "SavedPage", "Scrollback", "decode_page", "freeze", "freeze_packed", "thaw"]

# (text, flat runs): the runs as count, fg, bg, flags, count, fg, bg, flags, ...
Frozen = tuple[str, tuple[int, ...]]
# A style run as the frame row encoding carries it (a cell count and a style index): what nbytes counts.
RUN_BYTES = 8


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


def _row_bytes(row: Frozen) -> int:
    text, flat = row
    return len(text.encode()) + RUN_BYTES * (len(flat) // 4)


def decode_page(data: bytes) -> tuple[list[Frozen], tuple[int, ...]]:
    """A page of rows in the frame row encoding (`{"rows": [[text, runs]...], "styles": [...]}`,
    packed) as frozen rows, and which of them wrapped into the next (`"wrapped"`: their offsets in
    the page; absent from pages saved before Scarab kept them); ValueError/TypeError/KeyError/
    IndexError or msgpack's errors if damaged."""
    packed = msgpack.unpackb(data, raw=False, use_list=False)
    styles = [(int(fg), int(bg), int(flags)) for fg, bg, flags in packed["styles"]]
    rows = [freeze_packed(text, runs, styles) for text, runs in packed["rows"]]
    wrapped = packed.get("wrapped", ())
    if not isinstance(wrapped, tuple):
        raise TypeError("the rows that wrapped are not a list")
    return rows, tuple(offset for offset in wrapped if type(offset) is int)


@dataclass
class SavedPage:
    """Saved rows not decoded yet: rows [lo, hi) of a packed page of `size` rows (a restored
    session's history, as the database kept it). Decoded when first read, never before; then
    `wrapped` holds the offsets in the page of the rows that wrapped into the next."""

    data: bytes
    size: int
    lo: int
    hi: int
    decoded: list[Frozen] | None = None
    wrapped: tuple[int, ...] = ()

    def intact(self) -> bool:
        """Whether all of `data` belongs here (so it can be handed on as it is)."""
        return self.decoded is None and self.lo == 0 and self.hi == self.size

    def rows(self) -> list[Frozen]:
        if self.decoded is None:
            try:
                rows, self.wrapped = decode_page(self.data)
            except Exception as exc:  # a damaged page costs its rows, never the session
                print(f"scarab: a saved page of {self.size} history rows could not be read: {exc}", file=sys.stderr)
                rows = [("[scarab: saved rows that could not be read]", ())]
            # Exactly `size` rows, whatever the page held: the stable indices of the rest depend on it.
            self.decoded = (rows + [("", ())] * self.size)[: self.size]
            self.data = b""
        return self.decoded[self.lo : self.hi]


class Scrollback:
    """The rows that left the top of the main screen, oldest first, at most `maxlen` of them.
    Takes and gives `Line`s; holds frozen rows.

    A restored session's saved history comes first, as the saved pages themselves (`push_saved`):
    restoring costs no decoding, whatever its size, so a new host is ready at once; a page is
    decoded when it is first read (a history page asked for, a capture), and handed on as it is
    when a snapshot saves it again."""

    def __init__(self, maxlen: int) -> None:
        self.rows: deque[Frozen] = deque(maxlen=max(0, maxlen))
        self.saved: deque[SavedPage] = deque()  # oldest first, all before `rows`
        self.saved_rows = 0

    @property
    def maxlen(self) -> int:
        return self.rows.maxlen or 0

    def __len__(self) -> int:
        return self.saved_rows + len(self.rows)

    def __iter__(self) -> Iterator[Line]:
        return map(thaw, self.frozen(0))

    def __getitem__(self, index: int) -> Line:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("scrollback index out of range")
        return thaw(next(self.frozen(index)))

    def append(self, line: Line) -> None:
        if self.saved:
            self._make_room(1)
        self.rows.append(freeze(line))

    def extend(self, lines: Iterable[Line]) -> None:
        self.extend_frozen([freeze(line) for line in lines])

    def extend_frozen(self, rows: list[Frozen]) -> None:
        if self.saved:
            self._make_room(len(rows))
        self.rows.extend(rows)

    def push_saved(self, pages: Iterable[SavedPage]) -> int:
        """Saved pages (oldest first) in front of every row; as many of their newest rows as fit.
        How many rows they added. Nothing is added if reading `pages` raises."""
        added = 0
        for page in list(pages):
            if page.hi > page.lo:
                self.saved.append(page)
                added += page.hi - page.lo
        self.saved_rows += added
        self._make_room(0)
        return added

    def _make_room(self, coming: int) -> None:
        """Drop the oldest saved rows for `coming` new ones (the deque drops its own oldest)."""
        over = self.saved_rows + len(self.rows) + coming - self.maxlen
        while over > 0 and self.saved:
            page = self.saved[0]
            drop = min(over, page.hi - page.lo)
            page.lo += drop
            self.saved_rows -= drop
            over -= drop
            if page.lo == page.hi:
                self.saved.popleft()

    def clear(self) -> None:
        self.saved.clear()
        self.saved_rows = 0
        self.rows.clear()

    def saved_page(self, offset: int) -> tuple[int, bytes] | None:
        """If an intact saved page starts at position `offset`: its row count and packed rows."""
        position = 0
        for page in self.saved:
            if position == offset:
                return (page.size, page.data) if page.intact() else None
            position += page.hi - page.lo
            if position > offset:
                break
        return None

    def frozen(self, offset: int = 0) -> Iterator[Frozen]:
        """The frozen rows from position `offset` on: saved pages decoded as they are reached; the
        others walked to from the nearer end (pages are mostly asked for near the newest rows)."""
        if offset < self.saved_rows:
            return itertools.chain(self._saved_from(offset), self.rows)
        offset -= self.saved_rows
        size = len(self.rows)
        if offset <= size // 2:
            return itertools.islice(self.rows, offset, None)
        tail = list(itertools.islice(reversed(self.rows), size - offset))
        tail.reverse()
        return iter(tail)

    def _saved_from(self, offset: int) -> Iterator[Frozen]:
        position = 0
        for page in list(self.saved):
            count = page.hi - page.lo
            if position + count > offset:
                yield from page.rows()[max(0, offset - position) :]
            position += count

    def saved_wrapped(self, lo: int, hi: int) -> list[int]:
        """The positions in [lo, hi) of saved rows that wrapped into the next (the saved pages
        there are decoded, as reading their rows does)."""
        found: list[int] = []
        position = 0
        for page in list(self.saved):
            if position >= hi:
                break
            count = page.hi - page.lo
            if position + count > lo:
                page.rows()
                at = [position + offset - page.lo for offset in page.wrapped if page.lo <= offset < page.hi]
                found += [i for i in at if lo <= i < hi]
            position += count
        return found

    def nbytes(self) -> int:
        """What the kept rows hold, in bytes: each row's text (UTF-8) and style runs, a saved page
        not decoded yet as its encoded size (counting never decodes one)."""
        total = 0
        for page in self.saved:
            rows = page.rows() if page.decoded is not None else None
            total += len(page.data) if rows is None else sum(_row_bytes(row) for row in rows)
        return total + sum(_row_bytes(row) for row in self.rows)

    def texts(self) -> list[str]:
        """Every row's text, oldest first, without building its styles (what a search reads)."""
        return [row[0] for row in self.frozen()]

    def lines(self, offset: int, count: int) -> list[Line]:
        """Up to `count` rows from position `offset`, as Lines."""
        return [thaw(row) for row in itertools.islice(self.frozen(offset), max(0, count))]
