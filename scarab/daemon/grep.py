"""Daemon grep layer: `scarab grep` across every session, live or down.

Each live host searches its own panes (HostGrep, all hosts at once, each in its own process, so
the search runs on every core); a session that is down (exited, or not yet restored) is searched
in its saved snapshot (unpacked off the event loop, searched on it, where a runaway pattern can be
stopped; all saved screens of one grep share one time budget). Hits come back in session order,
then pane and row.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from collections.abc import Iterator

import msgpack

from scarab import protocol as p
from scarab.daemon.registry import Current, SessionManager
from scarab.daemon.screens import saved_lines
from scarab.daemon.session import Session
from scarab.daemon.store import SavedSnapshot
from scarab.daemon.targeting import ANY_PANE
from scarab.errors import BadRequest, ScarabError
from scarab.search import SEARCH_LIMIT, compile_pattern, search_lines, time_limit

__all__ = ["grep_sessions"]

HOST_TIMEOUT = 5.0  # a host busy parsing a flood answers later; grep reports it rather than wait


async def grep_sessions(manager: SessionManager, msg: p.Grep, current: Current = None) -> p.GrepHits:
    """Every session's panes, or those of `msg.target`: a session (all its panes) or a pane."""
    rx = compile_pattern(msg.pattern, msg.regex)  # a bad pattern is the caller's error, said once
    limit = max(1, min(msg.limit, p.MAX_GREP_HITS))
    ignore_case = bool(rx.flags & re.IGNORECASE)
    which = p.ALL_PANES
    if msg.target:
        session, which = manager.pane_of(msg.target, current)
        sessions = [session]
        if which == ANY_PANE:  # a session named, not a pane: all of it
            which = p.ALL_PANES
    else:
        sessions = list(manager.sessions.values())
    request = p.HostGrep(pattern=msg.pattern, regex=msg.regex, ignore_case=ignore_case, limit=limit, pane=which)
    budget = _Budget(SEARCH_LIMIT)
    results = await asyncio.gather(*(_one(manager, s, request, budget) for s in sessions), return_exceptions=True)
    panes: list[p.GrepPane] = []
    skipped: list[str] = []
    truncated = False
    left = limit
    for session, result in zip(sessions, results, strict=True):
        if isinstance(result, ScarabError):
            skipped.append(f"{session.record.name}: {result}")
            continue
        if isinstance(result, BaseException):
            raise result
        truncated = truncated or result.truncated
        indexes = pane_indexes(session.latest_layout())
        for found in result.panes:
            found = dataclasses.replace(found, pane_index=indexes.get(found.pane, -1))
            if len(found.rows) > left:
                found, truncated = dataclasses.replace(found, rows=found.rows[:left]), True
            if found.rows:
                panes.append(found)
            left -= len(found.rows)
    return p.GrepHits(panes=panes, truncated=truncated, skipped=skipped or None)


def pane_indexes(layout: p.Layout) -> dict[int, int]:
    """Each pane's index in its window (tmux's #{pane_index}, what `session:window.pane` names)."""
    seen: dict[int, int] = {}
    indexes = {}
    for pane in layout.panes:
        indexes[pane.id] = seen.get(pane.window, 0)
        seen[pane.window] = indexes[pane.id] + 1
    return indexes


class _Budget:
    """The time one grep may spend searching saved screens on the daemon's loop, all sessions
    together: a runaway pattern over many stopped sessions must not hold every client for 2 s each."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    @contextlib.contextmanager
    def spend(self) -> Iterator[None]:
        if self.left <= 0:
            raise BadRequest("the saved screens searched before it used up the time a search may take")
        start = time.monotonic()
        try:
            with time_limit(self.left):
                yield
        except BadRequest:
            self.left = 0
            raise
        finally:
            self.left -= time.monotonic() - start


async def _one(manager: SessionManager, session: Session, request: p.HostGrep, budget: _Budget) -> p.GrepHits:
    if session.host is not None:
        reply = await session.host.request(request, timeout=HOST_TIMEOUT)
        if isinstance(reply, p.Failed):
            raise ScarabError(reply.message)
        if not isinstance(reply, p.GrepHits):
            raise ScarabError(f"its host answered {type(reply).__name__}")
        return reply
    # Every pane's snapshot, in the order its host listed the panes.
    windows = {pane.id: pane.window for pane in session.latest_layout().panes}
    rx = compile_pattern(request.pattern, request.regex, request.ignore_case)
    panes: list[p.GrepPane] = []
    truncated = False
    record = session.record
    for pane in manager.store.snapshot_panes(record.id):
        if request.pane >= 0 and pane != request.pane:
            continue
        saved = manager.store.snapshot(record.id, pane)
        if saved is None:
            continue
        _saved_at, blob, state = saved
        pages = await manager.store.snapshots.pages(record.id, pane, state)
        # Unpacked off the event loop (a big history takes a while); searched on it, where a
        # runaway pattern can be stopped (time_limit needs the main thread).
        lines, first = await asyncio.to_thread(_saved_lines, blob, state, pages)
        with budget.spend():
            found, more = search_lines(rx, lines, first, request.limit)
        truncated = truncated or more
        if found:
            window = windows.get(pane, 0)
            panes.append(
                p.GrepPane(
                    session_id=record.id, session=record.name, window=window, pane=max(pane, 0), rows=found, saved=True
                )
            )
    return p.GrepHits(panes=panes, truncated=truncated)


def _saved_lines(blob: bytes, state: SavedSnapshot, pages: list[tuple[int, int, bytes]]) -> tuple[list[str], int]:
    """A down session's pane's snapshot as text lines, and the stable index of the first (as its
    host numbered them); none from a snapshot saved by an older Scarab (ANSI text)."""
    first, upto = state.first, state.upto
    head = msgpack.unpackb(blob, raw=False)
    if head.get("v") is None:
        return [], 0
    head.update(first=first, upto=upto)
    history, screen = saved_lines(head, pages)
    return [line.text for line in history] + [line.text for line in screen], upto - len(history)
