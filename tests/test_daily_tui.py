"""Daily-driver behaviour of the TUI (issue 12): the real `scarab` in a real terminal (inside a
private tmux server) where the bug was seen through one, Pilot against a real daemon for timings."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.config import Config
from scarab.paths import Paths
from scarab.tui.app import ScarabApp
from scarab.tui.picker import PickerScreen
from scarab.tui.terminal import TerminalView
from tests.helpers import ScarabEnv, status_shows, wait_for
from tests.pilot import prompt_text, run, type_text, until
from tests.realterm import Tmux, tmux  # noqa: F401  (fixture)

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
HISTORY_LINES = 10_000


def fill_history(env: ScarabEnv, name: str) -> None:
    """10,000 lines of base64 noise and a numbered first and last line, all in the scrollback."""
    env.ok("new", "-d", "-s", name, "-x", "80", "-y", "24", "--", "sh")
    env.ok(
        "send", name,
        f"echo first-line; head -c {HISTORY_LINES * 57} /dev/urandom | base64 -w 76; echo last-line; "
        "seq 1 30 | sed s/^/tail-/",
        "Enter",
    )  # fmt: skip
    wait_for(lambda: "tail-30" in env.capture(name).splitlines(), timeout=60, what="the history to fill")


@pytest.mark.timing
def test_scrollback_view_opens_within_100ms_at_10000_lines(in_env: ScarabEnv) -> None:
    fill_history(in_env, "big")

    async def scenario() -> None:
        app = ScarabApp("big", Config(mode_keys="vi"))
        async with app.run_test(size=(80, 25)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "tail-30" in app.view.text(), what="the screen")
            # Timed from the prefix command the key becomes (Pilot's own key injection waits for
            # the whole process to go idle: ~150 ms here, none of it the app's).
            started = time.perf_counter()
            app.view.post_message(TerminalView.Prefix("[", "["))
            while not (app.copy_mode is not None and app.copy_mode.history.loaded):
                assert time.perf_counter() - started < 10, "the scrollback view did not open"
                await asyncio.sleep(0.001)
            elapsed = time.perf_counter() - started
            print(f"scrollback view open: {elapsed * 1000:.0f} ms")
            view = app.copy_mode.history
            # Opened at the bottom: the screen's rows, with the newest history rows just above.
            assert view.total >= HISTORY_LINES and view.scroll_y == view.max_scroll_y
            text = view.text()
            assert text[-24:] == app.view.text()[-24:] or "tail-30" in text[-24:]
            assert elapsed <= 0.1, f"the scrollback view took {elapsed * 1000:.0f} ms to open"
            # The top is fetched when scrolled to, by stable row index: the oldest row still kept.
            oldest = (await asyncio.to_thread(in_env.capture, "big", "--scrollback")).splitlines()[0]
            await pilot.press("g")
            await until(pilot, lambda: view.row_segments(0) is not None, what="the oldest page")
            assert view.text()[0] == oldest
            await pilot.press("q")
            await until(pilot, lambda: app.copy_mode is None)

    run(scenario)


def test_history_pages_by_stable_row_index(in_env: ScarabEnv) -> None:
    in_env.ok("new", "-d", "-s", "h", "-x", "40", "-y", "5", "--", "sh", "-c", "seq 1 100; exec cat")
    wait_for(lambda: "100" in in_env.capture("h").splitlines())

    async def scenario() -> None:
        client = await Client.connect(Paths.default())
        try:
            last = await client.request(p.HistoryRequest(target="h", start=-3, count=3))
            assert isinstance(last, p.History)
            assert [row[1] for row in last.lines] == ["94", "95", "96"]  # 97-100 and the cursor's row: the screen
            assert last.first == last.total - 3 and last.oldest == 0
            page = await client.request(p.HistoryRequest(target="h", start=10, count=2))
            assert isinstance(page, p.History)
            assert [(row[0], row[1]) for row in page.lines] == [(10, "11"), (11, "12")]
            # Indexes stay put as more rows are pushed.
            await client.request(p.Input(target="h", data=b"more\n", ack=True))
            await asyncio.sleep(0)
            for _ in range(200):
                again = await client.request(p.HistoryRequest(target="h", start=10, count=1))
                assert isinstance(again, p.History)
                if again.total > last.total:
                    break
                await asyncio.sleep(0.02)
            assert again.total > last.total and [(r[0], r[1]) for r in again.lines] == [(10, "11")]
            await client.request(p.ClearHistory(target="h"))
            cleared = await client.request(p.HistoryRequest(target="h", start=0, count=50))
            assert isinstance(cleared, p.History)
            assert cleared.lines == [] and cleared.oldest == cleared.total >= again.total  # cat's echo may add rows
        finally:
            await client.close()

    run(scenario)


def test_rename_after_duplicate_keeps_the_current_name(in_env: ScarabEnv) -> None:
    for name in ("alpha", "beta"):
        in_env.ok("new", "-d", "-s", name, "--", "sh")

    async def scenario() -> None:
        app = ScarabApp("beta")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.attached.is_set())
            await app.refresh_status()
            await pilot.press("ctrl+b", "$")
            await until(pilot, lambda: prompt_text(app) == "(rename-session) beta")
            await pilot.press("ctrl+u")
            await type_text(pilot, "alpha")
            await pilot.press("enter")
            await until(pilot, lambda: "duplicate" in app.status.notice, what="the duplicate-name error")
            assert app.status.session == "beta" and app.title == "scarab: beta"
            await pilot.press("ctrl+b", "$")  # the next try starts from the name it has
            await until(pilot, lambda: prompt_text(app) == "(rename-session) beta")
            await pilot.press("escape")
            await until(pilot, lambda: prompt_text(app) == "")

    run(scenario)


def test_kill_confirmation_counts_the_other_clients(in_env: ScarabEnv) -> None:
    in_env.ok("new", "-d", "-s", "shared", "--", "sh")

    async def scenario() -> None:
        others = [await Client.connect(Paths.default()) for _ in range(2)]
        try:
            for other in others:
                await other.request(p.SessionAttach(target="shared"))
            app = ScarabApp("shared")
            async with app.run_test(size=(100, 30)) as pilot:
                await until(pilot, lambda: app.attached.is_set())
                await pilot.press("ctrl+b", "s")  # prefix x kills a pane, as in tmux: sessions from the picker
                await until(pilot, lambda: isinstance(app.screen, PickerScreen) and len(app.screen.shown) == 1)
                await pilot.press("ctrl+x")
                await until(pilot, lambda: prompt_text(app) == "kill-session shared (2 other clients attached)? (y/n) ")
                await pilot.press("n")
        finally:
            for other in others:
                await other.close()

    run(scenario)


def box_rows(screen: str, top_marker: str) -> list[str]:
    """The rows of the box whose top border holds `top_marker`, borders included."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if top_marker in line)
    rows = [lines[start]]
    for line in lines[start + 1 :]:
        rows.append(line)
        if "╰" in line:  # its bottom border (a wide character above may shift string indices)
            break
    return rows


