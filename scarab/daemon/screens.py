"""Screen persistence layer (host side, no IO): history by stable row index, snapshots and history
pages in the frame row encoding, capture pages, and restoring a saved screen.

Every reply built here is bounded (PAGE_CELLS, PAGE_CHARS) whatever the screen holds: a 37 MB
scrollback of per-character truecolour travels as many small pages, each built between two turns
of the host's loop, never as one message a peer would take for an attack. Snapshots carry rows
as `[text, runs]` with an interned style table (as frames do), never as ANSI text, so restoring
one builds rows directly instead of re-parsing escape sequences.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import msgpack

from scarab.styles import Line, Style, line_to_ansi

if TYPE_CHECKING:  # the daemon reads saved screens with these functions without importing pyte
    from scarab.daemon.emulator import Emulator

__all__ = [
    "PAGE_CELLS",
    "PAGE_CHARS",
    "capture_pages",
    "history_page",
    "pack_lines",
    "restore",
    "saved_capture",
    "saved_lines",
    "snapshot_head",
    "unpack_lines",
]

SNAPSHOT_VERSION = 2
# A history page holds rows until this many cells + 8 per style run (~1.5 MB packed at most).
PAGE_CELLS = 256 * 1024
# A capture page holds lines until this many characters (at least one line).
PAGE_CHARS = 512 * 1024


def pack_lines(lines: Iterable[Line]) -> dict[str, Any]:
    """Rows in the frame row encoding: `rows` of `[text, [[count, style_index], ...]]` and a `styles` table."""
    table: dict[Style, int] = {}
    rows = [[line.text, [[count, table.setdefault(style, len(table))] for count, style in line.runs]] for line in lines]
    return {"rows": rows, "styles": [list(style) for style in table]}


def unpack_lines(packed: dict[str, Any]) -> list[Line]:
    """The inverse of pack_lines; ValueError/TypeError/KeyError/IndexError for a damaged value.

    A restore of 440,000 rows comes through here: rows with a few runs (most rows) share one runs
    tuple through a cache instead of building their own (rows unpacked with use_list=False)."""
    styles = [Style(int(fg), int(bg), int(flags)) for fg, bg, flags in packed["styles"]]
    shared: dict[Any, tuple[tuple[int, Style], ...]] = {}
    lines: list[Line] = []
    append = lines.append
    for text, runs in packed["rows"]:
        if not isinstance(text, str):
            raise TypeError("row text is not a string")
        key = runs if isinstance(runs, tuple) and len(runs) <= 4 else None
        decoded = shared.get(key) if key is not None else None
        if decoded is None:
            decoded = tuple([(int(count), styles[index]) for count, index in runs])
            if key is not None:
                shared[key] = decoded
        append(Line(text, decoded))
    return lines


def snapshot_head(emu: Emulator, cwd: str) -> bytes:
    """The visible part of a snapshot: screen rows, cursor, size and cwd (history goes by pages)."""
    x, y, _visible, _shape = emu.cursor
    head = {
        "v": SNAPSHOT_VERSION,
        "cols": emu.cols,
        "rows": emu.rows,
        "cursor": [x, y],
        "cwd": cwd,
        "screen": pack_lines(emu.screen_lines()),
    }
    return msgpack.packb(head, use_bin_type=True)  # type: ignore[no-any-return]


def history_page(emu: Emulator, start: int, stop: int) -> tuple[int, int, bytes]:
    """History rows [start, stop) by stable index, as many as fit in one page: (first index, end
    index, packed rows). Rows that already fell off the front are skipped (the page starts later)."""
    history = emu.history
    total = emu.history_total
    first = total - len(history)
    start = max(start, first)
    stop = min(stop, total)
    lines: list[Line] = []
    cost = 0
    for line in itertools.islice(history, start - first, None):
        if start + len(lines) >= stop or (lines and cost >= PAGE_CELLS):
            break
        lines.append(line)
        cost += len(line.text) + 8 * len(line.runs)
    return start, start + len(lines), msgpack.packb(pack_lines(lines), use_bin_type=True)


def capture_pages(emu: Emulator, scrollback: bool, ansi: bool) -> Iterator[str]:
    """The screen (after the scrollback, if asked) as text pages, like `tmux capture-pane -p`. The
    rows are taken now; the text is built page by page as the pages are asked for."""
    lines = list(emu.history) if scrollback else []
    lines += emu.screen_lines()
    while lines and not lines[-1].text:
        lines.pop()
    return _pages(lines, ansi)


def saved_capture(head: dict[str, Any], pages: Iterable[tuple[int, int, bytes]], ansi: bool) -> list[str]:
    """A saved snapshot as capture pages (an exited session's last screen, after its history)."""
    history, screen = saved_lines(head, pages)
    lines = history + screen
    while lines and not lines[-1].text:
        lines.pop()
    return list(_pages(lines, ansi))


def _pages(lines: list[Line], ansi: bool) -> Iterator[str]:
    page: list[str] = []
    size = 0
    for line in lines:
        text = (line_to_ansi(line) if ansi else line.text) + "\n"
        page.append(text)
        size += len(text)
        if size >= PAGE_CHARS:
            yield "".join(page)
            page, size = [], 0
    if page:
        yield "".join(page)


def saved_lines(head: dict[str, Any], pages: Iterable[tuple[int, int, bytes]]) -> tuple[list[Line], list[Line]]:
    """A saved snapshot's (history, screen) rows: `pages` are (start, stop, packed rows) in order of
    start; rows outside [first, upto) of the head, or already seen, are skipped."""
    history: list[Line] = []
    next_index = int(head.get("first", 0))
    upto = int(head.get("upto", 0))
    for start, stop, data in pages:
        if stop <= next_index or start >= upto:
            continue
        rows = unpack_lines(msgpack.unpackb(data, raw=False, use_list=False))
        history += rows[next_index - start : upto - start]
        next_index = min(stop, upto)
    return history, unpack_lines(head["screen"])


def restore(emu: Emulator, head: dict[str, Any], pages: Iterable[tuple[int, int, bytes]], marker: str) -> None:
    """Show a saved session: its history rows go straight into the scrollback (no parsing, so a
    big one restores in well under a second per 10,000 rows), then its screen and the marker."""
    if head.get("v") != SNAPSHOT_VERSION:
        # A snapshot saved by an older Scarab: lists of ANSI lines.
        emu.restore(list(head.get("screen", [])), list(head.get("scrollback", [])), marker)
        return
    # Millions of new tuples, none of them cyclic: the collector would rescan them over and over
    # (measured: half the time of a big restore).
    gc.disable()
    try:
        history, screen = saved_lines(head, pages)
    finally:
        gc.enable()
    emu.history.extend(history)
    emu.screen.pushed += len(history)  # they are history rows of this host now, numbered on from 0
    # The screen is one screenful: drawn through the emulator so the marker and the new shell's
    # output scroll it as they would have scrolled the old one.
    emu.restore([line_to_ansi(line) for line in screen], [], marker)
