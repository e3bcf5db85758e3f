"""Session host layer: one process per session owning the PTY, the child and the emulator.

Forked by the zygote (or started as `python -m scarab.daemon.host ...` when there is none), it
starts its own process session so it outlives the daemon, then serves one daemon connection at a
time on its own socket, on its own small event loop (hostio).
Input is written to the PTY before any pending output is parsed; output is parsed into the
emulator and sent as frames of changed rows, coalesced (first frame after ~0.5 ms, then at most
60/s) and skipped while the daemon is not keeping up, so only the latest state travels.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import os
import signal
import socket
import sys
import time
from collections.abc import Iterable, Iterator

import msgpack

from scarab import protocol as p
from scarab.daemon.emulator import DEFAULT_SCROLLBACK, Emulator
from scarab.daemon.hostio import FrameConn, Loop, Timer
from scarab.daemon.pty import Child, child_env
from scarab.daemon.screens import capture_pages, history_page, restore, snapshot_head
from scarab.environ import parse_entries
from scarab.errors import BadRequest, ProtocolError
from scarab.logfile import CappedLog
from scarab.peercred import socket_peer_uid
from scarab.proctitle import HOST, set_process_name, set_process_title
from scarab.search import compile_pattern, search_lines
from scarab.styles import Line, Mode, Style

__all__ = ["HostConfig", "SessionHost", "encode_frame", "encode_rows", "main"]

FIRST_FRAME_DELAY = 0.0005  # lets the rest of a burst arrive; an echo is never held longer
FRAME_INTERVAL = 1 / 60
SMALL_OUTPUT = 512  # bytes: below this a frame goes out at once, whatever the frame rate
READ_SIZE = 65536
MAX_BATCH = 256 * 1024
# Parsing runs for at most about this long per turn of the loop; between turns the daemon's
# messages and keystrokes are handled. Each batch read from the PTY is parsed in slices that start
# at MIN_SLICE bytes and double while they stay quick (a flood of plain text reaches 256 KB slices
# within a dozen), and shrink when one was slow: bytes that are slow to parse (REP, erase on a
# huge screen) never keep the host from answering.
PARSE_BUDGET = 0.02
MIN_SLICE = 64
# Stop sending frames while this much is still queued for the daemon; dirty rows accumulate instead.
MAX_QUEUED = 512 * 1024
# Connections not yet proven to be the daemon; past this the oldest is dropped.
MAX_GREETING = 8
ACCEPT_BACKOFF = 0.5  # seconds: out of descriptors, wait before accepting again
SOCKET_CHECK = 1.0  # seconds between looks at whether our socket's path still exists


def encode_rows(rows: Iterable[tuple[int, Line]]) -> tuple[list[list[object]], list[list[int]]]:
    """Rows as `[index, text, runs]` with a style table local to them (the Frame/History encoding)."""
    table: dict[Style, int] = {}
    lines: list[list[object]] = []
    for index, line in rows:
        runs = [[count, table.setdefault(style, len(table))] for count, style in line.runs]
        lines.append([index, line.text, runs])
    return lines, [list(style) for style in table]


def encode_frame(emu: Emulator, session_id: str, seq: int, rows: list[int], full: bool, bell: bool = False) -> p.Frame:
    """A Frame of `rows` with a style table local to this frame."""
    lines, styles = encode_rows((y, emu.row(y)) for y in rows)
    x, cy, visible, shape = emu.cursor
    return p.Frame(
        session_id=session_id,
        seq=seq,
        cols=emu.cols,
        rows=emu.rows,
        cursor=[x, cy, int(visible), shape],
        modes=emu.modes,
        title=emu.title,
        full=full,
        lines=lines,
        styles=styles,
        bell=bell,
    )


class HostConfig(argparse.Namespace):
    """What a host is started with: from its command line, or as a dict from the zygote."""

    session_id: str
    name: str
    socket: str
    log: str
    token: str  # what the daemon must say (HostAuth) to be taken as the daemon
    cols: int
    rows: int
    cwd: str
    scrollback: int
    restore: str | None
    environ: list[str]  # environment overrides (environ.py entries)
    command: list[str]


class SessionHost:
    def __init__(self, config: HostConfig, loop: Loop, blank: Emulator | None = None) -> None:
        """`blank`: a never-fed emulator to use (the zygote's) instead of building one."""
        self.config = config
        self.loop = loop
        if blank is None:
            self.emu = Emulator(config.cols, config.rows, config.scrollback, on_reply=self.write_input)
        else:
            self.emu = blank
            blank.reconfigure(config.cols, config.rows, config.scrollback, on_reply=self.write_input)
        # The capture being paged out (HostCapture page 0 takes the rows) and its next page.
        self.capture: Iterator[str] | None = None
        self.capture_ahead: str | None = None
        self.child: Child | None = None
        self.exit_status: int | None = None
        self.daemon: FrameConn | None = None
        # Connected, not (yet) proven to be the daemon: no Hello yet (False) or no HostAuth (True).
        # Insertion order is age: the oldest is dropped first when there are too many.
        self.greeting: dict[FrameConn, bool] = {}
        self.accept_paused = False
        self.listener: socket.socket | None = None
        self.socket_ino = 0
        self.seq = 0
        self.pending_input = bytearray()
        self.flush_timer: Timer | None = None
        self.last_flush = 0.0
        self.pending_output = 0  # bytes parsed since the last frame
        self.unparsed = bytearray()  # read from the PTY, not parsed yet (the PTY is not read meanwhile)
        self.slice = MIN_SLICE
        self.output_ended = False
        self.reap_deadline = 0.0

    # -- PTY side ---------------------------------------------------------------------------------

    def start_child(self) -> None:
        cfg = self.config
        env = child_env(cfg.session_id, cfg.name, parse_entries(cfg.environ))
        self.child = Child.spawn(cfg.command, cfg.cwd, env, cfg.cols, cfg.rows)
        self.loop.add_reader(self.child.fd, self.on_output)

    def on_output(self) -> None:
        assert self.child is not None
        data = self.child.read(READ_SIZE)
        if data is None:
            return
        if not data:
            self.output_ended = True
        # Under a flood the PTY hands out ~4 KB per read; parsing a bigger batch at once lets the
        # emulator skip rows that would scroll straight out of scrollback.
        while data and len(data) < MAX_BATCH:
            more = self.child.read(READ_SIZE)
            if not more:
                break
            data += more
        self.unparsed += data
        self.slice = MIN_SLICE
        # Until this is parsed the PTY is left unread: the child waits, as it would for a terminal.
        self.loop.remove_reader(self.child.fd)
        self.parse()

    def parse(self) -> None:
        """Parse for at most PARSE_BUDGET, then give the loop back (keystrokes and the daemon first)."""
        assert self.child is not None
        deadline = time.monotonic() + PARSE_BUDGET
        while self.unparsed:
            chunk = bytes(self.unparsed[: self.slice])
            del self.unparsed[: len(chunk)]
            started = time.monotonic()
            self.emu.feed(chunk)
            took = time.monotonic() - started
            self.pending_output += len(chunk)
            if took > 2 * PARSE_BUDGET:
                self.slice = max(MIN_SLICE, self.slice // 4)
            elif took < PARSE_BUDGET / 2:
                self.slice = min(MAX_BATCH, self.slice * 2)
            if time.monotonic() >= deadline:
                break
        self.schedule_flush()
        self.pass_clipboard()
        if self.unparsed:
            self.loop.call_later(0, self.parse)
        elif self.output_ended:
            self.on_child_gone()
        else:
            self.loop.add_reader(self.child.fd, self.on_output)

    def pass_clipboard(self) -> None:
        """A program's OSC 52 to the daemon, which decides whether it becomes a buffer
        (program_clipboard); kept until a daemon is connected (a program may copy at once)."""
        if self.emu.clipboard is not None and self.daemon is not None:
            data, self.emu.clipboard = self.emu.clipboard, None
            self.daemon.send(p.SetBuffer(data=data[: p.MAX_BUFFER], clipboard=True))

    def on_child_gone(self) -> None:
        assert self.child is not None
        self.loop.remove_reader(self.child.fd)
        self.loop.remove_writer(self.child.fd)
        self.reap_deadline = time.monotonic() + 5
        self._reap()

    def _reap(self) -> None:
        assert self.child is not None
        status = self.child.reap()
        if status is None and time.monotonic() < self.reap_deadline:
            self.loop.call_later(0.01, self._reap)
            return
        self.exit_status = status if status is not None else 0
        self.child.close()
        self.flush()
        if self.daemon is not None:
            self.daemon.send(p.ChildExited(status=self.exit_status))

    def write_input(self, data: bytes) -> None:
        """Write to the PTY now; whatever it cannot take yet waits for writability, in order."""
        if self.child is None or self.exit_status is not None:
            return
        if self.pending_input:
            self.pending_input += data
            return
        written = self.child.write(data)
        if written < len(data):
            self.pending_input += data[written:]
            self.loop.add_writer(self.child.fd, self._drain_input)

    def _drain_input(self) -> None:
        assert self.child is not None
        written = self.child.write(bytes(self.pending_input[:READ_SIZE]))
        del self.pending_input[:written]
        if not self.pending_input:
            self.loop.remove_writer(self.child.fd)

    # -- frames -----------------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        if self.flush_timer is not None:
            return
        delay = FIRST_FRAME_DELAY
        if self.pending_output > SMALL_OUTPUT:
            # Bulk output: at most FRAME_INTERVAL apart, intermediate screens skipped. Small output
            # (echo, a prompt) is never held back by the rate limit, so typing stays instant.
            delay = max(delay, self.last_flush + FRAME_INTERVAL - time.monotonic())
        self.flush_timer = self.loop.call_later(delay, self.flush)

    def flush(self, full: bool = False) -> None:
        if self.flush_timer is not None:
            self.flush_timer.cancel()
            self.flush_timer = None
        daemon = self.daemon
        if daemon is None:
            return  # dirty rows keep accumulating; the next daemon asks for a full frame anyway
        if not full and daemon.buffered() > MAX_QUEUED:
            # The daemon is behind: skip this intermediate state and look again shortly.
            self.flush_timer = self.loop.call_later(FRAME_INTERVAL, self.flush)
            return
        self.pending_output = 0
        dirty = self.emu.take_dirty()
        rows = list(range(self.emu.rows)) if full else sorted(dirty)
        bell, self.emu.bell = self.emu.bell, False
        self.seq += 1
        self.last_flush = time.monotonic()
        daemon.send(encode_frame(self.emu, self.config.session_id, self.seq, rows, full, bell))

    # -- daemon side ------------------------------------------------------------------------------

    def info(self) -> p.HostInfo:
        cwd = (self.child.cwd() if self.child and self.exit_status is None else None) or self.config.cwd
        return p.HostInfo(
            session_id=self.config.session_id,
            name=self.config.name,
            host_pid=os.getpid(),
            child_pid=self.child.pid if self.child else 0,
            cols=self.emu.cols,
            rows=self.emu.rows,
            cwd=cwd,
            exited=self.exit_status is not None,
            exit_status=self.exit_status or 0,
            environ=list(self.config.environ),
        )

    def snapshot(self) -> p.Snapshot:
        """The screen now, and the stable index range of the history (the daemon pages through it)."""
        cwd = self.info().cwd
        data = snapshot_head(self.emu, cwd)
        total = self.emu.history_total
        return p.Snapshot(cwd=cwd, data=data, first=total - len(self.emu.history), total=total)

    def capture_page(self, scrollback: bool, ansi: bool, page: int) -> p.Captured:
        """Page 0 takes the rows (a consistent moment); each call builds one bounded page of text."""
        if page == 0:
            self.capture = capture_pages(self.emu, scrollback, ansi)
            self.capture_ahead = next(self.capture, "")
        text = self.capture_ahead or ""
        self.capture_ahead = None if self.capture is None else next(self.capture, None)
        if self.capture_ahead is None:
            self.capture = None
        return p.Captured(text=text, more=self.capture_ahead is not None)

    def history(self, start: int, count: int) -> p.History:
        first, rows = self.emu.history_rows(start, min(count, p.MAX_HISTORY_ROWS))
        lines, styles = encode_rows(enumerate(rows, start=first))
        total = self.emu.history_total
        oldest = total - len(self.emu.history)
        return p.History(
            session_id=self.config.session_id, first=first, oldest=oldest, total=total, lines=lines, styles=styles
        )

    def grep(self, msg: p.HostGrep) -> p.GrepHits:
        """The rows matching `scarab grep`'s pattern: history by stable index, then the screen's
        rows numbered on from there (`total + y`, the index each will have once scrolled off)."""
        rx = compile_pattern(msg.pattern, msg.regex, msg.ignore_case)
        emu = self.emu
        lines = [line.text for line in emu.history]
        lines += [line.text for line in emu.screen_lines()]
        found, truncated = search_lines(rx, lines, emu.history_total - len(emu.history), msg.limit)
        session_id, name = self.config.session_id, self.config.name
        hits = [
            p.GrepHit(session_id=session_id, session=name, window=0, pane=0, row=row, line=text, start=start, end=end)
            for row, text, start, end in found
        ]
        return p.GrepHits(hits=hits, truncated=truncated)

    def paste(self, data: bytes) -> None:
        """A paste buffer typed into the program, bracketed when it asked for bracketed paste
        (tmux's paste-buffer -p), so an editor or shell takes it as text and not as commands."""
        if self.emu.modes & Mode.BRACKETED_PASTE:
            data = b"\x1b[200~" + data.replace(b"\x1b[201~", b"") + b"\x1b[201~"
        self.write_input(data)

    def listen(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            os.chmod(path, 0o600)
            sock.listen(16)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        if self.listener is not None:
            self.loop.remove_reader(self.listener.fileno())
            self.listener.close()
        self.listener = sock
        self.socket_ino = os.stat(path).st_ino
        self.loop.add_reader(sock.fileno(), self._accept, urgent=True)

    def keep_socket(self) -> None:
        """Every SOCKET_CHECK seconds: if our socket's path is gone (the runtime directory removed
        at logout), bind it again, so that a later daemon finds this host. A path that exists is
        left alone, ours or not: two hosts must never take a socket from each other in turns."""
        self.loop.call_later(SOCKET_CHECK, self.keep_socket)
        path = self.config.socket
        if os.path.lexists(path):
            return
        hosts = os.path.dirname(path)
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(os.path.dirname(hosts)), exist_ok=True)  # $XDG_RUNTIME_DIR
            for private in (os.path.dirname(hosts), hosts):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(private, 0o700)
            self.listen(path)
            print(f"scarab-host: {path} was removed; listening there again", file=sys.stderr)

    def _accept(self) -> None:
        listener = self.listener
        assert listener is not None
        try:
            sock, _addr = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as exc:
            # Out of descriptors (EMFILE/ENFILE) or memory: the connection stays in the backlog and
            # the listener stays readable; accepting again at once would spin. Look again later.
            print(f"scarab-host: cannot accept a connection ({exc.strerror}); retrying in {ACCEPT_BACKOFF}s",
                  file=sys.stderr)  # fmt: skip
            self.loop.remove_reader(listener.fileno())
            self.loop.call_later(ACCEPT_BACKOFF, lambda: self._resume_accept(listener))
            return
        if socket_peer_uid(sock) != os.getuid():
            sock.close()  # another user's process: nothing to say to it
            return
        if len(self.greeting) >= MAX_GREETING:
            next(iter(self.greeting)).close()  # the oldest stranger: a daemon proves itself at once
        self.greeting[FrameConn(self.loop, sock, self.on_message, self.on_close)] = False

    def _resume_accept(self, listener: socket.socket) -> None:
        if listener is self.listener:  # not replaced by a re-bind meanwhile
            self.loop.add_reader(listener.fileno(), self._accept, urgent=True)

    def on_close(self, conn: FrameConn) -> None:
        self.greeting.pop(conn, None)
        if self.daemon is conn:
            self.daemon = None

    def on_message(self, conn: FrameConn, msg: p.Message) -> None:
        said_hello = self.greeting.get(conn)
        if said_hello is False:
            p.check_hello(msg)  # a ProtocolError here is answered and closed by the FrameConn
            self.greeting[conn] = True
            conn.send(p.Hello(version=p.PROTOCOL_VERSION, role="host", pid=os.getpid()))
            return
        if said_hello:
            if not (isinstance(msg, p.HostAuth) and hmac.compare_digest(msg.token, self.config.token)):
                # Any process of this user can connect; only the daemon knows the token. The
                # daemon's own connection carries on untouched.
                raise ProtocolError("this session host takes only its daemon (HostAuth with its token)")
            del self.greeting[conn]
            if self.daemon is not None:
                self.daemon.close()  # a new daemon replaces a dead or old one
            self.daemon = conn
            conn.send(self.info())
            self.pass_clipboard()
            return
        match msg:
            case p.HostInput(data=data):
                self.write_input(data)
            case p.HostResize(cols=cols, rows=rows):
                if 1 <= cols <= p.MAX_SIZE and 1 <= rows <= p.MAX_SIZE:
                    self.emu.resize(cols, rows)
                    if self.child is not None and self.exit_status is None:
                        self.child.resize(cols, rows)
                    self.flush(full=True)
            case p.HostRedraw():
                self.flush(full=True)
            case p.HostRename(name=name):
                self.config.name = name
                set_process_title(f"scarab-host: {name}")
            case p.HostEnvironment(entries=entries):
                self.config.environ = list(entries)
            case p.HostHistory(start=start, count=count):
                conn.send(self.history(start, count))
            case p.HostClearHistory():
                self.emu.clear_history()
                conn.send(p.Done())
            case p.HostCapture(scrollback=scrollback, ansi=ansi, page=page):
                conn.send(self.capture_page(scrollback, ansi, page))
            case p.HostSnapshot():
                conn.send(self.snapshot())
            case p.HostSaveRows(start=start, stop=stop):
                first, end, data = history_page(self.emu, start, stop)
                conn.send(p.SaveRows(start=first, stop=end, data=data))
            case p.HostGrep():
                try:
                    conn.send(self.grep(msg))
                except BadRequest as exc:
                    conn.send(p.Failed(code=exc.code, message=str(exc)))
            case p.HostPaste(data=data):
                self.paste(data)
            case p.HostTerminate():
                conn.send(p.Done())
                self.loop.stop()
            case _:
                conn.send(p.Failed(code="protocol", message=f"host: unexpected {type(msg).__name__}"))

    def shutdown(self) -> None:
        """End the child (as a closing terminal does) and say goodbye to the daemon."""
        if self.listener is not None:
            self.loop.remove_reader(self.listener.fileno())
            self.listener.close()
        if self.child is not None and self.exit_status is None:
            self.loop.remove_reader(self.child.fd)
            self.loop.remove_writer(self.child.fd)
            self.child.terminate()
            self.child.close()
        if self.daemon is not None:
            self.daemon.flush(2.0)
            self.daemon.close()
        for conn in list(self.greeting):
            conn.close()


def _load_restore(path: str | None, emu: Emulator) -> None:
    """The restore file: the snapshot's head, then one `[start, stop, rows]` per history page."""
    if not path:
        return
    try:
        with open(path, "rb") as f:
            items = msgpack.Unpacker(f, raw=False, max_buffer_size=p.MAX_FRAME)
            head = next(items)
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(head.get("saved_at", time.time())))
            pages = ((int(start), int(stop), bytes(data)) for start, stop, data in items)
            restore(emu, head, pages, str(head.get("marker") or f"[scarab: restored {stamp}]"))
    except Exception as exc:  # a damaged snapshot costs the old screen, never the session
        emu.feed(f"[scarab: could not restore the saved screen: {exc}]\r\n".encode())
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def parse_args(argv: list[str]) -> HostConfig:
    parser = argparse.ArgumentParser(prog="scarab-host")
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--log", default=os.devnull)
    parser.add_argument("--cols", type=int, default=80)
    parser.add_argument("--rows", type=int, default=24)
    parser.add_argument("--cwd", default=os.path.expanduser("~"))
    parser.add_argument("--scrollback", type=int, default=DEFAULT_SCROLLBACK)
    parser.add_argument("--restore")
    parser.add_argument("--environ", action="append", default=[])
    parser.add_argument("command", nargs="+")
    return parser.parse_args(argv, namespace=HostConfig())


def _serve(config: HostConfig, ready_fd: int, blank: Emulator | None) -> int:
    loop = Loop()
    host = SessionHost(config, loop, blank)
    _load_restore(config.restore, host.emu)
    host.listen(config.socket)
    host.keep_socket()
    try:
        host.start_child()
        assert host.child is not None
        os.write(ready_fd, f"ready {os.getpid()} {host.child.pid}\n".encode())
        os.close(ready_fd)
        loop.run()
    finally:
        host.shutdown()
        loop.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(config.socket)
    return 0


def serve_detached(config: HostConfig, ready_fd: int, blank: Emulator | None = None) -> int:
    """Be the host in this freshly forked process: own session, no stdio, until terminated.

    The ready line (`ready HOST_PID CHILD_PID` or `error ...`) goes to `ready_fd`."""
    set_process_name(HOST)
    set_process_title(f"{HOST}: {config.name}")
    os.setsid()  # no controlling terminal: terminal signals aimed at the daemon's group never reach us
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote ignores it; we reap our child
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    sys.stderr = CappedLog(config.log)  # fd 2 is the log: a fault repeating in a loop cannot fill the disk
    try:
        return _serve(config, ready_fd, blank)
    except Exception as exc:
        with contextlib.suppress(OSError):
            os.write(ready_fd, f"error {exc}\n".encode())
        raise


def main(argv: list[str] | None = None) -> int:
    """A host as a fresh interpreter (when there is no zygote); stdout is the daemon's ready pipe."""
    config = parse_args(sys.argv[1:] if argv is None else argv)
    # Not on the command line: any user can read that in /proc; and not passed on to the child.
    config.token = os.environ.pop(p.HOST_TOKEN_ENV, "")
    # Fork so the daemon's child exits at once and the host is re-parented to init: the daemon owes
    # it no wait(), and the host lives on when the daemon dies.
    if os.fork() != 0:
        os._exit(0)
    return serve_detached(config, os.dup(1))


if __name__ == "__main__":
    raise SystemExit(main())