def display_width(text: str) -> int:
    from wcwidth import wcswidth

    return max(0, wcswidth(text))


@needs_tmux
def test_picker_types_to_filter_at_human_speed_and_in_a_burst(scarab: ScarabEnv, tmux: Tmux) -> None:  # noqa: F811
    for name in ("alpha", "beta", "rover", "xray", "nix", "quux"):
        scarab.ok("new", "-d", "-s", name, "--", "sh")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach -t alpha", "Enter")
    wait_for(lambda: "[alpha]" in tmux.screen(), what="the app")

    def open_picker() -> None:
        tmux.type("C-b", "s")
        wait_for(lambda: "type to filter" in tmux.screen(), what="the picker")

    def listed() -> set[str]:
        rows = box_rows(tmux.screen(), "sessions:")
        return {name for name in ("alpha", "beta", "rover", "xray", "nix", "quux") if any(name in r for r in rows)}

    # Human speed: one key at a time, each shown before the next.
    open_picker()
    for i, char in enumerate("beta"):
        tmux.type(char)
        wait_for(lambda i=i: "beta"[: i + 1] in tmux.screen(), what=f"{'beta'[: i + 1]!r} in the filter")
    wait_for(lambda: listed() == {"beta"}, what="the filter to keep the first letter")
    tmux.type("Enter")
    wait_for(lambda: "[beta]" in tmux.screen(), what="the switch to beta")
    # A burst: one write; the r inside must not rename, the first letter must not act.
    for word in ("rover", "xray", "nix", "quux"):
        open_picker()
        tmux.type(word)
        wait_for(lambda word=word: listed() == {word}, what=f"the filter {word!r}")
        tmux.type("Enter")
        wait_for(lambda word=word: f"[{word}]" in tmux.screen(), what=f"the switch to {word}")
    # After Down a letter adds to the filter instead of replacing it.
    # (Not a hex letter: the filter matches id prefixes too.)
    open_picker()
    tmux.type("r")
    wait_for(lambda: listed() == {"rover", "xray"}, what="the filter 'r'")
    tmux.type("Down", "o")
    wait_for(lambda: listed() == {"rover"}, what="the filter 'ro'")
    tmux.type("Escape")  # the first Esc clears the filter, the next closes (one at a time: ESC ESC is M-Esc)
    wait_for(lambda: len(listed()) == 6, what="the filter to clear")
    tmux.type("Escape")
    wait_for(lambda: "type to filter" not in tmux.screen(), what="the picker to close")
    assert sorted(s["name"] for s in scarab.sessions()) == sorted(("alpha", "beta", "rover", "xray", "nix", "quux"))


