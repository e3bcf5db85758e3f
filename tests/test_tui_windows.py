"""Windows and panes in the client, end to end: the Textual app against a real daemon, hosts and shells
(Pilot), and the real `scarab` in a real terminal next to a real tmux 3.3a doing the same keys, their
screens compared where they must agree (border characters, which border cells are lit, the status
bar's window list)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from scarab.daemon.emulator import Emulator
from scarab.tui.app import ScarabApp
from scarab.tui.picker import PickerScreen
from scarab.tui.tree import TreeScreen
from tests.helpers import ScarabEnv, wait_for
from tests.pilot import prompt_text, run, type_text, until
from tests.realterm import Tmux, tmux  # noqa: F401  (fixture)

LINES = frozenset("│─├┤┬┴┼┌┐└┘")
GREEN = 2


def panes_of(app: ScarabApp) -> list[tuple[int, int, int, int]]:
    return [(r.x, r.y, r.width, r.height) for r in app.view.scene.panes]


def test_split_type_select_zoom_and_windows(in_env: ScarabEnv) -> None:
    in_env.ok("new", "-d", "-s", "work", "-x", "80", "-y", "23", "--", "sh")

    async def scenario() -> None:
        app = ScarabApp("work")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and app.view.session_layout is not None, what="a Layout")
            await until(pilot, lambda: "$" in "\n".join(app.view.text()), what="the prompt")
            assert [entry for entry in app.status.render().plain.split()][:2] == ["[work]", "0:sh*"]
            # prefix %: two panes side by side, as tmux's split-window -h of an 80x23 window.
            await pilot.press("ctrl+b", "percent_sign")
            await until(pilot, lambda: panes_of(app) == [(0, 0, 40, 23), (41, 0, 39, 23)], what="the split")
            await until(pilot, lambda: all(row[40] == "│" for row in (r.ljust(80) for r in app.view.text())))
            first, second = app.view.scene.order
            assert app.view.scene.active == second
            # Keys go to the active (new) pane only.
            await type_text(pilot, "echo right''side")
            await pilot.press("enter")
            await until(pilot, lambda: "rightside" in app.view.pane_text(second), what="the echo in the new pane")
            assert "rightside" not in app.view.pane_text(first)
            # prefix Left selects the left pane; the next arrow repeats without the prefix (-r).
            await pilot.press("ctrl+b", "left")
            await until(pilot, lambda: app.view.scene.active == first, what="select-pane -L")
            await pilot.press("right")
            await until(pilot, lambda: app.view.scene.active == second, what="the repeated arrow")
            # prefix ": the right pane splits top/bottom: the T join is drawn.
            await pilot.press("ctrl+b", "quotation_mark")
            await until(pilot, lambda: len(app.view.scene.panes) == 3, what="the third pane")
            await until(pilot, lambda: "├" in "\n".join(app.view.text()), what="the join")
            # prefix z zooms: one pane, Z in the status bar; again unzooms.
            await pilot.press("ctrl+b", "z")
            await until(pilot, lambda: panes_of(app) == [(0, 0, 80, 23)], what="the zoom")
            await until(pilot, lambda: "0:sh*Z" in app.status.render().plain, what="the zoom flag")
            await pilot.press("ctrl+b", "z")
            await until(pilot, lambda: len(app.view.scene.panes) == 3, what="the unzoom")
            # prefix c: a new window; prefix 0 / l / n move between them, as the status bar says.
            await pilot.press("ctrl+b", "c")
            await until(pilot, lambda: "0:sh- 1:sh*" in app.status.render().plain, what="the new window")
            assert len(app.view.scene.panes) == 1
            await pilot.press("ctrl+b", "0")
            await until(pilot, lambda: "0:sh* 1:sh-" in app.status.render().plain, what="window 0")
            await until(pilot, lambda: len(app.view.scene.panes) == 3, what="window 0's panes drawn")
            await pilot.press("ctrl+b", "l")
            await until(pilot, lambda: "0:sh- 1:sh*" in app.status.render().plain, what="the last window")
            # prefix x asks, then kills the pane; its window goes with its last pane.
            await pilot.press("ctrl+b", "x")
            await until(pilot, lambda: prompt_text(app) == "kill-pane 0? (y/n) ")
            await pilot.press("y")
            await until(pilot, lambda: "1:" not in app.status.render().plain, what="window 1 gone")
            await until(pilot, lambda: len(app.view.scene.panes) == 3)

    run(scenario)


def test_rename_and_kill_prompts_are_tmuxs_on_the_status_line(in_env: ScarabEnv) -> None:
    """`$` and `,` start from the current name, to edit (the cursor at its end, BSpace edits, C-u
    clears); `x` and `&` ask on the status line in tmux's words: y (or Y) kills, another key does
    not and goes nowhere else."""
    in_env.ok("new", "-d", "-s", "beta", "--", "sh")

    async def scenario() -> None:
        app = ScarabApp("beta")
        async with app.run_test(size=(60, 12)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and app.view.session_layout is not None, what="a Layout")
            await pilot.press("ctrl+b", "$")
            await until(pilot, lambda: prompt_text(app) == "(rename-session) beta")
            assert app.prompt.region.y == 11  # the status line
            await pilot.click("TerminalView", offset=(5, 5))  # the keys stay the prompt's, as in tmux
            await pilot.press("2", "enter")
            await until(pilot, lambda: app.status.session == "beta2", what="the edited name")
            await pilot.press("ctrl+b", "$")
            await until(pilot, lambda: prompt_text(app) == "(rename-session) beta2")
            await pilot.press("backspace", "backspace", "x", "enter")
            await until(pilot, lambda: app.status.session == "betx", what="the name edited with BSpace")
            await pilot.press("ctrl+b", "comma")
            await until(pilot, lambda: prompt_text(app) == "(rename-window) sh")
            await pilot.press("ctrl+u", "w", "enter")
            await until(pilot, lambda: "0:w*" in app.status.render().plain, what="the window renamed")
            await pilot.press("ctrl+b", "percent_sign")
            await until(pilot, lambda: len(app.view.scene.panes) == 2)
            for answer in ("q", "escape"):
                await pilot.press("ctrl+b", "x")
                await until(pilot, lambda: prompt_text(app) == "kill-pane 1? (y/n) ")
                await pilot.press(answer)
                await until(pilot, lambda: prompt_text(app) == "", what=f"{answer} to answer no")
                assert len(app.view.scene.panes) == 2
            await pilot.press("ctrl+b", "x")
            await until(pilot, lambda: prompt_text(app) == "kill-pane 1? (y/n) ")
            await pilot.press("y")
            await until(pilot, lambda: len(app.view.scene.panes) == 1, what="the pane killed")
            await pilot.press("ctrl+b", "c")
            await until(pilot, lambda: "0:w- 1:sh*" in app.status.render().plain, what="a second window")
            await pilot.press("ctrl+b", "ampersand")
            await until(pilot, lambda: prompt_text(app) == "kill-window sh? (y/n) ")
            await pilot.press("Y")
            await until(pilot, lambda: "1:" not in app.status.render().plain, what="the window killed")
            assert "nqw" not in "".join(app.view.text())  # no answer went to the shell

    run(scenario)


def test_display_panes_mouse_focus_and_refused_split(in_env: ScarabEnv) -> None:
    in_env.ok("new", "-d", "-s", "m", "-x", "40", "-y", "11", "--", "sh")

    async def scenario() -> None:
        app = ScarabApp("m")
        async with app.run_test(size=(40, 12)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and app.view.session_layout is not None, what="a Layout")
            await pilot.press("ctrl+b", "percent_sign")
            await until(pilot, lambda: len(app.view.scene.panes) == 2)
            first, second = app.view.scene.order
            # q shows the numbers; typing one selects that pane.
            await pilot.press("ctrl+b", "q")
            await until(pilot, lambda: app.view.numbers_until > 0)
            await pilot.press("0")
            await until(pilot, lambda: app.view.scene.active == first, what="display-panes' choice")
            # A click in the other pane selects it.
            await pilot.click("TerminalView", offset=(30, 3))
            await until(pilot, lambda: app.view.scene.active == second, what="the click")
            # A split with no room left is refused with tmux's words.
            for _ in range(6):
                await pilot.press("ctrl+b", "quotation_mark")
            await until(pilot, lambda: "no space for new pane" in app.status.notice, what="the refusal")
            # The picker's preview counts the session's windows and panes; the tree lists them.
            await pilot.press("ctrl+b", "s")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen))
            preview = app.screen.query_one("#preview")
            await until(pilot, lambda: str(preview.render()).startswith("1 window, 4 panes"), what="the counts")
            await pilot.press("escape", "ctrl+b", "w")
            await until(pilot, lambda: isinstance(app.screen, TreeScreen) and len(app.screen.items) == 6)
            tree = app.screen
            assert isinstance(tree, TreeScreen)
            active = app.view.scene.active
            selected = tree.selected()
            assert selected is not None and selected.pane is not None and selected.pane.id == active
            above = tree.items[tree.items.index(selected) - 1].pane
            assert above is not None
            await pilot.press("up", "enter")
            await until(pilot, lambda: app.view.scene.active == above.id, what="the pane chosen in the tree")

    run(scenario)


def test_border_drag_synchronize_panes_and_the_wheel_over_a_pane(in_env: ScarabEnv) -> None:
    from textual import events

    from scarab.tui.terminal import SYNCHRONIZED_BORDER

    in_env.ok("new", "-d", "-s", "d", "-x", "40", "-y", "11", "--", "sh", "-c", "seq 1 40; exec sh")

    async def scenario() -> None:
        app = ScarabApp("d")
        async with app.run_test(size=(40, 12)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and app.view.session_layout is not None, what="a Layout")
            await until(pilot, lambda: "40" in "\n".join(app.view.text()), what="seq's output")
            await pilot.press("ctrl+b", "percent_sign")
            await until(pilot, lambda: panes_of(app) == [(0, 0, 20, 11), (21, 0, 19, 11)], what="the split")
            left, right = app.view.scene.order
            # Dragging the border (tmux's MouseDrag1Border) resizes the panes beside it.
            await pilot.mouse_down("TerminalView", offset=(20, 5))
            await pilot.hover("TerminalView", offset=(25, 5))
            await pilot.mouse_up("TerminalView", offset=(25, 5))
            await until(pilot, lambda: panes_of(app) == [(0, 0, 25, 11), (26, 0, 14, 11)], what="the drag")
            # synchronize-panes: typed once, run in both; the status bar says so, the border is red.
            in_env.ok("set-window-option", "-t", "d", "synchronize-panes", "on")
            await until(pilot, lambda: "synchronize-panes" in app.status.render().plain, what="the status")
            await type_text(pilot, "echo both''sides")
            await pilot.press("enter")
            for pane in (left, right):
                await until(pilot, lambda pane=pane: "bothsides" in app.view.pane_text(pane), what=f"echo in {pane}")
            assert any(seg.style == SYNCHRONIZED_BORDER for y in range(11) for seg in app.view.render_line(y))
            # The wheel over the left pane (its program has not taken the mouse): copy mode on its history.
            view = app.view
            view.post_message(events.MouseScrollUp(view, 3, 3, 0, -1, 0, False, False, False, 3, 3))
            await until(pilot, lambda: left in app.copy_modes and app.copy_modes[left].history.loaded)
            copy = app.copy_modes[left]
            # The left pane's: seq's 40 lines in 11 rows went to its history (the right pane has none).
            assert copy.history.history_rows >= 25
            assert "bothsides" in "\n".join(row for row in copy.history.text() if row != "\0")

    run(scenario)


# -- the real client next to tmux -------------------------------------------------------------------


def _cells(capture: str, cols: int, rows: int) -> tuple[dict[tuple[int, int], str], set[tuple[int, int]]]:
    """A screen captured with `capture-pane -e`: its line characters by cell, and which are green."""
    screen = Emulator(cols, rows, strict=True)
    screen.feed(capture.replace("\n", "\r\n").encode())
    lines: dict[tuple[int, int], str] = {}
    green: set[tuple[int, int]] = set()
    for y in range(rows - 1):  # the last row is the status bar
        line = screen.row(y)
        x = 0
        for count, style in line.runs:
            for char in line.text[x : x + count]:
                if char in LINES:
                    lines[(x, y)] = char
                    if style.fg == GREEN:
                        green.add((x, y))
                x += 1
    return lines, green


def _window_list(status: str) -> str:
    """The window list of a status line (`[name] 0:sh* 1:sh-   ...`)."""
    return status.split("] ", 1)[1].split("  ", 1)[0].strip()


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_borders_highlight_and_window_list_match_tmux(scarab: ScarabEnv, tmux: Tmux) -> None:  # noqa: F811
    """The same keys in scarab and in tmux 3.3a (a real tmux client in the same outer terminal):
    the same border characters in the same cells, the same ones lit, the same window list."""
    cols, rows = 100, 30
    scarab.ok("new", "-d", "-s", "work", "--", "sh")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach work", "Enter")
    inner = f"tmux -S {scarab.root}/inner.sock -f /dev/null"
    tmux("new-window", "-d", f"env TMUX= {inner} new-session -s work sh")
    ours, theirs = "0", "1"

    def both(*keys: str) -> None:
        for window in (ours, theirs):
            tmux("send-keys", "-t", f":{window}", *keys)

    def screens() -> tuple[str, str]:
        return tuple(tmux("capture-pane", "-p", "-e", "-t", f":{w}") for w in (ours, theirs))  # type: ignore[return-value]

    def same() -> bool:
        mine, real = screens()
        return _cells(mine, cols, rows) == _cells(real, cols, rows)

    def describe() -> str:
        mine, real = (tmux("capture-pane", "-p", "-t", f":{w}") for w in (ours, theirs))
        return f"scarab:\n{mine}\ntmux:\n{real}"

    def status(window: str) -> str:
        return tmux("capture-pane", "-p", "-t", f":{window}").splitlines()[rows - 1]

    try:
        wait_for(lambda: "[work]" in status(ours) and "[work]" in status(theirs), what=describe)
        for keys, what in (
            (("C-b", "%"), "split-window -h"),
            (("C-b", '"'), "split-window"),
            (("C-b", "Left"), "select-pane -L"),
            (("C-b", "%"), "a split of the left pane"),
            (("C-b", "Up"), "select-pane -U"),
            (("C-b", "M-5"), "the tiled layout"),
            (("C-b", "o"), "the next pane"),
            (("C-b", "C-Right"), "resize-pane -R"),
        ):
            both(*keys)
            wait_for(same, what=lambda what=what: f"the same borders after {what}:\n{describe()}")  # type: ignore[misc]
        lines, _ = _cells(screens()[0], cols, rows)
        assert {"┼", "├", "┤", "┬", "┴"} & set(lines.values()), describe()
        both("C-b", "z")
        wait_for(lambda: _window_list(status(ours)) == _window_list(status(theirs)) == "0:sh*Z", what=describe)
        both("C-b", "c")
        wait_for(lambda: _window_list(status(ours)) == _window_list(status(theirs)) == "0:sh-Z 1:sh*", what=describe)
        both("C-b", "0")
        wait_for(lambda: _window_list(status(ours)) == _window_list(status(theirs)) == "0:sh*Z 1:sh-", what=describe)
    finally:
        server = subprocess.run([*inner.split(), "display-message", "-p", "#{pid}"], capture_output=True, text=True)
        if server.returncode == 0 and server.stdout.strip().isdigit():
            os.kill(int(server.stdout.strip()), signal.SIGKILL)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_prompt_typed_in_one_burst_with_its_command_key(scarab: ScarabEnv, tmux: Tmux) -> None:  # noqa: F811
    """The prefix, the command key and the answer in one read (send-keys, a paste, a quick
    typist): the prompt opens before the keys after the command key are looked at, so they are
    its, not the pane's, as in tmux."""
    scarab.ok("new", "-d", "-s", "work", "--", "cat")
    scarab.ok("split-window", "-t", "work", "-d", "--", "cat")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach work", "Enter")
    wait_for(lambda: "[work]" in tmux.screen(), what="the TUI")
    tmux.type("C-b", ",", "C-u", "renamed", "Enter")
    wait_for(lambda: "0:renamed*" in tmux.screen().splitlines()[-1], what=lambda: f"the rename:\n{tmux.screen()}")
    tmux.type("C-b", "x", "y")
    wait_for(lambda: len(json.loads(scarab.ok("list-panes", "-t", "work", "--json"))) == 1, what="the pane killed")
    assert "renamed" not in scarab.capture("work") and "y" not in scarab.capture("work")  # cat got none of it
