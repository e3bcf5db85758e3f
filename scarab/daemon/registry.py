"""Registry layer: the daemon's control operations — sessions created, listed, renamed, deleted;
clients attached and detached; input, capture and history for a pane; tmux's window and pane verbs
resolved and forwarded.

`SessionManager` is the library API of the control plane. It resolves targets (targeting.py) and
builds on attachments.Attachments (which clients view which session, at what size), itself on
lifecycle.Hosts (the hosts' side: start, adopt, watch, resurrect); snapshots are snapshots.py's.
Every control operation is committed to the store before it returns, so the reply a client sees is
always durable.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import replace

from scarab import protocol as p
from scarab.daemon.attachments import Attachments
from scarab.daemon.build import check_build, type_when_ready
from scarab.daemon.hostlink import process_start, spawn_host
from scarab.daemon.lifecycle import DELETING, FD_RESERVE, ManagerConfig, fds_left
from scarab.daemon.limits import check_wire
from scarab.daemon.pty import default_shell
from scarab.daemon.session import Session, Viewer, validate_name, validate_size
from scarab.daemon.store import SessionRecord
from scarab.daemon.targeting import ANY_PANE, WindowVerb, current_of, resolve_pane, resolve_verb, session_view
from scarab.environ import check_name, entries, parse_entries
from scarab.errors import (
    BadRequest,
    DuplicateName,
    HostUnavailable,
    SessionBusy,
    SessionNotFound,
    StorageError,
)
from scarab.targets import Found, Kind, SessionView

__all__ = ["Current", "ManagerConfig", "SessionManager", "Viewer"]

Current = Found | None  # where a command runs, for targets without a session part (targets.resolve)

# A name this long that is the start of another session's id would shadow that id as a target
# (`ls` shows 8 characters of it): refused.
ID_PREFIX_SHADOW = 4


def _shadows(name: str, session_id: str) -> bool:
    """Would `name`, as a target, be taken for the session whose id this is?"""
    return name == session_id or (len(name) >= ID_PREFIX_SHADOW and session_id.startswith(name))


class SessionManager(Attachments):
    def session_count(self) -> int:
        return len(self.sessions)

    def list_sessions(self) -> list[p.SessionInfo]:
        # Insertion order is creation order (restore reads rows in creation order too).
        return [self.info(s) for s in self.sessions.values()]

    def info(self, session: Session) -> p.SessionInfo:
        r = session.record
        return p.SessionInfo(
            id=r.id,
            name=r.name,
            created_at=r.created_at,
            last_attached=r.last_attached,
            cols=r.cols,
            rows=r.rows,
            state=self._state(session),
            command=list(r.command),
            cwd=r.cwd,
            attached=len(session.viewers),
            host_pid=r.host_pid,
            child_pid=r.child_pid,
            exit_status=r.exit_status if r.state == "exited" else 0,
            windows=len(session.layout.windows) if session.layout else 0,
            panes=len(session.layout.panes) if session.layout else 0,
        )

    @staticmethod
    def _state(session: Session) -> str:
        if session.host is not None or session.record.state == "exited":
            return session.record.state
        return "unresponsive" if session.unresponsive else "restoring"

    def get_session(self, target: str) -> Session:
        """Resolve an exact id, then a name, then a unique id prefix."""
        if target in self.sessions:
            return self.sessions[target]
        for s in self.sessions.values():
            if s.record.name == target:
                return s
        matches = [s for sid, s in self.sessions.items() if target and sid.startswith(target)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise BadRequest(f"ambiguous session id prefix {target!r}: matches {len(matches)} sessions")
        raise SessionNotFound(f"Session not found: {target}")

    def _check_name_free(self, name: str, except_id: str = "") -> None:
        for s in self.sessions.values():
            if s.record.id == except_id:
                continue
            if s.record.name == name:
                raise DuplicateName(f"duplicate session name: {name!r} is already taken (id {s.record.id[:8]})")
            if _shadows(name, s.record.id):
                raise BadRequest(
                    f"session name {name!r} is (the start of) the id of session {s.record.name!r}; "
                    "choose another name, so the id keeps naming that session"
                )

    def _new_id(self) -> str:
        """A fresh id that no existing name shadows."""
        while True:
            sid = uuid.uuid4().hex
            if not any(_shadows(s.record.name, sid) for s in self.sessions.values()):
                return sid

    def _next_name(self) -> str:
        taken = {s.record.name for s in self.sessions.values()}
        n = 0
        while str(n) in taken:
            n += 1
        return str(n)

    async def create_session(
        self,
        name: str | None = None,
        cols: int = 80,
        rows: int = 24,
        cwd: str | None = None,
        command: Iterable[str] | None = None,
        environ: Iterable[str] | None = None,
        build: p.SessionBuild | None = None,
        limits: list[int] | None = None,
        recorded: bool = False,
    ) -> p.SessionInfo:
        """A new session: one window with one pane running `command`, or a template's windows
        (`build`, new -L), each pane at its final size before any program starts. `limits`
        ([memory, cpu, tasks], see check_wire) and `recorded` (a build carries its own) go to the
        host with the rest, so the first program starts limited and is recorded from its first byte."""
        validate_size(cols, rows)
        if build is not None:
            check_build(build)
            limits, recorded = build.limits, build.record
        wanted = check_wire(limits, "new's limits")
        if fds_left() < FD_RESERVE:
            raise HostUnavailable(
                "the daemon is out of file descriptors (`ulimit -n`); raise it and restart the daemon"
            )
        overrides = parse_entries(environ or ())
        name = validate_name(name) if name is not None else self._next_name()
        self._check_name_free(name)
        cwd = cwd or os.path.expanduser("~")
        if not os.path.isdir(cwd):
            what = "is not a directory" if os.path.exists(cwd) else "does not exist"
            raise BadRequest(f"working directory {cwd!r} {what}")
        argv = tuple(command or ()) or self.config.default_command or (default_shell(),)
        now = int(time.time())
        record = SessionRecord(
            id=self._new_id(), name=name, created_at=now, last_attached=now, cols=cols, rows=rows,
            cwd=cwd, command=argv,
        )  # fmt: skip
        session = Session(record, environ=overrides)
        # Reserve the name while the host starts, so a concurrent create cannot take it too; the
        # lock (free: the session is new) makes a rename or delete of it wait until it is complete.
        self.sessions[record.id] = session
        async with session.lock:
            typing: dict[int, list[str]] = {}
            try:
                if build is None:
                    (pane_id,), (window_id,) = self._take_ids(panes=1, windows=1)
                    request = replace(self._spawn_request(record, overrides), pane_id=pane_id, window_id=window_id)
                else:
                    request, typing = self._build_request(record, overrides, build)
                request = replace(request, limits=wanted, record=recorded)
                host_pid, child_pid = await spawn_host(request, self.zygote)
                session.record = record.with_(
                    host_pid=host_pid, child_pid=child_pid, host_start=process_start(host_pid)
                )
                # The row first: the windows and panes of the host's first Layout, stored as it is
                # taken in (during _connect), refer to it.
                self.store.put(session.record)
                stored = session.record
                await self._connect(session)
                if session.record != stored:  # limits the host reported
                    self.store.put(session.record)
            except BaseException:
                self.sessions.pop(record.id, None)
                await self._end_host(session)
                with contextlib.suppress(StorageError):  # the original failure is the one to report
                    self.store.delete(record.id)
                raise
            if typing:
                self._spawn(type_when_ready(lambda msg: self._send_host(session, msg), session.pane_pids, typing))
            self.on_change()
            return self.info(session)

    async def attach_client(
        self, target: str, viewer: Viewer, cols: int = 0, rows: int = 0, environ: Iterable[str] | None = None
    ) -> p.SessionInfo:
        session = self.get_session(target)
        self.attach(session, viewer, cols, rows, environ)
        return self.info(session)

    def detach_client(self, viewer: Viewer, target: str | None = None) -> list[str]:
        """Detach `viewer` (from `target` only, if given); returns the ids it was detached from."""
        if not any(viewer in session.viewers for session in self.sessions.values()):
            return []  # attached nowhere: nothing to detach, whatever the target names
        return self.detach(viewer, self.get_session(target) if target is not None else None)

    @contextlib.asynccontextmanager
    async def _exclusive(self, target: str) -> AsyncIterator[Session]:
        """The session `target` names, with its lock held; still registered once the lock is ours."""
        session = self.get_session(target)
        async with session.lock:
            if self.sessions.get(session.record.id) is not session:
                raise SessionNotFound(f"Session not found: {target}")
            yield session

    async def rename_session(self, target: str, new_name: str) -> p.SessionInfo:
        validate_name(new_name)
        async with self._exclusive(target) as session:
            self._check_name_free(new_name, except_id=session.record.id)
            self._commit(session, session.record.with_(name=new_name))
            if session.host is not None:
                session.host.send(p.HostRename(name=new_name))
            return self.info(session)

    async def delete_session(self, target: str, force: bool = False) -> str:
        async with self._exclusive(target) as session:
            if session.viewers and not force:
                raise SessionBusy(
                    f"session {session.record.name!r} has {len(session.viewers)} attached client(s); "
                    "detach them first or use --force"
                )
            # Committed first: a daemon that crashes from here on leaves a row the next daemon
            # finishes deleting (host ended, row removed), never a host without a row.
            # Its name goes at once (the id stands in: unique), so it can be taken again meanwhile.
            self._commit(session, session.record.with_(state=DELETING, name=session.record.id))
            session.ending = True
            del self.sessions[session.record.id]
            self.on_change()
            for viewer in list(session.viewers):
                viewer.push(p.Kicked(session_id=session.record.id, reason="the session was killed"))
            session.viewers.clear()
            await self._end_host(session)
            self.store.delete(session.record.id)
            self.snapshots.forget(session.record.id)
            sid = session.record.id
            for leftover in [self.paths.hosts / f"{sid}.log", *self.paths.hosts.glob(f"{sid}.*restore"),
                             self.paths.hosts / f"{sid}.spec"]:  # fmt: skip
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
            return session.record.id

    async def cleanup_detached_sessions(self, older_than: float) -> list[tuple[str, str]]:
        """Delete sessions nobody is attached to whose last attach is older than `older_than` seconds;
        returns the (id, name) of each."""
        cutoff = time.time() - older_than
        doomed = [
            (s.record.id, s.record.name)
            for s in self.sessions.values()
            if not s.viewers and s.record.last_attached < cutoff
        ]
        for sid, _name in doomed:
            await self.delete_session(sid)
        return doomed

    async def respawn_session(self, target: str) -> p.SessionInfo:
        """Start an exited session's program again, in its last cwd, below its last screen."""
        async with self._exclusive(target) as session:  # a delete meanwhile must not leave its new host
            if session.record.state != "exited" or session.host is not None:
                raise BadRequest(f"session {session.record.name!r} is still running; only an exited session respawns")
            await self._start_again(session, "respawned")
            return self.info(session)

    def views(self) -> tuple[SessionView, ...]:
        """Every session as targets.py resolves against it (from its latest Layout)."""
        return tuple(session_view(s.record.id, s.record.name, s.latest_layout()) for s in self.sessions.values())

    def current(self, viewer: Viewer | None, context: tuple[str, int] | None) -> Current:
        """Where a client's command runs (targets without a session part are taken from there): the
        pane it runs in, else the session it is attached to, else the most recently attached."""
        views = self.views()
        if context is not None:  # a session that is gone is no current session to fall back from
            return current_of(views, *context)
        if viewer is not None:
            for session in self.sessions.values():
                if viewer in session.viewers:
                    return current_of(views, session.record.id)
        running = [s for s in self.sessions.values() if s.record.state != DELETING]
        if not running:
            return None
        best = max(running, key=lambda s: (s.record.last_attached, s.record.created_at))
        return current_of(views, best.record.id)

    def pane_of(self, target: str, current: Current = None) -> tuple[Session, int]:
        """The session and pane a target names, for input, capture and history. ANY_PANE: the active
        pane of the current window, as typing into the session would go (and synchronize-panes with it)."""
        if target in self.sessions:
            return self.sessions[target], ANY_PANE  # a TUI's own session: the fast path, every keystroke
        try:
            return self.get_session(target), ANY_PANE  # a session's name or id prefix, as always
        except SessionNotFound:
            pass
        try:
            resolved = resolve_pane(target, Kind.PANE, self.views(), current)
        except BadRequest:
            if any(mark in target for mark in ":.%@$"):
                raise
            # A word alone that is nothing at all: said as it always was.
            raise SessionNotFound(f"Session not found: {target} (no session, window or pane of that name)") from None
        session = self.sessions[resolved.session]
        return session, resolved.pane if resolved.named else ANY_PANE

    async def window_verb(self, msg: WindowVerb, current: Current = None) -> p.Message:
        """A tmux verb (split-window, select-pane...): its target resolved, new ids taken (committed),
        forwarded to the session's host; the host's Layout is committed before this returns."""
        session_id, verb = resolve_verb(msg, self.views(), current)
        session = self.sessions[session_id]
        host = self.host_of(session)
        if isinstance(verb, p.KillPane | p.KillWindow) and _ends_session(session.latest_layout(), verb):
            # tmux: killing the last pane (or window) of a session kills the session, whatever the
            # on_exit policy says about programs that end by themselves.
            await self.delete_session(session_id, force=True)
            return p.Done()
        if isinstance(verb, p.SplitWindow):
            (pane_id,), _ = self._take_ids(panes=1)
            verb = replace(verb, pane_id=pane_id)
        elif isinstance(verb, p.NewWindow):
            (pane_id,), (window_id,) = self._take_ids(panes=1, windows=1)
            verb = replace(verb, pane_id=pane_id, window_id=window_id)
        elif isinstance(verb, p.BreakPane):
            _, (window_id,) = self._take_ids(windows=1)
            verb = replace(verb, window_id=window_id)
        for field_name in ("cwd",):
            cwd = getattr(verb, field_name, None)
            if cwd is not None and not os.path.isdir(cwd):
                what = "is not a directory" if os.path.exists(cwd) else "does not exist"
                raise BadRequest(f"working directory {cwd!r} {what}")
        reply = await host.request(verb)
        if isinstance(reply, p.Failed):
            raise BadRequest(reply.message)
        if not isinstance(reply, p.Done | p.Spawned):
            raise HostUnavailable(f"session host answered {type(reply).__name__} to {type(msg).__name__}")
        return reply

    def layout_of(self, target: str, current: Current = None) -> tuple[p.Layout, int]:
        """A session's latest Layout and the window a target names in it (list-windows, list-panes)."""
        resolved = resolve_pane(target, Kind.WINDOW, self.views(), current)
        session = self.sessions[resolved.session]
        return session.latest_layout(), resolved.window

    def show_environment(self, target: str) -> list[str]:
        return entries(self.get_session(target).environ)

    def set_environment(self, target: str, name: str, value: str | None, unset: bool = False) -> None:
        session = self.get_session(target)
        if unset:
            session.environ.pop(check_name(name), None)
        else:
            session.environ[check_name(name)] = value
        if session.host is not None:
            session.host.send(p.HostEnvironment(entries=entries(session.environ)))

    async def history(self, target: str, start: int, count: int, current: Current = None) -> p.History:
        session, pane = self.pane_of(target, current)
        reply = await self.host_of(session).request(p.HostHistory(start=start, count=count, pane=pane))
        if not isinstance(reply, p.History):
            raise HostUnavailable(f"session host answered {type(reply).__name__} to a history request")
        return reply

    async def clear_history(self, target: str) -> None:
        await self.host_of(self.get_session(target)).request(p.HostClearHistory())

    async def capture(
        self, target: str, scrollback: bool, ansi: bool, current: Current = None
    ) -> AsyncGenerator[str, None]:
        """A pane's text in pages of at most ~512 KB, paged out of the host one request at a time."""
        session, pane = self.pane_of(target, current)
        if session.host is None and not session.unresponsive:
            for text in await self.snapshots.capture(session, pane, scrollback, ansi):
                yield text
            return
        host = self.host_of(session)
        async with host.capture_lock:
            page = 0
            while True:
                reply = await host.request(p.HostCapture(scrollback=scrollback, ansi=ansi, page=page, pane=pane))
                if not isinstance(reply, p.Captured):
                    raise HostUnavailable(f"session host answered {type(reply).__name__} to a capture")
                yield reply.text
                if not reply.more:
                    return
                page += 1

    def send_input(self, target: str, data: bytes, viewer: Viewer | None = None, current: Current = None) -> None:
        session, pane = self.pane_of(target, current)
        host = self.host_of(session)
        if viewer is not None:
            self.typing_from(session, viewer)
        host.send(p.HostInput(data=data, pane=pane))

    def paste(self, target: str, data: bytes, current: Current = None) -> None:
        """`data` typed into the target's pane as a paste (bracketed if its program asked)."""
        session, pane = self.pane_of(target, current)
        self.host_of(session).send(p.HostPaste(data=data, pane=pane))

    def resize(self, target: str, cols: int, rows: int, viewer: Viewer | None = None) -> None:
        self.resize_session(self.get_session(target), cols, rows, viewer)


def _ends_session(layout: p.Layout, verb: p.KillPane | p.KillWindow) -> bool:
    """Whether the verb (its target resolved to `%ID` / `@ID`) would leave the session no pane."""
    if isinstance(verb, p.KillPane):
        return len(layout.panes) == 1
    return len(layout.windows) == 1 and verb.target in ("", f"@{layout.windows[0].id}")
