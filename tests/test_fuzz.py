"""Property tests: hostile byte streams never raise, keep the cursor in bounds, and give the same
screen whether fed whole, byte by byte, or split anywhere."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scarab.daemon.emulator import Emulator

FRAGMENTS = [
    b"\x1b", b"\x1b[", b"\x1b]", b"\x1bP", b"\x1b_", b"\x1b(", b"\x1b)0", b"\x1b#8", b"\x1b%@", b"\x1bc",
    b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[?47h", b"\x1b[?3h", b"\x1b[2J", b"\x1b[H", b"\x1b[999999999L",
    b"\x1b[999999999M", b"\x1b[999999999@", b"\x1b[999999999b", b"\x1b[5S", b"\x1b[5T", b"\x1b[2;4r",
    b"\x1b[>4;2m", b"\x1b[38:2::1:2:3m", b"\x1b[38;5;300m", b"\x1b[48;2m", b"\x1b[?6n", b"\x1b[6n", b"\x1b[c",
    b"\x1b[!p", b"\x1b[2 q", b"\x1b[s", b"\x1b[u", b"\x1b7", b"\x1b8", b"\x1bM", b"\x1bD", b"\x1bE",
    b"\x07", b"\x08", b"\t", b"\n", b"\r", b"\x0e", b"\x0f", b"\x18", b"\x1a", b"\x9b", b"\xc2\x9b",
    b";", b":", b"?", b">", b"<", b"=", b"$", b" ", b"0", b"1", b"9", b"m", b"h", b"l", b"\x1b\\",
    "日本".encode(), "👨\u200d👩".encode(), "\ufe0f".encode(), "é".encode(), b"\xe6\x97", b"\xff",
    b"abc", b"x" * 30,
]  # fmt: skip

streams = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=8)), max_size=40).map(b"".join)


def state(e: Emulator) -> tuple[object, ...]:
    s = e.screen
    return (
        [e.row(y) for y in range(e.rows)],
        list(e.history),
        (s.cursor.x, s.cursor.y),
        e.modes,
        e.title,
        (e.cols, e.rows),
    )


def check_bounds(e: Emulator) -> None:
    s = e.screen
    assert 0 <= s.cursor.y < e.rows
    assert 0 <= s.cursor.x <= e.cols  # x == cols is the pending-wrap position
    x, y, _visible, _shape = e.cursor
    assert 0 <= x < e.cols and 0 <= y < e.rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams, cols=st.integers(1, 30), rows=st.integers(1, 8))
def test_never_raises_and_cursor_in_bounds(data: bytes, cols: int, rows: int) -> None:
    e = Emulator(cols, rows, scrollback=50, on_reply=lambda _b: None, strict=True)
    e.feed(data)
    check_bounds(e)
    e.resize(max(1, cols // 2), max(1, rows - 1))
    check_bounds(e)
    e.feed(data)
    check_bounds(e)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams, cols=st.integers(2, 30), rows=st.integers(1, 8))
def test_same_screen_whole_or_byte_by_byte(data: bytes, cols: int, rows: int) -> None:
    whole = Emulator(cols, rows, scrollback=50, strict=True)
    whole.feed(data)
    split = Emulator(cols, rows, scrollback=50, strict=True)
    for i in range(len(data)):
        split.feed(data[i : i + 1])
    assert state(split) == state(whole)


@settings(max_examples=200, deadline=None)
@given(data=streams, cuts=st.lists(st.integers(0, 400), max_size=6))
def test_same_screen_split_anywhere(data: bytes, cuts: list[int]) -> None:
    whole = Emulator(20, 6, scrollback=50, strict=True)
    whole.feed(data)
    split = Emulator(20, 6, scrollback=50, strict=True)
    points = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    for a, b in itertools.pairwise(points):
        split.feed(data[a:b])
    assert state(split) == state(whole)


plain_lines = st.lists(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=70), max_size=60)
setups = st.lists(
    st.sampled_from([b"\x1b[2J", b"\x1b[H", b"\x1b[5;3H", b"\x1b[1;31m", b"\x1b[0m", b"\x1b[7m", b"abc", b"\r\n", b"\n",
                     b"\x1b[?7l", b"\x1b[?7h", b"\x1b[2;4r", b"\x1b[r", b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[4h",
                     b"\x1b[4l", b"\x1b(0", b"\x1b(B", "日本".encode()]),
    max_size=6,
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(setup=setups, lines=plain_lines, cols=st.integers(1, 30), rows=st.integers(1, 8), cuts=st.lists(
    st.integers(0, 5000), max_size=4), repeat=st.integers(1, 12))  # fmt: skip
def test_fast_path_gives_the_same_screen_as_the_slow_path(
    setup: list[bytes], lines: list[str], cols: int, rows: int, cuts: list[int], repeat: int
) -> None:
    data = b"".join(setup) + ("\r\n".join(lines) * repeat).encode()
    fast = Emulator(cols, rows, scrollback=50, strict=True)
    slow = Emulator(cols, rows, scrollback=50, strict=True)
    slow.fast_path = False
    points = [0, *sorted(c % (len(data) + 1) for c in cuts), len(data)]
    for a, b in itertools.pairwise(points):
        fast.feed(data[a:b])
        slow.feed(data[a:b])
    assert state(fast) == state(slow)
    assert fast.screen.last_char == slow.screen.last_char


def test_fast_path_is_taken_for_plain_floods(monkeypatch: pytest.MonkeyPatch) -> None:
    from scarab.daemon import emulator

    taken: list[int] = []
    original = emulator._Screen.write_lines

    def spy(self: emulator._Screen, text: str) -> bool:
        result = original(self, text)
        taken.append(result)
        return result

    monkeypatch.setattr(emulator._Screen, "write_lines", spy)
    e = Emulator(80, 24, strict=True)
    data = "".join(f"{i}\r\n" for i in range(1, 20001)).encode()
    for start in range(0, len(data), 4096):  # reads split lines, and CR from LF, anywhere
        e.feed(data[start : start + 4096])
    assert len(taken) >= len(data) // 4096 - 1 and all(taken)
    assert e.row(22).text == "20000" and e.history[-1].text == "19977"
