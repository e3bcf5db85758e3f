"""Copy mode through the real client (Pilot) against a real daemon, host and program: vi and emacs
keys, the three selections, search with highlight, wrap and "not found", a view that output does
not move, the mouse, and what a copy leaves in the paste buffers."""

from __future__ import annotations

import pytest
from rich.style import Style

from scarab.config import Config
from scarab.tui.app import ScarabApp
from scarab.tui.copymode import CURRENT_MATCH, MATCH, CopyView
from tests.helpers import ScarabEnv
from tests.pilot import run, type_text, until

TEXT = "seq 1 200 | sed s/^/row-/; printf 'alpha beta-gamma  delta\\nsecond line here\\nthird line\\n'; exec cat"


@pytest.fixture
def session(in_env: ScarabEnv) -> ScarabEnv:
    in_env.ok("new", "-d", "-s", "c", "-x", "60", "-y", "20", "--", "sh", "-c", TEXT)
    return in_env


def buffer(env: ScarabEnv) -> str:
    return env.ok("show-buffer")


async def open_copy_mode(pilot: object, app: ScarabApp) -> CopyView:
    await pilot.press("ctrl+b", "[")  # type: ignore[attr-defined]
    await until(pilot, lambda: app.copy_mode is not None and app.copy_mode.history.loaded, what="copy mode")
    assert app.copy_mode is not None
    return app.copy_mode.history


async def leave(pilot: object, app: ScarabApp) -> None:
    await until(pilot, lambda: app.copy_mode is None, what="copy mode to end")


def cursor_text(view: CopyView) -> str:
    return view.row_text(view.cursor.row) or ""


def has_background(view: CopyView, row: int, style: Style) -> bool:
    """Whether view row `row` (in sight) draws a cell in `style`'s background colour."""
    strip = view.render_line(row - view.scroll_offset.y)
    return any(seg.style is not None and seg.style.bgcolor == style.bgcolor for seg in strip)


def test_vi_selections_copy_into_buffers(session: ScarabEnv) -> None:
    async def scenario() -> None:
        app = ScarabApp("c", Config(mode_keys="vi"))
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            view = await open_copy_mode(pilot, app)
            assert view.render_line(0).text.endswith(f"[0/{view.history_rows}]")  # tmux's position
            assert view.history_rows > 150 and cursor_text(view) == ""  # where the program's cursor is
            await pilot.press("3", "k", "w")  # a repeat count, as vi
            assert cursor_text(view).startswith("alpha") and view.cursor.col == 6
            await pilot.press("v", "e", "y")
            await leave(pilot, app)
            assert buffer(session) == "beta"

            view = await open_copy_mode(pilot, app)
            await pilot.press("k", "k", "k", "$", "j")
            assert cursor_text(view) == "second line here" and view.cursor.col == 15  # the shorter line's end
            await pilot.press("k")
            assert view.cursor.col == 22  # back to the column it aimed at, as vi
            await pilot.press("b", "b", "B")
            assert view.cursor.col == 6  # b stops at "gamma" and "-", B goes to the WORD "beta-gamma"
            await pilot.press("0", "V", "j", "enter")
            await leave(pilot, app)
            assert buffer(session) == "alpha beta-gamma  delta\nsecond line here\n"  # vi V: tmux keeps the last newline

            view = await open_copy_mode(pilot, app)
            await pilot.press("k", "k", "k", "0", "v", "ctrl+v", "j", "l", "l", "l", "l", "o")
            assert cursor_text(view).startswith("alpha") and view.cursor.col == 0  # o: the other end
            await pilot.press("y")
            await leave(pilot, app)
            assert buffer(session) == "alpha\nsecon"
            assert session.ok("list-buffers").splitlines()[0].startswith("buffer2: 11 bytes")

            # Escape clears a selection, then leaves.
            view = await open_copy_mode(pilot, app)
            await pilot.press("k", "v", "escape")
            assert view.mark is None and app.copy_mode is not None
            await pilot.press("escape")
            await leave(pilot, app)

    run(scenario)


