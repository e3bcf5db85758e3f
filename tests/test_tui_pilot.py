"""Pilot tests of the Textual client against a real daemon, real hosts and real shells."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.tui.app import ScarabApp
from scarab.tui.picker import PickerScreen
from tests.helpers import ScarabEnv, pid_alive
from tests.pilot import prompt_text, run, screen_text, type_text, until

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_type_echo_ctrl_c_and_detach(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        app = ScarabApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "$" in screen_text(app), what="the prompt")
            assert app.session is not None and app.session.name == "main"
            await type_text(pilot, "echo hel''lo")
            await pilot.press("enter")
            await until(pilot, lambda: "hello" in app.view.text(), what="echo output")
            await type_text(pilot, "sleep 100")
            await pilot.press("enter", "ctrl+c")
            await type_text(pilot, "echo after")
            await pilot.press("enter")
            await until(pilot, lambda: "after" in app.view.text(), what="ctrl+c to reach the shell")
            await pilot.press("ctrl+b", "d")
            await until(pilot, lambda: app.return_value is not None)
        assert app.return_value == "[detached (from session main)]"
        # Detaching leaves the session running.
        assert [s["name"] for s in in_env.sessions()] == ["main"]
        assert "hello" in in_env.capture("main")

    run(scenario)


def test_picker_filter_switch_rename_and_kill(in_env: ScarabEnv) -> None:
    for name in ("alpha", "beta"):
        in_env.ok("new", "-d", "-s", name, "--", "sh")
    in_env.ok("send", "beta", "echo in-beta", "Enter")

    async def scenario() -> None:
        app = ScarabApp("alpha")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.attached.is_set())
            await pilot.press("ctrl+b", "s")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen))
            picker = app.screen
            assert isinstance(picker, PickerScreen)
            await until(pilot, lambda: len(picker.shown) == 2)
            await type_text(pilot, "bet")
            await until(pilot, lambda: [s.name for s in picker.shown] == ["beta"], what="the filter")
            await until(pilot, lambda: "in-beta" in str(picker.query_one("#preview").render()), what="preview")
            await pilot.press("enter")
            await until(pilot, lambda: app.session is not None and app.session.name == "beta")
            await until(pilot, lambda: "in-beta" in screen_text(app))
            # Rename from the prefix key, on the status line; a taken name is refused there, as tmux does.
            await pilot.press("ctrl+b", "$")
            await until(pilot, lambda: prompt_text(app) == "(rename-session) beta")
            await pilot.press("ctrl+u")
            await type_text(pilot, "alpha")
            await pilot.press("enter")
            await until(pilot, lambda: "duplicate" in app.status.notice, what="the duplicate-name error")
            assert prompt_text(app) == "" and app.status.session == "beta"
            await pilot.press("ctrl+b", "$")
            await until(pilot, lambda: prompt_text(app) == "(rename-session) beta")
            await pilot.press("ctrl+u")
            await type_text(pilot, "gamma")
            await pilot.press("enter")
            await until(pilot, lambda: app.status.session == "gamma")
            # Switch back with the last-session key, then kill gamma from the picker.
            await pilot.press("ctrl+b", "L")
            await until(pilot, lambda: app.session is not None and app.session.name == "alpha")
            await pilot.press("ctrl+b", "s")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.press("down", "ctrl+x")
            await until(pilot, lambda: prompt_text(app) == "kill-session gamma? (y/n) ")
            await pilot.press("y")
            await until(pilot, lambda: [s["name"] for s in in_env.sessions()] == ["alpha"], what="the kill")
            assert app.session is not None and app.session.name == "alpha"

    run(scenario)


def test_the_attached_session_ending_ends_the_client_as_tmux_does(in_env: ScarabEnv) -> None:
    """tmux's detach-on-destroy (on by default): the client exits even when other sessions run; it
    went on to another session."""
    for name in ("mine", "other"):
        in_env.ok("new", "-d", "-s", name, "--", "sh")

    async def scenario() -> None:
        app = ScarabApp("mine")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "$" in screen_text(app), what="the prompt")
            await type_text(pilot, "exit")
            await pilot.press("enter")
            await until(pilot, lambda: app.return_value is not None, what="the client to exit")
        assert str(app.return_value).startswith("[exited: mine"), app.return_value
        assert in_env.session("other")["state"] == "running"

    run(scenario)


def test_new_session_and_cycle(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        app = ScarabApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set())
            await pilot.press("ctrl+b", "C")  # tmux's c is a new window: C is a new session
            await until(pilot, lambda: app.session is not None and app.session.name == "0")
            await until(pilot, lambda: app.status.count == 2)
            await pilot.press("ctrl+b", ")")
            await until(pilot, lambda: app.session is not None and app.session.name == "main")
            await pilot.press("ctrl+b", "(")
            await until(pilot, lambda: app.session is not None and app.session.name == "0")
            # The prefix twice sends the prefix byte itself to the program.
            await type_text(pilot, "printf '%s\\n' \"$(od -An -c)\"")
            await pilot.press("enter", "ctrl+b", "ctrl+b", "ctrl+d", "ctrl+d")
            await until(pilot, lambda: any("002" in line for line in app.view.text()), what="the prefix byte")

    run(scenario)


def test_previous_and_next_session_go_by_name_as_in_tmux(in_env: ScarabEnv) -> None:
    """tmux keeps its sessions sorted by name: list-sessions prints them so, prefix ( and ) walk
    them so (switch-client -p/-n); choose-tree (the picker) lists them as they were created."""
    in_env.ok("new", "-d", "-s", "zeta", "--", "sh")

    async def scenario() -> None:
        app = ScarabApp("zeta")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and app.client is not None)
            for name in ("alpha", "mid"):  # through the app's connection: no CLI process each
                assert app.client is not None
                await app.client.request(
                    p.SessionCreate(name=name, cols=80, rows=23, cwd=None, command=["sh"], environ=None)
                )
            listed = await asyncio.to_thread(in_env.ok, "ls", "--format", "#{session_name}")
            assert listed.split() == ["alpha", "mid", "zeta"]
            await until(pilot, lambda: app.status.count == 3)
            assert app.status.index == 3
            for key, name, index in ((")", "alpha", 1), (")", "mid", 2), (")", "zeta", 3), ("(", "mid", 2)):
                await pilot.press("ctrl+b", key)
                await until(pilot, lambda name=name: app.session is not None and app.session.name == name, what=name)
                await until(pilot, lambda index=index: app.status.index == index, what=f"{name} is {index}/3")
            await pilot.press("ctrl+b", "s")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen) and len(app.screen.shown) == 3)
            assert [s.name for s in app.screen.shown] == ["zeta", "alpha", "mid"]

    run(scenario)


def test_new_session_from_the_tree_and_the_picker(in_env: ScarabEnv) -> None:
    from scarab.tui.tree import TreeScreen

    async def scenario() -> None:
        app = ScarabApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set())
            # The tree (prefix w): C makes a new session and switches to it.
            await pilot.press("ctrl+b", "w")
            await until(pilot, lambda: isinstance(app.screen, TreeScreen) and len(app.screen.items) > 0)
            await pilot.press("C")
            await until(pilot, lambda: app.session is not None and app.session.name == "0", what="the tree's new one")
            # The session picker (prefix s): ^N too.
            await pilot.press("ctrl+b", "s")
            await until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.press("ctrl+n")
            await until(pilot, lambda: app.session is not None and app.session.name == "1", what="the picker's")
            await until(pilot, lambda: app.status.count == 3)

    run(scenario)


def test_reconnects_after_daemon_kill(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        app = ScarabApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set())
            daemon = in_env.daemon_pid()
            old_client = app.client
            assert daemon and old_client
            os.kill(daemon, signal.SIGKILL)
            await until(pilot, lambda: not pid_alive(daemon))
            await until(pilot, lambda: app.client not in (None, old_client) and app.attached.is_set(), what="reconnect")
            await type_text(pilot, "echo back-again")
            await pilot.press("enter")
            await until(pilot, lambda: "back-again" in app.view.text(), what="the session after reconnect")
            assert in_env.daemon_pid() not in (None, daemon)

    run(scenario)


def test_main_view_snapshot(in_env: ScarabEnv) -> None:
    """The rendered grid matches a stored snapshot for deterministic content."""
    script = "printf '\\033[1;32mgreen\\033[0m plain \\033[7mrev\\033[0m\\n'; printf 'wide: 日本\\n'; exec cat"
    in_env.ok("new", "-d", "-s", "snap", "-x", "40", "-y", "6", "--", "sh", "-c", script)
    in_env.ok("rename-window", "-t", "snap", "demo")  # a fixed name: automatic-rename would follow sh, then cat

    async def scenario() -> None:
        app = ScarabApp("snap")
        async with app.run_test(size=(40, 7)) as pilot:
            await until(pilot, lambda: "wide: 日本" in app.view.text(), what="the content")
            await until(pilot, lambda: "0:demo*" in app.status.render().plain, what="the window's name")
            await pilot.pause(0.1)
            actual = "\n".join(app.view.text()) + "\n" + str(app.status.render()) + "\n"
            snapshot = SNAPSHOTS / "main_view.txt"
            if os.environ.get("SCARAB_UPDATE_SNAPSHOTS"):
                snapshot.write_text(actual)
            expected = snapshot.read_text()
            assert actual == expected
            first = app.view.lines[0]
            assert first[0].text == "green" and first[0].style is not None
            assert first[0].style.bold and first[0].style.color is not None and first[0].style.color.number == 2
            assert any(seg.text == "rev" and seg.style is not None and seg.style.reverse for seg in first)
            svg = app.export_screenshot()
            assert "green" in svg and "日本" in svg

    run(scenario)


@pytest.mark.parametrize(("spelling", "pressed"), [("ctrl+a", "ctrl+a"), ("C-a", "ctrl+a"), ("^A", "ctrl+a"),
                                                   ("M-a", "alt+a"), ("F12", "f12")])  # fmt: skip
def test_configured_prefix_in_tmux_or_textual_spelling(in_env: ScarabEnv, spelling: str, pressed: str) -> None:
    from scarab.config import load_config

    config_file = in_env.paths.config_file
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'prefix = "{spelling}"\n')

    async def scenario() -> None:
        app = ScarabApp(config=load_config(config_file))
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set())
            await pilot.press("ctrl+b")  # no longer the prefix: goes to the shell
            assert not app.status.prefix_active
            await pilot.press(pressed)
            assert app.status.prefix_active
            await pilot.press("d")
            await until(pilot, lambda: app.return_value is not None)

    run(scenario)


def test_mouse_passthrough_resize_scrollback_and_help(in_env: ScarabEnv) -> None:
    from scarab.tui.dialogs import HelpScreen

    # A program that enables SGR mouse reporting and shows what it receives.
    script = "seq 1 60; printf '\\033[?1000h\\033[?1006h'; stty -icanon -echo; exec od -An -c"
    in_env.ok("new", "-d", "-s", "m", "-x", "60", "-y", "20", "--", "sh", "-c", script)

    async def scenario() -> None:
        app = ScarabApp("m")
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and app.view.modes != 0, what="mouse mode")
            await pilot.click("TerminalView", offset=(4, 2))
            await until(pilot, lambda: "<" in screen_text(app) and "M" in screen_text(app), what="a mouse report")
            # The terminal size follows the window (window-size "latest").
            await pilot.resize_terminal(70, 25)
            await until(pilot, lambda: in_env.session("m")["cols"] == 70, what="the resize")
            assert in_env.session("m")["rows"] == 24  # one row is the status bar
            # Scrollback view shows lines that scrolled off; q leaves it.
            await pilot.press("ctrl+b", "[")
            await until(pilot, lambda: app.copy_mode is not None)
            assert app.copy_mode is not None
            view = app.copy_mode.history
            await until(pilot, lambda: view.loaded and view.history_rows + len(view.screen_rows) >= 60)
            await pilot.press("pageup", "q")
            await until(pilot, lambda: app.copy_mode is None)
            await pilot.press("ctrl+b", "?")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            await pilot.press("space")
            await until(pilot, lambda: not isinstance(app.screen, HelpScreen))

    run(scenario)


def test_broken_config_names_the_line(scarab: ScarabEnv) -> None:
    config = scarab.paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('prefix = "ctrl+a"\nstatus_bar = maybe\n')
    result = scarab.run("attach")
    assert result.returncode == 1
    assert "line 2" in result.stderr and str(config) in result.stderr and "Traceback" not in result.stderr
    config.write_text("prefix = 5\n")
    result = scarab.run("attach")
    assert result.returncode == 1 and "prefix must be a str" in result.stderr
    # A prefix that is no key would leave no way to detach: refused, naming the line.
    config.write_text('status_bar = true\nprefix = "banana"\n')
    result = scarab.run("attach")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"scarab: config {config}: line 2: prefix = 'banana' is not a key")
    assert '"C-a"' in result.stderr and '"ctrl+a"' in result.stderr


def test_bracketed_paste_reaches_the_program(in_env: ScarabEnv) -> None:
    from textual import events

    script = "printf '\\033[?2004h'; stty raw -echo; exec od -An -tx1 -w8 -v"
    in_env.ok("new", "-d", "-s", "paste", "--", "sh", "-c", script)

    async def scenario() -> None:
        app = ScarabApp("paste")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and app.view.modes != 0, what="bracketed paste mode")
            app.view.post_message(events.Paste("ab\ncd"))
            # ESC [ 2 0 0 ~ a b CR c d ESC [ 2 0 1 ~ : 16 bytes, two rows of od output.
            # (raw mode: od's rows come out as a staircase, hence `in row`)
            rows = app.view.text
            await until(pilot, lambda: any("1b 5b 32 30 30 7e 61 62" in r for r in rows()), what="the paste start")
            await until(pilot, lambda: any("0d 63 64 1b 5b 32 30 31" in r for r in rows()), what="CR and paste end")

    run(scenario)
