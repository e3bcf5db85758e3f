"""The prefix key table: one source for the app's dispatch, the help screen and the README."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scarab.config import DEFAULT_PREFIX
from scarab.keys import Key, Mod
from scarab.tui.app import ScarabApp
from scarab.tui.bindings import copy_mode_table, prefix_table
from scarab.tui.copymode import CopyMode
from tests.helpers import ScarabEnv

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_table_is_the_generated_one() -> None:
    for table in (prefix_table(DEFAULT_PREFIX), copy_mode_table("vi"), copy_mode_table("emacs")):
        text = table.markdown()
        assert text in README.read_text(), f"README's {table.name} key table is stale; it should read:\n{text}"


def test_copy_mode_tables_name_actions_of_copy_mode_and_keys_are_unique() -> None:
    for mode, name in (("vi", "copy-mode-vi"), ("emacs", "copy-mode")):
        table = copy_mode_table(mode)
        assert table.name == name
        for binding in table.bindings:
            assert callable(getattr(CopyMode, f"action_{binding.action}", None)), binding.action
        assert len({b.key for b in table.bindings}) == len(table.bindings)
    # tmux's spellings parse to the keys the client reads: C-Space, M-<, C-v.
    emacs = copy_mode_table("emacs")
    assert emacs.lookup(Key("\x00")).action == "begin_selection"  # type: ignore[union-attr]
    assert emacs.lookup(Key("<", Mod.META)).action == "history_top"  # type: ignore[union-attr]
    assert copy_mode_table("vi").lookup(Key("\x16")).action == "rectangle_toggle"  # type: ignore[union-attr]


def test_every_binding_names_an_action_of_the_app_and_keys_are_unique() -> None:
    table = prefix_table(Key("a", Mod.META))
    for binding in table.bindings:
        name = binding.action.split("(", 1)[0]
        assert callable(getattr(ScarabApp, f"action_{name}", None)), binding.action
    assert len({b.key for b in table.bindings}) == len(table.bindings)
    assert table.lookup(Key("a", Mod.META)) is not None and table.lookup(Key("\x02")) is None


def test_help_screen_is_the_table_and_fits_its_box(in_env: ScarabEnv) -> None:
    from textual.widgets import Static

    from scarab.tui.dialogs import HelpScreen

    table = prefix_table(DEFAULT_PREFIX)

    async def scenario() -> None:
        app = ScarabApp()
        async with app.run_test(size=(80, 30)) as pilot:
            app.push_screen(HelpScreen(DEFAULT_PREFIX, table))
            await pilot.pause()
            shown = str(app.screen.query_one("#keys", Static).render())
            assert shown.startswith("C-b then:")
            for binding in table.bindings:
                assert binding.description in shown
            # 60 columns less the border and padding: no line wraps onto the border.
            assert max(len(line) for line in shown.splitlines()) <= 54

    asyncio.run(scenario())