def test_vi_search_highlights_wraps_and_says_not_found(session: ScarabEnv) -> None:
    async def scenario() -> None:
        app = ScarabApp("c", Config(mode_keys="vi"))
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            view = await open_copy_mode(pilot, app)
            await pilot.press("/", *"row-15", "enter")
            # Nothing below the cursor: the search wraps to the top, found in the host's history.
            await until(pilot, lambda: cursor_text(view) == "row-15", what="the first match")
            assert view.message == "search wrapped" and view.current == (view.cursor.row, 0, 6)
            assert has_background(view, view.cursor.row, CURRENT_MATCH)
            await pilot.press("n")
            await until(pilot, lambda: cursor_text(view) == "row-150", what="n: the next match")
            assert view.message == "" and has_background(view, view.cursor.row, CURRENT_MATCH)
            # Other matches in sight are highlighted as matches (row-151 is just below).
            assert has_background(view, view.cursor.row + 1, MATCH)
            assert not has_background(view, view.cursor.row + 1, CURRENT_MATCH)
            await pilot.press("N")
            await until(pilot, lambda: cursor_text(view) == "row-15", what="N: back")
            await pilot.press("?", *"Second", "enter")  # a capital: case-sensitive, so no match
            await until(pilot, lambda: view.message == "not found", what="not found")
            assert cursor_text(view) == "row-15"
            await pilot.press("?", *"(oops", "enter")
            await until(pilot, lambda: "not a valid regular expression" in view.message, what="the regex error")
            await pilot.press("G", "?", *"SECOND", "enter")
            await until(pilot, lambda: view.message == "not found")
            await pilot.press("?", *"second", "enter")  # smartcase: no capital, any case
            await until(pilot, lambda: cursor_text(view) == "second line here", what="the backward search")
            await pilot.press("q")
            await leave(pilot, app)

    run(scenario)


def test_emacs_keys_incremental_search_and_output_does_not_move_the_view(session: ScarabEnv) -> None:
    async def scenario() -> None:
        app = ScarabApp("c", Config(mode_keys="emacs"))
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            view = await open_copy_mode(pilot, app)
            await pilot.press("ctrl+p", "ctrl+p", "ctrl+p", "ctrl+a", "ctrl+space", "alt+f", "alt+f")
            assert view.cursor.col == 9  # the end of "beta"
            await pilot.press("alt+w")
            await leave(pilot, app)
            assert buffer(session) == "alpha beta"

            view = await open_copy_mode(pilot, app)
            total, rows = view.total, view.rows_total
            session.ok("send", "c", "more output", "Enter")
            await until(pilot, lambda: "more output" in app.view.text(), what="output under copy mode")
            assert (view.total, view.rows_total) == (total, rows)  # the view stands still
            await pilot.press("ctrl+s", *"row-19")
            await until(pilot, lambda: cursor_text(view) == "row-19", what="the incremental search")
            await pilot.press("9")  # incremental: the search follows the typing
            await until(pilot, lambda: cursor_text(view) == "row-199", what="the search to follow")
            await pilot.press("enter", "ctrl+space", "ctrl+e", "alt+w")
            await leave(pilot, app)
            assert buffer(session) == "row-199"

    run(scenario)


def test_mouse_drag_and_double_click_copy(session: ScarabEnv) -> None:
    async def scenario() -> None:
        app = ScarabApp("c", Config(mode_keys="vi"))
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            view = await open_copy_mode(pilot, app)
            y = view.history_rows + app.view.text().index("second line here") - view.scroll_offset.y
            await pilot.mouse_down("#copy", offset=(0, y))
            await pilot.hover("#copy", offset=(10, y))
            await pilot.mouse_up("#copy", offset=(10, y))
            await leave(pilot, app)
            assert buffer(session) == "second line"
            view = await open_copy_mode(pilot, app)
            await pilot.click("#copy", offset=(8, y), times=2)
            await leave(pilot, app)
            assert buffer(session) == "line"

    run(scenario)


def test_up_and_down_keep_the_column_a_click_or_o_put_the_cursor_in(session: ScarabEnv) -> None:
    """tmux's lastcx: j and k aim at the cursor's column, however it got there, not at a column an
    earlier motion left behind."""

    async def scenario() -> None:
        app = ScarabApp("c", Config(mode_keys="vi"))
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            view = await open_copy_mode(pilot, app)
            y = view.history_rows + app.view.text().index("alpha beta-gamma  delta") - view.scroll_offset.y
            await pilot.click("#copy", offset=(10, y))
            assert view.cursor.col == 10 and cursor_text(view).startswith("alpha")
            await pilot.press("j")
            assert cursor_text(view) == "second line here" and view.cursor.col == 10
            await pilot.press("k", "0", "v", "w", "w", "o")  # the other end: column 0
            assert view.cursor.col == 0 and cursor_text(view).startswith("alpha")
            await pilot.press("j")
            assert view.cursor.col == 0 and cursor_text(view) == "second line here"
            await pilot.press("q")
            await leave(pilot, app)

    run(scenario)


