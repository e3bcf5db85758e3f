"""Server layer: the daemon process — socket, single-instance lock, client connections, dispatch.

One `match` dispatches every client message to the SessionManager. A ScarabError becomes an `Error`
reply and the connection carries on; a malformed frame gets an `Error` and that one connection is
closed; nothing a client sends can stop the daemon. SIGTERM is graceful: snapshots are saved and
the hosts keep running for the next daemon to adopt.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import IO

from scarab import __version__
from scarab import protocol as p
from scarab.channel import Channel, FrameBudget, check_hello, peer_uid
from scarab.config import load_config
from scarab.daemon.buffers import PasteBuffers, paste_bytes
from scarab.daemon.controls import Controls
from scarab.daemon.events import EventHub
from scarab.daemon.grep import grep_sessions
from scarab.daemon.hostlink import Zygote
from scarab.daemon.procinfo import foreground
from scarab.daemon.registry import Current, ManagerConfig, SessionManager
from scarab.daemon.session import Session, visible_panes
from scarab.daemon.store import Store
from scarab.daemon.targeting import ANY_PANE
from scarab.errors import HostUnavailable, ProtocolError, ScarabError
from scarab.logfile import CappedLog, open_log
from scarab.paths import Paths
from scarab.proctitle import set_process_name
from scarab.readyline import Reporter, read_line, report

__all__ = ["Daemon", "RuntimeKeeper", "acquire_lock", "lock_holder", "run_daemon"]

# A client that has this much unread output is behind: frames are dropped and it is resynced later.
CLIENT_MAX_QUEUED = 4 * 1024 * 1024
# What a client may send in one frame: commands and keys are small, and input is sent in chunks of
# INPUT_CHUNK (client.py). The daemon's replies can be far bigger; those are the client's to read.
CLIENT_MAX_FRAME = 1024 * 1024
# All clients' incomplete frames together; frames up to 64 KiB (every ordinary message) never count.
INCOMPLETE_BUDGET = 16 * 1024 * 1024
ACCEPT_REPORT_EVERY = 10.0  # seconds between two log lines about accept failing


class ClientConn:
    """One connected client. Implements the registry's Viewer.

    Frames are per pane: a client that fell behind skips every pane's incremental frames until it
    has a full frame of each visible pane again (a redraw sends them all)."""

    _ids = itertools.count(1)

    def __init__(self, channel: Channel, redraw: Callable[[str], set[int]]) -> None:
        self.id = next(self._ids)
        self.channel = channel
        self.behind = False
        self._redraw = redraw  # asks the session's host for full frames; returns the visible panes
        self._redraw_asked = False
        self._awaiting: set[int] = set()  # panes whose full frame a client that was behind still needs
        self.attached = False  # attached at least once: a TUI, which follows the session list
        self.context: tuple[str, int] | None = None  # the session and pane a CLI runs in (ClientContext)

    def push(self, msg: p.Message, wire: bytes = b"") -> None:
        if isinstance(msg, p.Layout) and self._awaiting:
            # A pane closed or hidden meanwhile sends no full frame: stop waiting for it.
            self._awaiting &= visible_panes(msg)
            if not self._awaiting:
                self.behind = self._redraw_asked = False
        if isinstance(msg, p.Frame):
            if msg.full:
                self._awaiting.discard(msg.pane)
                if not self._awaiting:
                    self.behind = self._redraw_asked = False
            elif self.behind:
                # Caught up enough to take whole screens again: ask the host for them, once.
                if not self._redraw_asked and self.channel.buffered() < CLIENT_MAX_QUEUED // 4:
                    self._redraw_asked = True
                    self._awaiting = self._redraw(msg.session_id)
                return
            elif self.channel.buffered() > CLIENT_MAX_QUEUED:
                self.behind = True  # skip intermediate states until full frames resync it
                return
        if wire:
            self.channel.send_wire(wire)
        else:
            self.channel.send_nowait(msg)

    def expect_full(self, panes: set[int]) -> None:
        self.behind = True
        self._redraw_asked = True  # attach already asked for full frames
        self._awaiting = set(panes)
        self.attached = True


class Daemon:
    def __init__(self, paths: Paths, store: Store, config: ManagerConfig) -> None:
        self.paths = paths
        self.manager = SessionManager(paths, store, config)
        self.buffers = PasteBuffers(store)
        self.controls = Controls(self.manager)  # recording and limits (issue 18)
        self.clients: set[ClientConn] = set()
        self.started = time.monotonic()
        self.stopping = asyncio.Event()
        self._conn_tasks: set[asyncio.Task[None]] = set()
        self._change_pending = False
        self.manager.on_change = self._sessions_changed
        self.manager.on_clipboard = self._program_copied
        self.events = EventHub()
        self.manager.on_host_message = self.events.host_message
        self.incomplete = FrameBudget(INCOMPLETE_BUDGET, free=64 * 1024)

    def _sessions_changed(self) -> None:
        """Tell attached clients the new session list, once per burst of changes (one loop turn)."""
        if not self._change_pending:
            self._change_pending = True
            asyncio.get_running_loop().call_soon(self._push_sessions)

    def _program_copied(self, session: Session, data: bytes) -> None:
        """A program's OSC 52, with `program_clipboard` on (tmux's set-clipboard on): the newest
        paste buffer, and the outer clipboard of every client attached to its session."""
        if not self.manager.config.program_clipboard:
            return
        try:
            self.buffers.set(data)
        except ScarabError as exc:
            print(f"scarab: a program's copy in {session.record.name} was not kept: {exc}", file=sys.stderr, flush=True)
            return
        for viewer in list(session.viewers):
            viewer.push(p.SetBuffer(data=data, clipboard=True))

    def _push_sessions(self) -> None:
        self._change_pending = False
        sessions = self.manager.list_sessions()
        self.events.sessions_changed(sessions)
        listeners = [c for c in self.clients if c.attached]
        if listeners:
            msg = p.SessionsChanged(sessions=sessions)
            for client in listeners:
                client.channel.send_nowait(msg)

    async def keep_storage(self) -> None:
        """Until cancelled: a deleted -wal file is repaired within a second even when only snapshots
        are being written (control operations check after each commit)."""
        store = self.manager.store
        while True:
            await asyncio.sleep(1.0)
            try:
                store.keep_wal()
            except ScarabError as exc:
                print(f"scarab: could not repair {store.wal}: {exc}", file=sys.stderr, flush=True)

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conn_tasks.add(task)
        channel = Channel(reader, writer, CLIENT_MAX_FRAME, self.incomplete)
        client = ClientConn(channel, self.manager.redraw)
        try:
            uid = peer_uid(writer)
            if uid != os.getuid():
                await channel.send(p.Failed(code="protocol", message=f"uid {uid} may not use this daemon"))
                return
            check_hello(await asyncio.wait_for(channel.recv(), 10))
            await channel.send(p.Hello(version=p.PROTOCOL_VERSION, role="daemon", pid=os.getpid()))
            self.clients.add(client)
            while True:
                msg = await channel.recv()
                reply = await self.dispatch(client, msg)
                if reply is not None:
                    channel.send_nowait(reply)
                    await channel.writer.drain()
        except ProtocolError as exc:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(channel.send(p.Failed(code=exc.code, message=str(exc))), 1)
        except (EOFError, OSError, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self.clients.discard(client)
            self.events.remove(channel)
            with contextlib.suppress(ScarabError):
                self.manager.detach_client(client)
            await channel.close()
            self._conn_tasks.discard(task)

    async def dispatch(self, client: ClientConn, msg: p.Message) -> p.Message | None:
        m = self.manager
        try:
            match msg:
                case p.SessionCreate(name=name, cols=cols, rows=rows, cwd=cwd, command=command, environ=environ):
                    created = await m.create_session(
                        name, cols, rows, cwd, command, environ, limits=msg.limits, recorded=msg.record
                    )
                    return p.Created(session=created)
                case p.SessionList(usage=usage):
                    sessions = m.list_sessions()
                    return p.Listed(sessions=await self.controls.annotate(sessions) if usage else sessions)
                case p.Record(target=target, action=action, path=path, input=record_input):
                    return await self.controls.record(target, action, path, record_input)
                case p.Limit(target=target, limits=limits):
                    return await self.controls.limit(target, limits)
                case p.SessionAttach(target=target, cols=cols, rows=rows, environ=environ):
                    # The reply, then the session's windows, go out before the host's full frames can arrive.
                    attached = await m.attach_client(target, client, cols, rows, environ)
                    client.channel.send_nowait(p.Attached(session=attached))
                    client.channel.send_nowait(m.sessions[attached.id].latest_layout())
                    return None
                case p.ShowEnvironment(target=target):
                    return p.Environment(entries=m.show_environment(target))
                case p.SetEnvironment(target=target, name=name, value=value, unset=unset):
                    m.set_environment(target, name, value, unset)
                    return p.Done()
                case p.SessionDetach(target=target):
                    detached = m.detach_client(client, target or None)
                    return p.Detached(session_id=detached[0] if detached else "")
                case p.SessionRename(target=target, new_name=new_name):
                    return p.Renamed(session=await m.rename_session(target, new_name))
                case p.SessionDelete(target=target, force=force):
                    return p.Deleted(session_id=await m.delete_session(target, force))
                case p.Capture(target=target, scrollback=scrollback, ansi=ansi):
                    return await self.stream_capture(client, m.capture(target, scrollback, ansi, self.current(client)))
                case p.Input(target=target, data=data, ack=ack):
                    try:
                        m.send_input(target, data, client, self.current(client))
                    except HostUnavailable:
                        if ack:
                            raise
                        return None  # a host being restored: the keys are lost, the viewer stays
                    except ScarabError as exc:
                        if ack:
                            raise
                        return p.Kicked(session_id=target, reason=str(exc))
                    return p.Done() if ack else None
                case p.Resize(target=target, cols=cols, rows=rows):
                    m.resize(target, cols, rows, client)
                    return None
                case p.Cleanup(older_than=older_than):
                    removed = await m.cleanup_detached_sessions(older_than)
                    return p.CleanedUp(session_ids=[sid for sid, _ in removed], names=[name for _, name in removed])
                case p.SessionRespawn(target=target):
                    return p.Respawned(session=await m.respawn_session(target))
                case p.HistoryRequest(target=target, start=start, count=count):
                    return await m.history(target, start, count, self.current(client))
                case p.ClientContext(session=session, pane=pane):
                    client.context = (session, pane)
                    return None
                case (
                    p.SplitWindow() | p.NewWindow() | p.SelectPane() | p.SelectWindow() | p.KillPane()
                    | p.KillWindow() | p.RenameWindow() | p.ResizePane() | p.SwapPane() | p.BreakPane()
                    | p.SelectLayout() | p.DragBorder() | p.SetWindowOption()
                ):  # fmt: skip
                    return await m.window_verb(msg, self.current(client))
                case p.LayoutQuery(target=target, programs=programs):
                    layout, window = m.layout_of(target, self.current(client))
                    return p.LayoutReply(session_name=m.sessions[layout.session_id].record.name, window=window,
                                         layout=layout, programs=_programs(layout) if programs else None)  # fmt: skip
                case p.ClearHistory(target=target):
                    await m.clear_history(target)
                    return p.Done()
                case p.ListBuffers():
                    return p.Buffers(buffers=self.buffers.list())
                case p.ShowBuffer(name=name):
                    shown = self.buffers.get(name)
                    info = p.BufferInfo(name=shown.name, size=len(shown.data), created=shown.created, data=shown.data)
                    return p.Buffers(buffers=[info])
                case p.SetBuffer(data=data, name=name, append=append):
                    self.buffers.set(data, name, append)
                    return p.Done()
                case p.DeleteBuffer(name=name):
                    self.buffers.delete(name)
                    return p.Done()
                case p.PasteBuffer(target=target, name=name, delete=delete, raw=raw):
                    pasted = self.buffers.get(name)
                    m.paste(target, paste_bytes(pasted.data, raw), self.current(client))
                    if delete:
                        self.buffers.delete(pasted.name)
                    return p.Done()
                case p.Grep():
                    return await grep_sessions(m, msg, self.current(client))
                case p.DaemonStatus():
                    return self.status()
                case p.DaemonStop():
                    self.stopping.set()
                    return p.Done()
                case p.SessionBuild() as build:
                    built = await m.create_session(
                        build.name, build.cols, build.rows, build.cwd, None, build.environ, build=build
                    )
                    return p.Created(session=built)
                case p.Describe(target=target, session_only=session_only):
                    return self.describe(client, target, session_only)
                case p.Watch(target=target, output=output):
                    watched = m.get_session(target).record.id if target else ""
                    self.events.add(client.channel, m.list_sessions(), watched, output)
                    return p.Done()
                case p.FrameAck():
                    return None  # local clients drain fast enough; proxies use acks for flow control
                case _:
                    raise ProtocolError(f"unexpected {type(msg).__name__} from a client")
        except ProtocolError:
            raise
        except ScarabError as exc:
            return p.Failed(code=exc.code, message=str(exc))
        except Exception as exc:
            traceback.print_exc()
            return p.Failed(code="error", message=f"internal error in the daemon: {exc.__class__.__name__}: {exc}")

    def current(self, client: ClientConn) -> Current:
        """Where this client's commands run (targets without a session part are taken from there)."""
        if client.context is None and not client.attached:
            return self.manager.current(None, None)
        return self.manager.current(client, client.context)

    @staticmethod
    async def stream_capture(client: ClientConn, pages: AsyncGenerator[str, None]) -> p.Captured:
        """Send every page but the last as it comes, waiting for the client to take each one (a
        capture never piles up in the daemon); the last page is the reply."""
        async with contextlib.aclosing(pages):
            text = None
            async for page in pages:
                if text is not None:
                    client.channel.send_nowait(p.Captured(text=text, more=True))
                    await client.channel.writer.drain()
                text = page
        return p.Captured(text=text or "")

    def describe(self, client: ClientConn, target: str, session_only: bool) -> p.Described:
        """What `target` names (has-session: a session; display: a pane), with that pane's foreground
        program as /proc shows it now."""
        m = self.manager
        if session_only:
            return p.Described(session=m.info(m.get_session(target)))
        session, pane = m.pane_of(target, self.current(client))
        layout, pid = session.layout, session.record.child_pid
        if layout is not None:
            if pane == ANY_PANE:
                pane = next((w.active_pane for w in layout.windows if "*" in w.flags), pane)
            pid = next((q.pid for q in layout.panes if q.id == pane), 0)
        fg = foreground(pid) if pid and session.record.state == "running" else None
        return p.Described(
            session=m.info(session), layout=layout, pane=pane, current_path=fg.cwd if fg else "",
            current_command=fg.name if fg else "",
        )  # fmt: skip

    def status(self) -> p.StatusReport:
        return p.StatusReport(
            pid=os.getpid(),
            version=__version__,
            sessions=self.manager.session_count(),
            hosts_alive=self.manager.hosts_alive(),
            clients=len(self.clients),
            database=str(self.manager.store.path),
            socket=str(self.paths.socket),
            uptime=time.monotonic() - self.started,
        )

    async def shutdown(self) -> None:
        await self.events.close()
        await self.manager.save_all_snapshots()
        if self.manager.zygote is not None:
            await self.manager.zygote.close()
        for client in list(self.clients):
            await client.channel.close()
        for task in list(self._conn_tasks):
            task.cancel()
        await asyncio.gather(*self._conn_tasks, return_exceptions=True)
        await self.manager.close()


