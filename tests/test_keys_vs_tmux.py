"""Keys through the real client, against tmux 3.3a: every key of the modifier matrix, typed into the
real `scarab` TUI running in a real terminal (a private tmux), must reach the program in the session
as the same bytes tmux gives a program for that key. tmux's bytes are recorded in the same run."""

from __future__ import annotations

import contextlib
import shutil
import statistics
import string
import sys
import time

import pytest

from tests.helpers import ScarabEnv, wait_for
from tests.realterm import Dump, Tmux, tmux, wait_ready

__all__ = ["tmux"]  # the fixture

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

BASES = [
    *string.ascii_lowercase, *string.ascii_uppercase, *string.digits, *string.punctuation,
    "Enter", "BSpace", "Tab", "Escape", "Space", "Up", "Down", "Left", "Right", "Home", "End", "PPage", "NPage",
    *(f"F{n}" for n in range(1, 13)),
]  # fmt: skip
MODIFIERS = ["", "S-", "M-", "C-", "S-M-", "C-S-", "C-M-", "C-M-S-"]
PREFIX = b"\x02"  # C-b, the default
SEPARATOR = "§"  # no key of the matrix sends its bytes (c2 a7)


def matrix() -> list[str]:
    return [mods + base for base in BASES for mods in MODIFIERS]


def tmux_arg(key: str) -> str:
    # tmux splits commands at an argument ending in ';'.
    return key[:-1] + "\\;" if key.endswith(";") else key


def tmux_bytes(tmux: Tmux, scarab: ScarabEnv, keys: list[str]) -> dict[str, bytes]:
    """What a program running in tmux itself reads for each key."""
    argv, dump = Dump.command(scarab, "tmux")
    tmux("new-window", "-d", "-n", "ref", *argv)
    wait_ready(dump)
    for start in range(0, len(keys), 40):  # tmux limits the length of one command line
        args: list[str] = []
        for key in keys[start : start + 40]:
            args += ["send-keys", "-t", "ref", tmux_arg(key), ";", "send-keys", "-t", "ref", "-l", SEPARATOR, ";"]
        tmux(*args[:-1])
    wait_for(lambda: dump.data().count(SEPARATOR.encode()) == len(keys), what="tmux's bytes for every key")
    return dict(zip(keys, dump.data().split(SEPARATOR.encode())[:-1], strict=True))


def arrived(dump: Dump, before: int, want: int) -> bytes:
    """What the program read since `before`, once `want` bytes came (or after 3 s, for a wrong key:
    the keys after it may then fail too, the first one named is the culprit)."""
    with contextlib.suppress(AssertionError):
        wait_for(lambda: len(dump.data()) >= before + want, timeout=3)
    return dump.data()[before:]


@pytest.mark.timeout(300)
def test_every_modified_key_reaches_the_program_as_tmux_sends_it(scarab: ScarabEnv, tmux: Tmux) -> None:
    keys = matrix()
    expected = tmux_bytes(tmux, scarab, keys)
    # Names tmux has no key for (S-a, S-Enter) it types as text: those are not keys, leave them out.
    not_keys = [k for k in keys if len(k) > 1 and expected[k] == k.encode()]
    silent = [k for k in keys if k not in not_keys and not expected[k]]
    typed = [k for k in keys if k not in not_keys and expected[k]]

    argv, dump = Dump.command(scarab, "scarab")
    scarab.ok("new", "-d", "-s", "keys", "--", *argv)
    wait_ready(dump)
    attach(tmux, scarab, "keys")
    got: dict[str, bytes] = {}
    for key in typed:
        before = len(dump.data())
        # The prefix key reaches the program when typed twice, as in tmux.
        tmux.type(*[tmux_arg(key)] * (2 if expected[key] == PREFIX else 1))
        got[key] = arrived(dump, before, len(expected[key]))
    wrong = {k: (got[k], expected[k]) for k in typed if got[k] != expected[k]}
    summary = (
        f"{len(keys)} key names: {len(not_keys)} are no key to tmux, {len(silent)} tmux sends nothing for, "
        f"{len(typed)} typed: {len(typed) - len(wrong)} match tmux"
    )
    print(summary)
    assert not wrong, summary + "\n" + "\n".join(f"{k}: scarab {g!r}, tmux {e!r}" for k, (g, e) in wrong.items())


