"""Host lifecycle layer: the daemon's side of every session host over its life — started (forked
from the zygote) with ids from the user's counter, connected, adopted by a new daemon, watched, its
events handled (frames and layouts relayed, layouts committed, programs exiting), its panes'
snapshots scheduled, and, only when it is verifiably gone, resurrected from its SessionSpec.

A live host is never killed except by an explicit kill/cleanup: one that does not answer (busy,
stopped, a dropped link) is waited for in the background and shown as `unresponsive`; a session is
resurrected only when its host process is verifiably gone (pid free, or reused: see host_gone).
`Hosts` holds the sessions and this machinery; registry.SessionManager builds the control
operations on it.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import resource
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from scarab import protocol as p
from scarab.daemon.build import template_spec, write_spec
from scarab.daemon.hostconfig import HostConfig
from scarab.daemon.hostlink import HostLink, Zygote, host_gone, process_start, spawn_host
from scarab.daemon.pty import default_shell
from scarab.daemon.session import Session, layout_from_records, layout_records, visible_panes
from scarab.daemon.snapshots import Restore, Snapshots
from scarab.daemon.store import SessionRecord, Store
from scarab.daemon.windows import IdCounter
from scarab.environ import Overrides, entries, parse_entries
from scarab.errors import HostUnavailable, ScarabError
from scarab.paths import Paths

__all__ = ["DELETING", "FD_RESERVE", "Hosts", "ManagerConfig", "fds_left"]

# The state of a row whose delete was committed but not finished (its host may still be ending).
DELETING = "deleting"
# A host that has not answered for this long is listed as `unresponsive` (and logged); the daemon
# starts serving after waiting this long for the hosts it adopts.
UNRESPONSIVE_AFTER = 0.5
# How often a host that does not answer is checked (alive? same process?) and its socket retried.
RECHECK = 0.25
RETRY_MAX = 5.0
# How often the hosts directory is looked at for hosts that no session knows (see _keep_adopting_strays).
STRAY_SWEEP = 2.0
# Descriptors kept free for clients and the database when adopting hosts under a low `ulimit -n`.
FD_RESERVE = 16


@dataclass(frozen=True)
class ManagerConfig:
    scrollback: int = 10_000
    snapshot_interval: float = 5.0
    default_command: tuple[str, ...] = ()
    on_exit: str = "keep"  # keep | remove | restart
    program_clipboard: bool = False  # a program's OSC 52 sets a paste buffer and the outer clipboard


def fds_left() -> int:
    """How many more descriptors this process may open (RLIMIT_NOFILE's soft limit)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        return soft
    return soft - in_use if soft != resource.RLIM_INFINITY else 1 << 20


def _host_token(path: Path) -> str:
    """The secret every host of this database is started with, made once (0600 in the data dir):
    any daemon of this database can then adopt any of its hosts, and nothing else can."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        token = path.read_text().strip()
        if token:
            return token
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
    token = secrets.token_hex(16)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


class Hosts(abc.ABC):
    """The sessions and their hosts' lifecycle (see the module docstring)."""

    def __init__(self, paths: Paths, store: Store, config: ManagerConfig | None = None) -> None:
        self.paths = paths
        self.store = store
        self.config = config or ManagerConfig()
        self.sessions: dict[str, Session] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.zygote: Zygote | None = None  # set by the daemon; without it hosts start as fresh interpreters
        self.on_change: Callable[[], None] = lambda: None  # the session list changed (the daemon tells clients)
        self.on_clipboard: Callable[[Session, bytes], None] = lambda session, data: None  # a program's OSC 52
        # Everything a host sends (the daemon's event stream reads bells and output from it).
        self.on_host_message: Callable[[str, p.Message], None] = lambda session_id, msg: None
        self.host_token = _host_token(paths.host_key)
        self.snapshots = Snapshots(store, paths)
        self._connecting = 0  # host connections being made (their descriptors not yet counted by the kernel)
        self._silent: set[Path] = set()  # host sockets with no session that did not answer (logged once)
        # Sessions whose host an explicit kill (or a failed create) is ending: their sockets are not
        # strays, though no session or row names them any more.
        self._ending: set[str] = set()

    def _build_request(
        self, record: SessionRecord, overrides: Overrides, build: p.SessionBuild
    ) -> tuple[HostConfig, dict[int, list[str]]]:
        """A template's windows: ids for all of them (committed first) and the spec their host
        builds them from; and the lines to type into each pane."""
        count = sum(len(window.panes) for window in build.windows)
        pane_ids, window_ids = self._take_ids(panes=count, windows=len(build.windows))
        spec, typing = template_spec(build, pane_ids, window_ids, record.command)
        path = write_spec(self.paths.hosts / f"{record.id}.spec", spec)
        request = self._spawn_request(record, overrides, Restore(spec=path))
        request = replace(request, pane_id=pane_ids[0], window_id=window_ids[0])
        return request, typing

    @staticmethod
    def _send_host(session: Session, msg: p.Message) -> None:
        if session.host is not None:
            session.host.send(msg)

    def _take_ids(self, panes: int = 0, windows: int = 0) -> tuple[list[int], list[int]]:
        """New pane and window ids, the advanced counter committed before any of them is used."""
        counter = self.store.ids()
        pane_ids, window_ids = [], []
        for _ in range(panes):
            pane_id, counter = counter.next_pane()
            pane_ids.append(pane_id)
        for _ in range(windows):
            window_id, counter = counter.next_window()
            window_ids.append(window_id)
        self.store.put_ids(counter)
        return pane_ids, window_ids

    def _spawn_request(self, record: SessionRecord, environ: Overrides, restore: Restore | None = None) -> HostConfig:
        restore = restore or Restore()
        return HostConfig(
            session_id=record.id,
            name=record.name,
            socket=self.paths.host_socket(record.id),
            log=self.paths.hosts / f"{record.id}.log",
            cols=record.cols,
            rows=record.rows,
            cwd=record.cwd or os.path.expanduser("~"),
            command=record.command or (default_shell(),),
            scrollback=self.config.scrollback,
            token=self.host_token,
            restore=restore.restore,
            environ=tuple(entries(environ)),
            spec=restore.spec,
            limits=_host_limits(record.limits),
        )

    async def _connect(self, session: Session) -> None:
        link = await HostLink.connect(self.paths.host_socket(session.record.id), self.host_token, self._on_host_event)
        session.host = link
        session.reader = self._spawn(self._watch_host(session, link))
        # The host pushes its Layout right behind HostInfo; the reply to any request comes after
        # it, so once this is answered the session's panes are known (a `split-window` right after
        # `new` found none when the reader had not got to the Layout yet). A host too busy to answer
        # is not a failure here: its Layout is taken in when it comes, as before.
        with contextlib.suppress(HostUnavailable):
            await link.request(p.HostHistory(start=0, count=0))
        if link.greeting.limits is not None:  # kept with the session, for a resurrection
            session.record = session.record.with_(limits=_kept_limits(link.greeting.limits))
        if link.greeting.exited:
            # The program ended before the host had a daemon to tell (`sh -c 'exit 4'`): its
            # ChildExited went to nobody, so the session would stay `running` for ever.
            self._spawn(self._on_child_exit(session, link.greeting.exit_status))

    async def restore_sessions(self) -> None:
        """At daemon start: adopt every live host, resurrect the sessions whose host is gone.

        Returns once each host is adopted, or restored when gone, or found not answering for
        UNRESPONSIVE_AFTER: a busy or stopped host never holds up the daemon (it is listed as
        unresponsive and adopted in the background when it answers)."""
        records = {r.id: r for r in self.store.sessions()}
        for record in [r for r in records.values() if r.state == DELETING]:
            del records[record.id]
            await self._finish_delete(record)
        names = {r.name for r in records.values()}
        records.update({r.id: r for r in await self._strays(set(records), names)})
        reaching = {self._spawn(self._reach(session)): session for session in self._take_in(records.values())}
        # Serve once every host is adopted or restored, except those that do not answer.
        pending = set(reaching)
        while pending:
            _done, pending = await asyncio.wait(pending, timeout=RECHECK)
            pending = {task for task in pending if not reaching[task].unresponsive}
        self._spawn(self._keep_adopting_strays())

    def _take_in(self, records: Iterable[SessionRecord]) -> list[Session]:
        """Sessions for these rows, with their saved layouts and screens; those whose host should
        be reached (all but the exited ones)."""
        live = []
        for record in records:
            session = Session(record.with_(attached=0))
            windows, panes = self.store.layout(record.id)
            session.layout = layout_from_records(record.id, record.cols, record.rows, windows, panes)
            for pane in self.store.snapshot_panes(record.id):
                saved = self.store.snapshot(record.id, pane)
                if saved is not None:
                    session.saved[pane] = saved[2]
            self.sessions[record.id] = session
            if record.attached:  # a commit per session costs a restart ~5 ms each: only when needed
                self.store.put(session.record)
            if record.state != "exited":
                live.append(session)
        return live

    async def _strays(self, known: set[str], names: set[str]) -> list[SessionRecord]:
        """Rows for the hosts listening in the hosts directory that no session knows: a database
        moved aside, or a daemon killed between forking a host and writing its row (the host can
        come up after the next daemon started, hence also `_keep_adopting_strays`)."""
        found = []
        for sock in sorted(self.paths.hosts.glob("*.sock")):
            if sock.stem in known:
                continue
            try:
                link = await HostLink.connect(sock, self.host_token, self._on_host_event, timeout=UNRESPONSIVE_AFTER)
            except (OSError, TimeoutError, ScarabError) as exc:
                if sock not in self._silent:  # said once, not at every sweep
                    self._silent.add(sock)
                    _log(f"a host socket with no session, {sock}, did not answer ({exc or type(exc).__name__})")
                continue
            info = link.greeting
            await link.close()
            now = int(time.time())
            name = info.name if info.name not in names else f"{info.name}-{info.session_id[:6]}"
            names.add(name)
            _log(f"adopted a host with no session: {name!r} (pid {info.host_pid})")
            record = SessionRecord(
                id=info.session_id, name=name, created_at=now, last_attached=now, cols=info.cols,
                rows=info.rows, cwd=info.cwd, host_pid=info.host_pid, child_pid=info.child_pid,
                host_start=process_start(info.host_pid),
            )  # fmt: skip
            found.append(record)
        return found

    async def _keep_adopting_strays(self) -> None:
        """Look for hosts with no session every STRAY_SWEEP seconds, for as long as the daemon runs.

        A host is never left running unseen: a zygote may fork one for a daemon that died just
        after asking (the zygote refuses requests of a dead daemon, but the two can cross)."""
        while True:
            await asyncio.sleep(STRAY_SWEEP)
            try:
                await self._adopt_strays()
            except Exception as exc:  # the database locked or failing, a full disk: next time
                _log(f"could not look for hosts with no session: {type(exc).__name__}: {exc}")

    async def _adopt_strays(self) -> None:
        # Rows being deleted still have their hosts ending: not strays.
        known = set(self.sessions) | self._ending | {r.id for r in self.store.sessions()}
        strays = await self._strays(known, {s.record.name for s in self.sessions.values()})
        # Looked up again after the awaits: a create or delete may have taken an id meanwhile.
        strays = [r for r in strays if r.id not in self.sessions and r.id not in self._ending]
        for session in self._take_in(strays):
            self._spawn(self._reach(session))
        if strays:
            self.on_change()

    async def _reach(self, session: Session) -> None:
        """Connect to the session's host however long it takes; resurrect only if it is gone.

        While the host is alive but not answering (parsing a flood, stopped, its socket gone) the
        session is `unresponsive` and its socket is retried; nothing is ever killed here."""
        started = time.monotonic()
        retry = RECHECK
        while self._wanted(session):
            record = session.record
            if host_gone(record.host_pid, record.host_start):
                if session.unresponsive:
                    _log(f"session {record.name!r}: its host (pid {record.host_pid}) is gone; restoring it")
                session.unresponsive = False
                await self._replace_gone_host(session)
                return
            if (left := fds_left() - self._connecting) < FD_RESERVE:
                # Each host costs a descriptor; the last few are kept for clients (`ls` must answer).
                self._report_unresponsive(
                    session, f"out of file descriptors ({left} left of `ulimit -n`); raise it and restart the daemon"
                )
                await asyncio.sleep(RETRY_MAX)
                continue
            attempt = asyncio.ensure_future(
                HostLink.connect(self.paths.host_socket(record.id), self.host_token, self._on_host_event, timeout=None)
            )
            # Counted until it is done: the next host's check must see this descriptor as taken.
            self._connecting += 1
            attempt.add_done_callback(self._connected)
            problem = ""
            try:
                while not attempt.done():
                    await asyncio.wait({attempt}, timeout=RECHECK)
                    if not attempt.done():
                        if host_gone(record.host_pid, record.host_start) or not self._wanted(session):
                            break
                        if time.monotonic() - started > UNRESPONSIVE_AFTER:
                            self._report_unresponsive(session, "it is alive but does not answer (busy or stopped)")
                link = await attempt if attempt.done() else None
            except (OSError, ScarabError, EOFError) as exc:
                link, problem = None, f"it is alive but its socket fails: {exc or type(exc).__name__}"
            finally:
                if not attempt.done():
                    attempt.cancel()
                    await asyncio.gather(attempt, return_exceptions=True)
            if link is None:
                if problem and time.monotonic() - started > UNRESPONSIVE_AFTER:
                    self._report_unresponsive(session, problem)
                    await asyncio.sleep(retry)
                    retry = min(retry * 2, RETRY_MAX)
                elif problem:
                    await asyncio.sleep(RECHECK)
                continue
            if not self._wanted(session):
                await link.close()
                return
            await self._adopt(session, link)
            return

    def _connected(self, _attempt: asyncio.Future[HostLink]) -> None:
        self._connecting -= 1

    def _wanted(self, session: Session) -> bool:
        return not session.ending and session.record.id in self.sessions and session.record.state != "exited"

    def _report_unresponsive(self, session: Session, why: str) -> None:
        if not session.unresponsive:
            session.unresponsive = True
            record = session.record
            _log(f"session {record.name!r}: host pid {record.host_pid} is not answering: {why}; waiting for it")

    async def _adopt(self, session: Session, link: HostLink) -> None:
        info = link.greeting
        session.environ = parse_entries(info.environ or ())
        record = session.record
        start = record.host_start if info.host_pid == record.host_pid and record.host_start else 0
        session.record = record.with_(
            host_pid=info.host_pid, child_pid=info.child_pid, cols=info.cols, rows=info.rows,
            cwd=info.cwd or record.cwd, host_start=start or process_start(info.host_pid),
            limits=record.limits if info.limits is None else _kept_limits(info.limits),
        )  # fmt: skip
        if session.record != record:  # an adopted host has mostly changed nothing
            self.store.put(session.record)
        if session.unresponsive:
            _log(f"session {record.name!r}: host pid {info.host_pid} answers again")
            session.unresponsive = False
        session.host = link
        session.reader = self._spawn(self._watch_host(session, link))
        if info.exited:
            await self._on_child_exit(session, info.exit_status)
            return
        for _viewer in session.viewers:
            link.send(p.HostRedraw())

    async def _replace_gone_host(self, session: Session) -> None:
        if session.just_resurrected():
            await self._mark_exited(session, 0, "its host exited right after starting")
            return
        try:
            await self._resurrect(session)
        except (ScarabError, OSError) as exc:
            _log(f"session {session.record.name!r}: could not restore it: {exc}")
            await self._mark_exited(session, 0, "its host could not be restarted")
            return
        if session.host is not None:
            for _viewer in session.viewers:
                session.host.send(p.HostRedraw())

    async def _finish_delete(self, record: SessionRecord) -> None:
        """A delete the previous daemon committed but did not finish: end the host, drop the row."""
        session = Session(record, ending=True)
        with contextlib.suppress(OSError, TimeoutError, ScarabError):
            await self._connect(session)
        await self._end_host(session)
        self.store.delete(record.id)

    async def _resurrect(self, session: Session, marker: str = "") -> None:
        """A new host in the saved cwd, showing the saved screen and scrollback above a marker:
        `marker`, or (a host gone, the machine rebooted) `[scarab: restored TIME-SAVED]`.

        Only for a session whose host is verifiably gone (the caller checked): never two shells
        for one session, and never a live one replaced."""
        record = session.record
        with contextlib.suppress(FileNotFoundError):
            self.paths.host_socket(record.id).unlink()
        fallback = record.cwd if record.cwd and os.path.isdir(record.cwd) else os.path.expanduser("~")
        restore = await self.snapshots.prepare(session, marker, fallback)
        if restore.cwd and os.path.isdir(restore.cwd):
            record = record.with_(cwd=restore.cwd)
        request = self._spawn_request(record, session.environ, restore)
        if restore.spec is None:  # one fresh pane in a fresh window
            (pane_id,), (window_id,) = self._take_ids(panes=1, windows=1)
            request = replace(request, pane_id=pane_id, window_id=window_id)
        host_pid, child_pid = await spawn_host(request, self.zygote)
        session.record = record.with_(
            host_pid=host_pid, child_pid=child_pid, host_start=process_start(host_pid), state="running"
        )
        session.resurrected = time.monotonic()
        await self._connect(session)
        self.store.put(session.record)
        self.on_change()

    def _on_host_event(self, link: HostLink, msg: p.Message, wire: bytes) -> None:
        session = self.sessions.get(link.session_id)
        if session is None or session.host is not link:
            return
        self.on_host_message(session.record.id, msg)
        match msg:
            case p.Frame():
                for viewer in list(session.viewers):
                    viewer.push(msg, wire)  # the host's bytes, relayed as they came
                self._snapshot_soon(session)
            case p.Layout():
                self._on_layout(session, msg)
            case p.ChildExited(status=status):
                self._spawn(self._on_child_exit(session, status))
            case p.SetBuffer(data=data):
                self.on_clipboard(session, data)
            case p.Notice():
                for viewer in list(session.viewers):
                    viewer.push(msg)

    def _on_layout(self, session: Session, layout: p.Layout) -> None:
        """The host's windows and panes changed: kept, committed (before the reply to the verb that
        caused it, which the host sends after this), and relayed to the attached clients."""
        old = session.layout
        session.layout = layout
        if old is None or _persisted(old) != _persisted(layout):
            # A title or a foreground program changing alone (every prompt, in some shells) is not
            # worth a synchronous commit; it is written with the next change.
            windows, panes = layout_records(layout)
            self.store.put_layout(session.record.id, windows, panes)
            self._keep_ids_ahead(layout)
            self._snapshot_soon(session)
        pid = _active_pid(layout)
        if pid and pid != session.record.child_pid:
            self._commit(session, session.record.with_(child_pid=pid))
        elif old is None or _counts(old) != _counts(layout):
            self.on_change()
        for viewer in list(session.viewers):
            viewer.push(layout)

    def _keep_ids_ahead(self, layout: p.Layout) -> None:
        """Ids a host uses are never handed out again, even if the counter was lost (a database
        moved aside while hosts ran on)."""
        counter = self.store.ids()
        pane = max((pane.id + 1 for pane in layout.panes), default=0)
        window = max((w.id + 1 for w in layout.windows), default=0)
        if pane > counter.pane or window > counter.window:
            self.store.put_ids(IdCounter(max(pane, counter.pane), max(window, counter.window)))

    async def _watch_host(self, session: Session, link: HostLink) -> None:
        """Read the host until the link ends; then reconnect to it, or resurrect it if it is gone."""
        await link.run()
        if session.host is not link:
            return
        session.host = None
        await self._reach(session)

    async def _on_child_exit(self, session: Session, status: int) -> None:
        with contextlib.suppress(ScarabError):
            await self._save_snapshot(session)
        policy = self.config.on_exit
        if policy == "restart" and not session.just_resurrected():
            # Like a resurrection: a fresh program in the same place, the old screen above it.
            await self._end_host(session)
            with contextlib.suppress(ScarabError, OSError):
                await self._start_again(session, f"the program exited with status {status}; restarted")
                return
        await self._mark_exited(session, status, f"the program exited with status {status}")
        await self._end_host(session)
        if policy == "remove" and session.record.id in self.sessions:
            await self.delete_session(session.record.id, force=True)

    async def _mark_exited(self, session: Session, status: int, reason: str) -> None:
        session.record = session.record.with_(state="exited", exit_status=status, attached=0)
        self.store.put(session.record)
        self.on_change()
        for viewer in list(session.viewers):
            viewer.push(p.Kicked(session_id=session.record.id, reason=reason))
        session.viewers.clear()

    def _snapshot_soon(self, session: Session) -> None:
        if session.snapshot_due is None:
            loop = asyncio.get_running_loop()
            session.snapshot_due = loop.call_later(
                self.config.snapshot_interval, lambda: self._spawn(self._save_snapshot_logged(session))
            )

    async def _save_snapshot(self, session: Session) -> None:
        """The screen (rewritten) and the history rows new since the last save (appended by stable
        index, page by page: each page one short request, so the host keeps echoing in between)."""
        if session.snapshot_due is not None:
            session.snapshot_due.cancel()
            session.snapshot_due = None
        async with session.saving:
            if session.record.id not in self.sessions:
                return
            cwd = await self.snapshots.save(session)
        layout = session.layout
        hidden = layout is not None and visible_panes(layout) != {pane.id for pane in layout.panes}
        if hidden and session.host is not None and not session.ending:
            # Windows not shown send no frames to say they changed: look at them again later.
            self._snapshot_soon(session)
        if cwd and cwd != session.record.cwd:
            session.record = session.record.with_(cwd=cwd)
            self.store.put(session.record)

    async def _save_snapshot_logged(self, session: Session) -> None:
        """Background snapshots: a full disk or a vanished host is reported, never fatal."""
        try:
            await self._save_snapshot(session)
        except ScarabError as exc:
            print(f"scarab: could not save the screen of {session.record.name!r}: {exc}", file=sys.stderr)

    async def save_all_snapshots(self) -> None:
        for session in list(self.sessions.values()):
            with contextlib.suppress(ScarabError):
                await self._save_snapshot(session)

    def host_of(self, session: Session) -> HostLink:
        """The session's connected host, or HostUnavailable saying why there is none."""
        if session.host is None:
            if session.record.state == "exited":
                state = "has exited"
            elif session.unresponsive:
                state = (
                    f"is not answering (its host, pid {session.record.host_pid}, is alive but busy or stopped); "
                    "nothing was changed, try again"
                )
            else:
                state = "is being restored; try again"
            raise HostUnavailable(f"session {session.record.name!r} {state}")
        return session.host

    def keep_limits(self, session_id: str, limits: list[int]) -> None:
        """A session's limits as its host now has them (after a Limit verb): committed, so a
        resurrection after a reboot limits the new programs the same way."""
        session = self.sessions.get(session_id)
        kept = _kept_limits(limits)
        if session is not None and session.record.limits != kept:
            self.store.put(session.record.with_(limits=kept))
            session.record = session.record.with_(limits=kept)

    def _commit(self, session: Session, record: SessionRecord) -> None:
        self.store.put(record)
        session.record = record
        self.on_change()

    async def _end_host(self, session: Session) -> None:
        self._ending.add(session.record.id)
        try:
            await self._terminate(session)
        finally:
            self._ending.discard(session.record.id)

    async def _terminate(self, session: Session) -> None:
        session.ending = True
        if session.snapshot_due is not None:
            session.snapshot_due.cancel()
            session.snapshot_due = None
        host, session.host = session.host, None
        if host is not None:
            with contextlib.suppress(ScarabError):
                await host.request(p.HostTerminate(), timeout=3.0)
            await host.close()
        # Only an explicit kill/cleanup (or a host whose program ended) gets here. The pid is
        # signalled only while it is still that host (its start time), never a process reusing it.
        pid, start = session.record.host_pid, session.record.host_start
        deadline = time.monotonic() + 3.0
        while not host_gone(pid, start) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if not host_gone(pid, start):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            self.paths.host_socket(session.record.id).unlink()

    async def _start_again(self, session: Session, what: str) -> None:
        """The session's program again, for a session whose host has ended (the on_exit restart
        policy, respawn): like a resurrection, its screen marked with `what` instead of `restored`."""
        session.ending = False
        session.record = session.record.with_(host_pid=0, exit_status=0)
        await self._resurrect(session, _marker(what))

    def hosts_alive(self) -> int:
        return sum(1 for s in self.sessions.values() if s.host is not None)

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            _log(f"a background task failed: {type(exc).__name__}: {exc}")  # else lost without a word

    async def close(self) -> None:
        """Let go of every host (they keep running) and cancel background work."""
        for session in self.sessions.values():
            if session.snapshot_due is not None:
                session.snapshot_due.cancel()
            session.ending = True
            if session.host is not None:
                await session.host.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @abc.abstractmethod
    async def delete_session(self, target: str, force: bool = False) -> str:
        """Delete a session (registry.SessionManager's; the `remove` exit policy uses it)."""


def _marker(what: str) -> str:
    """The line a new host shows above the old screen when the program was started again on purpose
    (not `restored`: nothing was lost and brought back)."""
    return f"[scarab: {what} {time.strftime('%Y-%m-%d %H:%M')}]"


def _kept_limits(limits: list[int]) -> tuple[int, int, int]:
    """A host's [memory, cpu, tasks] (0: none) as the session record keeps them."""
    memory, cpu, tasks = (max(value, 0) for value in [*limits, 0, 0, 0][:3])
    return memory, cpu, tasks


def _host_limits(kept: tuple[int, int, int] | None) -> tuple[int, int, int]:
    """What a new host is told: the kept limits, none meaning none (-1: not config.toml's default);
    not known (a new session, or one from before limits were kept): config.toml's (0)."""
    if kept is None:
        return 0, 0, 0
    memory, cpu, tasks = (value if value > 0 else -1 for value in kept)
    return memory, cpu, tasks


def _log(line: str) -> None:
    """A line in the daemon log (its stderr)."""
    print(f"scarab: {line}", file=sys.stderr, flush=True)


def _active_pid(layout: p.Layout) -> int:
    """The program of the active pane of the current window (what `ls` shows as the child)."""
    current = next((w for w in layout.windows if "*" in w.flags), None)
    if current is None:
        return 0
    return next((pane.pid for pane in layout.panes if pane.id == current.active_pane), 0)


def _counts(layout: p.Layout) -> tuple[int, int]:
    return len(layout.windows), len(layout.panes)


def _persisted(layout: p.Layout) -> tuple[object, ...]:
    """What of a Layout the store keeps that matters after a crash (not titles or current programs)."""
    return (
        layout.cols,
        layout.rows,
        [(w.index, w.id, w.name, w.flags, w.layout, w.active_pane, w.synchronize) for w in layout.windows],
        [(pane.id, pane.window, pane.active, pane.visible, pane.pid, pane.cwd, pane.exited) for pane in layout.panes],
    )
