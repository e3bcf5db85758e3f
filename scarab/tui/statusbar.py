"""TUI status bar layer: session name and window list (tmux's), then sessions, clients, prefix and notices."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from scarab import protocol as p
from scarab.tui.panes import window_list

__all__ = ["StatusBar", "status_line"]


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
        current = next((w for w in self.windows if "*" in w.flags), None)
        tail = Text(no_wrap=True)
        if current is not None and current.synchronize:
            tail.append(" synchronize-panes ", "bold reverse")
        if self.prefix_active:
            tail.append(" PREFIX ", "bold reverse")
        if self.notice:
            tail.append(f" {self.notice}", "italic")
        right = Text(no_wrap=True)
        if self.count:
            right.append(f" {self.index}/{self.count}")
        right.append(f"  {self.clients} client{'s' if self.clients != 1 else ''} ", "dim")
        return status_line(self.session, self.windows, tail, right, self.size.width)


def status_line(session: str, windows: tuple[p.WindowInfo, ...], tail: Text, right: Text, width: int) -> Text:
    """tmux's default status-left (`[#{session_name}] `) and window list (a zoomed window carries its
    `Z` flag there), then `tail` (modes, notices) and `right` at the right edge. A window list too
    long for what is left is cut as tmux cuts it (format_draw_list): around the current window,
    with `<` / `>` where windows are cut off, so the current window, `tail` and `right` stay shown."""
    left = Text(f"[{session}] ", "bold", no_wrap=True)
    listed = Text(no_wrap=True)
    focus = (0, 0)
    for entry, current in window_list(windows):
        if current:
            focus = (listed.cell_len, listed.cell_len + cell_len(entry))
        listed.append(entry, "bold" if current else "")
        listed.append(" ")
    room = width - left.cell_len - tail.cell_len - right.cell_len
    if width and listed.cell_len > room > 2:
        listed = _around(listed, focus, room)
    text = Text(no_wrap=True, overflow="ellipsis")
    for part in (left, listed, tail):
        text.append_text(part)
    if width and text.cell_len + right.cell_len < width:
        text.append(" " * (width - text.cell_len - right.cell_len))
    text.append_text(right)
    return text


def _around(listed: Text, focus: tuple[int, int], room: int) -> Text:
    """`room` cells of `listed` centred on the `focus` span as far as the ends allow, a cut end
    marked `<` / `>` (tmux's list-left and list-right markers)."""
    start = min(max(0, (focus[0] + focus[1]) // 2 - room // 2), listed.cell_len - room)
    end = start + room
    cut_left, cut_right = start > 0, end < listed.cell_len
    start, end = start + cut_left, end - cut_right
    # Cells to characters (a wide character counts two cells; one cut in half is left out).
    offsets, cells = [], 0
    for char in listed.plain:
        offsets.append(cells)
        cells += cell_len(char)
    first = next((i for i, at in enumerate(offsets) if at >= start), len(offsets))
    last = next((i for i, at in enumerate(offsets) if at + cell_len(listed.plain[i]) > end), len(offsets))
    out = Text("<" if cut_left else "", no_wrap=True)
    out.append_text(listed[first:last])
    if cut_right:
        out.append(">")
    return out
