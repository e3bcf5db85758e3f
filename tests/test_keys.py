"""Unit tests of the one key model (pure): tmux's and Textual's names, tmux's encoding and decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarab.keys import Key, Mod, decode, encode, key_from_textual, parse_key_name, send_keys_bytes, textual_key


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Enter", b"\r"),
        ("C-c", b"\x03"),
        ("^C", b"\x03"),
        ("M-x", b"\x1bx"),
        ("C-M-a", b"\x1b\x01"),
        ("M-Enter", b"\x1b\r"),
        ("M-BSpace", b"\x1b\x7f"),
        ("Escape", b"\x1b"),
        ("BSpace", b"\x7f"),
        ("Up", b"\x1b[A"),
        ("M-Up", b"\x1b[1;3A"),
        ("C-S-Up", b"\x1b[1;6A"),
        ("Home", b"\x1b[1~"),  # tmux-256color's khome
        ("End", b"\x1b[4~"),  # and kend
        ("S-Home", b"\x1b[1;2H"),
        ("PPage", b"\x1b[5~"),
        ("C-NPage", b"\x1b[6;5~"),
        ("F1", b"\x1bOP"),
        ("S-F3", b"\x1b[1;2R"),
        ("M-F1", b"\x1b[1;3P"),
        ("F12", b"\x1b[24~"),
        ("C-F12", b"\x1b[24;5~"),
        ("BTab", b"\x1b[Z"),
        ("C-Space", b"\x00"),
        ("Space", b" "),
        ("C-1", b""),  # tmux sends nothing
        ("C-Enter", b""),
        ("ctrl+a", b"\x01"),  # Textual's spelling
        ("alt+b", b"\x1bb"),
        ("shift+f3", b"\x1b[1;2R"),
        ("alt+enter", b"\x1b\r"),
        ("ctrl+alt+a", b"\x1b\x01"),
        ("home", b"\x1b[1~"),
    ],
)
def test_key_names_encode_as_tmux_sends_them(name: str, expected: bytes) -> None:
    key = parse_key_name(name)
    assert key is not None and encode(key) == expected


@pytest.mark.parametrize("name", ["banana", "", " ", "C-", "X-a", "ctrl+banana", "Ctrl-A", "hyper+a"])
def test_what_is_no_key_name(name: str) -> None:
    assert parse_key_name(name) is None


def test_cursor_key_mode_switches_unmodified_arrows_to_ss3() -> None:
    assert encode(Key("Up"), cursor_keys=True) == b"\x1bOA"
    assert encode(Key("Up", Mod.SHIFT), cursor_keys=True) == b"\x1b[1;2A"
    assert encode(Key("Home"), cursor_keys=True) == b"\x1b[1~"


def test_send_words_are_text_and_literal_mode() -> None:
    assert send_keys_bytes(["echo hi", "Enter"]) == b"echo hi\r"
    assert send_keys_bytes(["Enter"], literal=True) == b"Enter"
    assert send_keys_bytes(["ünï"]) == "ünï".encode()
    assert send_keys_bytes(["S-a"]) == b"S-a"  # no key to tmux: typed as text, as send-keys does
    assert send_keys_bytes(["Home", "End"]) == b"\x1b[1~\x1b[4~"


@pytest.mark.parametrize(
    ("sent", "keys"),
    [
        ("\x1bb", [Key("b", Mod.META)]),  # Alt+b, not ctrl+left
        ("\x1bf", [Key("f", Mod.META)]),
        ("\x1b\r", [Key("\r", Mod.META)]),
        ("\x1b\x01", [Key("\x01", Mod.META)]),
        ("\x1b\x7f", [Key("BSpace", Mod.META)]),
        ("\x1b[1;2R", [Key("F3", Mod.SHIFT)]),  # shift+F3, not a cursor position report
        ("a\x1bob\x1bpc", [Key("a"), Key("o", Mod.META), Key("b"), Key("p", Mod.META), Key("c")]),
        ("\x1b[A\x1b[1;5D", [Key("Up"), Key("Left", Mod.CTRL)]),
        ("\x1b\x1b[A", [Key("Up", Mod.META)]),  # Esc then Up: sent on as Esc then Up
        ("\x1b\x1b[1;3A", [Key("\x1b"), Key("Up", Mod.META | Mod.IMPLIED_META)]),
        ("\x1b[1~\x1bOH\x1b[H", [Key("Home")] * 3),
        ("\x1b[Zé", [Key("BTab"), Key("é")]),
        ("\x1b[x", [Key("[", Mod.META), Key("x")]),  # no such sequence: M-[ then x, as tmux decides
    ],
)
def test_terminal_input_decodes_as_tmux_does(sent: str, keys: list[Key]) -> None:
    got = []
    while sent:
        found = decode(sent)
        assert found is not None, sent
        got.append(found[0])
        sent = sent[found[1] :]
    assert got == keys


@pytest.mark.parametrize("partial", ["\x1b", "\x1b[", "\x1b[1;", "\x1bO", "\x1b\x1b", "\x1b[15;2"])
def test_a_partial_sequence_waits_for_the_escape_time(partial: str) -> None:
    assert decode(partial) is None
    found = decode(partial, expired=True)
    assert found is not None and found[1] >= 1


@given(st.text(alphabet=st.sampled_from(["\x1b", "[", "O", "1", ";", "2", "A", "~", "a", "\x7f", "é", "\r"])))
def test_decoding_always_progresses_and_what_it_decodes_encodes(text: str) -> None:
    while text:
        found = decode(text) or decode(text, expired=True)
        assert found is not None and 1 <= found[1] <= len(text)
        encode(found[0])  # never raises
        text = text[found[1] :]


@pytest.mark.parametrize(
    "key",
    [Key("a"), Key("A"), Key("\x01"), Key("\x01", Mod.META), Key("b", Mod.META), Key("\r"), Key("\r", Mod.META),
     Key("\t"), Key("\x1b"), Key(" "), Key("."), Key(".", Mod.META), Key("-", Mod.META), Key("<", Mod.META),
     Key("BSpace"), Key("BSpace", Mod.META), Key("F3", Mod.SHIFT), Key("Up", Mod.META | Mod.IMPLIED_META),
     Key("BTab"), Key("\x00"), Key("\x1c"), Key("\x1f"), Key("é")],
)  # fmt: skip
def test_textual_names_carry_every_key_unchanged(key: Key) -> None:
    name, character = textual_key(key)
    assert encode(key_from_textual(name, character) or Key("")) == encode(key)
