"""TUI picker layer: the session picker — list, live preview, type-to-filter, switch/rename/kill/new.

The picker does no IO itself: it asks the app through callbacks it is given (list, preview) and
returns what the user chose as a `PickerResult`.

Typing always filters: the filter keeps the focus, so every printable key (the first one too, and
keys arriving in one burst) lands in it. Moving the selection and the actions use keys that cannot
be part of a name (arrows, Tab, Enter, ctrl+r/ctrl+x/ctrl+n, Esc), as the footer says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from scarab import protocol as p
from scarab.humanize import age, size
from scarab.tui.styles import same_width_everywhere

__all__ = ["PickerResult", "PickerScreen"]


class PickerResult(NamedTuple):
    action: str  # switch | respawn (an exited session, then switch) | rename | kill | new
    session_id: str = ""


def usage_text(s: p.SessionInfo) -> str:
    """What a running session's programs use, and its limits ("" when not measured)."""
    if s.memory < 0:
        return ""
    cpu = f"{s.cpu:.0f}% " if s.cpu >= 0 else ""
    return f"  {cpu}{size(s.memory)}" + (f"  [{s.limits}]" if s.limits else "")


class PickerScreen(ModalScreen[PickerResult | None]):
    DEFAULT_CSS = """
    PickerScreen { align: center middle; background: $background 50%; }
    PickerScreen > Vertical { width: 90%; height: 90%; border: round $accent; background: $surface; }
    PickerScreen #filter { height: 1; border: none; padding: 0 1; background: $surface; }
    PickerScreen Horizontal { height: 1fr; }
    PickerScreen OptionList { width: 40%; max-width: 50; height: 1fr; border: none; padding: 0; }
    PickerScreen OptionList:focus { border: none; }
    PickerScreen #preview { width: 1fr; height: 1fr; border-left: solid $accent; padding: 0 1; overflow: hidden;
        text-wrap: nowrap; text-overflow: clip; }
    PickerScreen #hint { height: 1; color: $text-muted; padding: 0 1; }
    """
    # priority: the filter Input binds some of these keys itself (ctrl+x cuts).
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+r", "act('rename')", "Rename", priority=True),
        Binding("ctrl+x", "act('kill')", "Kill", priority=True),
        Binding("ctrl+n", "new", "New", priority=True),
        Binding("up,shift+tab", "move(-1)", "Up", show=False, priority=True),
        Binding("down,tab", "move(1)", "Down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
    ]
    HINT = "Enter switch  ↑↓/Tab select  ^R rename  ^X kill  ^N new  Esc close · type to filter"

    def __init__(
        self,
        current: str,
        list_sessions: Callable[[], Awaitable[list[p.SessionInfo]]],
        preview: Callable[[str], Awaitable[str]],
    ) -> None:
        super().__init__()
        self.current = current
        self._list = list_sessions
        self._preview = preview
        self.sessions: list[p.SessionInfo] = []
        self.shown: list[p.SessionInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="type to filter", id="filter")
            with Horizontal():
                yield OptionList(id="sessions")
                yield Static("", id="preview")
            yield Static(self.HINT, id="hint")

    async def on_mount(self) -> None:
        self.query_one(OptionList).can_focus = False  # the filter keeps the focus: typing never acts
        self.query_one("#filter", Input).focus()
        await self.reload()
        self.set_interval(0.5, self.update_preview)

    async def reload(self) -> None:
        self.sessions = await self._list()
        self.apply_filter(self.query_one("#filter", Input).value)

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        self.shown = [s for s in self.sessions if needle in s.name.lower() or s.id.startswith(needle)]
        options = self.query_one(OptionList)
        options.clear_options()
        width = max((len(s.name) for s in self.shown), default=4)
        for s in self.shown:
            exited = s.state == "exited"
            mark = "*" if s.id == self.current else "x" if exited else " "
            label = Text.assemble(
                (f"{mark} {s.name.ljust(width)}", "bold" if s.id == self.current else "dim" if exited else ""),
                (f"  {s.cols}x{s.rows}  {s.attached}c  {age(s.last_attached)}", "dim"),
                no_wrap=True,
                overflow="ellipsis",
            )
            if exited:
                label.append(f"  exited ({s.exit_status})", "italic")
            elif s.state != "running":
                label.append(f"  {s.state}", "italic")
            label.append(usage_text(s), "dim")
            if s.recording:
                label.append("  \u25cf rec", "bold red")
            options.add_option(Option(label, id=s.id))
        exited_count = sum(1 for s in self.sessions if s.state == "exited")
        counts = f"{len(self.sessions) - exited_count} running"
        if exited_count:
            counts += f", {exited_count} exited (Enter restarts)"
        self.query_one(Vertical).border_title = f"sessions: {counts}"
        if self.shown:
            index = next((i for i, s in enumerate(self.shown) if s.id == self.current), 0)
            options.highlighted = index

    def selected(self) -> p.SessionInfo | None:
        index = self.query_one(OptionList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    async def update_preview(self) -> None:
        chosen = self.selected()
        preview = self.query_one("#preview", Static)
        if chosen is None:
            preview.update("no matching session")
            return
        try:
            text = await self._preview(chosen.id)
        except Exception as exc:  # a session that just ended: show why instead of failing
            preview.update(str(exc))
            return
        shown = Text.from_ansi(same_width_everywhere(text.rstrip("\n")), no_wrap=True, overflow="crop")
        if chosen.windows:
            counts = f"{chosen.windows} window{'s' if chosen.windows != 1 else ''}, "
            counts += f"{chosen.panes} pane{'s' if chosen.panes != 1 else ''}"
            shown = Text.assemble((counts, "dim"), "\n", shown, no_wrap=True, overflow="crop")
        preview.update(shown)

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        await self.update_preview()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.choose()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.choose()

    def choose(self) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(PickerResult("respawn" if chosen.state == "exited" else "switch", chosen.id))

    def on_key(self, event: events.Key) -> None:
        filt = self.query_one("#filter", Input)
        if event.key == "escape" and filt.value:
            # The first Esc clears the filter, the next closes.
            event.stop()
            filt.value = ""

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            current = options.highlighted or 0
            options.highlighted = max(0, min(len(self.shown) - 1, current + step))

    def action_act(self, action: str) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(PickerResult(action, chosen.id))

    def action_new(self) -> None:
        self.dismiss(PickerResult("new"))

    def action_close(self) -> None:
        self.dismiss(None)
