"""TUI dialogs layer: rename, confirm, key help and the scrollback view (modal screens)."""

from __future__ import annotations

from rich.markup import escape
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RichLog, Static

from scarab.keys import Key, tmux_name
from scarab.tui.bindings import KeyTable

__all__ = ["ConfirmScreen", "HelpScreen", "RenameScreen", "ScrollbackScreen"]

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


class RenameScreen(ModalScreen[str | None]):
    """Ask for a new session name. The app checks it with the daemon and shows errors here."""

    DEFAULT_CSS = _DIALOG_CSS.format(name="RenameScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Rename session [b]{self.current}[/b] to:")
            yield Input(value=self.current, id="new-name", select_on_focus=True)
            yield Label("", classes="error", id="error")

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


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = _DIALOG_CSS.format(name="ConfirmScreen")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
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

    DEFAULT_CSS = _DIALOG_CSS.format(name="HelpScreen")

    def __init__(self, prefix: Key, table: KeyTable) -> None:
        super().__init__()
        self.prefix = prefix
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{escape(tmux_name(self.prefix))}[/b] then:\n\n{escape(self.table.help_text())}\n")
            yield Label("[dim]any key closes[/dim]")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        self.dismiss(None)


class ScrollbackScreen(ModalScreen[None]):
    """The session's scrollback and screen, read-only, scrolled to the bottom."""

    DEFAULT_CSS = """
    ScrollbackScreen { background: $background; }
    ScrollbackScreen RichLog { height: 1fr; scrollbar-size-vertical: 1; }
    ScrollbackScreen #mode { dock: top; height: 1; background: $warning; color: $background; }
    """
    BINDINGS = [
        Binding("q,escape", "leave", "Leave"),
        Binding("pageup,b", "page(-1)", "Page up", show=False),
        Binding("pagedown,space", "page(1)", "Page down", show=False),
        Binding("g,home", "edge(0)", "Top", show=False),
        Binding("G,end", "edge(1)", "Bottom", show=False),
    ]

    def __init__(self, ansi_text: str, name: str) -> None:
        super().__init__()
        self.ansi_text = ansi_text
        self.session_name = name

    def compose(self) -> ComposeResult:
        yield Static(f" scrollback: {self.session_name}   q leave  PgUp/PgDn scroll", id="mode")
        yield RichLog(wrap=False, markup=False, highlight=False, auto_scroll=True)

    def on_mount(self) -> None:
        from rich.text import Text

        log = self.query_one(RichLog)
        for line in self.ansi_text.splitlines():
            log.write(Text.from_ansi(line))
        log.focus()

    def action_leave(self) -> None:
        self.dismiss(None)

    def action_page(self, direction: int) -> None:
        log = self.query_one(RichLog)
        log.scroll_to(y=log.scroll_y + direction * max(1, log.size.height - 1), animate=False)

    def action_edge(self, bottom: int) -> None:
        log = self.query_one(RichLog)
        if bottom:
            log.scroll_end(animate=False)
        else:
            log.scroll_home(animate=False)