def acquire_lock(path: Path, *lines: str) -> IO[str] | None:
    """A single-instance lock: held for the daemon's lifetime, released by the kernel on death.
    The file says who holds it: the pid, then `lines`."""
    lock = open(path, "a+")  # noqa: SIM115 - lives as long as the daemon
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    lock.seek(0)
    lock.truncate()
    lock.write("".join(f"{line}\n" for line in (str(os.getpid()), *lines)))
    lock.flush()
    return lock


def lock_holder(path: Path) -> list[str] | None:
    """The lines of a held lock (pid first), or None if nobody holds it."""
    try:
        with open(path) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return f.read().splitlines() or ["0"]
            fcntl.flock(f, fcntl.LOCK_UN)
    except FileNotFoundError:
        pass
    return None


def _holder_pid(lines: list[str] | None) -> int:
    return int(lines[0]) if lines and lines[0].isdigit() else 0


class RuntimeKeeper:
    """Keeps the daemon reachable when its runtime directory vanishes (logind removes
    $XDG_RUNTIME_DIR at logout; a user may `rm -rf` it): the database, not the runtime directory, says
    what exists, so the daemon re-creates the directory, its lock and its socket, and carries on."""

    INTERVAL = 0.5

    def __init__(self, paths: Paths, lock: IO[str], serve: Callable[[], Awaitable[asyncio.Server]]) -> None:
        self.paths = paths
        self.lock = lock
        self._serve = serve
        self.server: asyncio.Server | None = None
        self._socket_ino = 0

    async def listen(self) -> None:
        # A socket left by a killed daemon is stale: we hold the locks, so nobody else serves it.
        with contextlib.suppress(FileNotFoundError):
            self.paths.socket.unlink()
        old_umask = os.umask(0o177)
        try:
            server = await self._serve()
        finally:
            os.umask(old_umask)
        if self.server is not None:
            self.server.close()  # connected clients stay connected
        self.server = server
        self._socket_ino = self.paths.socket.stat().st_ino

    async def run(self) -> None:
        """Until cancelled: look every INTERVAL, repair what is gone."""
        while True:
            await asyncio.sleep(self.INTERVAL)
            try:
                await self.check()
            except (OSError, ScarabError) as exc:  # e.g. the parent directory cannot be created yet
                print(f"scarab: cannot re-create {self.paths.runtime}: {exc}", file=sys.stderr, flush=True)
                await asyncio.sleep(5)

    async def check(self) -> None:
        if _same_file(self.paths.socket, self._socket_ino) and _same_file(
            self.paths.lock, os.fstat(self.lock.fileno()).st_ino
        ):
            return
        self.paths.prepare_runtime()
        if isinstance(sys.stderr, CappedLog):
            sys.stderr.reopen_if_gone()
        if not _same_file(self.paths.lock, os.fstat(self.lock.fileno()).st_ino):
            lock = acquire_lock(self.paths.lock)
            if lock is None:
                return  # another start holds it for a moment (it will find the data lock ours and go)
            self.lock.close()
            self.lock = lock
        if not _same_file(self.paths.socket, self._socket_ino):
            await self.listen()
            print(f"scarab: {self.paths.socket} was removed; listening there again", file=sys.stderr, flush=True)


