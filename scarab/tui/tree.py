"""TUI tree layer: tmux's choose-tree (prefix w) — sessions > windows > panes, live preview, choose or kill.

Like the picker, the screen does no IO itself: it asks the app through the callbacks it is given (the
sessions with their latest `Layout`, a capture of a target) and returns what the user chose as a
`TreeResult`. Lines follow tmux's tree: a session with its window count, its windows with their
flags and pane counts, each window's panes with their command and size; the current pane starts
selected. The preview below shows the selected item's screen (a session's or window's active pane).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from scarab import protocol as p
from scarab.tui.styles import same_width_everywhere

__all__ = ["TreeItem", "TreeResult", "TreeScreen", "tree_items"]


class TreeResult(NamedTuple):
    action: str  # switch | kill | new
    item: TreeItem | None = None


class TreeItem(NamedTuple):
    """One line of the tree: a session, a window of it (`window` set) or a pane (`pane` set too)."""

    session: p.SessionInfo
    window: p.WindowInfo | None = None
    pane: p.PaneInfo | None = None

    @property
    def target(self) -> str:
        """The item as a target for capture, kill and select (`%ID`, `@ID`, or the session's id)."""
        if self.pane is not None:
            return f"%{self.pane.id}"
        if self.window is not None:
            return f"@{self.window.id}"
        return self.session.id

    @property
    def key(self) -> str:
        return f"{self.session.id}/{self.window.id if self.window else ''}/{self.pane.id if self.pane else ''}"


def tree_items(sessions: list[tuple[p.SessionInfo, p.Layout | None]]) -> list[tuple[TreeItem, Text]]:
    """Every line of the tree in order, with its label as tmux draws it."""
    out: list[tuple[TreeItem, Text]] = []
    for session, layout in sessions:
        windows = sorted(layout.windows, key=lambda w: w.index) if layout is not None else []
        count = len(windows) or session.windows
        attached = " (attached)" if session.attached else ""
        exited = f"  exited ({session.exit_status})" if session.state == "exited" else ""
        label = Text.assemble(
            ("- " if windows else "+ ", "dim"),
            (session.name, "bold"),
            f": {count} window{'s' if count != 1 else ''}{attached}" if count else attached,
            (exited, "italic"),
        )
        out.append((TreeItem(session), label))
        for w_number, window in enumerate(windows):
            last_window = w_number == len(windows) - 1
            panes = [pane for pane in layout.panes if pane.window == window.index] if layout is not None else []
            label = Text.assemble(
                ("└─> " if last_window else "├─> ", "dim"),
                ("- " if len(panes) > 1 else "  ", "dim"),
                (f"{window.index}: ", ""),
                (window.name, "bold" if "*" in window.flags else ""),
                f"{window.flags} ({len(panes)} pane{'s' if len(panes) != 1 else ''})",
            )
            out.append((TreeItem(session, window), label))
            if len(panes) < 2:
                continue
            for number, pane in enumerate(panes):
                stem = "    " if last_window else "│   "
                label = Text.assemble(
                    (stem + ("└─> " if number == len(panes) - 1 else "├─> "), "dim"),
                    f"{number}: ",
                    (pane.current or " ".join(pane.command or []) or "pane", "bold" if pane.active else ""),
                    (f" {pane.width}x{pane.height}" + ("*" if pane.active else ""), "dim"),
                )
                out.append((TreeItem(session, window, pane), label))
    return out


class TreeScreen(ModalScreen[TreeResult | None]):
    DEFAULT_CSS = """
    TreeScreen { align: center middle; background: $background 50%; }
    TreeScreen > Vertical { width: 95%; height: 95%; border: round $accent; background: $surface; }
    TreeScreen OptionList { height: 1fr; border: none; padding: 0; }
    TreeScreen OptionList:focus { border: none; }
    TreeScreen #preview { height: 1fr; border-top: solid $accent; padding: 0 1; overflow: hidden;
        text-wrap: nowrap; text-overflow: clip; }
    TreeScreen #hint { height: 1; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("x,ctrl+x", "act('kill')", "Kill"),
        Binding("C,ctrl+n", "new", "New session"),
    ]
    HINT = "Enter choose  ↑↓ select  x kill  C new session  q/Esc close"

    def __init__(
        self,
        current: tuple[str, int],
        load: Callable[[], Awaitable[list[tuple[p.SessionInfo, p.Layout | None]]]],
        preview: Callable[[str], Awaitable[str]],
    ) -> None:
        """`current`: the attached session's id and its active pane's id (where the selection starts)."""
        super().__init__()
        self.current = current
        self._load = load
        self._preview = preview
        self.items: list[TreeItem] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield OptionList(id="tree")
            yield Static("", id="preview")
            yield Static(self.HINT, id="hint")

    async def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        await self.reload()
        self.set_interval(0.5, self.update_preview)

    async def reload(self) -> None:
        lines = tree_items(await self._load())
        self.items = [item for item, _ in lines]
        options = self.query_one(OptionList)
        options.clear_options()
        for item, label in lines:
            options.add_option(Option(label, id=item.key))
        self.query_one(Vertical).border_title = "choose-tree"
        if self.items:
            options.highlighted = self._start()

    def _start(self) -> int:
        """The current pane's line; for a one-pane window (no pane lines) its window's, else the session's."""
        session, pane = self.current
        mine = [(i, item) for i, item in enumerate(self.items) if item.session.id == session]
        for wanted in (
            lambda item: item.pane is not None and item.pane.id == pane,
            lambda item: item.window is not None and "*" in item.window.flags,
            lambda item: True,
        ):
            found = next((i for i, item in mine if wanted(item)), None)
            if found is not None:
                return found
        return 0

    def selected(self) -> TreeItem | None:
        index = self.query_one(OptionList).highlighted
        return self.items[index] if index is not None and index < len(self.items) else None

    async def update_preview(self) -> None:
        chosen = self.selected()
        preview = self.query_one("#preview", Static)
        if chosen is None:
            preview.update("")
            return
        try:
            text = await self._preview(chosen.target)
        except Exception as exc:  # gone meanwhile: say why instead of failing
            preview.update(str(exc))
            return
        preview.update(Text.from_ansi(same_width_everywhere(text.rstrip("\n")), no_wrap=True, overflow="crop"))

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        await self.update_preview()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(TreeResult("switch", chosen))

    def action_act(self, action: str) -> None:
        chosen = self.selected()
        if chosen is not None:
            self.dismiss(TreeResult(action, chosen))

    def action_new(self) -> None:
        self.dismiss(TreeResult("new"))

    def action_close(self) -> None:
        self.dismiss(None)
