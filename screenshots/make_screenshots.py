"""Regenerate the README's SVG screenshots from deterministic content.

Runs a private daemon in a temporary runtime/data dir, creates sessions that print fixed text, then
drives the real TUI with Textual's Pilot and saves the main view (a window of three panes and a
second window), the tree, the picker, the rename dialog and copy mode over one pane (vi keys, a
search and a selection).
Usage: `.venv/bin/python screenshots/make_screenshots.py`
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.helpers import destroy_env, make_env  # noqa: E402

DEMO = r"""printf '\033[1;34m~/projects/scarab\033[0m on \033[35mmain\033[0m\n$ ls --color\n'
printf '\033[1;34mbenchmarks\033[0m  \033[1;34mscarab\033[0m  \033[1;34mtests\033[0m  '
printf 'Makefile  README.md  pyproject.toml\n'
printf '$ git log --oneline | head -3\n\033[33m3f2a1c9\033[0m Core: daemon, hosts, store\n'
printf '\033[33m8b7e6d5\033[0m TUI: picker and rename\n\033[33m1a2b3c4\033[0m Tests: crash recovery\n'
printf '$ echo "日本語 wide text, \033[3mitalic\033[0m, \033[4munderline\033[0m, \033[9mstrike\033[0m"\n'
printf '日本語 wide text, \033[3mitalic\033[0m, \033[4munderline\033[0m, \033[9mstrike\033[0m\n'
printf '\033[38;2;255;135;0mtruecolor\033[0m \033[48;5;22m 256-colour \033[0m \033[7mreverse\033[0m\n$ '
exec cat"""


async def shoot(env_root: Path) -> None:
    from scarab.config import Config
    from scarab.tui.app import ScarabApp
    from scarab.tui.picker import PickerScreen
    from scarab.tui.tree import TreeScreen

    app = ScarabApp("work", Config(mode_keys="vi"))
    async with app.run_test(size=(100, 28)) as pilot:

        async def until(predicate: object) -> None:
            deadline = time.monotonic() + 15
            while not predicate():  # type: ignore[operator]
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)

        def shows(text: str) -> bool:
            return any(text in line for line in app.view.text())

        async def type_line(text: str) -> None:
            await pilot.press(*("space" if c == " " else c for c in text), "enter")

        await until(lambda: shows("reverse"))
        # A window of three panes, as tmux's prefix % then prefix " make it, and a second window.
        await pilot.press("ctrl+b", "c")
        await until(lambda: len(app.status.windows) == 2)
        await pilot.press("ctrl+b", "0")
        await until(lambda: app.view.scene.window is not None and app.view.scene.window.index == 0)
        await pilot.press("ctrl+b", "percent_sign")
        await until(lambda: len(app.view.scene.panes) == 2)
        await type_line("clear; seq 1 12 | paste -sd' '")
        await until(lambda: shows("1 2 3 4 5 6 7 8 9 10 11 12"))
        await pilot.press("ctrl+b", "quotation_mark")
        await until(lambda: len(app.view.scene.panes) == 3)
        await type_line("clear; echo 'prefix q shows pane numbers'")
        await until(lambda: shows("prefix q shows pane numbers"))
        await pilot.pause(0.3)
        app.save_screenshot("main.svg", str(HERE))
        await pilot.press("ctrl+b", "w")
        await until(lambda: isinstance(app.screen, TreeScreen) and len(app.screen.items) >= 6)
        await pilot.pause(0.8)  # the live preview refreshes twice a second
        app.save_screenshot("tree.svg", str(HERE))
        await pilot.press("escape")
        await pilot.press("ctrl+b", "s")
        await until(lambda: isinstance(app.screen, PickerScreen) and len(app.screen.shown) == 3)
        await pilot.pause(0.8)  # the live preview refreshes twice a second
        app.save_screenshot("picker.svg", str(HERE))
        await pilot.press("escape", "ctrl+b", "$")  # tmux's prompt, on the status line, the name to edit
        await until(lambda: app.prompt.is_open and app.prompt.input.value == "work")
        await pilot.pause(0.3)
        app.save_screenshot("rename.svg", str(HERE))
        # Copy mode over the left pane (the other two stay as they are beside it).
        await pilot.press("escape", "ctrl+b", "left")
        await until(lambda: app.view.scene.active == app.view.scene.order[0])
        await pilot.press("ctrl+b", "[")
        await until(lambda: app.copy_mode is not None and app.copy_mode.history.loaded)
        await pilot.press("/", *"wide", "enter")
        await until(lambda: app.copy_mode is not None and app.copy_mode.history.current is not None)
        await pilot.press("v", "e", "e")
        await pilot.pause(0.3)
        app.save_screenshot("copymode.svg", str(HERE))
        await pilot.press("q", "ctrl+b", "d")


def main() -> int:
    env = make_env()
    try:
        for key in ("XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME", "SHELL", "PS1"):
            os.environ[key] = env.env[key]
        env.ok("new", "-d", "-s", "work", "-x", "100", "-y", "27", "--", "sh", "-c", DEMO)
        env.ok("new", "-d", "-s", "logs", "-x", "100", "-y", "27", "--record", "--", "sh", "-c", "seq 1 40; exec cat")
        env.ok("new", "-d", "-s", "editor", "-x", "100", "-y", "27", "--", "sh", "-c", "echo '-- INSERT --'; exec cat")
        asyncio.run(shoot(env.root))
    finally:
        destroy_env(env)
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("*.svg"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