class AcceptTrouble:
    """The loop's exception handler. Out of descriptors, asyncio's accept loop reports every
    failed accept (with a traceback), up to the listen backlog (1024) per turn, and tries again a
    second later; the clients wait in the backlog meanwhile. One line every ACCEPT_REPORT_EVERY
    seconds says so instead (measured: 43 KB of tracebacks in 2 s before). Other errors go to
    asyncio's default handler."""

    def __init__(self) -> None:
        self.reported = -ACCEPT_REPORT_EVERY
        self.failed = 0

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        if context.get("message") != "socket.accept() out of system resource":
            loop.default_exception_handler(context)
            return
        self.failed += 1
        now = time.monotonic()
        if now - self.reported >= ACCEPT_REPORT_EVERY:
            exc = context.get("exception")
            why = exc.strerror if isinstance(exc, OSError) else exc
            print(f"scarab: cannot accept connections ({why}; {self.failed} tries); clients wait until "
                  "descriptors are free (raise `ulimit -n`?)", file=sys.stderr, flush=True)  # fmt: skip
            self.reported, self.failed = now, 0


def _same_file(path: Path, ino: int) -> bool:
    try:
        return path.stat().st_ino == ino
    except OSError:
        return False


def _programs(layout: p.Layout) -> list[p.PaneProgram]:
    """Each live pane's foreground program, read from /proc here, where the panes run."""
    programs = []
    for pane in layout.panes:
        fg = foreground(pane.pid) if pane.pid and not pane.exited else None
        if fg is not None:
            programs.append(p.PaneProgram(pane=pane.id, cwd=fg.cwd, argv=list(fg.argv), shell=fg.is_shell))
    return programs


