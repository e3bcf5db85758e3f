"""TUI status bar layer: session name, index/count, attached clients, prefix and connection state."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

__all__ = ["StatusBar"]


class StatusBar(Widget):
    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        height: 1;
        background: $accent 30%;
        color: $text;
    }
    """

    session: reactive[str] = reactive("")
    """Name of the attached session."""
    index: reactive[int] = reactive(0)
    """1-based position of the session among all sessions."""
    count: reactive[int] = reactive(0)
    """How many sessions there are."""
    clients: reactive[int] = reactive(0)
    """Clients attached to this session, this one included."""
    prefix_active: reactive[bool] = reactive(False)
    """The prefix key was pressed and a command key is awaited."""
    notice: reactive[str] = reactive("")
    """A transient message (errors, reconnecting)."""

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" [{self.session}] ", "bold")
        if self.count:
            text.append(f"{self.index}/{self.count} ")
        text.append(f" {self.clients} client{'s' if self.clients != 1 else ''} ", "dim")
        if self.prefix_active:
            text.append(" PREFIX ", "bold reverse")
        if self.notice:
            text.append(f"  {self.notice}", "italic")
        return text
