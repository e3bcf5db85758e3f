"""Shared helpers of the Pilot tests (Textual's `run_test`): wait for what the app shows, type, run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from scarab.tui.app import ScarabApp
from tests.helpers import until as poll_until

__all__ = ["prompt_text", "run", "screen_text", "type_text", "until"]


async def until(pilot: object, predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """`until`, saying what the app showed when it gives up."""
    app = pilot.app  # type: ignore[attr-defined]
    await poll_until(predicate, timeout, what=lambda: f"{what or predicate}; screen:\n{screen_text(app)}")


def screen_text(app: ScarabApp) -> str:
    return "\n".join(app.view.text())


def prompt_text(app: ScarabApp) -> str:
    """What the status-line prompt shows (its label, then the line being edited); "" when closed."""
    prompt = app.prompt
    if not prompt.is_open:
        return ""
    label = str(prompt.label.content)
    return label if prompt.has_class("confirm") else label + prompt.input.value


async def type_text(pilot: object, text: str) -> None:
    keys = ["space" if c == " " else c for c in text]
    await pilot.press(*keys)  # type: ignore[attr-defined]


def run(coro_fn: Callable[[], object]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), 60))  # type: ignore[arg-type]
