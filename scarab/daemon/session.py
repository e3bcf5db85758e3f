"""Session layer (daemon, no IO): what the daemon holds for one session while it runs — its
record, its host link, its viewers, its latest Layout and what the database holds of its panes'
screens — and the checks a session's name and size must pass.

A session's `layout` is the last `Layout` its host pushed (or, until its host reports, the one the
store kept): the daemon resolves targets against it, relays it to clients and persists it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Protocol

from scarab import protocol as p
from scarab.daemon.hostlink import HostLink
from scarab.daemon.store import PaneRecord, SavedSnapshot, SessionRecord, WindowRecord
from scarab.environ import Overrides
from scarab.errors import BadRequest

__all__ = [
    "MIN_LIFETIME",
    "Session",
    "Viewer",
    "layout_from_records",
    "layout_records",
    "validate_name",
    "validate_size",
    "visible_panes",
]

# Categories a name may not contain: controls (C0 and C1), format characters (zero-width space,
# bidi overrides such as U+202E, which make a name display as another), line/paragraph separators,
# unassigned and surrogates. ZWJ alone is allowed: emoji sequences need it.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn", "Cs"})
_ZWJ = "\u200d"
# Visible characters: a name needs at least one (letters, digits, punctuation, symbols).
_VISIBLE_CATEGORIES = ("L", "N", "P", "S")
# A host that dies this soon after a resurrection is not resurrected again (it would loop).
MIN_LIFETIME = 2.0


class Viewer(Protocol):
    """An attached client, as the registry sees it."""

    def push(self, msg: p.Message, wire: bytes = b"") -> None:
        """Send `msg`; `wire`, when given, is `msg` in wire form as the host sent it (sent as is)."""

    def expect_full(self, panes: set[int]) -> None:
        """Drop incremental frames until a full one of each of `panes` (they diff against screens it
        lacks; empty: until the first full frame)."""


@dataclass(eq=False)
class Session:
    record: SessionRecord
    host: HostLink | None = None
    viewers: set[Viewer] = field(default_factory=set)
    # Each attached client's own size: the one that types becomes the session's (window-size latest).
    sizes: dict[Viewer, tuple[int, int]] = field(default_factory=dict)
    resurrected: float = 0.0  # when this daemon last resurrected it (monotonic; 0: never)
    environ: Overrides = field(default_factory=dict)  # for programs started from now on (environ.py)
    unresponsive: bool = False  # its host is alive but has not answered (busy, stopped, unreachable)
    # What the database holds of each pane's history (by pane id).
    saved: dict[int, SavedSnapshot] = field(default_factory=dict)
    # The host's latest Layout (windows, panes, geometry); no windows until a host describes them.
    layout: p.Layout | None = None
    saving: asyncio.Lock = field(default_factory=asyncio.Lock)

    def just_resurrected(self) -> bool:
        """Ended within MIN_LIFETIME of a resurrection: doing it again would loop."""
        return bool(self.resurrected) and time.monotonic() - self.resurrected < MIN_LIFETIME

    snapshot_due: asyncio.TimerHandle | None = None
    reader: asyncio.Task[None] | None = None
    ending: bool = False  # being deleted: its host going away is expected
    # Create, rename and delete of one session run one at a time (two connections racing on one
    # name must not interleave a spawn with a delete).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def pane_pids(self) -> dict[int, int]:
        """Each pane's program's pid, as its host last described them."""
        return {pane.id: pane.pid for pane in self.latest_layout().panes}

    def latest_layout(self) -> p.Layout:
        """Its latest Layout; without one (a host that has not reported) no windows."""
        if self.layout is not None:
            return self.layout
        return p.Layout(session_id=self.record.id, cols=self.record.cols, rows=self.record.rows, windows=[],
                        panes=[], borders=[])  # fmt: skip


def validate_size(cols: int, rows: int) -> None:
    if not (1 <= cols <= p.MAX_SIZE and 1 <= rows <= p.MAX_SIZE):
        raise BadRequest(f"bad size {cols}x{rows}: columns and rows must be between 1 and {p.MAX_SIZE}")


def validate_name(name: str) -> str:
    if not name or not name.strip():
        raise BadRequest("session name must not be empty")
    if len(name) > 64:
        raise BadRequest(f"session name is too long ({len(name)} characters, at most 64)")
    if ":" in name:
        raise BadRequest(f"session name {name!r} contains ':'")
    for ch in name:
        if ch != _ZWJ and unicodedata.category(ch) in _BAD_CATEGORIES:
            raise BadRequest(
                f"session name {name!r} contains an invisible or control character "
                f"(U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}); use visible characters only"
            )
    if not any(unicodedata.category(ch).startswith(_VISIBLE_CATEGORIES) for ch in name):
        raise BadRequest(f"session name {name!r} has no visible character")
    return name


def visible_panes(layout: p.Layout | None) -> set[int]:
    """The panes a Layout shows: the current window's (only the zoomed one of a zoomed window). The
    host sends frames of those only, so these are the full frames an attach or a redraw waits for."""
    if layout is None:
        return set()
    current = {window.index for window in layout.windows if "*" in window.flags}
    return {pane.id for pane in layout.panes if pane.visible and pane.window in current}


def layout_records(layout: p.Layout) -> tuple[list[WindowRecord], list[PaneRecord]]:
    """A Layout as the store keeps it (everything but the borders, which follow from it)."""
    windows = [WindowRecord(**_values(w, WindowRecord)) for w in layout.windows]
    panes = [PaneRecord(**{**_values(pane, PaneRecord), "command": tuple(pane.command or ())}) for pane in layout.panes]
    return windows, panes


def layout_from_records(
    session_id: str, cols: int, rows: int, windows: list[WindowRecord], panes: list[PaneRecord]
) -> p.Layout:
    """The Layout the store kept (no borders: a client gets its host's own Layout on attach)."""
    return p.Layout(
        session_id=session_id,
        cols=cols,
        rows=rows,
        windows=[p.WindowInfo(**_values(w, p.WindowInfo)) for w in windows],
        panes=[p.PaneInfo(**{**_values(pane, p.PaneInfo), "command": list(pane.command)}) for pane in panes],
        borders=[],
    )


def _values(value: object, into: type) -> dict[str, Any]:
    """The fields of `value` that `into` has (the store's records and the wire values share names)."""
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(into)}
