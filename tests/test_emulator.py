"""Unit tests of the pure emulator layer: bytes in, rows, scrollback and modes out."""

from __future__ import annotations

import gc
import time

import pytest

from scarab.daemon.emulator import Emulator
from scarab.daemon.scrollback import freeze
from scarab.styles import DEFAULT_STYLE, TRUECOLOR, Attr, Line, Mode, Style, line_to_ansi
from tests.helpers import emu_text


def test_scrollback_is_compact_and_bounded() -> None:
    emu = Emulator(20, 5, scrollback=100, strict=True)
    emu.feed("".join(f"line {i}\r\n" for i in range(300)).encode())
    assert len(emu.history) == 100
    assert emu.history[-1] == Line("line 295", ((8, Style()),))
    assert emu_text(emu).splitlines()[0] == "line 296"
    assert emu_text(emu, scrollback=True).splitlines()[0] == "line 196"


def test_scrollback_rows_are_invisible_to_the_garbage_collector() -> None:
    """Issue 11, item 9: each full collection walked every run of every history row (~4 million
    objects for 10,000 rows of per-character truecolour, ~1.3 s a time) while a keystroke waited.
    History rows must not add to what the collector tracks, however many runs they hold."""
    data = [
        "".join(f"\x1b[38;2;{x};{y % 256};7m{chr(65 + x % 26)}" for x in range(60)).encode() + b"\r\n"
        for y in range(400)
    ]
    warm = Emulator(60, 5, scrollback=0, strict=True)  # the same output fills the bounded style caches
    for chunk in data:
        warm.feed(chunk)
    emu = Emulator(60, 5, scrollback=1000, strict=True)
    gc.collect()
    before = len(gc.get_objects())
    for chunk in data:
        emu.feed(chunk)
    gc.collect()
    assert len(emu.history) == 396
    grown = len(gc.get_objects()) - before
    assert grown < 2_000, f"{grown} more objects tracked for 396 rows of 60 runs each"
    assert emu.history[-1].runs[3] == (1, Style(TRUECOLOR | 0x038B07, -1, 0))


def test_styles_and_ansi_round_trip() -> None:
    emu = Emulator(40, 3, strict=True)
    emu.feed(b"\x1b[1;31mred\x1b[0m \x1b[38;2;1;2;3mrgb\x1b[0m \x1b[48;5;200mpal\x1b[0m")
    row = emu.row(0)
    assert row.text == "red rgb pal"
    styles = [style for _count, style in row.runs]
    assert styles[0] == Style(1, -1, Attr.BOLD)
    assert styles[2] == Style(TRUECOLOR | 0x010203, -1, 0)
    assert styles[4] == Style(-1, 200, 0)
    again = Emulator(40, 3, strict=True)
    again.feed(line_to_ansi(row).encode())
    assert again.row(0) == row


def test_alternate_screen_keeps_main_screen_and_scrollback() -> None:
    emu = Emulator(20, 4, strict=True)
    emu.feed(b"shell prompt\r\n")
    emu.feed(b"\x1b[?1049h\x1b[2J\x1b[Hfull screen app")
    assert emu.modes & Mode.ALT_SCREEN
    assert emu.row(0).text == "full screen app"
    emu.feed(b"\r\n" * 10)  # scrolling on the alt screen does not fill scrollback
    assert len(emu.history) == 0
    emu.feed(b"\x1b[?1049l")
    assert emu.row(0).text == "shell prompt"
    assert not emu.modes & Mode.ALT_SCREEN


def test_modes_reported_for_clients() -> None:
    emu = Emulator(10, 2, strict=True)
    emu.feed(b"\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h")
    assert emu.modes == Mode.CURSOR_KEYS | Mode.BRACKETED_PASTE | Mode.MOUSE_NORMAL | Mode.MOUSE_SGR
    emu.feed(b"\x1b[?1l\x1b[?1000l")
    assert emu.modes == Mode.BRACKETED_PASTE | Mode.MOUSE_SGR


def test_replies_go_through_callback() -> None:
    replies: list[bytes] = []
    emu = Emulator(10, 5, on_reply=replies.append, strict=True)
    emu.feed(b"\x1b[3;4H\x1b[6n")
    assert replies == [b"\x1b[3;4R"]


def test_resize_pushes_trimmed_rows_to_scrollback_and_clamps_cursor() -> None:
    emu = Emulator(10, 6, strict=True)
    emu.feed(b"a\r\nb\r\nc\r\nd\r\ne\r\nf")
    emu.resize(5, 3)
    assert [line.text for line in emu.history] == ["a", "b", "c"]
    assert [emu.row(y).text for y in range(3)] == ["d", "e", "f"]
    x, y, _visible, _shape = emu.cursor
    assert 0 <= x < 5 and 0 <= y < 3


