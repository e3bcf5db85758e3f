"""TUI chooser layer: the paste-buffer list (`prefix =`, `prefix #`) and the search across every
session (`prefix /`), each a list with a preview of what is highlighted.

Like the picker, they do no IO themselves: the app gives them callables (list, show, grep, preview)
and they return what the user chose.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from scarab import protocol as p
from scarab.errors import ScarabError

__all__ = ["BufferScreen", "GrepChoice", "GrepScreen"]

_CSS = """
{name} {{ align: center middle; background: $background 50%; }}
{name} > Vertical {{ width: 90%; height: 90%; border: round $accent; background: $surface; }}
{name} Horizontal {{ height: 1fr; }}
{name} OptionList {{ width: 45%; height: 1fr; border: none; padding: 0; }}
{name} OptionList:focus {{ border: none; }}
{name} #preview {{ width: 1fr; height: 1fr; border-left: solid $accent; padding: 0 1; overflow: hidden;
    text-wrap: nowrap; text-overflow: clip; }}
{name} #pattern {{ height: 1; border: none; padding: 0 1; background: $surface; }}
{name} #hint {{ height: 1; color: $text-muted; padding: 0 1; }}
"""


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() or c == "\n" else "?" for c in text)


class BufferScreen(ModalScreen[str | None]):
    """The paste buffers, most recent first; Enter returns the chosen one's name (to paste), `d`
    deletes it. As a plain list (`prefix #`) Enter just closes."""

    DEFAULT_CSS = _CSS.format(name="BufferScreen")
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("d", "delete", "Delete"),
    ]

    def __init__(
        self,
        list_buffers: Callable[[], Awaitable[list[p.BufferInfo]]],
        show: Callable[[str], Awaitable[bytes]],
        delete: Callable[[str], Awaitable[None]],
        choose: bool = True,
    ) -> None:
        super().__init__()
        self._list = list_buffers
        self._show = show
        self._delete = delete
        self.choose = choose
        self.buffers: list[p.BufferInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            with Horizontal():
                yield OptionList(id="buffers")
                yield Static("", id="preview")
            hint = "Enter paste  d delete  Esc close" if self.choose else "d delete  Esc close"
            yield Static(hint, id="hint")

    async def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        await self.reload()

    async def reload(self) -> None:
        try:
            self.buffers = await self._list()
        except ScarabError as exc:
            self.query_one("#preview", Static).update(str(exc))
            return
        options = self.query_one(OptionList)
        options.clear_options()
        for b in self.buffers:
            sample = _printable(b.data.decode(errors="replace")).replace("\n", "⏎")
            options.add_option(Option(Text(f"{b.name}: {b.size} bytes: {sample}", no_wrap=True), id=b.name))
        if self.buffers:
            options.highlighted = 0
        else:
            self.query_one("#preview", Static).update("no buffers")

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        name = event.option.id or ""
        try:
            data = await self._show(name)
        except ScarabError as exc:
            self.query_one("#preview", Static).update(str(exc))
            return
        self.query_one("#preview", Static).update(Text(_printable(data.decode(errors="replace"))))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id if self.choose else None)

    async def action_delete(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.buffers:
            return
        try:
            await self._delete(self.buffers[options.highlighted].name)
        except ScarabError as exc:
            self.query_one("#preview", Static).update(str(exc))
            return
        await self.reload()

    def action_close(self) -> None:
        self.dismiss(None)


class GrepChoice(NamedTuple):
    hit: p.GrepHit
    pattern: str


class GrepScreen(ModalScreen[GrepChoice | None]):
    """A pattern, then every matching line of every session; Enter returns the hit (the app opens
    copy mode there with the match highlighted)."""

    DEFAULT_CSS = _CSS.format(name="GrepScreen")
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(
        self,
        grep: Callable[[str], Awaitable[p.GrepHits]],
        preview: Callable[[p.GrepHit], Awaitable[str]],
    ) -> None:
        super().__init__()
        self._grep = grep
        self._preview = preview
        self.hits: list[p.GrepHit] = []
        self.pattern = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Input(placeholder="search every session (a regular expression; smartcase)", id="pattern")
            with Horizontal():
                yield OptionList(id="hits")
                yield Static("", id="preview")
            yield Static("Enter search, then Enter jumps there in copy mode  ↑↓ select  Esc close", id="hint")

    def on_mount(self) -> None:
        self.query_one("#pattern", Input).focus()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.pattern = event.value
        preview = self.query_one("#preview", Static)
        options = self.query_one(OptionList)
        options.clear_options()
        self.hits = []
        try:
            found = await self._grep(event.value)
        except ScarabError as exc:
            preview.update(str(exc))
            return
        self.hits = found.hit_list()
        for i, hit in enumerate(self.hits):
            line = Text(f"{hit.where}:{hit.row + 1}: {_printable(hit.line)}", no_wrap=True)
            options.add_option(Option(line, id=str(i)))
        if not self.hits:
            preview.update("not found")
            return
        if found.truncated:
            preview.update(f"(the first {len(self.hits)} lines)")
        options.highlighted = 0
        options.focus()

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        hit = self.hits[int(event.option.id or 0)]
        try:
            text = await self._preview(hit)
        except ScarabError as exc:
            text = f"{hit.line}\n\n({exc})"
        self.query_one("#preview", Static).update(Text(_printable(text)))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(GrepChoice(self.hits[int(event.option.id or 0)], self.pattern))

    def action_close(self) -> None:
        self.dismiss(None)
