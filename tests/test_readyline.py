"""The ready line: written once, read with a deadline, taken apart strictly."""

from __future__ import annotations

import os

import pytest

from scarab.readyline import Reporter, parse, read_line

pytestmark = pytest.mark.timeout(10)


def test_parse() -> None:
    assert parse("ready 12 34\n", pids=2) == (12, 34)
    assert parse("running 7", pids=1, words=("ready", "running")) == (7,)
    for line, reason in (
        ("error no such directory: /x", "no such directory: /x"),
        ("", ""),
        ("ready 12", ""),
        ("ready 12 x", ""),
        ("running 7", ""),
        ("garbage", ""),
    ):
        with pytest.raises(ValueError) as caught:
            parse(line, pids=2)
        assert str(caught.value) == reason


def test_reporter_says_once_and_never_writes_to_a_reused_fd() -> None:
    read_fd, write_fd = os.pipe()
    say = Reporter(write_fd)
    say("ready 1 2")
    other_read, other_write = os.pipe()  # may take write_fd's old number
    say("error too late")  # must not reach whatever file now has that number
    os.close(other_write)
    assert read_line(read_fd, 5) == "ready 1 2"
    assert os.read(other_read, 100) == b""
    os.close(other_read)


def test_read_line_gives_up_on_a_silent_or_closed_writer() -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"partial")
    assert read_line(read_fd, 0.05) == "partial"
    os.close(write_fd)
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    assert read_line(read_fd, 5) == ""
