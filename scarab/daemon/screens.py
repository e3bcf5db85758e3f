"""Screen persistence layer (host side, no IO): history by stable row index, snapshots and history
pages in the frame row encoding, capture pages, and restoring a saved screen.

Every reply built here is bounded (PAGE_CELLS, PAGE_CHARS) whatever the screen holds: a 37 MB
scrollback of per-character truecolour travels as many small pages, each built between two turns
of the host's loop, never as one message a peer would take for an attack. Snapshots carry rows
as `[text, runs]` with an interned style table (as frames do), never as ANSI text, so restoring
one builds rows directly instead of re-parsing escape sequences; and which rows wrapped into the
next (`wrapped`: in a history page their offsets, in the head the screen's rows), so a long line
in restored scrollback is still copied as one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import msgpack

from scarab.daemon.scrollback import SavedPage, freeze, thaw
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
    """The inverse of pack_lines (a saved screen); ValueError/TypeError/KeyError/IndexError for a
    damaged value."""
    styles = [Style(int(fg), int(bg), int(flags)) for fg, bg, flags in packed["styles"]]
    lines = []
    for text, runs in packed["rows"]:
        if not isinstance(text, str):
            raise TypeError("row text is not a string")
        lines.append(Line(text, tuple([(int(count), styles[index]) for count, index in runs])))
    return lines


def snapshot_head(emu: Emulator, cwd: str, foreground: tuple[str, ...] = ()) -> bytes:
    """The visible part of a snapshot: screen rows, cursor, size and cwd (history goes by pages), and
    the command line of a program other than the shell that was in the foreground (banner.py)."""
    x, y, _visible, _shape = emu.cursor
    head: dict[str, Any] = {
        "v": SNAPSHOT_VERSION,
        "cols": emu.cols,
        "rows": emu.rows,
        "cursor": [x, y],
        "cwd": cwd,
        "screen": pack_lines(emu.screen_lines()),
    }
    wrapped = emu.wrapped_screen(range(emu.rows))
    if wrapped:
        head["wrapped"] = wrapped  # the screen rows that wrapped into the next (copied joined)
    if foreground:
        head["foreground"] = list(foreground)
    return msgpack.packb(head, use_bin_type=True)  # type: ignore[no-any-return]


def history_page(emu: Emulator, start: int, stop: int) -> tuple[int, int, bytes]:
    """History rows [start, stop) by stable index, as many as fit in one page: (first index, end
    index, packed rows). Rows that already fell off the front are skipped (the page starts later)."""
    history = emu.history
    total = emu.history_total
    first = total - len(history)
    start = max(start, first)
    stop = min(stop, total)
    saved = history.saved_page(start - first)
    if saved is not None and start + saved[0] <= stop:
        return start, start + saved[0], saved[1]  # a restored page not read since: as it was saved
    table: dict[tuple[int, ...], int] = {}
    rows: list[list[object]] = []
    cost = 0
    for text, flat in history.frozen(start - first):
        if start + len(rows) >= stop or (rows and cost >= PAGE_CELLS):
            break
        runs = [[flat[i], table.setdefault(flat[i + 1 : i + 4], len(table))] for i in range(0, len(flat), 4)]
        rows.append([text, runs])
        cost += len(text) + 2 * len(flat)
    packed: dict[str, Any] = {"rows": rows, "styles": [list(style) for style in table]}
    wrapped = emu.wrapped_history(start, start + len(rows))
    if wrapped:
        packed["wrapped"] = [i - start for i in wrapped]  # offsets of the rows that wrapped into the next
    return start, start + len(rows), msgpack.packb(packed, use_bin_type=True)


def capture_pages(emu: Emulator, scrollback: bool, ansi: bool) -> Iterator[str]:
    """The screen (after the scrollback, if asked) as text pages, like `tmux capture-pane -p`. The
    rows are taken now; the text is built page by page as the pages are asked for (plain text
    straight from the frozen rows: their styles are not even looked at)."""
    rows = list(emu.history.frozen()) if scrollback else []
    rows += [freeze(line) for line in emu.screen_lines()]
    while rows and not rows[-1][0]:
        rows.pop()
    return _pages((line_to_ansi(thaw(row)) for row in rows) if ansi else (row[0] for row in rows))


def saved_capture(head: dict[str, Any], pages: Iterable[tuple[int, int, bytes]], ansi: bool) -> list[str]:
    """A saved snapshot as capture pages (an exited session's last screen, after its history)."""
    history, screen = saved_lines(head, pages)
    lines = history + screen
    while lines and not lines[-1].text:
        lines.pop()
    return list(_pages(map(line_to_ansi, lines) if ansi else (line.text for line in lines)))


def _pages(texts: Iterable[str]) -> Iterator[str]:
    page: list[str] = []
    size = 0
    for text in texts:
        page.append(text + "\n")
        size += len(text) + 1
        if size >= PAGE_CHARS:
            yield "".join(page)
            page, size = [], 0
    if page:
        yield "".join(page)


def saved_lines(head: dict[str, Any], pages: Iterable[tuple[int, int, bytes]]) -> tuple[list[Line], list[Line]]:
    """A saved snapshot's (history, screen) rows."""
    history = [thaw(row) for page in _saved_pages(head, pages) for row in page.rows()]
    return history, unpack_lines(head["screen"])


def _ansi_rows(texts: list[str], cols: int) -> list[Line]:
    """Rows of a snapshot saved by an older Scarab, which kept them as ANSI text: parsed once,
    here, by an emulator of their width (a row wider than that wraps, as it did when replayed)."""
    from scarab.daemon.emulator import Emulator  # only hosts restore; the daemon never imports pyte

    scratch = Emulator(max(1, cols), 1, scrollback=2 * len(texts) + 1)
    for text in texts:
        scratch.feed(str(text).encode() + b"\x1b[0m\r\n")
    return list(scratch.history)


def _saved_pages(head: dict[str, Any], pages: Iterable[tuple[int, int, bytes]]) -> Iterator[SavedPage]:
    """A saved snapshot's history pages, undecoded: the rows of each that are in [first, upto) of
    the head and not in an earlier page."""
    next_index = int(head.get("first", 0))
    upto = int(head.get("upto", 0))
    for start, stop, data in pages:
        if stop <= next_index or start >= upto or stop <= start:
            continue
        yield SavedPage(data, stop - start, max(0, next_index - start), min(stop, upto) - start)
        next_index = min(stop, upto)


def restore(emu: Emulator, head: dict[str, Any], pages: Iterable[tuple[int, int, bytes]], marker: str) -> None:
    """Show a saved session: its history pages go into the scrollback as they are (each decoded
    when first read: restoring costs reading the file, whatever the history's size), then its
    screen and the marker below it."""
    if head.get("v") == SNAPSHOT_VERSION:
        emu.push_saved_history(_saved_pages(head, pages))
        wrapped = head.get("wrapped")  # absent from snapshots saved before Scarab kept it
        rows = {y for y in wrapped if type(y) is int} if isinstance(wrapped, list) else set()
        emu.show(unpack_lines(head["screen"]), marker, rows)
        return
    # A snapshot saved by an older Scarab: lists of ANSI lines.
    emu.push_history([freeze(line) for line in _ansi_rows(list(head.get("scrollback", [])), emu.cols)])
    emu.show(_ansi_rows(list(head.get("screen", [])), emu.cols), marker)
