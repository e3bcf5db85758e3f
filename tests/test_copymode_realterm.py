"""Copy mode in a real terminal: the real `scarab` inside tmux (private server, no config), keys by
send-keys. The outer tmux has `set-clipboard on`, so the OSC 52 a copy sends lands in its own paste
buffer: `tmux show-buffer` is the clipboard of the terminal the user sits at."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import ScarabEnv, wait_for
from tests.realterm import Tmux, tmux

__all__ = ["tmux"]  # the fixture

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

TEXT = "printf 'alpha beta-gamma  delta\\nsecond line here\\n'; exec cat"


def start(scarab: ScarabEnv, tmux: Tmux, mode_keys: str) -> None:
    scarab.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    scarab.paths.config_file.write_text(f'mode_keys = "{mode_keys}"\n')
    tmux("set-option", "-g", "set-clipboard", "on")
    scarab.ok("new", "-d", "-s", "c", "--", "sh", "-c", TEXT)
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach c", "Enter")
    wait_for(lambda: "second line here" in tmux.screen() and "[c]" in tmux.screen(), what="the TUI")


def outer_clipboard(tmux: Tmux) -> str:
    try:
        return tmux("show-buffer")
    except AssertionError:  # no buffer yet
        return ""


def test_vi_copy_reaches_buffers_and_the_outer_terminals_clipboard(scarab: ScarabEnv, tmux: Tmux) -> None:
    start(scarab, tmux, "vi")
    tmux.type("C-b", "[")
    wait_for(lambda: "[0/0]" in tmux.screen(), what=lambda: f"copy mode's position indicator:\n{tmux.screen()}")
    tmux.type("k", "k", "w", "v", "E", "y")  # the WORD "beta-gamma"
    wait_for(lambda: outer_clipboard(tmux) == "beta-gamma", what="OSC 52 in the outer tmux")
    assert scarab.ok("show-buffer") == "beta-gamma"
    wait_for(lambda: "[0/0]" not in tmux.screen(), what="copy mode to end")
    tmux.type("C-b", "]")
    wait_for(lambda: "beta-gamma" in tmux.screen().splitlines()[2], what="the paste typed into cat")


def test_a_search_typed_in_one_burst_finds_and_nothing_reaches_the_pane(scarab: ScarabEnv, tmux: Tmux) -> None:
    """`/line` Enter and the keys after it in one read, as a quick typist or a paste sends them:
    the prompt (on the status line, as tmux's) takes the pattern, the search runs, and the keys
    after Enter act on where it went. None of them reaches the program."""
    start(scarab, tmux, "vi")
    tmux.type("C-b", "[")
    wait_for(lambda: "[0/0]" in tmux.screen(), what="copy mode")
    tmux.type("-l", "/line\rvey")
    wait_for(lambda: scarab.ok("show-buffer") == "line", what=lambda: f"the copy after the search:\n{tmux.screen()}")
    rows = scarab.capture("c").splitlines()
    assert rows[:2] == ["alpha beta-gamma  delta", "second line here"] and not "".join(rows[2:]).strip()  # cat got none
    wait_for(lambda: "[0/0]" not in tmux.screen(), what="copy mode to end")
    tmux.type("C-b", "[")
    wait_for(lambda: "[0/0]" in tmux.screen(), what="copy mode")
    tmux.type("?")
    wait_for(
        lambda: tmux.screen().splitlines()[-1] == "(search up)",
        what=lambda: f"the prompt on the status line:\n{tmux.screen()}",
    )


def test_copy_mode_in_one_pane_and_the_mouse_selecting_in_it(scarab: ScarabEnv, tmux: Tmux) -> None:
    """Copy mode over one pane of two, as tmux draws it: its position at that pane's top right, the
    other pane's program still drawn; the mouse (the terminal's own SGR reports): a drag selects in
    the pane it began in (not across the border) and copies on release; a double click copies a
    word, a triple click a line."""
    start(scarab, tmux, "vi")
    ticker = "i=0; while [ $i -lt 600 ]; do i=$((i+1)); echo tick-$i; sleep 0.1; done"
    scarab.ok("split-window", "-h", "-t", "c", "--", "sh", "-c", ticker)
    wait_for(lambda: "tick-" in tmux.screen(), what=lambda: f"the split:\n{tmux.screen()}")
    border = tmux.screen().splitlines()[0].index("│")
    tmux.type("C-b", "Left", "C-b", "[")
    wait_for(lambda: "[0/0]" in tmux.screen(), what=lambda: f"copy mode:\n{tmux.screen()}")
    first = tmux.screen().splitlines()[0]
    assert first.index("[0/0]") + len("[0/0]") == border, first  # the left pane's top right
    assert first.startswith("alpha beta-gamma  delta")

    def ticks() -> int:
        return max((int(n) for n in re.findall(r"tick-(\d+)", tmux.screen())), default=0)

    seen = ticks()
    wait_for(lambda: ticks() > seen + 2, what=lambda: f"the other pane to go on:\n{tmux.screen()}")
    assert "[0/0]" in tmux.screen()
    tmux.type("q")
    wait_for(lambda: "[0/0]" not in tmux.screen(), what="copy mode to end")
    # A drag from "second" into the other pane: the selection stops at its pane's edge.
    tmux.type("-l", f"\x1b[<0;1;2M\x1b[<32;8;2M\x1b[<32;{border + 10};2M")
    wait_for(lambda: "[0/0]" in tmux.screen(), what=lambda: f"copy mode from the drag:\n{tmux.screen()}")
    tmux.type("-l", f"\x1b[<0;{border + 10};2m")
    wait_for(lambda: outer_clipboard(tmux) == "second line here", what=lambda: f"the drag: {outer_clipboard(tmux)!r}")
    assert scarab.ok("show-buffer") == "second line here"
    wait_for(lambda: "[0/0]" not in tmux.screen(), what="copy mode to end on release")
    tmux.type("-l", "\x1b[<0;10;2M\x1b[<0;10;2m\x1b[<0;10;2M\x1b[<0;10;2m")  # a double click on "line"
    wait_for(lambda: outer_clipboard(tmux) == "line", what=lambda: f"the word: {outer_clipboard(tmux)!r}")
    wait_for(lambda: "[0/0]" not in tmux.screen(), what="copy mode to end")
    tmux.type("-l", "\x1b[<0;3;1M\x1b[<0;3;1m" * 3)  # a triple click: the line, its newline with vi keys
    wait_for(
        lambda: outer_clipboard(tmux) == "alpha beta-gamma  delta\n",
        what=lambda: f"the line: {outer_clipboard(tmux)!r}",
    )
    wait_for(lambda: "[0/0]" not in tmux.screen(), what="copy mode to end")


def test_emacs_rectangle_copy_in_a_real_terminal(scarab: ScarabEnv, tmux: Tmux) -> None:
    start(scarab, tmux, "emacs")
    tmux.type("C-b", "[")
    wait_for(lambda: "[0/0]" in tmux.screen(), what="copy mode")
    tmux.type("C-p", "C-p", "C-a", "C-Space", "R", "C-n", "C-f", "C-f", "C-f", "C-f", "M-w")
    wait_for(lambda: outer_clipboard(tmux) == "alpha\nsecon", what="the rectangle on the outer clipboard")
    assert scarab.ok("show-buffer") == "alpha\nsecon"


def test_a_programs_copy_reaches_the_outer_clipboard_when_enabled(scarab: ScarabEnv, tmux: Tmux) -> None:
    scarab.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    scarab.paths.config_file.write_text("program_clipboard = true\n")
    tmux("set-option", "-g", "set-clipboard", "on")
    scarab.ok("new", "-d", "-s", "c", "--", "sh")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach c", "Enter")
    wait_for(lambda: "[c]" in tmux.screen(), what="the TUI")
    tmux.type("printf '\\033]52;c;%s\\007' $(printf from-a-program | base64)", "Enter")
    wait_for(lambda: outer_clipboard(tmux) == "from-a-program", what="the program's copy on the outer clipboard")
    assert scarab.ok("show-buffer") == "from-a-program"


def fake_editor(scarab: ScarabEnv) -> Path:
    """An editor that records what it was given: the text, the file's mode and its path."""
    script = scarab.root / "editor.sh"
    out = scarab.root / "edited"
    script.write_text(f'#!/bin/sh\ncp "$1" {out}.text; stat -c %a "$1" > {out}.mode; echo "$1" > {out}.path\n')
    script.chmod(0o700)
    return script


