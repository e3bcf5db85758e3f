"""TUI picker layer: the session picker — list, live preview, type-to-filter, switch/rename/kill/new.

The picker does no IO itself: it asks the app through callbacks it is given (list, preview) and
returns what the user chose as a `PickerResult`.
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
from scarab.humanize import age

__all__ = ["PickerResult", "PickerScreen"]


class PickerResult(NamedTuple):
    action: str  # switch | rename | kill | new
    session_id: str = ""


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
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("r", "act('rename')", "Rename"),
        Binding("x", "act('kill')", "Kill"),
        Binding("n", "new", "New"),
        Binding("q", "close", "Close", show=False),
    ]

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
            yield Static("Enter switch  r rename  x kill  n new  Esc close", id="hint")

    async def on_mount(self) -> None:
        await self.reload()
        self.query_one(OptionList).focus()
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
            mark = "*" if s.id == self.current else " "
            label = Text.assemble(
                (f"{mark} {s.name.ljust(width)}", "bold" if s.id == self.current else ""),
                (f"  {s.cols}x{s.rows}  {s.attached}c  {age(s.last_attached)}", "dim"),
                no_wrap=True,
                overflow="ellipsis",
            )
            if s.state != "running":
                label.append(f"  {s.state}", "italic")
            options.add_option(Option(label, id=s.id))
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
        preview.update(Text.from_ansi(text.rstrip("\n"), no_wrap=True, overflow="crop"))

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        await self.update_preview()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(PickerResult("switch", chosen.id))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.apply_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(PickerResult("switch", chosen.id))

    def on_key(self, event: events.Key) -> None:
        filt = self.query_one("#filter", Input)
        options = self.query_one(OptionList)
        if filt.has_focus and event.key in ("up", "down"):
            # Arrows move the selection even while typing a filter.
            event.stop()
            options.action_cursor_up() if event.key == "up" else options.action_cursor_down()
        elif filt.has_focus and event.key == "escape" and filt.value:
            event.stop()
            filt.value = ""
            options.focus()
        elif options.has_focus and event.character and event.character.isprintable() and event.key not in (
            "r", "x", "n", "q", "space",
        ):  # fmt: skip
            # Type-to-filter: any other character starts the filter.
            event.stop()
            filt.focus()
            filt.insert_text_at_cursor("" if event.character == "/" else event.character)

    def action_act(self, action: str) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(PickerResult(action, chosen.id))

    def action_new(self) -> None:
        self.dismiss(PickerResult("new"))

    def action_close(self) -> None:
        self.dismiss(None)
