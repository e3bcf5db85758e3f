"""TUI status bar layer: session name and window list (tmux's), then sessions, clients, prefix and notices."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from scarab import protocol as p
from scarab.tui.panes import window_list

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
    windows: reactive[tuple[p.WindowInfo, ...]] = reactive(())
    """The session's windows, as the latest `Layout` has them."""
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
        # tmux's default status-left (`[#{session_name}] `) and window list; a zoomed window carries
        # its `Z` flag there, as in tmux.
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"[{self.session}] ", "bold")
        for entry, current in window_list(self.windows):
            text.append(entry, "bold" if current else "")
            text.append(" ")
        current_window = next((w for w in self.windows if "*" in w.flags), None)
        if current_window is not None and current_window.synchronize:
            text.append(" synchronize-panes ", "bold reverse")
        if self.prefix_active:
            text.append(" PREFIX ", "bold reverse")
        if self.notice:
            text.append(f" {self.notice}", "italic")
        right = Text(no_wrap=True)
        if self.count:
            right.append(f" {self.index}/{self.count}")
        right.append(f"  {self.clients} client{'s' if self.clients != 1 else ''} ", "dim")
        width = self.size.width
        if width and text.cell_len + right.cell_len < width:
            text.append(" " * (width - text.cell_len - right.cell_len))
            text.append_text(right)
        else:
            text.append_text(right)
        return text