def _raise_fd_limit() -> None:
    """Hundreds of clients and hosts each hold a descriptor: use the hard limit, not the soft one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def manager_config(paths: Paths) -> ManagerConfig:
    interval = os.environ.get("SCARAB_SNAPSHOT_INTERVAL")
    cfg = load_config(paths.config_file)
    return ManagerConfig(
        on_exit=cfg.on_exit,
        scrollback=cfg.scrollback,
        snapshot_interval=float(interval) if interval else 5.0,
        default_command=(cfg.default_shell,) if cfg.default_shell else (),
        program_clipboard=cfg.program_clipboard,
    )


async def run_daemon(paths: Paths, ready: int | None = None) -> int:
    """Run the daemon until SIGTERM/SIGINT or `daemon stop`. `ready` gets one status line."""

    reporter = Reporter(ready)

    def say(line: str) -> None:
        if reporter.pending:
            reporter(line)
        else:
            print(line, file=sys.stderr, flush=True)

    try:
        paths.prepare_runtime()
    except ScarabError as exc:
        say(f"error {exc}")
        return 1
    _raise_fd_limit()
    set_process_name("scarab-daemon")
    # The database's lock first: one daemon per database, even when the runtime directory was removed
    # under a running daemon or this command has another XDG_RUNTIME_DIR.
    try:
        paths.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        data_lock = acquire_lock(paths.data_lock, str(paths.socket))
    except OSError as exc:
        say(f"error cannot lock {paths.data_lock}: {exc.strerror}")
        return 1
    if data_lock is None:
        holder = lock_holder(paths.data_lock)
        where = holder[1] if holder and len(holder) > 1 else str(paths.socket)
        if where != str(paths.socket):
            say(
                f"error the daemon for {paths.database} (pid {_holder_pid(holder)}) listens on {where}, "
                f"not in this XDG_RUNTIME_DIR; run with XDG_RUNTIME_DIR={Path(where).parent.parent}"
            )
            return 1
        say(f"running {_holder_pid(holder)}")
        return 0 if ready is not None else 1
    lock = acquire_lock(paths.lock)
    if lock is None:
        data_lock.close()
        say(f"running {_holder_pid(lock_holder(paths.lock))}")
        return 0 if ready is not None else 1
    try:
        try:
            store = Store(paths.database)
            config = manager_config(paths)
        except ScarabError as exc:
            say(f"error {exc}")
            return 1
        if store.tightened:
            print(
                f"scarab: {paths.data} was open to other users; made it private (0700): it holds saved screens",
                file=sys.stderr,
                flush=True,
            )
        if store.moved_aside is not None:
            print(
                f"scarab: {paths.database} was corrupt; moved it to {store.moved_aside} and started a new "
                "database (sessions are rebuilt from running hosts)",
                file=sys.stderr,
                flush=True,
            )
        daemon = Daemon(paths, store, config)
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(AcceptTrouble())
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, daemon.stopping.set)
        daemon.manager.zygote = await Zygote.start()
        # Adopt and resurrect before serving, so the first client already sees every session.
        await daemon.manager.restore_sessions()
        keeper = RuntimeKeeper(
            paths,
            lock,
            lambda: asyncio.start_unix_server(
                daemon.serve_client, path=str(paths.socket), limit=CLIENT_MAX_FRAME, backlog=1024
            ),
        )
        await keeper.listen()
        keeping = [asyncio.create_task(keeper.run()), asyncio.create_task(daemon.keep_storage())]
        try:
            say(f"ready {os.getpid()}")
            await daemon.stopping.wait()
        finally:
            for task in keeping:
                task.cancel()
            await asyncio.gather(*keeping, return_exceptions=True)
            assert keeper.server is not None
            keeper.server.close()
            await daemon.shutdown()
            with contextlib.suppress(FileNotFoundError):
                paths.socket.unlink()
            store.close()
        return 0
    except Exception as exc:
        say(f"error the daemon failed to start: {exc.__class__.__name__}: {exc}")
        raise
    finally:
        lock.close()
        data_lock.close()


def fork_daemon(paths: Paths) -> int:
    """Fork a background daemon; print the line it reports (`ready PID`, `running PID`, `error ...`)."""
    read_fd, write_fd = os.pipe()
    if os.fork() != 0:
        os.close(write_fd)
        line = read_line(read_fd, None) or "error the daemon exited during start-up; see " + str(paths.daemon_log)
        print(line)
        return 0 if line.startswith(("ready", "running")) else 1
    os.close(read_fd)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    try:
        paths.prepare_runtime()
        log = open_log(paths.daemon_log)
    except ScarabError as exc:
        report(write_fd, f"error {exc}")
        os._exit(1)
    except OSError as exc:
        report(write_fd, f"error cannot open the daemon log {paths.daemon_log}: {exc.strerror}")
        os._exit(1)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdout = sys.stderr = CappedLog(paths.daemon_log, (1, 2))
    code = 1
    try:
        code = asyncio.run(run_daemon(paths, ready=write_fd))
    finally:
        os._exit(code)
