"""Attachments layer: which clients view which session, and at what size.

A client attaching (or switching) becomes one of its session's viewers, gets full frames of the
visible panes, and leaves the session it was in. The window size is tmux's window-size "latest":
the client that attached, resized or typed last sets it (each viewer's size is kept for that).
Every change of the attached count or size is committed before the call returns, as the registry's
other operations are. `Attachments` builds on lifecycle.Hosts; registry.SessionManager resolves
targets to sessions and calls it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from scarab import protocol as p
from scarab.daemon.lifecycle import Hosts
from scarab.daemon.session import Session, Viewer, validate_size, visible_panes
from scarab.environ import entries, parse_entries

__all__ = ["Attachments"]


class Attachments(Hosts):
    def attach(
        self, session: Session, viewer: Viewer, cols: int = 0, rows: int = 0, environ: Iterable[str] | None = None
    ) -> None:
        """`viewer` attached to `session` (detached from any other), at its size if given."""
        host = self.host_of(session)
        if cols or rows:
            validate_size(cols, rows)
        if environ is not None:
            # tmux's update-environment: the attaching client's values, for programs started later.
            session.environ.update(parse_entries(environ))
            host.send(p.HostEnvironment(entries=entries(session.environ)))
        for other in self.sessions.values():
            other.sizes.pop(viewer, None)
            if other is not session and viewer in other.viewers:
                # A switch: the session left behind has one client fewer, in the database too.
                other.viewers.discard(viewer)
                self._commit(other, other.record.with_(attached=len(other.viewers)))
        viewer.expect_full(visible_panes(session.layout))
        session.viewers.add(viewer)
        if cols and rows:
            session.sizes[viewer] = (cols, rows)
        record = session.record.with_(last_attached=int(time.time()), attached=len(session.viewers))
        if cols and rows and (cols, rows) != (record.cols, record.rows):
            record = record.with_(cols=cols, rows=rows)  # window-size "latest", as tmux
            host.send(p.HostResize(cols=cols, rows=rows))
        else:
            host.send(p.HostRedraw())
        self._commit(session, record)

    def detach(self, viewer: Viewer, only: Session | None = None) -> list[str]:
        """Detach `viewer` (from `only`, if given); returns the ids it was detached from."""
        detached = []
        for session in self.sessions.values():
            if viewer in session.viewers and (only is None or session is only):
                session.viewers.discard(viewer)
                session.sizes.pop(viewer, None)
                self._commit(session, session.record.with_(attached=len(session.viewers)))
                detached.append(session.record.id)
        return detached

    def typing_from(self, session: Session, viewer: Viewer) -> None:
        """tmux's window-size "latest": the client typing now is the latest, so its size wins. Called
        before its keys are sent, so the program redraws for the size the keys were meant for."""
        size = session.sizes.get(viewer)
        if size is not None and size != (session.record.cols, session.record.rows):
            self.resize_session(session, *size)

    def resize_session(self, session: Session, cols: int, rows: int, viewer: Viewer | None = None) -> None:
        validate_size(cols, rows)
        if viewer is not None and viewer in session.viewers:
            session.sizes[viewer] = (cols, rows)
        if (cols, rows) != (session.record.cols, session.record.rows):
            self.host_of(session).send(p.HostResize(cols=cols, rows=rows))
            self._commit(session, session.record.with_(cols=cols, rows=rows))

    def redraw(self, session_id: str) -> set[int]:
        """Ask for full frames of every visible pane; returns those panes."""
        session = self.sessions.get(session_id)
        if session is not None and session.host is not None:
            session.host.send(p.HostRedraw())
            return visible_panes(session.layout)
        return set()
