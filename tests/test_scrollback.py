"""Unit tests of the scrollback layer and of restoring a saved history into it: pure, no processes."""

from __future__ import annotations

from collections.abc import Iterator

import msgpack
import pytest

from scarab.daemon.emulator import Emulator
from scarab.daemon.screens import PAGE_CELLS, history_page, pack_lines, restore, snapshot_head
from scarab.daemon.scrollback import SavedPage, Scrollback, decode_page, freeze
from scarab.styles import DEFAULT_STYLE, TRUECOLOR, Line, Style
from tests.helpers import emu_text


def coloured(i: int) -> Line:
    return Line(f"row {i:05d}", tuple((1, Style(TRUECOLOR | i * 97 + x, -1, x % 3)) for x in range(9)))


def saved(first: int, upto: int, page_rows: int) -> tuple[dict[str, object], list[tuple[int, int, bytes]]]:
    """A snapshot's head and pages as the database keeps them: rows [first, upto) by stable index."""
    pages = []
    for start in range(first - first % page_rows, upto, page_rows):
        stop = min(start + page_rows, upto)
        data = msgpack.packb(pack_lines([coloured(i) for i in range(start, stop)]), use_bin_type=True)
        pages.append((start, stop, data))
    screen = pack_lines([Line("on screen", ((9, DEFAULT_STYLE),))])
    head = {"v": 2, "first": first, "upto": upto, "cols": 40, "rows": 5, "cursor": [0, 1], "screen": screen}
    return head, pages


def test_a_restored_history_is_read_only_when_asked_for_and_saved_again_as_it_was() -> None:
    head, pages = saved(first=0, upto=1000, page_rows=100)
    emu = Emulator(40, 5, scrollback=5000, strict=True)
    restore(emu, head, pages, "[restored]")
    history = emu.history
    assert len(history) == 1000 and emu.history_total == 1000
    assert all(page.decoded is None for page in history.saved), "restoring decoded saved rows"
    assert emu_text(emu).startswith("on screen\n[restored]\n")
    # A snapshot of the new host saves the pages again, byte for byte, without decoding them.
    assert history_page(emu, 0, 1000) == pages[0]
    assert history_page(emu, 300, 1000) == pages[3]
    assert all(page.decoded is None for page in history.saved)
    # Reading decodes only the pages read.
    assert emu.history_rows(450, 3) == (450, [coloured(450), coloured(451), coloured(452)])
    assert [page.decoded is not None for page in history.saved] == [i == 4 for i in range(10)]
    start, stop, data = history_page(emu, 400, 1000)  # from a page that was read: packed afresh
    assert (start, stop) == (400, 1000)
    assert [row[0] for row in msgpack.unpackb(data)["rows"][::100]] == [f"row {i:05d}" for i in range(400, 1000, 100)]
    assert list(history)[::250] == [coloured(i) for i in range(0, 1000, 250)]
    assert list(history.texts()) == [f"row {i:05d}" for i in range(1000)]


def test_saved_rows_keep_their_order_with_new_rows_and_the_limit() -> None:
    head, pages = saved(first=130, upto=1000, page_rows=100)  # the oldest page is cut at `first`
    emu = Emulator(40, 2, scrollback=1000, strict=True)
    restore(emu, head, pages, "[restored]")
    assert len(emu.history) == 870 + 1  # "on screen" scrolled off by the marker's line feed
    assert emu.history[0] == coloured(130) and emu.history[869] == coloured(999)
    emu.feed("".join(f"new {i}\r\n" for i in range(200)).encode())
    # 1000 rows at most: the oldest saved ones made room, in order, and the indices go on.
    assert len(emu.history) == 1000 and emu.history_total == 871 + 200
    first, rows = emu.history_rows(emu.history_total - 1000, 2)
    assert first == 71 and rows == [coloured(130 + 71), coloured(130 + 72)]
    assert emu.history[-1].text == "new 198"
    emu.feed(b"\x1b[3J")  # clear-history drops saved rows too
    assert len(emu.history) == 0 and not emu.history.saved


def test_more_saved_rows_than_the_scrollback_holds_keeps_the_newest() -> None:
    head, pages = saved(first=0, upto=500, page_rows=64)
    emu = Emulator(40, 5, scrollback=100, strict=True)
    restore(emu, head, pages, "[restored]")
    assert len(emu.history) == 100 and emu.history_total == 500
    assert emu.history[0] == coloured(400) and emu.history[-1] == coloured(499)


