"""Targeting layer (daemon, no IO): a session's latest `Layout` as the view targets.py resolves
against, and the verbs a client sends rewritten for the session's host.

A client names panes and windows in tmux's syntax (`work:1.2`, `%7`, `@3`, `:vim`, `.1`); the
daemon resolves that here against the latest Layout of every session (each host pushes one after
every change, and the store keeps the last one) and forwards the verb with `target` rewritten to
`%ID` or `@ID`, so the host never parses the user's words and a stale index never reaches it.

`current` is where the command runs: the pane a CLI runs in (SCARAB / SCARAB_PANE, sent as
ClientContext), else the session a TUI is attached to, else tmux's best session: the most recently
attached one (cmd_find_best_session).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from scarab import protocol as p
from scarab.errors import BadRequest
from scarab.targets import Found, Kind, SessionView, WindowView, parse_target, resolve, resolve_index

__all__ = [
    "ANY_PANE",
    "VERB_KINDS",
    "Resolved",
    "WindowVerb",
    "current_of",
    "resolve_pane",
    "resolve_verb",
    "session_view",
]

# The host's "active pane of the current window" (HostInput, HostCapture... `pane`); also the one pane
# of a session whose host has not described its windows (started before windows existed).
ANY_PANE = -1

WindowVerb = (
    p.SplitWindow | p.NewWindow | p.SelectPane | p.SelectWindow | p.KillPane | p.KillWindow | p.RenameWindow
    | p.ResizePane | p.SwapPane | p.BreakPane | p.SelectLayout | p.DragBorder | p.SetWindowOption
)  # fmt: skip

# How each verb takes its target (a word alone is a pane, a window or a session, as in tmux), and
# whether the host is told the pane (`%ID`) or its window (`@ID`).
VERB_KINDS: dict[type[p.Message], tuple[Kind, str]] = {
    p.SplitWindow: (Kind.PANE, "%"),
    p.SelectPane: (Kind.PANE, "%"),
    p.KillPane: (Kind.PANE, "%"),
    p.ResizePane: (Kind.PANE, "%"),
    p.SwapPane: (Kind.PANE, "%"),
    p.BreakPane: (Kind.PANE, "%"),
    p.SelectLayout: (Kind.PANE, "@"),
    p.SelectWindow: (Kind.WINDOW, "@"),
    p.KillWindow: (Kind.WINDOW, "@"),
    p.RenameWindow: (Kind.WINDOW, "@"),
    p.SetWindowOption: (Kind.WINDOW, "@"),
    p.DragBorder: (Kind.WINDOW, "@"),
}


def session_view(session_id: str, name: str, layout: p.Layout) -> SessionView:
    """targets.py's view of one session. Without windows (a host from before them, or one that has
    not reported yet) the session is one window 0 holding ANY_PANE: its host's active pane."""
    if not layout.windows:
        window = WindowView(index=0, id=ANY_PANE, name=name, panes=(ANY_PANE,), active=ANY_PANE)
        return SessionView(id=session_id, name=name, windows=(window,), current=0)
    windows = tuple(
        WindowView(
            index=w.index,
            id=w.id,
            name=w.name,
            panes=tuple(pane.id for pane in layout.panes if pane.window == w.index),
            active=w.active_pane,
        )
        for w in layout.windows
    )
    current = next((w.index for w in layout.windows if "*" in w.flags), layout.windows[0].index)
    last = next((w.index for w in layout.windows if "-" in w.flags), None)
    return SessionView(id=session_id, name=name, windows=windows, current=current, last=last)


def current_of(views: Iterable[SessionView], session_id: str, pane: int = ANY_PANE) -> Found | None:
    """Where a command runs: that session's current window, and `pane` if it is one of its panes."""
    for view in views:
        if view.id == session_id:
            window = view.window(view.current)
            if window is None:
                return None
            for other in view.windows:
                if pane in other.panes and pane != ANY_PANE:
                    return Found(view.id, other.index, pane)
            return Found(view.id, window.index, window.active)
    return None


@dataclass(frozen=True)
class Resolved:
    """A target resolved: the session, its window (index and id) and pane, and whether the target
    named a pane or window at all (a bare session means its active pane, as typing there would)."""

    session: str
    window: int
    window_id: int
    pane: int
    named: bool


def resolve_pane(target: str, kind: Kind, views: tuple[SessionView, ...], current: Found | None) -> Resolved:
    """The pane (or window, for Kind.WINDOW) a target names."""
    parsed = parse_target(target, kind) if target else None
    found = resolve(parsed, kind, views, current) if parsed is not None else _at(current)
    view = next(v for v in views if v.id == found.session)
    window = view.window(found.window)
    assert window is not None and found.pane is not None
    named = parsed is not None and (parsed.window is not None or parsed.pane is not None)
    return Resolved(found.session, window.index, window.id, found.pane, named)


def _at(current: Found | None) -> Found:
    if current is None:
        raise BadRequest("no current session: name one with -t (like work:1.0), or run this inside a session")
    return current


def resolve_verb(msg: WindowVerb, views: tuple[SessionView, ...], current: Found | None) -> tuple[str, WindowVerb]:
    """The session a verb is for, and the verb as its host takes it (target `%ID`/`@ID`; `""` for
    new-window, whose place is `index`). New ids are filled in by the caller."""
    if isinstance(msg, p.NewWindow):
        if msg.target:
            # new-window -t takes SESSION[:INDEX]: a word alone is a session, as the user means it.
            target = msg.target if ":" in msg.target or msg.target[0] in "@%$" else msg.target + ":"
            session, index = resolve_index(target, views, current)
        else:
            session, index = _at(current).session, None
        return session, dataclasses.replace(msg, target="", index=-1 if index is None else index)
    kind, sigil = VERB_KINDS[type(msg)]
    resolved = resolve_pane(msg.target, kind, views, current)
    changes: dict[str, object] = {"target": f"%{resolved.pane}" if sigil == "%" else f"@{resolved.window_id}"}
    if isinstance(msg, p.SwapPane) and msg.source:
        source = resolve_pane(msg.source, Kind.PANE, views, current)
        if source.session != resolved.session:
            raise BadRequest("swap-pane: both panes must be in one session (Scarab has no linked windows)")
        changes["source"] = f"%{source.pane}"
    return resolved.session, dataclasses.replace(msg, **changes)  # type: ignore[arg-type]