def test_copy_mode_the_wheel_opened_ends_at_the_bottom(session: ScarabEnv) -> None:
    """tmux's WheelUpPane runs copy-mode -e: scrolled back to the bottom, copy mode ends; opened
    by the prefix, it stays."""
    from textual import events

    def wheel(widget: object, up: bool) -> None:
        kind = events.MouseScrollUp if up else events.MouseScrollDown
        widget.post_message(kind(widget, 3, 3, 0, -1 if up else 1, 0, False, False, False, 3, 3))  # type: ignore[attr-defined]

    async def scenario() -> None:
        app = ScarabApp("c", Config(mode_keys="vi"))
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            wheel(app.view, up=True)
            await until(pilot, lambda: app.copy_mode is not None and app.copy_mode.history.loaded, what="copy mode")
            assert app.copy_mode is not None
            view = app.copy_mode.history
            bottom = view.max_scroll_y
            for _ in range(2):
                wheel(view, up=True)
            await until(pilot, lambda: view.scroll_offset.y == bottom - 10, what="ten rows up")
            wheel(view, up=False)
            await until(pilot, lambda: view.scroll_offset.y == bottom - 5, what="five rows down")
            assert app.copy_mode is not None
            wheel(view, up=False)
            await leave(pilot, app)  # at the bottom: copy mode ends

            view = await open_copy_mode(pilot, app)
            wheel(view, up=True)
            await until(pilot, lambda: view.scroll_offset.y == view.max_scroll_y - 5, what="five rows up")
            wheel(view, up=False)
            wheel(view, up=False)
            await until(pilot, lambda: view.scroll_offset.y == view.max_scroll_y, what="the bottom")
            await pilot.pause()
            assert app.copy_mode is not None and app.copy_mode.history is view  # opened by the prefix: stays
            await pilot.press("q")
            await leave(pilot, app)

    run(scenario)


