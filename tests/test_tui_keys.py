"""Unit tests of the TUI's input side (pure): terminal input to Textual events, paste and mouse encoding."""

from __future__ import annotations

import pytest
from textual import events

from scarab.keys import encode, key_from_textual
from scarab.tui.input import TerminalInput
from scarab.tui.keys import encode_mouse, encode_paste


def test_paste() -> None:
    assert encode_paste("a\nb", bracketed=False) == b"a\rb"
    assert encode_paste("x\x1b[201~y", bracketed=True) == b"\x1b[200~xy\x1b[201~"


def test_mouse() -> None:
    assert encode_mouse(0, 4, 2, press=True) == b"\x1b[<0;5;3M"
    assert encode_mouse(0, 4, 2, press=False) == b"\x1b[<0;5;3m"
    assert encode_mouse(64, 0, 0, press=True) == b"\x1b[<64;1;1M"
    assert encode_mouse(0, 0, 0, press=True, sgr=False) == b"\x1b[M !!"
    assert encode_mouse(0, 300, 0, press=True, sgr=False) is None


def program_bytes(messages: object) -> bytes:
    out = b""
    for m in messages:  # type: ignore[attr-defined]
        if isinstance(m, events.Key):
            key = key_from_textual(m.key, m.character)
            out += (encode(key) or b"") if key else b""
    return out


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("\x1b.", b"\x1b."),  # bash's Alt+. (last argument)
        ("\x1b:", b"\x1b:"),  # vim: Esc then : within ESCDELAY
        ("\x1bb", b"\x1bb"),  # zsh's backward-word, not ctrl+left
        ("\x1b\r", b"\x1b\r"),
        ("\x1b\x01", b"\x1b\x01"),
        ("\x1b\x7f", b"\x1b\x7f"),
        ("\x1b[1;2R", b"\x1b[1;2R"),
        ("\x1bOH\x1b[F", b"\x1b[1~\x1b[4~"),  # xterm's Home/End as tmux-256color declares them
        ("a\x1bob\x1bpc", b"a\x1bob\x1bpc"),
        ("ihello\x1bowor\x1bld", b"ihello\x1bowor\x1bld"),
        ("\x1b\x1b[A", b"\x1b\x1b[A"),
    ],
)
def test_what_the_terminal_sends_is_what_the_program_gets(sent: str, expected: bytes) -> None:
    parser = TerminalInput()
    assert program_bytes([*parser.feed(sent), *parser.feed("")]) == expected


def test_a_lone_esc_waits_then_is_esc() -> None:
    parser = TerminalInput()
    assert list(parser.feed("\x1b")) == []
    parser._deadline = 0.0  # the escape time has passed
    assert program_bytes(parser.tick()) == b"\x1b"
    # and a sequence split across reads is still one key
    assert list(parser.feed("\x1b[1;")) == []
    assert program_bytes(parser.feed("5D")) == b"\x1b[1;5D"


def test_mouse_focus_and_paste_stay_textual_events() -> None:
    parser = TerminalInput()
    got = [*parser.feed("\x1b[<0;5;3M\x1b[I\x1b[200~a\x1bb\x1b[201~x")]
    assert isinstance(got[0], events.MouseDown) and (got[0].x, got[0].y) == (4, 2)
    assert isinstance(got[1], events.AppFocus)
    assert isinstance(got[2], events.Paste) and got[2].text == "a\x1bb"
    assert isinstance(got[3], events.Key) and got[3].key == "x"
    # a terminal's reply to a query is not typed into the program
    assert program_bytes(parser.feed("\x1b[?64;1;2c")) == b""


def test_the_app_reads_keys_with_its_driver_or_refuses_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.drivers.linux_driver import LinuxDriver

    from scarab.errors import ScarabError
    from scarab.tui import input as tui_input
    from scarab.tui.app import ScarabApp

    driver = ScarabApp().driver_class
    assert issubclass(driver, LinuxDriver) and driver.run_input_thread is not LinuxDriver.run_input_thread
    monkeypatch.setattr(tui_input, "TEXTUAL_RANGE", ((99, 0), (100, 0)))
    with pytest.raises(ScarabError, match=r"written for Textual >= 99.0, < 100.0, found Textual \d"):
        tui_input.install()
    monkeypatch.undo()
    monkeypatch.delattr(LinuxDriver, "run_input_thread")
    with pytest.raises(ScarabError, match="written for Textual"):
        tui_input.install()


def test_pyproject_pins_the_textual_range_the_key_input_was_written_for() -> None:
    import re
    import tomllib
    from pathlib import Path

    from scarab.tui.input import TEXTUAL_RANGE

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    textual = next(d for d in project["project"]["dependencies"] if d.startswith("textual"))
    low, high = TEXTUAL_RANGE
    assert re.fullmatch(rf"textual>={low[0]}\.{low[1]},<{high[0]}", textual.replace(" ", "")), textual
