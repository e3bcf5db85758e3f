"""Emulator fidelity: bytes in -> screen text, attributes, modes and replies out, per sequence family."""

from __future__ import annotations

import pytest

from scarab.daemon.emulator import Emulator
from scarab.styles import TRUECOLOR, Attr, Mode, Style


def emu(data: bytes, cols: int = 20, rows: int = 5, **kw: object) -> Emulator:
    """A strict emulator fed `data`: a sequence that fails to apply fails the test."""
    e = Emulator(cols, rows, strict=True, **kw)  # type: ignore[arg-type]
    e.feed(data)
    return e


def rows(e: Emulator) -> list[str]:
    return [e.row(y).text for y in range(e.rows)]


def style_at(e: Emulator, y: int, index: int) -> Style:
    pos = 0
    for count, style in e.row(y).runs:
        if pos <= index < pos + count:
            return style
        pos += count
    return Style()


# -- alternate screen ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [47, 1047, 1049])
def test_alternate_screens(mode: int) -> None:
    e = emu(b"main text\r\nline2")
    e.feed(f"\x1b[?{mode}h".encode() + b"\x1b[Halt")
    assert e.row(0).text.startswith("alt") and e.modes & Mode.ALT_SCREEN
    e.feed(f"\x1b[?{mode}l".encode())
    assert rows(e)[:2] == ["main text", "line2"]


def test_1049_restores_cursor_and_keeps_scrollback_clean() -> None:
    e = emu(b"prompt$ ")
    e.feed(b"\x1b[?1049h\x1b[2J\x1b[10;1H" + b"x\r\n" * 30)
    assert len(e.history) == 0
    e.feed(b"\x1b[?1049l")
    assert e.cursor[:2] == (8, 0)


# -- SU/SD, REP, CSI s/u, keypad, DECSCUSR, DECSTR ---------------------------------------------


def test_scroll_up_and_down() -> None:
    e = emu(b"1\r\n2\r\n3\r\n4\r\n5\x1b[2S")
    assert rows(e) == ["3", "4", "5", "", ""]
    e.feed(b"\x1b[1T")
    assert rows(e) == ["", "3", "4", "5", ""]


def test_rep_repeats_last_character() -> None:
    assert rows(emu(b"ab\x1b[3b"))[0] == "abbbb"
    # Never past the end of the line, as in tmux 3.3a: one sequence costs at most a row.
    assert rows(emu(b"\x1b[2;5H-\x1b[999999999b", cols=10, rows=3)) == ["", "    ------", ""]


def test_csi_s_u_save_restore() -> None:
    e = emu(b"abc\x1b[s\x1b[3;5Hxyz\x1b[uZ")
    assert rows(e)[0] == "abcZ" and rows(e)[2] == "    xyz"


def test_keypad_mode_and_cursor_shape() -> None:
    e = emu(b"\x1b=\x1b[5 q")
    assert e.modes & Mode.KEYPAD and e.cursor[3] == 5
    e.feed(b"\x1b>\x1b[0 q")
    assert not e.modes & Mode.KEYPAD and e.cursor[3] == 0


def test_decstr_soft_reset_keeps_screen() -> None:
    e = emu(b"keep\x1b[?25l\x1b[4h\x1b[1;31m\x1b[2;4r\x1b[!p")
    assert rows(e)[0] == "keep" and e.cursor[2] is True
    e.feed(b"\x1b[Hx")
    assert rows(e)[0] == "xeep" and style_at(e, 0, 0) == Style()


# -- tolerant CSI --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seq",
    [b"\x1b[>4;2m", b"\x1b[?4m", b"\x1b[<1u", b"\x1b[=5c", b"\x1b[>1u", b"\x1b[?2026$p", b"\x1b[2 q",
     b"\x1b[1;2;3;4;5;6;7;8;9;10;11;12;13;14;15;16;17;18;19;20H", b"\x1b[4\"p", b"\x1b[?1;2;3r", b"\x1b[1:2H",
     b"\x1b[?999999999h", b"\x1b[999999999P", b"\x1b[99999999999999999999999999A"],
)  # fmt: skip
def test_odd_csi_never_draws_and_keeps_the_rest(seq: bytes) -> None:
    e = emu(b"a" + seq + b"b", cols=40)
    text = "".join(rows(e))
    assert "a" in text and "b" in text
    assert not set(text) - set("ab ")


def test_huge_csi_is_dropped_without_buffering() -> None:
    e = emu(b"x\x1b[" + b"1;" * 100_000 + b"mY")
    assert rows(e)[0] == "xY"


# -- strings: DCS/APC/PM/SOS swallowed, OSC handled ----------------------------------------------


@pytest.mark.parametrize("intro", [b"\x1bP", b"\x1b_", b"\x1b^", b"\x1bX"])
def test_string_sequences_are_swallowed(intro: bytes) -> None:
    e = emu(b"a" + intro + b"payload; with \x07 bell and stuff\x1b\\b")
    assert rows(e)[0] == "ab"


def test_osc_title_hyperlink_and_ignored_strings() -> None:
    e = emu(b"\x1b]0;first\x07\x1b]2;second title\x1b\\")
    assert e.title == "second title"
    e.feed(b"\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ after")
    assert rows(e)[0] == "link after"
    # The working directory (OSC 7) and the clipboard (OSC 52) are not taken from the stream.
    e.feed(b"\x1b]7;file://host/home/me/my%20dir\x07\x1b]52;c;aGVsbG8=\x07!")
    assert rows(e)[0] == "link after!" and e.title == "second title"


