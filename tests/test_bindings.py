"""The prefix key table: one source for the app's dispatch, the help screen and the README."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scarab.config import DEFAULT_PREFIX
from scarab.keys import Key, Mod
from scarab.tui.app import ScarabApp
from scarab.tui.bindings import prefix_table
from tests.helpers import ScarabEnv

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_table_is_the_generated_one() -> None:
    table = prefix_table(DEFAULT_PREFIX).markdown()
    assert table in README.read_text(), f"README's prefix key table is stale; it should read:\n{table}"


def test_every_binding_names_an_action_of_the_app_and_keys_are_unique() -> None:
    table = prefix_table(Key("a", Mod.META))
    for binding in table.bindings:
        assert callable(getattr(ScarabApp, f"action_{binding.action}", None)), binding.action
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
            shown = str(app.screen.query_one(Static).render())
            assert shown.startswith("C-b then:")
            for binding in table.bindings:
                assert binding.description in shown
            # 60 columns less the border and padding: no line wraps onto the border.
            assert max(len(line) for line in shown.splitlines()) <= 54

    asyncio.run(scenario())
