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
from collections.abc import AsyncGenerator, Callable
from typing import IO

from scarab import __version__
from scarab import protocol as p
from scarab.channel import Channel, check_hello, peer_uid
from scarab.config import load_config
from scarab.daemon.hostlink import Zygote
from scarab.daemon.registry import ManagerConfig, SessionManager
from scarab.daemon.store import Store
from scarab.errors import ProtocolError, ScarabError
from scarab.paths import Paths
from scarab.proctitle import set_process_name

__all__ = ["Daemon", "acquire_lock", "run_daemon"]

# A client that has this much unread output is behind: frames are dropped and it is resynced later.
CLIENT_MAX_QUEUED = 4 * 1024 * 1024


class ClientConn:
    """One connected client. Implements the registry's Viewer."""

    _ids = itertools.count(1)

    def __init__(self, channel: Channel, redraw: Callable[[str], None]) -> None:
        self.id = next(self._ids)
        self.channel = channel
        self.behind = False
        self._redraw = redraw
        self._redraw_asked = False
        self.attached = False  # attached at least once: a TUI, which follows the session list

    def push(self, msg: p.Message) -> None:
        if isinstance(msg, p.Frame):
            if msg.full:
                self.behind = self._redraw_asked = False
            elif self.behind:
                # Caught up enough to take a whole screen again: ask the host for one, once.
                if not self._redraw_asked and self.channel.buffered() < CLIENT_MAX_QUEUED // 4:
                    self._redraw_asked = True
                    self._redraw(msg.session_id)
                return
            elif self.channel.buffered() > CLIENT_MAX_QUEUED:
                self.behind = True  # skip intermediate states until a full frame resyncs it
                return
        self.channel.send_nowait(msg)

    def expect_full(self) -> None:
        self.behind = True
        self._redraw_asked = True  # attach already asked for a full frame
        self.attached = True


class Daemon:
    def __init__(self, paths: Paths, store: Store, config: ManagerConfig) -> None:
        self.paths = paths
        self.manager = SessionManager(paths, store, config)
        self.clients: set[ClientConn] = set()
        self.started = time.monotonic()
        self.stopping = asyncio.Event()
        self._conn_tasks: set[asyncio.Task[None]] = set()
        self._change_pending = False
        self.manager.on_change = self._sessions_changed

    def _sessions_changed(self) -> None:
        """Tell attached clients the new session list, once per burst of changes (one loop turn)."""
        if not self._change_pending:
            self._change_pending = True
            asyncio.get_running_loop().call_soon(self._push_sessions)

    def _push_sessions(self) -> None:
        self._change_pending = False
        listeners = [c for c in self.clients if c.attached]
        if listeners:
            msg = p.SessionsChanged(sessions=self.manager.list_sessions())
            for client in listeners:
                client.channel.send_nowait(msg)

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conn_tasks.add(task)
        channel = Channel(reader, writer)
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
            with contextlib.suppress(ScarabError):
                self.manager.detach_client(client)
            await channel.close()
            self._conn_tasks.discard(task)

    async def dispatch(self, client: ClientConn, msg: p.Message) -> p.Message | None:
        m = self.manager
        try:
            match msg:
                case p.SessionCreate(name=name, cols=cols, rows=rows, cwd=cwd, command=command, environ=environ):
                    return p.Created(session=await m.create_session(name, cols, rows, cwd, command, environ))
                case p.SessionList():
                    return p.Listed(sessions=m.list_sessions())
                case p.SessionAttach(target=target, cols=cols, rows=rows, environ=environ):
                    # The reply goes out before the host's full frame can arrive.
                    attached = await m.attach_client(target, client, cols, rows, environ)
                    client.channel.send_nowait(p.Attached(session=attached))
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
                    return p.Renamed(session=m.rename_session(target, new_name))
                case p.SessionDelete(target=target, force=force):
                    return p.Deleted(session_id=await m.delete_session(target, force))
                case p.Capture(target=target, scrollback=scrollback, ansi=ansi):
                    return await self.stream_capture(client, m.capture(target, scrollback, ansi))
                case p.Input(target=target, data=data, ack=ack):
                    try:
                        m.send_input(target, data, client)
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
                    return await m.history(target, start, count)
                case p.ClearHistory(target=target):
                    await m.clear_history(target)
                    return p.Done()
                case p.DaemonStatus():
                    return self.status()
                case p.DaemonStop():
                    self.stopping.set()
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
        await self.manager.save_all_snapshots()
        if self.manager.zygote is not None:
            await self.manager.zygote.close()
        for client in list(self.clients):
            await client.channel.close()
        for task in list(self._conn_tasks):
            task.cancel()
        await asyncio.gather(*self._conn_tasks, return_exceptions=True)
        await self.manager.close()


def acquire_lock(paths: Paths) -> IO[str] | None:
    """The single-instance lock: held for the daemon's lifetime, released by the kernel on death."""
    lock = open(paths.lock, "a+")  # noqa: SIM115 - lives as long as the daemon
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def locked_pid(paths: Paths) -> int | None:
    """The pid of the running daemon, if one holds the lock."""
    try:
        with open(paths.lock) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = f.read().strip()
                return int(text) if text.isdigit() else 0
            fcntl.flock(f, fcntl.LOCK_UN)
    except FileNotFoundError:
        pass
    return None


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
    )


async def run_daemon(paths: Paths, ready: int | None = None) -> int:
    """Run the daemon until SIGTERM/SIGINT or `daemon stop`. `ready` gets one status line."""

    def report(line: str) -> None:
        nonlocal ready
        if ready is not None:
            with contextlib.suppress(OSError):
                os.write(ready, (line + "\n").encode())
                os.close(ready)
            ready = None
        else:
            print(line, file=sys.stderr, flush=True)

    try:
        paths.prepare_runtime()
    except ScarabError as exc:
        report(f"error {exc}")
        return 1
    _raise_fd_limit()
    set_process_name("scarab-daemon")
    lock = acquire_lock(paths)
    if lock is None:
        report(f"running {locked_pid(paths) or 0}")
        return 0 if ready is not None else 1
    try:
        try:
            store = Store(paths.database)
            config = manager_config(paths)
        except ScarabError as exc:
            report(f"error {exc}")
            return 1
        if store.moved_aside is not None:
            print(
                f"scarab: {paths.database} was corrupt; moved it to {store.moved_aside} and started a new "
                "database (sessions are rebuilt from running hosts)",
                file=sys.stderr,
                flush=True,
            )
        daemon = Daemon(paths, store, config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, daemon.stopping.set)
        daemon.manager.zygote = await Zygote.start()
        # Adopt and resurrect before serving, so the first client already sees every session.
        await daemon.manager.restore_sessions()
        # A socket left by a killed daemon is stale: we hold the lock, so nobody else serves it.
        with contextlib.suppress(FileNotFoundError):
            paths.socket.unlink()
        old_umask = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(
                daemon.serve_client, path=str(paths.socket), limit=p.MAX_FRAME, backlog=1024
            )
        finally:
            os.umask(old_umask)
        try:
            report(f"ready {os.getpid()}")
            await daemon.stopping.wait()
        finally:
            server.close()
            await daemon.shutdown()
            with contextlib.suppress(FileNotFoundError):
                paths.socket.unlink()
            store.close()
        return 0
    except Exception as exc:
        report(f"error the daemon failed to start: {exc.__class__.__name__}: {exc}")
        raise
    finally:
        lock.close()