@needs_tmux
def test_preview_with_an_emoji_modifier_and_help_keep_their_borders(scarab: ScarabEnv, tmux: Tmux) -> None:  # noqa: F811
    scarab.ok("new", "-d", "-s", "emoji", "--", "sh")
    scarab.ok("send", "emoji", "printf 'thumbs \\360\\237\\221\\215\\360\\237\\217\\275 up\\n'", "Enter")
    wait_for(lambda: "up" in scarab.capture("emoji").splitlines()[-2:][0], what="the emoji line")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach emoji", "Enter")
    wait_for(lambda: "[emoji]" in tmux.screen(), what="the app")
    tmux.type("C-b", "s")
    wait_for(lambda: "thumbs" in tmux.screen() and "type to filter" in tmux.screen(), what="the preview")

    def right_edges(rows: list[str]) -> set[int]:
        return {display_width(row.rstrip()) for row in rows}

    wait_for(lambda: len(right_edges(box_rows(tmux.screen(), "sessions:"))) == 1, what="one right border column")
    tmux.type("Escape")
    wait_for(lambda: "type to filter" not in tmux.screen())
    tmux.type("C-b", "?")
    wait_for(lambda: "other key closes" in tmux.screen(), what="the help")
    rows = box_rows(tmux.screen(), "╭")
    assert len(right_edges(rows)) == 1, "\n".join(rows)
    assert all(row.rstrip().endswith(("│", "╮", "╯")) for row in rows), "\n".join(rows)
    assert any("typing filters" in row for row in rows)
    tmux.type("q")


@needs_tmux
def test_no_arguments_after_main_exited_restarts_main(scarab: ScarabEnv, tmux: Tmux) -> None:  # noqa: F811
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab", "Enter")
    wait_for(lambda: status_shows(tmux.screen(), "main"), what="the app on main")
    tmux.type("exit", "Enter")
    wait_for(lambda: "[exited: main" in tmux.screen(), what="the exit message")
    assert scarab.session("main")["state"] == "exited"
    tmux.type(f"{sys.executable} -m scarab", "Enter")
    wait_for(lambda: status_shows(tmux.screen(), "main"), what="main again")
    assert [s["name"] for s in scarab.sessions()] == ["main"]
    assert scarab.session("main")["state"] == "running"
    # Enter on an exited session in the picker restarts it too.
    scarab.ok("new", "-d", "-s", "gone", "--", "sh", "-c", "echo ran; read x; exit 4")
    wait_for(lambda: "ran" in scarab.capture("gone"))
    scarab.ok("send", "gone", "Enter")
    wait_for(lambda: scarab.session("gone")["state"] == "exited")
    tmux.type("C-b", "s")
    wait_for(lambda: "1 exited" in tmux.screen() and "exited (4)" in tmux.screen(), what="the exited mark")
    tmux.type("gone", "Enter")
    wait_for(lambda: "[gone]" in tmux.screen(), what="the respawned session")
    assert scarab.session("gone")["state"] == "running"
