"""TUI dialogs layer: the status-line prompt (tmux's command-prompt and confirm-before) and the key help."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from scarab.keys import Key, tmux_name
from scarab.tui.bindings import KeyTable

__all__ = ["HelpScreen", "LineInput", "StatusPrompt"]

_DIALOG_CSS = """
{name} {{
    align: center middle;
    background: $background 60%;
}}
{name} > Vertical {{
    width: 60;
    height: auto;
    border: round $accent;
    background: $surface;
    padding: 1 2;
}}
{name} .error {{
    color: $error;
    height: auto;
}}
"""


class LineInput(Input):
    """Textual's Input with its editing keys (C-u, C-w, C-a, Enter, ...) run in the order they were
    typed. Textual runs a widget's key binding only once the key has bubbled up to the app, after the
    keys queued behind it went into the text: `C-u ed` arriving in one read (a quick typist, a
    paste, send-keys) cleared the `ed` too. tmux's prompt edits in order."""

    async def _on_key(self, event: events.Key) -> None:
        await self.edit(event)

    async def edit(self, event: events.Key) -> None:
        """`event`'s edit (a binding of Input's, or a character typed), done before this returns."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


CANCEL_KEYS = frozenset(["escape", "ctrl+c", "ctrl+g"])  # tmux's prompt: Escape, C-c, C-g cancel
Changed = Callable[[str], Awaitable[None]]


class StatusPrompt(Horizontal):
    """tmux's status-line prompt (command-prompt, confirm-before), over the status line.

    A widget of the window, always there and hidden, not a screen pushed on top, and its keys
    come from the app one at a time, each handled to its end before the next (`key`): the
    focus moves to it before `ask` or `confirm` return, and back (`give_back`, the app's: to the
    active pane) before the answer is given, so keys typed in one burst with the one that opened
    it (`/foo` Enter `n` in copy mode) land where they would have one by one, in order."""

    DEFAULT_CSS = """
    StatusPrompt {
        layer: prompt; dock: bottom; height: 1; width: 100%; display: none;
        background: $warning; color: $background;
    }
    StatusPrompt.open { display: block; }
    StatusPrompt #prompt-label { width: auto; }
    StatusPrompt #prompt-input, StatusPrompt #prompt-input:focus {
        border: none; height: 1; padding: 0; width: 1fr; background: $warning; color: $background;
    }
    StatusPrompt.confirm #prompt-input { display: none; }
    """
    can_focus = True  # a confirm's key comes to the prompt itself

    def __init__(self, give_back: Callable[[], None]) -> None:
        super().__init__(id="status-prompt")
        self.give_back = give_back
        self.label = Label("", id="prompt-label", markup=False)
        self.input = LineInput(id="prompt-input", select_on_focus=False)
        self._answer: asyncio.Future[str | None] | None = None
        self._changed: Changed | None = None

    def compose(self) -> ComposeResult:
        yield self.label
        yield self.input

    @property
    def is_open(self) -> bool:
        return self._answer is not None

    def has_keys(self) -> bool:
        """Whether the keys are the prompt's: while it is open and no screen lies over it (as in
        tmux, a click on a pane meanwhile does not take them away from it)."""
        return self._answer is not None and self.app.screen is self.screen

    def ask(self, label: str, value: str = "", changed: Changed | None = None) -> asyncio.Future[str | None]:
        """`label` then a line to edit, starting as `value` with the cursor at its end (tmux's
        command-prompt -p LABEL -I VALUE): Enter gives the line, Escape / C-c / C-g give None.
        `changed` hears every edit (tmux's -i, incremental)."""
        answer = self._open(f"{label} ", confirm=False)
        self._changed = changed
        self.input.value = value
        self.input.cursor_position = len(value)
        self.screen.set_focus(self.input, scroll_visible=False)  # now: Widget.focus() waits a turn
        return answer

    def confirm(self, question: str) -> asyncio.Future[str | None]:
        """tmux's confirm-before: `question`, then one key answers: "y" (or "Y") gives "y"; any
        other character, Enter, Escape, C-c or C-g gives None; a key that is no character (an
        arrow) is not an answer, as in tmux."""
        answer = self._open(f"{question} ", confirm=True)
        self.screen.set_focus(self, scroll_visible=False)
        return answer

    def _open(self, label: str, confirm: bool) -> asyncio.Future[str | None]:
        if self._answer is not None:  # one prompt at a time: a newer one replaces it, as in tmux
            self._finish(None, give_back=False)
        self._answer = asyncio.get_running_loop().create_future()
        self.label.update(label)
        self.set_class(confirm, "confirm")
        self.add_class("open")
        return self._answer

    def _finish(self, value: str | None, give_back: bool = True) -> None:
        answer, self._answer, self._changed = self._answer, None, None
        self.remove_class("open")
        if give_back:
            self.give_back()  # before the answer: the keys after it are the pane's again
        if answer is not None and not answer.done():
            answer.set_result(value)

    async def key(self, event: events.Key) -> None:
        """A key typed while the prompt is open (the app hands each one over and waits)."""
        event.stop()
        event.prevent_default()
        if self.has_class("confirm"):
            if event.is_printable and event.character:
                self._finish("y" if event.character in "yY" else None)
            elif event.key in CANCEL_KEYS or event.key == "enter":
                self._finish(None)
            return
        if event.key in CANCEL_KEYS:
            self._finish(None)
        elif event.key == "enter":
            self._finish(self.input.value)
        else:
            line = self.input.value
            await self.input.edit(event)
            if self._changed is not None and self.input.value != line:
                await self._changed(self.input.value)


class HelpScreen(ModalScreen[None]):
    """The prefix key table, generated from the table itself (`scarab.tui.bindings`)."""

    # As wide as the text (never wrapped onto the border), narrower only when the window is.
    DEFAULT_CSS = (
        _DIALOG_CSS.format(name="HelpScreen")
        + """
    HelpScreen > Vertical { width: auto; max-width: 100%; max-height: 100%; margin: 1 0; }
    HelpScreen VerticalScroll { width: auto; height: auto; scrollbar-size-vertical: 1; }
    HelpScreen #closes { dock: bottom; }
    HelpScreen VerticalScroll > Static { width: auto; }
    """
    )

    def __init__(self, prefix: Key, table: KeyTable) -> None:
        super().__init__()
        self.prefix = prefix
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll():
                yield Static(
                    f"[b]{escape(tmux_name(self.prefix))}[/b] then:\n\n{escape(self.table.help_text())}\n", id="keys"
                )
            yield Label("[dim]↑↓ PgUp PgDn scroll, any other key closes[/dim]", id="closes")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        scroll = self.query_one(VerticalScroll)
        moves = {"up": -1, "down": 1, "pageup": -scroll.size.height, "pagedown": scroll.size.height}
        if event.key in moves:
            scroll.scroll_to(y=scroll.scroll_y + moves[event.key], animate=False)
            return
        self.dismiss(None)