def test_a_damaged_saved_page_costs_its_rows_only() -> None:
    head, pages = saved(first=0, upto=300, page_rows=100)
    pages[1] = (100, 200, b"\xc1 not msgpack")
    emu = Emulator(40, 5, scrollback=1000, strict=True)
    restore(emu, head, pages, "[restored]")
    text = emu_text(emu, scrollback=True).splitlines()
    assert text[99] == "row 00099" and text[100].startswith("[scarab: saved rows that could not be read")
    assert text[200] == "row 00200", "the rows after a damaged page kept their places"
    assert emu.history_total == 300


def test_a_page_is_at_most_page_cells_and_served_from_any_position() -> None:
    scrollback = Scrollback(100)
    scrollback.push_saved([SavedPage(b"", 0, 0, 0)])
    assert len(scrollback) == 0 and not scrollback.saved
    scrollback.extend([coloured(i) for i in range(5)])
    assert scrollback.lines(3, 10) == [coloured(3), coloured(4)]
    assert scrollback[-1] == coloured(4) and scrollback[0] == coloured(0)
    emu = Emulator(40, 5, scrollback=20_000, strict=True)
    emu.push_history([freeze(Line("x" * 100, ((100, DEFAULT_STYLE),)))] * 10_000)
    start, stop, data = history_page(emu, 0, 10_000)
    assert (start, stop) == (0, (PAGE_CELLS + 107) // 108) and len(msgpack.unpackb(data)["rows"]) == stop


def test_a_restore_file_cut_short_adds_no_saved_rows() -> None:
    head, pages = saved(first=0, upto=300, page_rows=100)

    def cut_short() -> Iterator[tuple[int, int, bytes]]:
        yield pages[0]
        raise ValueError("the file ends in the middle of a page")

    emu = Emulator(40, 5, scrollback=1000, strict=True)
    with pytest.raises(ValueError):
        restore(emu, head, cut_short(), "[restored]")
    assert len(emu.history) == 0 and emu.history_total == 0 and not emu.history.saved


def test_rows_that_wrapped_are_saved_and_restored_with_the_rows() -> None:
    """Which rows wrapped into the next (copy mode joins them) goes with the snapshot, for its
    history pages and its screen: a long line in restored scrollback is still one line."""
    old = Emulator(20, 4, scrollback=100, strict=True)
    old.feed(b"a" * 45 + b"\r\nafter\r\n" + b"\r\n".join(b"%d" % i for i in range(5)) + b"\r\n" + b"b" * 30)
    assert old.wrapped_history(0, old.history_total) == [0, 1] and old.wrapped_screen(range(4)) == [2]
    first, upto, data = history_page(old, 0, old.history_total)
    head = msgpack.unpackb(snapshot_head(old, "/"), raw=False)
    head.update(first=first, upto=upto)

    new = Emulator(20, 4, scrollback=100, strict=True)
    restore(new, head, [(first, upto, data)], "[restored]")
    assert new.wrapped_history(0, upto) == [0, 1]  # the saved page, read when asked for
    assert history_page(new, 0, upto) == (first, upto, data)  # saved again as it was, flags and all
    assert decode_page(history_page(new, 1, upto)[2])[1] == (0,)  # packed afresh: still flagged
    # The saved screen's long line (its last two rows) scrolls on into history, still joined.
    new.feed(b"\r\n" * 5)
    texts = [row.text for row in new.history]
    at = texts.index("b" * 20)
    assert at > upto and texts[at + 1] == "b" * 10 and new.wrapped_history(upto, new.history_total) == [at]
    # A snapshot saved before Scarab kept these has none, and restores as before.
    del head["wrapped"]
    plain = msgpack.packb({k: v for k, v in msgpack.unpackb(data, raw=False).items() if k != "wrapped"})
    older = Emulator(20, 4, scrollback=100, strict=True)
    restore(older, head, [(first, upto, plain)], "[restored]")
    older.feed(b"\r\n" * 5)
    assert older.wrapped_history(0, older.history_total) == []
    assert [row.text for row in older.history][:3] == ["a" * 20, "a" * 20, "a" * 5]
