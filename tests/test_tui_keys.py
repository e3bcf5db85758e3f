"""Unit tests of the TUI's key, paste and mouse encoding (pure)."""

from __future__ import annotations

import pytest

from scarab.tui.keys import encode_key, encode_mouse, encode_paste


@pytest.mark.parametrize(
    ("key", "character", "expected"),
    [
        ("a", "a", b"a"),
        ("A", "A", b"A"),
        ("ctrl+c", None, b"\x03"),
        ("ctrl+d", None, b"\x04"),
        ("ctrl+z", None, b"\x1a"),
        ("ctrl+q", None, b"\x11"),
        ("ctrl+p", None, b"\x10"),
        ("ctrl+@", None, b"\x00"),
        ("ctrl+backslash", None, b"\x1c"),
        ("alt+x", "x", b"\x1bx"),
        ("alt+ctrl+x", None, b"\x1b\x18"),
        ("enter", None, b"\r"),
        ("enter", "\r", b"\r"),
        ("tab", None, b"\t"),
        ("shift+tab", None, b"\x1b[Z"),
        ("backspace", "\x08", b"\x7f"),
        ("escape", "\x1b", b"\x1b"),
        ("up", None, b"\x1b[A"),
        ("left", None, b"\x1b[D"),
        ("home", None, b"\x1b[H"),
        ("end", None, b"\x1b[F"),
        ("pageup", None, b"\x1b[5~"),
        ("pagedown", None, b"\x1b[6~"),
        ("delete", None, b"\x1b[3~"),
        ("insert", None, b"\x1b[2~"),
        ("f1", None, b"\x1bOP"),
        ("f4", None, b"\x1bOS"),
        ("f5", None, b"\x1b[15~"),
        ("f12", None, b"\x1b[24~"),
        ("shift+up", None, b"\x1b[1;2A"),
        ("ctrl+right", None, b"\x1b[1;5C"),
        ("ctrl+pageup", None, b"\x1b[5;5~"),
        ("space", " ", b" "),
        ("ü", "ü", "ü".encode()),
    ],
)
def test_key_table(key: str, character: str | None, expected: bytes) -> None:
    assert encode_key(key, character) == expected


def test_cursor_key_mode_switches_arrows_to_ss3() -> None:
    assert encode_key("up", None, cursor_keys=True) == b"\x1bOA"
    assert encode_key("home", None, cursor_keys=True) == b"\x1bOH"
    assert encode_key("shift+up", None, cursor_keys=True) == b"\x1b[1;2A"


def test_paste() -> None:
    assert encode_paste("a\nb", bracketed=False) == b"a\rb"
    assert encode_paste("x\x1b[201~y", bracketed=True) == b"\x1b[200~xy\x1b[201~"


def test_mouse() -> None:
    assert encode_mouse(0, 4, 2, press=True) == b"\x1b[<0;5;3M"
    assert encode_mouse(0, 4, 2, press=False) == b"\x1b[<0;5;3m"
    assert encode_mouse(64, 0, 0, press=True) == b"\x1b[<64;1;1M"
    assert encode_mouse(0, 0, 0, press=True, sgr=False) == b"\x1b[M !!"
    assert encode_mouse(0, 300, 0, press=True, sgr=False) is None


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("\x1b.", b"\x1b."),  # bash's Alt+. (last argument)
        ("\x1b:", b"\x1b:"),  # vim: Esc then : within ESCDELAY
        ("\x1b ", b"\x1b "),
        ("\x1bx", b"\x1bx"),
        (".", b"."),
        ("\x1b[A", b"\x1b[A"),
    ],
)
def test_what_the_terminal_sends_is_what_the_session_gets(sent: str, expected: bytes) -> None:
    from textual._xterm_parser import XTermParser

    from scarab.tui.terminal import keep_alt_with_punctuation

    keep_alt_with_punctuation()
    parser = XTermParser()
    events = [*parser.feed(sent), *parser.feed("")]
    assert b"".join(encode_key(e.key, e.character) or b"" for e in events) == expected  # type: ignore[attr-defined]
