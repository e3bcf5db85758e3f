from __future__ import annotations

import pytest

from scarab.keys import key_bytes, send_keys_bytes


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Enter", b"\r"),
        ("C-c", b"\x03"),
        ("C-d", b"\x04"),
        ("M-x", b"\x1bx"),
        ("C-M-a", b"\x1b\x01"),
        ("Escape", b"\x1b"),
        ("BSpace", b"\x7f"),
        ("Up", b"\x1b[A"),
        ("PPage", b"\x1b[5~"),
        ("F1", b"\x1bOP"),
        ("F12", b"\x1b[24~"),
        ("BTab", b"\x1b[Z"),
        ("C-Space", b"\x00"),
        ("Space", b" "),
    ],
)
def test_key_names(key: str, expected: bytes) -> None:
    assert key_bytes(key) == expected


def test_words_are_text_and_literal_mode() -> None:
    assert send_keys_bytes(["echo hi", "Enter"]) == b"echo hi\r"
    assert send_keys_bytes(["Enter"], literal=True) == b"Enter"
    assert key_bytes("hello") is None
    assert send_keys_bytes(["ünï"]) == "ünï".encode()
