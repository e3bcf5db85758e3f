"""TUI dialogs layer: rename, prompt, confirm and key help (modal screens)."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from scarab.keys import Key, tmux_name
from scarab.tui.bindings import KeyTable

__all__ = ["ConfirmScreen", "HelpScreen", "LineInput", "PromptScreen", "RenameScreen"]

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
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


class RenameScreen(ModalScreen[str | None]):
    """Ask for a new session name. The app checks it with the daemon and shows errors here."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="RenameScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, value: str | None = None, error: str = "") -> None:
        """`current`: the session's name (the title); `value`, `error`: a rejected try, shown again."""
        super().__init__()
        self.current = current
        self.value = current if value is None else value
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text.assemble("Rename session ", (self.current, "bold"), " to:"))
            yield LineInput(value=self.value, id="new-name", select_on_focus=True)
            yield Label(self.error, classes="error", id="error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        if not name:
            self.show_error("the name must not be empty")
            return
        self.dismiss(name)

    def show_error(self, message: str) -> None:
        self.query_one("#error", Label).update(message)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """tmux's command-prompt in the status line: `label` then the text typed (Enter gives it,
    Esc gives None). Like tmux's, a prefilled value (rename-window's name) is edited, not replaced:
    the cursor waits at its end."""

    DEFAULT_CSS = """
    PromptScreen { align: left bottom; background: $background 0%; }
    PromptScreen > Horizontal { height: 1; width: 100%; background: $warning; color: $background; }
    PromptScreen Label { width: auto; }
    PromptScreen Input, PromptScreen Input:focus {
        border: none; height: 1; padding: 0; width: 1fr; background: $warning; color: $background;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, label: str, value: str = "") -> None:
        super().__init__()
        self.label = label
        self.value = value

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label(f"{self.label} ", markup=False)
            yield LineInput(value=self.value, id="prompt", select_on_focus=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str | Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Label("[b]y[/b] yes   [b]n[/b] no")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


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