def test_a_sequence_that_fails_is_dropped_counted_and_logged_unless_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(*_args: int) -> None:
        raise ValueError("broken verb")

    lenient = Emulator(20, 2)
    lenient._csi_verbs["A"] = (broken, 1)  # a verb with a bug, as pyte's had
    lenient.feed(b"a\x1b[Ab\x1b[2Ac")
    assert lenient.row(0).text == "abc" and lenient.errors == 2
    logged = capsys.readouterr().err.splitlines()
    assert len(logged) == 2 and "broken verb" in logged[0] and "(1 so far)" in logged[0]
    strict = Emulator(20, 2, strict=True)
    strict._csi_verbs["A"] = (broken, 1)
    with pytest.raises(ValueError, match="broken verb"):
        strict.feed(b"a\x1b[Ab")


# (cols, rows, what is on the screen first, the hostile stream): each would cost seconds to
# minutes of a host's time if its cost followed the counts in it rather than the cells it changes.
FULL = (b"x" * 1000 + b"\r\n") * 249 + b"x" * 1000
HOSTILE = {
    "REP 21 KB at 200x50": (200, 50, b"", b"x" + b"\x1b[9999b" * 3000),
    "ED 2 x400": (1000, 250, FULL, b"\x1b[2J" * 400),
    "ED 2 in a colour x400": (1000, 250, FULL, b"\x1b[41m\x1b[2J\x1b[42m\x1b[2J" * 200),
    "SU 9999 x1000": (1000, 250, FULL, b"\x1b[9999S" * 1000),
    "DECALN x400": (1000, 250, FULL, b"\x1b#8" * 400),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_sequences_cost_what_they_change(case: str) -> None:
    cols, rows, before, attack = HOSTILE[case]
    emu = Emulator(cols, rows, strict=True)
    emu.feed(before)
    start = time.process_time()  # CPU time: what the host spends, whatever else the machine runs
    emu.feed(attack)
    spent = time.process_time() - start
    assert spent < 1.0, f"{case}: {spent:.2f} s of CPU"
    assert 0 <= emu.cursor[0] < cols and 0 <= emu.cursor[1] < rows


def test_erase_leaves_the_background_colour_only_as_tmux_does() -> None:
    emu = Emulator(6, 3, strict=True)
    emu.feed(b"abcdef\r\nghijkl\x1b[1;3H\x1b[4;41m\x1b[K\x1b[2;5H\x1b[0;1m\x1b[1K\x1b[3;1H\x1b[44m\x1b[2K")
    red, blue = Style(bg=1), Style(bg=4)
    # Erased cells take the background colour, not the underline or bold in effect.
    assert emu.row(0) == Line("ab    ", ((2, Style()), (4, red)))
    assert emu.row(1) == Line("     l", ((6, Style()),))
    assert emu.row(2) == Line("      ", ((6, blue),))
    emu.feed(b"\x1b[3;3H\x1b[0mX")  # writing into a coloured erased row keeps the rest of it
    assert emu.row(2) == Line("  X   ", ((2, blue), (1, Style()), (3, blue)))


def test_bad_sequences_do_not_lose_the_rest() -> None:
    emu = Emulator(30, 3, strict=True)
    emu.feed(b"\x1b[?4m\xff\xfe before \x1b[999999999L after")
    assert "after" in emu.row(0).text


def test_show_draws_saved_rows_cell_by_cell_above_a_dim_marker() -> None:
    emu = Emulator(30, 5, strict=True)
    emu.feed(b"old history\r\n")
    bold = Style(flags=Attr.BOLD)
    # Escape sequences in saved text are shown, never obeyed: nothing is parsed.
    saved = [Line("bold \x1b[2Jline", ((14, bold),)), Line("plain", ((5, DEFAULT_STYLE),)), Line("", ()), Line("", ())]
    emu.show(saved, "[restored]")
    assert [emu.row(y).text for y in range(4)] == ["old history", "bold [2Jline", "plain", "[restored]"]
    assert emu.row(1).runs == ((12, bold),)
    assert emu.row(3).runs == ((10, Style(flags=Attr.DIM)),)
    assert emu.cursor[:2] == (0, 4)


def test_push_history_numbers_saved_rows_on_from_the_next_stable_index() -> None:
    emu = Emulator(20, 2, scrollback=5, strict=True)
    emu.feed(b"a\r\nb\r\nc")
    assert emu.history_total == 1
    emu.push_history([freeze(Line(f"saved {i}", ((7, DEFAULT_STYLE),))) for i in range(4)])
    assert emu.history_total == 5
    assert [line.text for line in emu.history] == ["a", "saved 0", "saved 1", "saved 2", "saved 3"]
    assert emu.history_rows(1, 2) == (
        1,
        [Line("saved 0", ((7, DEFAULT_STYLE),)), Line("saved 1", ((7, DEFAULT_STYLE),))],
    )


def test_reconfigure_turns_a_blank_emulator_into_a_fresh_one_of_another_size() -> None:
    # Hosts forked from the zygote take its blank 80x24 emulator instead of building their own.
    blank_replies: list[bytes] = []
    fresh_replies: list[bytes] = []
    blank = Emulator(80, 24, strict=True)
    blank.reconfigure(100, 30, 50, on_reply=blank_replies.append)
    fresh = Emulator(100, 30, 50, on_reply=fresh_replies.append, strict=True)
    data = b"".join(b"line %d \x1b[1;32mgreen\x1b[0m\r\n" % i for i in range(200)) + b"x" * 120 + b"\x1b[6n"
    blank.feed(data)
    fresh.feed(data)
    assert (blank.cols, blank.rows) == (100, 30)
    assert len(blank.history) == 50
    assert emu_text(blank, scrollback=True, ansi=True) == emu_text(fresh, scrollback=True, ansi=True)
    assert blank.cursor == fresh.cursor
    assert blank_replies == fresh_replies == [b"\x1b[30;21R"]


def test_coloured_blanks_before_erased_cells_are_kept() -> None:
    # Cells written before a clear stay as default blanks after it; only those may be trimmed.
    emu = Emulator(40, 5, strict=True)
    emu.feed(
        b"a long line that was there before the clear\r\nmore\x1b[2J\x1b[HX\x1b[44m     \x1b[0m\r\n\x1b[7m  \x1b[0m\r\n"
    )
    assert emu.row(0) == Line("X     ", ((1, DEFAULT_STYLE), (5, Style(bg=4))))
    assert emu.row(1) == Line("  ", ((2, Style(flags=Attr.REVERSE)),))
    assert emu.row(2) == Line("", ())


def test_rows_that_wrapped_are_known_on_screen_and_in_history() -> None:
    """tmux's GRID_LINE_WRAPPED: a row the program wrote on past the end of is flagged (copy mode
    joins it to the next), on the screen and once scrolled into history, by character and by the
    fast path for plain lines; a row ended by CR LF is not, even when it is exactly full."""
    emu = Emulator(10, 6, scrollback=100, strict=True)
    emu.feed(b"a" * 25 + b"\r\n" + b"b" * 10 + b"\r\nc")
    assert emu.wrapped_screen(range(6)) == [0, 1]  # aaaaaaaaaa aaaaaaaaaa aaaaa / bbbbbbbbbb / c
    emu.feed(b"\r\n" * 3)  # two rows scroll into history
    assert emu.wrapped_history(0, emu.history_total) == [0, 1] and emu.wrapped_screen(range(6)) == []
    # Four short lines fill the screen, so the long one takes the fast path's rows (and the slow one's).
    text = ("1\r\n2\r\n3\r\n4\r\n" + "x" * 300 + "\r\n" + "y" * 10 + "\r\n" + "z" * 15 + "\r\nend").encode()
    for fast_path in (True, False):
        emu = Emulator(10, 4, scrollback=100, strict=True)
        emu.fast_path = fast_path
        emu.feed(text)
        # 1 2 3 4, 30 rows of x (29 wrapped); on the screen y, z (wrapped), z, end.
        assert emu.history_total == 34
        assert emu.wrapped_history(0, 34) == list(range(4, 33)), fast_path
        assert emu.wrapped_screen(range(4)) == [1], fast_path
    emu.clear_history()
    assert emu.wrapped_history(0, 34) == []
    # Rows a shorter screen pushes into history keep their flag too.
    emu = Emulator(10, 6, scrollback=100, strict=True)
    emu.feed(b"a" * 25 + b"\r\nb\r\nc\r\nd\r\ne")
    emu.resize(10, 2)
    assert [row.text for row in emu.history] == ["a" * 10, "a" * 10, "a" * 5, "b", "c"]
    assert emu.wrapped_history(0, emu.history_total) == [0, 1]
