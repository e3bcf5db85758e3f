"""Windows layer: the pure model of one session's window list. No IO, no other daemon module but layout.

A session holds windows by index (base-index 0), each a name, an automatic-rename flag and the
`Layout` of its panes (which also keeps the window's active and last-active pane). The session has a
current window and tmux's "last window" stack: every window left by a selection is pushed on it, the
top is the `-` in the status bar and the target of `prefix l`. The session host owns one `Windows`
and applies the user's commands to it; this module decides indices, which window becomes current and
the names, with the rules of tmux 3.3a: `session.c` (session_set_current / next / previous / last /
detach, which picks the window shown after a kill), `window.c` (winlink_add: the first free index;
winlink_shuffle_up for `-a`/`-b`; window_printable_flags), `cmd-new-window.c`, `cmd-break-pane.c`,
`cmd-select-window.c`, `cmd-swap-window.c`, `cmd-move-window.c` and `names.c` (the default and the
automatic name). tests/test_windows_vs_tmux.py compares the results with a real tmux server.

Ids: tmux's `%N` pane and `@N` window ids are unique per server; Scarab's are unique per user, across
sessions and daemon restarts, so they are never allocated here: the caller takes each id from a
counter it persists (the daemon's database) and passes it in. `IdCounter` is the value to persist.

Deliberate differences: no linked windows or session groups (a window is in exactly one session), no
`renumber-windows` and no `monitor-activity`/`monitor-silence` flags (`#`, `~`), no marked pane (`M`).
A refused operation raises `BadRequest` with tmux's message and changes nothing.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace

from scarab.daemon.layout import Layout
from scarab.errors import BadRequest

__all__ = [
    "IdCounter",
    "Window",
    "WindowEntry",
    "Windows",
    "automatic_name",
    "default_name",
    "parse_window_name",
    "status_list",
]

_PRINTABLE = frozenset(string.ascii_letters + string.digits + string.punctuation)


def parse_window_name(command: str) -> str:
    """tmux's parse_window_name: the program's name from a command line (`exec vim -p x` -> `vim`,
    `-bash` -> `bash`, `/usr/bin/python3 x.py` -> `python3`)."""
    name = command[1:] if command.startswith('"') else command
    name = name.split('"', 1)[0]
    name = name.removeprefix("exec ")
    name = name.lstrip(" -").split(" ", 1)[0]
    while len(name) > 1 and name[-1] not in _PRINTABLE:
        name = name[:-1]
    if name.startswith("/"):
        stripped = name.rstrip("/")
        name = stripped.rsplit("/", 1)[-1] if stripped else "/"
    return name


def default_name(command: str, shell: str) -> str:
    """The name of a new window (tmux's default_window_name): from its command, else the shell."""
    return parse_window_name(command if command else shell)


def automatic_name(current_command: str, *, in_mode: bool = False, dead: bool = False) -> str:
    """The name automatic-rename gives a window from its active pane, as tmux's default
    `automatic-rename-format` (`#{?pane_in_mode,[tmux],#{pane_current_command}}#{?pane_dead,[dead],}`).
    `current_command` is the pane's foreground program as the system reports it (its argv[0] or
    command line); the host reads it, this only names it."""
    return ("[tmux]" if in_mode else parse_window_name(current_command)) + ("[dead]" if dead else "")


@dataclass(frozen=True)
class IdCounter:
    """The next pane (`%N`) and window (`@N`) ids of a user. The daemon stores it and commits the
    advanced counter before it uses an id, so an id is never handed out twice, even after a crash."""

    pane: int = 0
    window: int = 0

    def next_pane(self) -> tuple[int, IdCounter]:
        return self.pane, replace(self, pane=self.pane + 1)

    def next_window(self) -> tuple[int, IdCounter]:
        return self.window, replace(self, window=self.window + 1)


@dataclass
class Window:
    """One window: its id, its name, whether automatic-rename may rename it, its panes, its bell."""

    id: int
    name: str
    layout: Layout
    automatic_rename: bool = True
    bell: bool = False
    synchronize: bool = False  # synchronize-panes: keys typed go to every pane


@dataclass(frozen=True)
class WindowEntry:
    """One window as the status bar and `list-windows` show it."""

    index: int
    id: int
    name: str
    flags: str
    active: bool


def status_list(entries: tuple[WindowEntry, ...]) -> str:
    """The status bar's window list with tmux's default `window-status-format`
    (`#I:#W#{?window_flags,#{window_flags}, }`), windows separated by a space: `0:bash* 1:vim- 2:cat `."""
    return " ".join(f"{e.index}:{e.name}{e.flags or ' '}" for e in entries)


class Windows:
    """A session's windows by index, its current window and its last-window stack.

    Mutable and owned by one caller, like `Layout`. Window indices are the user's (`select-window -t 3`);
    `current` is the index of the window shown. A new `Windows` is empty; the caller adds the first
    window with `new_window`, and a session whose last window went away is `empty`.
    """

    def __init__(self, cols: int, rows: int) -> None:
        self._windows: dict[int, Window] = {}
        self._current: Window | None = None
        self._stack: list[Window] = []  # tmux's s->lastw: most recently left first
        self._size = (cols, rows)

    # ---- reading

    @property
    def empty(self) -> bool:
        return not self._windows

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(sorted(self._windows))

    @property
    def current(self) -> int:
        """The current window's index (a session with windows always has one)."""
        if self._current is None:
            raise BadRequest("the session has no windows")
        return self._index(self._current)

    @property
    def last(self) -> int | None:
        """The last window's index (the `-` flag, `prefix l`), if any."""
        return self._index(self._stack[0]) if self._stack else None

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def __getitem__(self, index: int) -> Window:
        window = self._windows.get(index)
        if window is None:
            raise BadRequest(f"can't find window: {index}")
        return window

    def __len__(self) -> int:
        return len(self._windows)

    def window_of(self, pane: int) -> int:
        """The index of the window holding a pane."""
        for index, window in self._windows.items():
            if pane in window.layout.panes:
                return index
        raise BadRequest(f"can't find pane: %{pane}")

    def panes(self) -> tuple[int, ...]:
        """Every pane of the session, window by window."""
        return tuple(pane for index in self.indices for pane in self._windows[index].layout.panes)

    def flags(self, index: int) -> str:
        """tmux's window_printable_flags: `!` bell, `*` current, `-` last, `Z` zoomed."""
        window = self[index]
        flags = "!" if window.bell else ""
        flags += "*" if window is self._current else ""
        flags += "-" if self._stack and window is self._stack[0] else ""
        return flags + ("Z" if window.layout.zoomed else "")

    def entries(self) -> tuple[WindowEntry, ...]:
        return tuple(
            WindowEntry(index, w.id, w.name, self.flags(index), w is self._current)
            for index in self.indices
            for w in (self._windows[index],)
        )

    def status(self) -> str:
        return status_list(self.entries())

    # ---- creating

    def new_window(
        self,
        window_id: int,
        pane: int,
        *,
        name: str | None = None,
        command: str = "",
        shell: str = "",
        index: int | None = None,
        after: bool = False,
        before: bool = False,
        detached: bool = False,
    ) -> int:
        """new-window: at `index`, or the first free index; `after`/`before` (-a/-b) put it next to the
        window at `index` (the current one if None), moving later windows up one. A given name turns
        automatic-rename off. Returns the new window's index."""
        self._check_ids(window_id, pane)
        where = self._placement(index, after, before)
        if where is not None and where in self._windows and not (after or before):
            raise BadRequest(f"create window failed: index {where} in use")
        layout = Layout(pane, *self._size)
        window = Window(window_id, name if name is not None else default_name(command, shell), layout)
        window.automatic_rename = name is None
        return self._attach(window, where, detached)

    def break_pane(
        self,
        pane: int,
        window_id: int,
        *,
        name: str | None = None,
        index: int | None = None,
        after: bool = False,
        before: bool = False,
        detached: bool = False,
        command: str = "",
        shell: str = "",
    ) -> int:
        """break-pane: the pane leaves its window for a new one (placed as by `new_window`); a window
        with a single pane moves instead, keeping its id. Returns the index of the pane's window."""
        source = self._windows[self.window_of(pane)]
        if len(source.layout.panes) == 1:
            where = self._placement(index, after, before, current=True)
            if where is not None and self._windows.get(where) is source and not (after or before):
                raise BadRequest(f"same index: {where}")
            if where is not None and where in self._windows and not (after or before):
                raise BadRequest(f"index in use: {where}")
            if name is not None:
                source.name, source.automatic_rename = name, False
            return self._move(source, where, detached)
        if window_id in {w.id for w in self._windows.values()}:
            raise BadRequest(f"window id @{window_id} is in use")
        where = self._placement(index, after, before, current=True)
        if where is not None and where in self._windows and not (after or before):
            raise BadRequest(f"index in use: {where}")
        source.layout.close(pane)
        window = Window(window_id, name if name is not None else default_name(command, shell),
                        Layout(pane, *self._size), automatic_rename=name is None)  # fmt: skip
        return self._attach(window, where, detached)

    def restore_window(self, index: int, window: Window) -> None:
        """A saved window back at its index (a session rebuilt after its host was gone); the first
        one restored is current until `restore_order`."""
        if index < 0 or index in self._windows:
            raise BadRequest(f"index in use: {index}")
        for pane in window.layout.panes:
            if pane in self.panes():
                raise BadRequest(f"pane id %{pane} is in use")
        if window.id in {w.id for w in self._windows.values()}:
            raise BadRequest(f"window id @{window.id} is in use")
        window.layout.resize(*self._size)
        self._windows[index] = window
        if self._current is None:
            self._current = window

    def restore_order(self, current: int, last: tuple[int, ...]) -> None:
        """The saved current window and last-window stack (indices no longer there are skipped)."""
        self._current = self[current]
        self._stack = [self._windows[i] for i in last if i in self._windows and i != current]

    # ---- removing

    def kill_window(self, index: int) -> bool:
        """kill-window: its panes go with it; if it was current, the last window is shown, else the
        previous one, else the next (tmux's session_detach). Returns whether the session is now empty."""
        self._detach(self[index])
        return self.empty

    def kill_pane(self, pane: int) -> bool:
        """kill-pane, or the pane's program exiting: the last pane of a window closes the window.
        Returns whether the session is now empty."""
        index = self.window_of(pane)
        window = self._windows[index]
        if len(window.layout.panes) == 1:
            return self.kill_window(index)
        window.layout.close(pane)
        return False

    # ---- selecting

    def select_window(self, index: int, *, toggle: bool = False) -> None:
        """select-window -t INDEX; with `toggle` (-T) selecting the current window goes to the last."""
        window = self[index]
        if toggle and window is self._current:
            self.last_window()
            return
        self._set_current(window)

    def next_window(self) -> None:
        """next-window (`prefix n`), wrapping to the lowest index."""
        if not self._step(1):
            raise BadRequest("no next window")

    def previous_window(self) -> None:
        """previous-window (`prefix p`), wrapping to the highest index."""
        if not self._step(-1):
            raise BadRequest("no previous window")

    def last_window(self) -> None:
        """last-window (`prefix l`)."""
        if not self._stack or not self._set_current(self._stack[0]):
            raise BadRequest("no last window")

    def bell(self, index: int) -> None:
        """A bell in a window: flagged (`!`) unless it is the current one; selecting it clears it."""
        window = self[index]
        if window is not self._current:
            window.bell = True

    # ---- renaming, moving

    def rename_window(self, index: int, name: str) -> None:
        """rename-window: the name sticks (automatic-rename goes off for that window)."""
        window = self[index]
        window.name, window.automatic_rename = name, False

    def set_automatic_rename(self, index: int, on: bool) -> None:
        self[index].automatic_rename = on

    def update_name(self, index: int, current_command: str, *, in_mode: bool = False, dead: bool = False) -> bool:
        """automatic-rename: the window takes its active pane's program name unless renamed by hand.
        Returns whether the name changed (the status bar needs a redraw)."""
        window = self[index]
        if not window.automatic_rename:
            return False
        name = automatic_name(current_command, in_mode=in_mode, dead=dead)
        changed, window.name = name != window.name, name
        return changed

    def move_window(self, index: int, to: int | None = None, *, detached: bool = False) -> int:
        """move-window -s INDEX [-t TO]: to a free index (the first free one if None); the moved window
        becomes current unless `detached` (-d), as tmux links it anew. Returns the new index."""
        window = self[index]
        if to == index:
            raise BadRequest(f"same index: {to}")
        if to is not None and to in self._windows:
            raise BadRequest(f"index in use: {to}")
        return self._move(window, to, detached)

    def swap_window(self, index: int, other: int, *, detached: bool = False) -> None:
        """swap-window -s INDEX -t OTHER: the two windows trade places. As in tmux the current and last
        window are places (indices), not windows, and bells stay with their place; with `detached`
        (-d, inverted in tmux 3.3a) the session then selects OTHER."""
        first, second = self[index], self[other]
        if first is second:
            return
        self._windows[index], self._windows[other] = second, first
        first.bell, second.bell = second.bell, first.bell
        swapped = {id(first): second, id(second): first}
        if self._current is not None:
            self._current = swapped.get(id(self._current), self._current)
        self._stack = [swapped.get(id(w), w) for w in self._stack]
        if detached:
            self._set_current(self._windows[other])

    def resize(self, cols: int, rows: int) -> None:
        """The session's size changed: every window follows (tmux sizes all of a session's windows alike)."""
        for window in self._windows.values():
            window.layout.resize(cols, rows)
        self._size = (cols, rows)

    # ---- internals

    def _index(self, window: Window) -> int:
        return next(index for index, w in self._windows.items() if w is window)

    def _check_ids(self, window_id: int, pane: int) -> None:
        if window_id in {w.id for w in self._windows.values()}:
            raise BadRequest(f"window id @{window_id} is in use")
        if pane in self.panes():
            raise BadRequest(f"pane id %{pane} is in use")

    def _first_free(self) -> int:
        index = 0
        while index in self._windows:
            index += 1
        return index

    def _placement(self, index: int | None, after: bool, before: bool, *, current: bool = False) -> int | None:
        """The index a new window goes to (None: the first free one), as new-window decides it; with
        -a/-b that index may be taken until `_free` makes room, once nothing else can fail. tmux's
        new-window and break-pane differ when INDEX is not a window: `current` is break-pane's rule."""
        if index is not None and index < 0:
            raise BadRequest(f"bad window index: {index}")
        if not (after or before):
            return index
        anchor = self._current if index is None else self._windows.get(index)
        if anchor is None and current:
            anchor = self._current  # break-pane: after the current window when INDEX is not a window
        if anchor is None:
            return index  # new-window: nothing to shuffle, the index itself
        return self._index(anchor) + (0 if before else 1)

    def _free(self, where: int | None) -> None:
        """winlink_shuffle_up: move the windows from `where` up to the first gap one index up."""
        if where is None or where not in self._windows:
            return
        gap = where
        while gap in self._windows:
            gap += 1
        for index in range(gap, where, -1):
            self._windows[index] = self._windows.pop(index - 1)

    def _attach(self, window: Window, where: int | None, detached: bool) -> int:
        self._free(where)
        index = self._first_free() if where is None else where
        self._windows[index] = window
        if not detached or self._current is None:
            self._set_current(window)
        return index

    def _move(self, window: Window, where: int | None, detached: bool) -> int:
        """server_link_window + server_unlink_window: the window at a new place, the old place gone
        (from the last-window stack too)."""
        moved = Window(window.id, window.name, window.layout, window.automatic_rename, window.bell, window.synchronize)
        index = self._attach(moved, where, detached)
        self._detach(window)
        return index

    def _detach(self, window: Window) -> None:
        """tmux's session_detach: leave the window: if current, go to the last window, else the
        previous one, else the next; then forget it."""
        if window is self._current and not self._last_or_none() and not self._step(-1):
            self._step(1)
        if window is self._current:
            self._current = None
        self._stack = [w for w in self._stack if w is not window]
        del self._windows[self._index(window)]

    def _last_or_none(self) -> bool:
        return bool(self._stack) and self._set_current(self._stack[0])

    def _step(self, step: int) -> bool:
        """session_next / session_previous: the neighbour index, wrapping; False if that is the current."""
        if self._current is None:
            return False
        indices = self.indices
        position = indices.index(self._index(self._current))
        return self._set_current(self._windows[indices[(position + step) % len(indices)]])

    def _set_current(self, window: Window) -> bool:
        """session_set_current: False (nothing changes) if already current."""
        if window is self._current:
            return False
        self._stack = [w for w in self._stack if w is not window]
        if self._current is not None:
            self._stack.insert(0, self._current)
        self._current = window
        window.bell = False
        return True
