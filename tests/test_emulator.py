"""Unit tests of the pure emulator layer: bytes in, rows, scrollback and modes out."""

from __future__ import annotations

from scarab.daemon.emulator import Emulator
from scarab.styles import DEFAULT_STYLE, TRUECOLOR, Attr, Line, Mode, Style, line_to_ansi


def test_scrollback_is_compact_and_bounded() -> None:
    emu = Emulator(20, 5, scrollback=100)
    emu.feed("".join(f"line {i}\r\n" for i in range(300)).encode())
    assert len(emu.history) == 100
    assert emu.history[-1] == Line("line 295", ((8, Style()),))
    assert emu.capture().splitlines()[0] == "line 296"
    assert emu.capture(scrollback=True).splitlines()[0] == "line 196"


def test_styles_and_ansi_round_trip() -> None:
    emu = Emulator(40, 3)
    emu.feed(b"\x1b[1;31mred\x1b[0m \x1b[38;2;1;2;3mrgb\x1b[0m \x1b[48;5;200mpal\x1b[0m")
    row = emu.row(0)
    assert row.text == "red rgb pal"
    styles = [style for _count, style in row.runs]
    assert styles[0] == Style(1, -1, Attr.BOLD)
    assert styles[2] == Style(TRUECOLOR | 0x010203, -1, 0)
    assert styles[4] == Style(-1, 200, 0)
    again = Emulator(40, 3)
    again.feed(line_to_ansi(row).encode())
    assert again.row(0) == row


def test_alternate_screen_keeps_main_screen_and_scrollback() -> None:
    emu = Emulator(20, 4)
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
    emu = Emulator(10, 2)
    emu.feed(b"\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h")
    assert emu.modes == Mode.CURSOR_KEYS | Mode.BRACKETED_PASTE | Mode.MOUSE_NORMAL | Mode.MOUSE_SGR
    emu.feed(b"\x1b[?1l\x1b[?1000l")
    assert emu.modes == Mode.BRACKETED_PASTE | Mode.MOUSE_SGR


def test_replies_go_through_callback() -> None:
    replies: list[bytes] = []
    emu = Emulator(10, 5, on_reply=replies.append)
    emu.feed(b"\x1b[3;4H\x1b[6n")
    assert replies == [b"\x1b[3;4R"]


def test_resize_pushes_trimmed_rows_to_scrollback_and_clamps_cursor() -> None:
    emu = Emulator(10, 6)
    emu.feed(b"a\r\nb\r\nc\r\nd\r\ne\r\nf")
    emu.resize(5, 3)
    assert [line.text for line in emu.history] == ["a", "b", "c"]
    assert [emu.row(y).text for y in range(3)] == ["d", "e", "f"]
    x, y, _visible, _shape = emu.cursor
    assert 0 <= x < 5 and 0 <= y < 3


def test_bad_sequences_do_not_lose_the_rest() -> None:
    emu = Emulator(30, 3)
    emu.feed(b"\x1b[?4m\xff\xfe before \x1b[999999999L after")
    assert "after" in emu.row(0).text


def test_restore_shows_saved_lines_above_marker() -> None:
    emu = Emulator(30, 5)
    emu.restore(["\x1b[0;1mbold line\x1b[0m", "plain", "", ""], ["old history"], "[restored]")
    assert [emu.row(y).text for y in range(4)] == ["old history", "bold line", "plain", "[restored]"]
    assert emu.row(1).runs[0][1].flags & Attr.BOLD


def test_take_turns_a_blank_emulator_into_a_fresh_one_of_another_size() -> None:
    # Hosts forked from the zygote take its blank 80x24 emulator instead of building their own.
    blank_replies: list[bytes] = []
    fresh_replies: list[bytes] = []
    blank = Emulator(80, 24)
    blank.take(100, 30, 50, on_reply=blank_replies.append)
    fresh = Emulator(100, 30, 50, on_reply=fresh_replies.append)
    data = b"".join(b"line %d \x1b[1;32mgreen\x1b[0m\r\n" % i for i in range(200)) + b"x" * 120 + b"\x1b[6n"
    blank.feed(data)
    fresh.feed(data)
    assert (blank.cols, blank.rows) == (100, 30)
    assert len(blank.history) == 50
    assert blank.capture(scrollback=True, ansi=True) == fresh.capture(scrollback=True, ansi=True)
    assert blank.cursor == fresh.cursor
    assert blank_replies == fresh_replies == [b"\x1b[30;21R"]


def test_coloured_blanks_before_erased_cells_are_kept() -> None:
    # Cells written before a clear stay as default blanks after it; only those may be trimmed.
    emu = Emulator(40, 5)
    emu.feed(
        b"a long line that was there before the clear\r\nmore\x1b[2J\x1b[HX\x1b[44m     \x1b[0m\r\n\x1b[7m  \x1b[0m\r\n"
    )
    assert emu.row(0) == Line("X     ", ((1, DEFAULT_STYLE), (5, Style(bg=4))))
    assert emu.row(1) == Line("  ", ((2, Style(flags=Attr.REVERSE)),))
    assert emu.row(2) == Line("", ())
