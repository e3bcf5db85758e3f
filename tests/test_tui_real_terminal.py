"""The real `scarab` in a real terminal: inside tmux (private socket, no config), driven by send-keys."""

from __future__ import annotations

import re
import shutil
import sys

import pytest

from tests.helpers import ScarabEnv, status_shows, wait_for
from tests.realterm import Tmux, tmux

__all__ = ["tmux"]  # the fixture

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def owns_foreground(pid: int) -> bool:
    """Whether `pid`'s process group is its terminal's foreground group (what ^C signals)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[2] == fields[5]  # pgrp == tpgid


def prompt_is_last(screen: str) -> bool:
    lines = [line for line in screen.splitlines()[:-1] if line.strip()]  # the last row is the status bar
    return bool(lines) and lines[-1] == "$"


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def test_echo_detach_reattach_in_real_terminal(scarab: ScarabEnv, tmux: Tmux) -> None:
    scarab_cmd = f"{sys.executable} -m scarab"
    tmux.type(f"cd {scarab.root} && {scarab_cmd}", "Enter")
    wait_for(lambda: status_shows(tmux.screen(), "main"), what="the TUI status bar")
    tmux.type("echo hel''lo", "Enter")
    wait_for(lambda: "hello" in tmux.screen().splitlines(), what="echo output in the TUI")
    tmux.type("C-b", "d")
    wait_for(lambda: "[detached (from session main)]" in tmux.screen(), what="the detach message")
    assert "hello" in scarab.capture("main")  # the session kept running
    tmux.type("clear", "Enter")
    wait_for(lambda: "detached" not in tmux.screen())
    tmux.type(f"{scarab_cmd} attach main", "Enter")
    wait_for(lambda: "hello" in tmux.screen().splitlines(), what="the screen after reattaching")
    # Keys a terminal sends for ctrl+c and arrows reach the program through the real input parser.
    shell = scarab.session("main")["child_pid"]
    tmux.type("sleep 100", "Enter")
    sleep = wait_for(lambda: children(shell), what="sleep to start")[0]
    # ^C must find sleep in the foreground, and the shell back at its prompt before the next line.
    wait_for(lambda: owns_foreground(sleep), what="sleep to own the terminal")
    tmux.type("C-c")
    wait_for(lambda: not children(shell), what="ctrl+c to end sleep")
    wait_for(lambda: prompt_is_last(tmux.screen()), what="the shell's prompt after ^C")
    tmux.type("echo $((20+22))", "Enter")
    wait_for(
        lambda: "42" in tmux.screen().splitlines(),
        what=lambda: f"ctrl+c to interrupt sleep; terminal:\n{tmux.screen()}\nsession:\n{scarab.capture('main')}",
    )
    tmux.type("C-b", "d")
    wait_for(lambda: tmux.screen().count("[detached (from session main)]") == 1)


def test_first_paint_then_keys_typed_before_the_app_is_up(scarab: ScarabEnv, tmux: Tmux) -> None:
    scarab.ok("new", "-d", "-s", "work", "--", "sh")
    scarab.ok("send", "work", "echo pai''nted", "Enter")
    wait_for(lambda: "painted" in scarab.capture("work").splitlines())
    tmux.type(f"cd {scarab.root} && stty -g > before.stty && {sys.executable} -m scarab attach work", "Enter")
    # As soon as the session's screen shows (the first paint, before Textual is up), type: nothing
    # is echoed over the screen and nothing is lost.
    wait_for(lambda: "painted" in tmux.screen().splitlines(), what="the first paint")
    tmux.type("echo ear''ly", "Enter")
    wait_for(lambda: "early" in scarab.capture("work").splitlines(), what="keys typed during start-up")
    wait_for(lambda: status_shows(tmux.screen(), "work"), what="the app's status bar")
    tmux.type("C-b", "d")
    wait_for(lambda: "[detached (from session work)]" in tmux.screen(), what="the detach message")
    # The terminal is back in the mode it was in (the first paint had made it raw).
    tmux.type("stty -g > after.stty", "Enter")
    wait_for(lambda: (scarab.root / "after.stty").exists() and (scarab.root / "after.stty").read_text())
    assert (scarab.root / "after.stty").read_text() == (scarab.root / "before.stty").read_text()


def test_alt_with_punctuation_reaches_the_program(scarab: ScarabEnv, tmux: Tmux) -> None:
    scarab.ok("new", "-d", "-s", "keys", "--", "cat", "-v")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach keys", "Enter")
    wait_for(lambda: status_shows(tmux.screen(), "keys"), what="the app's status bar")
    # One key at a time, as typed (each its own read: ESC and its key together), each awaited in the
    # session's echo before the next; cat -v then shows what reached it.
    for key, echoed in (("M-.", "^[."), ("M-:", "^[.^[:"), ("x", "^[.^[:x"), ("Enter", "^[.^[:x\n^[.^[:x")):
        tmux.type(key)
        wait_for(lambda echoed=echoed: echoed in scarab.capture("keys"), what=f"{key} in the session")


def test_coloured_spaces_at_the_end_of_a_line_are_drawn(scarab: ScarabEnv, tmux: Tmux) -> None:
    scarab.ok("new", "-d", "-s", "paint", "--", "sh")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach paint", "Enter")
    wait_for(lambda: status_shows(tmux.screen(), "paint"), what="the app's status bar")
    tmux.type(
        "clear; printf 'X\\033[44m     \\033[0m\\nY\\033[7m   \\033[0m\\nZ\\033[48;2;1;2;3m  \\033[0m\\n'", "Enter"
    )

    def painted() -> bool:
        rows = tmux("capture-pane", "-p", "-e").splitlines()
        # The TUI may send truecolor as a nearby palette colour: any background will do for Z.
        return (
            any("X\x1b[44m     " in r for r in rows)
            and any("Y\x1b[7m   " in r for r in rows)
            and any(re.search("Z\x1b\\[48;[0-9;]+m  ", r) for r in rows)
        )

    wait_for(painted, what="blue, reverse and truecolor spaces at the ends of lines")