def test_prefix_bracket_pastes_the_newest_buffer(session: ScarabEnv) -> None:
    session.ok("set-buffer", "pasted from a buffer")

    async def scenario() -> None:
        app = ScarabApp("c")
        async with app.run_test(size=(60, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            await pilot.press("ctrl+b", "]", "enter")
            await until(pilot, lambda: app.view.text().count("pasted from a buffer") == 2, what="the paste")

    run(scenario)


def test_prefix_equals_chooses_a_buffer_and_hash_lists_them(session: ScarabEnv) -> None:
    from textual.widgets import OptionList, Static

    from scarab.tui.choosers import BufferScreen

    session.ok("set-buffer", "first-buffer")
    session.ok("set-buffer", "second-buffer")

    async def scenario() -> None:
        app = ScarabApp("c")
        async with app.run_test(size=(80, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            await pilot.press("ctrl+b", "=")
            await until(pilot, lambda: isinstance(app.screen, BufferScreen) and len(app.screen.buffers) == 2)
            preview = app.screen.query_one("#preview", Static)
            await until(pilot, lambda: "second-buffer" in str(preview.render()), what="the newest's preview")
            await pilot.press("down")
            await until(pilot, lambda: "first-buffer" in str(preview.render()), what="the older one's preview")
            await pilot.press("enter")
            await until(pilot, lambda: "first-buffer" in app.view.text(), what="the chosen buffer pasted")
            await pilot.press("ctrl+b", "#")
            await until(pilot, lambda: isinstance(app.screen, BufferScreen) and len(app.screen.buffers) == 2)
            assert app.screen.query_one(OptionList).highlighted == 0
            await pilot.press("d")  # deletes the highlighted buffer, the newest
            await until(pilot, lambda: len(app.screen.buffers) == 1, what="the delete")  # type: ignore[attr-defined]
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, BufferScreen))
        assert session.ok("list-buffers").startswith("buffer0: 12 bytes")

    run(scenario)


def test_prefix_slash_finds_a_line_in_another_session_and_jumps_there(session: ScarabEnv) -> None:
    from textual.widgets import Static

    from scarab.tui.choosers import GrepScreen

    session.ok("new", "-d", "-s", "other", "-x", "60", "-y", "10", "--", "sh", "-c",
               "echo needle-in-other; seq 1 50; exec cat")  # fmt: skip
    session.ok("split-window", "-t", "other", "--", "cat")  # the hit is in the pane that is not active

    async def scenario() -> None:
        app = ScarabApp("c", Config(mode_keys="vi"))
        async with app.run_test(size=(80, 21)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "third line" in app.view.text(), what="the text")
            await pilot.press("ctrl+b", "/", *"needle-in", "enter")
            await until(pilot, lambda: isinstance(app.screen, GrepScreen) and len(app.screen.hits) == 1, what="hits")
            screen = app.screen
            assert isinstance(screen, GrepScreen) and screen.hits[0].session == "other"
            preview = screen.query_one("#preview", Static)
            await until(pilot, lambda: "needle-in-other" in str(preview.render()) and "1" in str(preview.render()))
            await pilot.press("enter")
            await until(pilot, lambda: app.copy_mode is not None and app.copy_mode.history.loaded)
            assert app.session is not None and app.session.name == "other" and app.copy_mode is not None
            assert app.view.scene.active == screen.hits[0].pane and len(app.view.scene.panes) == 2
            view = app.copy_mode.history
            await until(pilot, lambda: cursor_text(view) == "needle-in-other", what="the jump")
            assert view.current == (view.cursor.row, 0, 9) and has_background(view, view.cursor.row, CURRENT_MATCH)

    run(scenario)


# 漢字 abc, then e + U+0301 (combining acute), t, é (precomposed), " x"
WIDE = "printf '\\346\\274\\242\\345\\255\\227 abc\\ne\\314\\201t\\303\\251 x\\n'; exec cat"


def test_columns_are_characters_wide_and_combining(in_env: ScarabEnv) -> None:
    """A wide character is one step over two cells, a combining mark no step at all; what a
    selection copies and where a match is drawn are those characters'."""
    in_env.ok("new", "-d", "-s", "w", "-x", "40", "-y", "8", "--", "sh", "-c", WIDE)

    async def scenario() -> None:
        app = ScarabApp("w", Config(mode_keys="vi"))
        async with app.run_test(size=(40, 9)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "abc" in "".join(app.view.text()), what="the text")
            view = await open_copy_mode(pilot, app)
            await pilot.press("k", "k", "0", "l")
            assert cursor_text(view) == "漢字 abc" and view.cursor.col == 2 and view.char_at(view.cursor) == "字"
            await pilot.press("l", "l")
            assert view.cursor.col == 5 and view.char_at(view.cursor) == "a"
            await pilot.press("h", "h", "v", "l", "l", "l", "y")  # from 字 to b
            await leave(pilot, app)
            assert buffer(in_env) == "字 ab"

            view = await open_copy_mode(pilot, app)
            await pilot.press("k", "0", "w")  # é (e + U+0301) t é: one word of three characters
            assert view.cursor.col == 4 and view.char_at(view.cursor) == "x"
            await pilot.press("0", "l")
            assert view.cursor.col == 1 and view.char_at(view.cursor) == "t"
            await pilot.press("0", "v", "$", "y")
            await leave(pilot, app)
            assert buffer(in_env) == "e\u0301t\u00e9 x"

            view = await open_copy_mode(pilot, app)
            await pilot.press("/", *"abc", "enter")
            await until(pilot, lambda: view.current is not None, what="the match")
            assert view.current == (view.cursor.row, 5, 8)  # cells 5-7, after two wide characters
            strip = view.render_line(view.cursor.row - view.scroll_offset.y)
            lit = [x for x in range(strip.cell_length) if strip.crop(x, x + 1).text and _bg(strip, x, CURRENT_MATCH)]
            assert lit == [5, 6, 7]  # "abc" where it is drawn, not at its offset in the text (3-5)

    run(scenario)


def _bg(strip: object, x: int, style: Style) -> bool:
    piece = strip.crop(x, x + 1)  # type: ignore[attr-defined]
    return any(seg.style is not None and seg.style.bgcolor == style.bgcolor for seg in piece)


def test_copy_mode_covers_its_pane_only(in_env: ScarabEnv) -> None:
    """As in tmux, copy mode is a mode of one pane: laid over that pane's rectangle (its position in
    the pane's top right), the other pane drawn and updated beside it, keys to whichever pane is
    active (prefix o leaves copy mode where it is, and comes back to it)."""
    from scarab.tui.terminal import IN_MODE_BORDER

    in_env.ok("new", "-d", "-s", "p", "-x", "60", "-y", "12", "--", "sh", "-c", TEXT)
    in_env.ok("split-window", "-h", "-t", "p", "--", "cat")

    async def scenario() -> None:
        app = ScarabApp("p", Config(mode_keys="vi"))
        async with app.run_test(size=(60, 13)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and len(app.view.scene.panes) == 2, what="two panes")
            left, right = (rect.pane for rect in app.view.scene.panes)
            await until(pilot, lambda: "third line" in "\n".join(app.view.pane_text(left)), what="the left pane")
            await pilot.press("ctrl+b", "o")  # the left pane
            await until(pilot, lambda: app.view.scene.active == left, what="the left pane active")
            view = await open_copy_mode(pilot, app)
            mode = app.copy_modes[left]
            rect = app.view.scene.rect(left)
            assert rect is not None and right not in app.copy_modes
            assert tuple(mode.region) == (rect.x, rect.y, rect.width, rect.height)
            assert app.screen.get_widget_at(rect.x + 1, 1)[0] is view
            assert app.screen.get_widget_at(rect.x + rect.width + 3, 1)[0] is app.view  # the other pane
            label = f"[0/{view.history_rows}]"
            assert view.render_line(0).text.endswith(label) and view.render_line(0).cell_length == rect.width
            assert any(seg.style == IN_MODE_BORDER for y in range(12) for seg in app.view.render_line(y))
            # The other pane goes on: what its program prints is drawn beside copy mode.
            in_env.ok("send", "-t", f"%{right}", "beside copy mode", "Enter")
            await until(pilot, lambda: "beside copy mode" in "\n".join(app.view.text()), what="the right pane")
            # prefix o: the keys go to the right pane's program; copy mode stays on the left.
            await pilot.press("ctrl+b", "o")
            await until(pilot, lambda: app.view.scene.active == right and app.focused is app.view, what="keys right")
            await type_text(pilot, "typed right")
            await pilot.press("enter")
            await until(pilot, lambda: "typed right" in "\n".join(app.view.pane_text(right)), what="keys to cat")
            assert app.copy_modes[left] is mode and mode.display
            await pilot.press("ctrl+b", "o")
            await until(pilot, lambda: app.focused is view, what="keys back to copy mode")
            await pilot.press("k", "k", "k", "w", "v", "e", "y")
            await leave(pilot, app)
            assert buffer(in_env) == "beta" and left not in app.copy_modes
            assert not any(seg.style == IN_MODE_BORDER for y in range(12) for seg in app.view.render_line(y))

    run(scenario)


LONG = "abcdefghij" * 4 + "XYZ"  # three rows at 20 columns
WRAPS = (
    f"printf '%s\\nafter\\n' {LONG}; seq 1 10; "
    "printf 'ABCDEFGHIJKLMNOPQRST\\nnext\\n%s\\nend\\n' 012345678901234567890123456789; exec cat"
)


def test_a_line_that_wrapped_is_copied_whole(in_env: ScarabEnv) -> None:
    """As tmux copies: rows a long line wrapped over are joined (in history and on the screen),
    hard newlines stay, and a row that is exactly full but ended by a newline is not joined."""
    in_env.ok("new", "-d", "-s", "wr", "-x", "20", "-y", "6", "--", "sh", "-c", WRAPS)

    async def scenario() -> None:
        app = ScarabApp("wr", Config(mode_keys="vi"))
        async with app.run_test(size=(20, 7)) as pilot:
            await until(pilot, lambda: app.attached.is_set() and "end" in app.view.text(), what="the text")
            view = await open_copy_mode(pilot, app)
            await pilot.press("k", "k", "k", "V", "j", "y")  # the screen's two rows of one line
            await leave(pilot, app)
            assert buffer(in_env) == "0123456789" * 3 + "\n"
            view = await open_copy_mode(pilot, app)
            await pilot.press("k", "k", "k", "k", "k", "V", "j", "y")  # a full row, then a newline
            await leave(pilot, app)
            assert buffer(in_env) == "ABCDEFGHIJKLMNOPQRST\nnext\n"
            view = await open_copy_mode(pilot, app)
            await pilot.press("?", *"XYZ", "enter")  # up in history
            await until(pilot, lambda: cursor_text(view) == "XYZ", what="the long line's last row")
            await pilot.press("k", "k", "v", "j", "j", "j", "$", "y")
            await leave(pilot, app)
            assert buffer(in_env) == f"{LONG}\nafter"

    run(scenario)