def attach(tmux: Tmux, scarab: ScarabEnv, session: str) -> None:
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach {session}", "Enter")
    wait_for(lambda: f"[{session}] " in tmux.screen(), what="the app's status bar")


def test_a_burst_with_esc_reaches_vim_as_in_tmux(scarab: ScarabEnv, tmux: Tmux) -> None:
    # Several keys in one read, Esc among them (a paste, a slow link, a fast typist).
    burst = "ihello\x1bowor\x1bld"
    tmux("new-window", "-d", "-n", "ref", "-c", str(scarab.root), "vim -u NONE tmux.txt")
    wait_for(lambda: "~" in tmux.screen("ref"), what="vim in tmux")
    tmux("send-keys", "-t", "ref", "-l", burst)
    tmux("send-keys", "-t", "ref", ":wq", "Enter")
    in_tmux = wait_for(lambda: (scarab.root / "tmux.txt").read_text(), what="vim in tmux to write")

    scarab.ok("new", "-d", "-s", "vim", "--", "vim", "-u", "NONE", str(scarab.root / "scarab.txt"))
    attach(tmux, scarab, "vim")
    wait_for(lambda: "~" in tmux.screen(), what="vim in scarab")
    tmux.type("-l", burst)
    tmux.type(":wq", "Enter")
    in_scarab = wait_for(lambda: (scarab.root / "scarab.txt").read_text(), what="vim in scarab to write")
    assert in_tmux == "hello\nwor\n"  # what tmux 3.3a gives vim
    assert in_scarab == in_tmux


def test_a_burst_with_esc_reaches_cat_as_in_tmux(scarab: ScarabEnv, tmux: Tmux) -> None:
    burst = "a\x1bob\x1bpc"
    argv, in_tmux = Dump.command(scarab, "tmux")
    tmux("new-window", "-d", "-n", "ref", *argv)
    wait_ready(in_tmux)
    tmux("send-keys", "-t", "ref", "-l", burst)
    wait_for(lambda: in_tmux.data() == burst.encode(), what="the burst in tmux")
    argv, in_scarab = Dump.command(scarab, "scarab")
    scarab.ok("new", "-d", "-s", "burst", "--", *argv)
    wait_ready(in_scarab)
    attach(tmux, scarab, "burst")
    tmux.type("-l", burst)
    wait_for(lambda: len(in_scarab.data()) >= len(burst), what="the burst in scarab")
    assert in_scarab.data() == in_tmux.data()
    # and in cat -v, as the issue saw it
    scarab.ok("new", "-d", "-s", "cat", "--", "cat", "-v")
    tmux.type("C-b", "d")
    wait_for(lambda: "[detached" in tmux.screen(), what="the detach")
    attach(tmux, scarab, "cat")
    tmux.type("-l", burst + "\r")
    wait_for(lambda: scarab.capture("cat").count("a^[ob^[pc") == 2, what="cat -v showing the burst")


@pytest.mark.timing
def test_a_lone_esc_reaches_the_program_after_the_escape_time_not_later(scarab: ScarabEnv, tmux: Tmux) -> None:
    # A lone Esc waits ESCDELAY (10 ms) for more; vim users feel anything much longer.
    argv, dump = Dump.command(scarab, "esc")
    scarab.ok("new", "-d", "-s", "esc", "--", *argv)
    wait_ready(dump)
    attach(tmux, scarab, "esc")
    latency: dict[str, list[float]] = {"a": [], "Escape": []}
    for key in ["a", "Escape"] * 5:
        reads = len(dump.timed())
        start = time.monotonic()
        tmux.type(key)
        wait_for(lambda reads=reads: len(dump.timed()) > reads, what=key)
        latency[key].append(dump.timed()[reads][0] - start)
    extra = statistics.median(latency["Escape"]) - statistics.median(latency["a"])
    assert extra < 0.05, f"Esc took {extra * 1000:.0f} ms more than a letter (ESCDELAY is 10 ms)"