def test_edit_scrollback_from_the_cli_and_prefix_e(scarab: ScarabEnv, tmux: Tmux) -> None:
    editor = fake_editor(scarab)
    out = scarab.root / "edited"
    scarab.ok("new", "-d", "-s", "c", "--", "sh", "-c", "seq 1 100 | sed s/^/line-/; exec cat")
    wait_for(lambda: "line-100" in scarab.capture("c"))
    scarab.run("edit-scrollback", "-t", "c", env_extra={"VISUAL": "", "EDITOR": str(editor)}, check=True)
    text = Path(f"{out}.text").read_text()
    assert text.startswith("line-1\nline-2\n") and "line-100\n" in text  # the scrollback too
    assert Path(f"{out}.mode").read_text().strip() == "400"  # read-only
    assert not Path(Path(f"{out}.path").read_text().strip()).exists()  # deleted afterwards
    for suffix in ("text", "mode", "path"):
        Path(f"{out}.{suffix}").unlink()
    tmux.type(f"cd {scarab.root} && VISUAL= EDITOR={editor} {sys.executable} -m scarab attach c", "Enter")
    wait_for(lambda: "[c]" in tmux.screen(), what="the TUI")
    tmux.type("C-b", "e")
    wait_for(lambda: Path(f"{out}.path").exists(), what="the editor to run")
    assert "line-100" in Path(f"{out}.text").read_text()
    wait_for(lambda: "[c]" in tmux.screen() and "line-100" in tmux.screen(), what="the TUI back after the editor")
