"""Daemon grep layer: `scarab grep` across every session, live or down.

Each live host searches its own panes (HostGrep, all hosts at once, each in its own process, so
the search runs on every core); a session that is down (exited, or not yet restored) is searched
in its saved snapshot, off the event loop. Hits come back in session order, then pane and row.
"""

from __future__ import annotations

import asyncio
import dataclasses

import msgpack

from scarab import protocol as p
from scarab.daemon.registry import SessionManager
from scarab.daemon.screens import saved_lines
from scarab.daemon.session import Session
from scarab.daemon.store import SavedSnapshot
from scarab.errors import ScarabError
from scarab.search import compile_pattern, search_lines, smartcase

__all__ = ["grep_sessions"]

HOST_TIMEOUT = 5.0  # a host busy parsing a flood answers later; grep reports it rather than wait


async def grep_sessions(manager: SessionManager, msg: p.Grep) -> p.GrepHits:
    compile_pattern(msg.pattern, msg.regex)  # a bad pattern is the caller's error, said once
    limit = max(1, min(msg.limit, p.MAX_GREP_HITS))
    ignore_case = smartcase(msg.pattern)
    sessions = [manager.get_session(msg.target)] if msg.target else list(manager.sessions.values())
    request = p.HostGrep(pattern=msg.pattern, regex=msg.regex, ignore_case=ignore_case, limit=limit)
    results = await asyncio.gather(*(_one(manager, s, request) for s in sessions), return_exceptions=True)
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
        for pane in result.panes:
            if len(pane.rows) > left:
                pane, truncated = dataclasses.replace(pane, rows=pane.rows[:left]), True
            if pane.rows:
                panes.append(pane)
            left -= len(pane.rows)
    return p.GrepHits(panes=panes, truncated=truncated, skipped=skipped or None)


async def _one(manager: SessionManager, session: Session, request: p.HostGrep) -> p.GrepHits:
    if session.host is not None:
        reply = await session.host.request(request, timeout=HOST_TIMEOUT)
        if isinstance(reply, p.Failed):
            raise ScarabError(reply.message)
        if not isinstance(reply, p.GrepHits):
            raise ScarabError(f"its host answered {type(reply).__name__}")
        return reply
    # Every pane's snapshot, in the order its host listed the panes.
    windows = {pane.id: pane.window for pane in session.latest_layout().panes}
    found = p.GrepHits(panes=[])
    for pane in manager.store.snapshot_panes(session.record.id):
        saved = manager.store.snapshot(session.record.id, pane)
        if saved is None:
            continue
        _saved_at, blob, state = saved
        pages = await manager.store.snapshots.pages(session.record.id, pane, state)
        where = (windows.get(pane, 0), max(pane, 0))
        result = await asyncio.to_thread(_search_saved, session, where, blob, state, pages, request)
        found = p.GrepHits(panes=found.panes + result.panes, truncated=found.truncated or result.truncated)
    return found


def _search_saved(
    session: Session,
    where: tuple[int, int],
    blob: bytes,
    state: SavedSnapshot,
    pages: list[tuple[int, int, bytes]],
    request: p.HostGrep,
) -> p.GrepHits:
    """A down session's pane's snapshot (`where`: its window index and pane id), numbered as its
    host numbered the rows."""
    first, upto = state.first, state.upto
    head = msgpack.unpackb(blob, raw=False)
    if head.get("v") is None:  # saved by an older Scarab, as ANSI text: not searched
        return p.GrepHits(panes=[])
    head.update(first=first, upto=upto)
    history, screen = saved_lines(head, pages)
    rx = compile_pattern(request.pattern, request.regex, request.ignore_case)
    lines = [line.text for line in history] + [line.text for line in screen]
    found, truncated = search_lines(rx, lines, upto - len(history), request.limit)
    record = session.record
    pane = p.GrepPane(session_id=record.id, session=record.name, window=where[0], pane=where[1], rows=found, saved=True)
    return p.GrepHits(panes=[pane] if found else [], truncated=truncated)