# -- SGR -----------------------------------------------------------------------------------------


def test_colon_sgr_and_palette_vs_rgb() -> None:
    e = emu(b"\x1b[38:2::10:20:30ma\x1b[38:5:196mb\x1b[38;5;0mc\x1b[38;2;0;0;0md\x1b[4:3me\x1b[4:0mf")
    assert rows(e)[0] == "abcdef"
    assert style_at(e, 0, 0).fg == TRUECOLOR | 0x0A141E
    assert style_at(e, 0, 1).fg == 196
    assert style_at(e, 0, 2).fg == 0  # palette black: themeable
    assert style_at(e, 0, 3).fg == TRUECOLOR  # rgb black: exact
    assert style_at(e, 0, 4).flags & Attr.UNDERLINE
    assert not style_at(e, 0, 5).flags & Attr.UNDERLINE


def test_sgr_attributes_dim_and_bright() -> None:
    e = emu(b"\x1b[1;2;3;4;5;7;9;93;104mX\x1b[22;23;24;25;27;29;39;49mY")
    x = style_at(e, 0, 0)
    assert x.flags == Attr.BOLD | Attr.DIM | Attr.ITALIC | Attr.UNDERLINE | Attr.BLINK | Attr.REVERSE | Attr.STRIKE
    assert (x.fg, x.bg) == (11, 12)
    assert style_at(e, 0, 1) == Style()


# -- wide and zero-width characters, line drawing ------------------------------------------------


def test_wide_char_wraps_at_last_column() -> None:
    e = emu("abcd日".encode(), cols=5, rows=3)
    assert rows(e)[:2] == ["abcd", "日"]


def test_overwriting_half_a_wide_char() -> None:
    e = emu("日本\x1b[1;2Hx".encode(), cols=10)
    assert rows(e)[0] == " x本"
    e = emu("日本\x1b[1;1Hy".encode(), cols=10)
    assert rows(e)[0] == "y 本"


def test_zwj_and_vs16_keep_the_rest_of_the_text() -> None:
    family = "👨\u200d👩\u200d👧"
    e = emu(f"{family} ok ❤\ufe0f end".encode(), cols=40)
    text = rows(e)[0]
    assert text.endswith("ok ❤\ufe0f end") and "\u200d" in text


def test_line_drawing_in_utf8_mode() -> None:
    e = emu(b"\x1b(0lqqk\x1b(B x\x0e\x1b)0\x0eq\x0fq")
    assert rows(e)[0] == "┌──┐ x─q"


def test_deccolm_ignored() -> None:
    e = emu(b"\x1b[?3h")
    assert (e.cols, e.rows) == (20, 5)


# -- resize ----------------------------------------------------------------------------------------


def test_resize_clamps_cursor_and_drops_blank_rows_first() -> None:
    e = emu(b"one\r\ntwo", cols=10, rows=6)
    e.resize(4, 3)
    assert rows(e) == ["one", "two", ""] and len(e.history) == 0
    e.resize(4, 1)
    assert rows(e) == ["two"] and [line.text for line in e.history] == ["one"]
    x, y, _, _ = e.cursor
    assert 0 <= x < 4 and y == 0


# -- replies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "reply"),
    [
        (b"\x1b[5n", b"\x1b[0n"),
        (b"\x1b[2;3H\x1b[6n", b"\x1b[2;3R"),
        (b"\x1b[2;3H\x1b[?6n", b"\x1b[?2;3R"),
        (b"\x1b[c", b"\x1b[?1;2c"),
        (b"\x1b[0c", b"\x1b[?1;2c"),
        (b"\x1b[>c", b"\x1b[>84;0;0c"),
        (b"\x1b[?2004h\x1b[?2004$p", b"\x1b[?2004;1$y"),
        (b"\x1b[?1049$p", b"\x1b[?1049;2$y"),
        (b"\x1b[?12345$p", b"\x1b[?12345;0$y"),
        (b"\x1b[4$p", b"\x1b[4;2$y"),
        (b"\x1b[18t", b"\x1b[8;5;20t"),
        (b"\x1b]11;?\x07", b"\x1b]11;rgb:0000/0000/0000\x1b\\"),
    ],
)
def test_replies(query: bytes, reply: bytes) -> None:
    replies: list[bytes] = []
    emu(query, on_reply=replies.append)
    assert replies == [reply]


def test_invalid_utf8_and_c1_controls() -> None:
    e = emu(b"a\xff\xfeb\xc2\x9bc\xe6\x97")
    e.feed(b"\xa5d")  # the rest of a split character arrives in the next chunk
    assert rows(e)[0] == "a\ufffd\ufffdbc日d"


def test_escape_inside_a_charset_designation_starts_a_new_sequence() -> None:
    """Found by the property test: `ESC ( ESC [ ...` must not hand a bare ESC to pyte."""
    whole = emu(b"\x1b(\x1b[?6nab\x9b", cols=5, rows=1)
    split = Emulator(5, 1, strict=True)
    for byte in b"\x1b(\x1b[?6nab\x9b":
        split.feed(bytes([byte]))
    assert rows(whole) == rows(split) == ["ab\ufffd"]


def test_endless_combining_marks_stay_bounded() -> None:
    e = emu(("a" + "\u0301" * 100_000 + "b").encode(), cols=10, rows=2)
    text = rows(e)[0]
    assert text.startswith("a") and text.endswith("b") and len(text) <= 40
