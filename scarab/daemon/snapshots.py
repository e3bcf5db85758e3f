"""Snapshot layer (daemon): each pane's screen and history saved while its host runs, and what a new
host is started from when the old one is gone — a `SessionSpec` of the session's windows, layouts,
working directories and commands, with one restore file per pane (today's restore format: the
snapshot's head, then its history pages).

Saving asks the host for one pane at a time and one bounded page of history per request, so the
host keeps echoing in between; history rows are appended by stable row index (never rewritten).
A session whose host never described windows (started before them) keeps one snapshot under
LEGACY_PANE and is restored as before: one pane, its screen shown.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack

from scarab import protocol as p
from scarab.daemon.screens import saved_capture
from scarab.daemon.session import Session
from scarab.daemon.spec import PaneSpec, SessionSpec, WindowSpec
from scarab.daemon.store import LEGACY_PANE, SavedSnapshot, Store, WindowRecord
from scarab.daemon.targeting import ANY_PANE
from scarab.paths import Paths

__all__ = ["Restore", "Snapshots"]


@dataclass(frozen=True)
class Restore:
    """What a new host for a gone session starts from: a spec (windows) or a single restore file
    (a session from before windows), and the working directory of its first pane."""

    spec: Path | None = None
    restore: Path | None = None
    cwd: str = ""


class Snapshots:
    def __init__(self, store: Store, paths: Paths) -> None:
        self.store = store
        self.paths = paths
        # What was last written of each pane's screen ((session, pane) -> hash of the head): panes
        # the host sends no frames for (windows not shown) are looked at every time, written only
        # when they changed.
        self._written: dict[tuple[str, int], int] = {}

    # -- saving -----------------------------------------------------------------------------------

    async def save(self, session: Session) -> str:
        """Every pane's screen (rewritten) and the history rows new since its last save. Returns the
        working directory of the session's active pane ("" if unknown)."""
        host = session.host
        if host is None:
            return ""
        sid = session.record.id
        epoch = f"{session.record.host_pid}:{session.record.host_start}"
        layout = session.layout
        # An exited pane is saved too: the session's last pane stays, showing its last screen.
        panes = [pane.id for pane in layout.panes] if layout and layout.windows else [ANY_PANE]
        active = _active_pane(layout)
        cwd = ""
        for pane in panes:
            snap = await host.request(p.HostSnapshot(pane=pane))
            if not isinstance(snap, p.Snapshot):
                continue  # that pane closed meanwhile: its rows go with the next Layout
            saved = session.saved.get(pane)
            if saved is None or saved.epoch != epoch:
                saved = SavedSnapshot(epoch, snap.first, snap.first)
            start = max(saved.upto, snap.first)
            while start < snap.total:
                page = await host.request(p.HostSaveRows(start=start, stop=snap.total, pane=pane))
                if not isinstance(page, p.SaveRows) or page.stop <= page.start:
                    break
                await self.store.snapshots.append_history(sid, pane, epoch, page.start, page.stop, page.data)
                start = page.stop
            saved = SavedSnapshot(epoch, snap.first, max(start, snap.first))
            written = hash(snap.data)
            if saved != session.saved.get(pane) or self._written.get((sid, pane)) != written:
                session.saved[pane] = saved
                await self.store.snapshots.save(sid, pane, snap.data, saved)
                self._written[(sid, pane)] = written
            if pane in (active, ANY_PANE) and snap.cwd:
                cwd = snap.cwd
        return cwd

    def forget(self, session_id: str) -> None:
        for key in [key for key in self._written if key[0] == session_id]:
            del self._written[key]

    # -- reading back -----------------------------------------------------------------------------

    def stored_pane(self, session: Session, pane: int) -> int:
        """The key a pane's snapshot is stored under: ANY_PANE means the active pane (or the one
        snapshot of a session from before windows)."""
        if pane != ANY_PANE:
            return pane
        active = _active_pane(session.layout)
        return active if active != ANY_PANE else LEGACY_PANE

    async def capture(self, session: Session, pane: int, scrollback: bool, ansi: bool) -> list[str]:
        """A pane's last screen from its snapshot (its session exited, or not yet restored)."""
        key = self.stored_pane(session, pane)
        saved = self.store.snapshot(session.record.id, key)
        if saved is None:
            return [""]
        _saved_at, blob, state = saved
        head = msgpack.unpackb(blob, raw=False)
        if head.get("v") is None:  # saved by an older Scarab: ANSI lines
            lines = (list(head.get("scrollback", [])) if scrollback else []) + list(head.get("screen", []))
            if not ansi:
                lines = [re.sub(r"\x1b\[[0-9;:]*m", "", line) for line in lines]
            while lines and not lines[-1].strip():
                lines.pop()
            return ["".join(line + "\n" for line in lines)]
        head.update(first=state.first, upto=state.upto)
        pages = await self.store.snapshots.pages(session.record.id, key, state) if scrollback else []
        # Rows are decoded and rendered off the event loop: a big history takes a while.
        return await asyncio.to_thread(saved_capture, head, pages, ansi)

    # -- restoring --------------------------------------------------------------------------------

    async def prepare(self, session: Session, marker: str, fallback_cwd: str) -> Restore:
        """The files a new host for this session starts from. A damaged snapshot costs that pane's
        old screen, never the session."""
        sid = session.record.id
        windows, panes = self.store.layout(sid)
        if not windows:
            keys = self.store.snapshot_panes(sid)
            key = LEGACY_PANE if LEGACY_PANE in keys or not keys else keys[0]
            path = self.paths.hosts / f"{sid}.restore"
            cwd = await self._restore_file(sid, key, marker, path)
            return Restore(restore=path if cwd is not None else None, cwd=cwd or "")
        spec_windows = []
        first_cwd = ""
        for window in windows:
            specs = []
            for pane in [r for r in panes if r.window == window.index]:
                path = self.paths.hosts / f"{sid}.{pane.id}.restore"
                saved_cwd = await self._restore_file(sid, pane.id, marker, path)
                cwd = _directory(saved_cwd, pane.cwd, fallback_cwd)
                first_cwd = first_cwd or cwd
                command = pane.command or session.record.command
                specs.append(PaneSpec(pane.id, cwd, tuple(command), str(path) if saved_cwd is not None else None))
            if specs:
                spec_windows.append(_window_spec(window, specs))
        if not spec_windows:
            return Restore(cwd=fallback_cwd)
        current = next((w.index for w in windows if "*" in w.flags), spec_windows[0].index)
        if current not in {w.index for w in spec_windows}:
            current = spec_windows[0].index
        last = tuple(w.index for w in windows if "-" in w.flags and w.index != current)
        spec = SessionSpec(windows=tuple(spec_windows), current=current, last=last)
        path = self.paths.hosts / f"{sid}.spec"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(spec.pack())
        return Restore(spec=path, cwd=first_cwd)

    async def _restore_file(self, sid: str, pane: int, marker: str, path: Path) -> str | None:
        """Write one pane's restore file; its saved working directory ("" if none), None if there
        is no usable snapshot (no file written)."""
        saved = self.store.snapshot(sid, pane)
        if saved is None:
            return None
        saved_at, blob, state = saved
        try:
            head: dict[str, Any] = msgpack.unpackb(blob, raw=False)  # one screenful (or an older Scarab's)
            head.update(saved_at=saved_at, first=state.first, upto=state.upto)
            if marker:
                head["marker"] = marker
            packed = msgpack.packb(head, use_bin_type=True)
            await self.store.snapshots.write_restore(sid, pane, state, packed, path)
        except Exception as exc:  # a damaged snapshot costs the old screen, never the session
            print(f"scarab: pane %{pane} of session {sid[:8]}: its saved screen could not be read ({exc}); "
                  "starting it without", file=sys.stderr, flush=True)  # fmt: skip
            return None
        cwd = head.get("cwd")
        return cwd if isinstance(cwd, str) else ""


def _active_pane(layout: p.Layout | None) -> int:
    """The active pane of the current window, or ANY_PANE without windows."""
    if layout is None or not layout.windows:
        return ANY_PANE
    current = next((w for w in layout.windows if "*" in w.flags), layout.windows[0])
    return current.active_pane


def _directory(*candidates: str | None) -> str:
    """The first candidate that is still a directory (a saved cwd may have been removed)."""
    for cwd in candidates:
        if cwd and os.path.isdir(cwd):
            return cwd
    return os.path.expanduser("~")


def _window_spec(window: WindowRecord, panes: list[PaneSpec]) -> WindowSpec:
    ids = {pane.id for pane in panes}
    return WindowSpec(
        index=window.index,
        id=window.id,
        name=window.name,
        layout=window.layout,
        panes=tuple(panes),
        active=window.active_pane if window.active_pane in ids else panes[0].id,
        zoomed="Z" in window.flags,
        automatic_rename=window.automatic_rename,
        synchronize=window.synchronize,
    )
