"""Session host layer: one process per session owning its windows, their panes and the layouts.

Forked by the zygote (or started as `python -m scarab.daemon.host ...` when there is none), it
starts its own process session so it outlives the daemon, then serves one daemon connection at a
time on its own socket, on its own small event loop (hostio). It is a router: each pane (pane.py)
is a PTY, a child and an emulator; the windows and their layout trees are the pure models of
windows.py and layout.py. A split, a resize or a zoom is applied here, in one process and one step,
then the new geometry (`Layout`) is pushed to the daemon before the reply, and full frames of the
panes that became visible follow.
Input is written to the PTY before any pending output is parsed; all panes with output share one
parse budget per loop turn, smallest backlog first, so a flooding pane never starves an echo. A
pane just typed into goes further ahead: until its output is drawn (ECHO_WAIT at most from its first
key; a pane whose wait ran out gets none until it prints again), the other panes parse in short
turns and their frames wait, and its frame goes out as soon as it is parsed.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

from scarab import protocol as p
from scarab.daemon.emulator import Emulator
from scarab.daemon.hostconfig import HostConfig
from scarab.daemon.hostctl import HostControls
from scarab.daemon.hostio import FrameConn, Loop, Timer
from scarab.daemon.layout import Axis, Direction, Layout
from scarab.daemon.pane import SMALL_OUTPUT, Pane
from scarab.daemon.pty import child_env, default_shell
from scarab.daemon.screens import restore
from scarab.daemon.spec import SessionSpec, SpecError, WindowSpec
from scarab.daemon.windows import Window, Windows
from scarab.environ import parse_entries
from scarab.errors import BadRequest, ProtocolError
from scarab.logfile import CappedLog
from scarab.peercred import socket_peer_uid
from scarab.proctitle import HOST, set_process_name, set_process_title
from scarab.readyline import Reporter
from scarab.search import compile_pattern, time_limit

__all__ = ["SessionHost", "main"]

# All panes with output share this much parsing per turn of the loop; between turns the daemon's
# messages and keystrokes are handled.
PARSE_BUDGET = 0.02
MIN_SHARE = 0.002  # a pane's share of a round is never less (a round of many busy panes runs longer)
# How long keys typed into a pane put its output ahead of the other panes', from the first key not
# yet drawn. A program that does not echo costs the others this much delay once, then its keys
# wait for nothing until it prints again.
ECHO_WAIT = 0.05
# Stop sending frames while this much is still queued for the daemon; dirty rows accumulate instead.
MAX_QUEUED = 512 * 1024
# Connections not yet proven to be the daemon; past this the oldest is dropped.
MAX_GREETING = 8
ACCEPT_BACKOFF = 0.5  # seconds: out of descriptors, wait before accepting again
SOCKET_CHECK = 1.0  # seconds between looks at whether our socket's path still exists
CONTROLS_TICK = 1.0  # seconds between looks for programs a memory limit killed
DIRECTIONS = {d.value: d for d in Direction}


class SessionHost:
    def __init__(self, config: HostConfig, loop: Loop, blank: Emulator | None = None) -> None:
        """`blank`: a never-fed emulator (the zygote's) for the first pane instead of building one."""
        self.config = config
        self.name = config.name  # renamed later by the daemon (HostRename)
        self.environ = list(config.environ)  # changed later by the daemon (HostEnvironment)
        self.loop = loop
        self.blank = blank
        self.windows = Windows(config.cols, config.rows)
        self.panes: dict[int, Pane] = {}
        self.exit_status: int | None = None  # the last pane's, once the session's program has ended
        self.daemon: FrameConn | None = None
        # Connected, not (yet) proven to be the daemon: no Hello yet (False) or no HostAuth (True).
        # Insertion order is age: the oldest is dropped first when there are too many.
        self.greeting: dict[FrameConn, bool] = {}
        self.listener: socket.socket | None = None
        self.socket_ino = 0
        self.seq = 0  # one sequence for the frames of every pane
        self.busy: dict[int, Pane] = {}  # panes with output to parse
        self.typed: dict[int, float] = {}  # panes typed into, their output not drawn yet -> until when
        # Panes whose last wait ran out with nothing to draw (a program that does not echo): their
        # keys put nothing ahead until they print again.
        self.unechoed: set[int] = set()
        self.parse_timer: Timer | None = None
        self.layout_timer: Timer | None = None
        # The panes whose frames the daemon is being sent (the current window's visible ones) and
        # the size each was last sent at: a pane newly shown or resized gets a full frame.
        self.shown: dict[int, tuple[int, int]] = {}
        self.controls = HostControls(config.session_id, config.name, self.note, config.limits, config.record)

    # -- building -----------------------------------------------------------------------------------

    def build(self) -> None:
        """The windows and panes to start with (a spec's, else one fresh pane), their restored
        screens, at their final sizes; then every pane's program starts."""
        cfg = self.config
        spec, problem = self._read_spec()
        if spec is not None:
            self._rebuild(spec)
        else:
            command = " ".join(cfg.command)
            index = self.windows.new_window(cfg.window_id, cfg.pane_id, command=command, shell=default_shell())
            rect = self.windows[index].layout.rects()[cfg.pane_id]
            pane = self._new_pane(cfg.pane_id, list(cfg.command), cfg.cwd, rect.width, rect.height)
            _load_restore(cfg.restore, pane)
            if problem:
                pane.emu.feed(f"[scarab: could not rebuild the saved windows: {problem}]\r\n".encode())
        self._sync_sizes()
        env = self._env()
        for pane in self.panes.values():
            pane.start(env)

    def _read_spec(self) -> tuple[SessionSpec | None, str]:
        path = self.config.spec
        if not path:
            return None, ""
        try:
            with open(path, "rb") as f:
                return SessionSpec.unpack(f.read(p.MAX_FRAME)), ""
        except (OSError, SpecError) as exc:  # a damaged spec costs the old layout, never the session
            print(f"scarab-host: {path}: {exc}", file=sys.stderr)
            return None, str(exc)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def _rebuild(self, spec: SessionSpec) -> None:
        cols, rows = self.windows.size
        for w in spec.windows:
            layout = _spec_layout(w, cols, rows)
            self.windows.restore_window(
                w.index, Window(w.id, w.name, layout, w.automatic_rename, synchronize=w.synchronize)
            )
            for saved in w.panes:
                if saved.id not in layout.panes:
                    print(f"scarab-host: pane %{saved.id} has no place in {w.layout!r}; not restored", file=sys.stderr)
                    continue
                rect = layout.rects()[saved.id]
                pane = self._new_pane(saved.id, list(saved.command), saved.cwd, rect.width, rect.height)
                _load_restore(None if saved.restore is None else Path(saved.restore), pane)
        self.windows.restore_order(spec.current, spec.last)

    def _new_pane(self, pane_id: int, command: list[str], cwd: str, cols: int, rows: int) -> Pane:
        cfg = self.config
        emu, self.blank = self.blank or Emulator(cols, rows, cfg.scrollback), None
        pane = Pane(pane_id, self.loop, self, emu, command, cwd)
        emu.reconfigure(cols, rows, cfg.scrollback, on_reply=pane.write_input)
        self.panes[pane_id] = pane
        return pane

    def _env(self) -> dict[str, str]:
        return child_env(self.config.session_id, self.name, parse_entries(self.environ))

    def _spawn(self, pane_id: int, command: list[str] | None, cwd: str | None, cols: int, rows: int) -> Pane:
        """A new pane's program (a split, a new window): the user's shell in the session's directory
        unless told otherwise, as tmux's default-command and default start directory."""
        cwd = cwd or self.config.cwd
        if not os.path.isdir(cwd):
            raise BadRequest(f"no such directory: {cwd}")
        pane = self._new_pane(pane_id, list(command or [default_shell()]), cwd, cols, rows)
        try:
            pane.start(self._env())
        except OSError as exc:
            del self.panes[pane_id]
            raise BadRequest(f"cannot start {pane.command[0]}: {exc.strerror}") from None
        return pane

    # -- which pane ---------------------------------------------------------------------------------

    def _current(self) -> Window:
        return self.windows[self.windows.current]

    def _pane(self, target: str | int) -> Pane:
        """`%ID`, a pane id, or the active pane of the current window ("" or -1)."""
        if target in ("", -1):
            return self.panes[self._current().layout.active]
        text = str(target)
        try:
            pane_id = int(text.removeprefix("%"))
        except ValueError:
            raise BadRequest(f"can't find pane: {text}") from None
        pane = self.panes.get(pane_id)
        if pane is None:
            raise BadRequest(f"can't find pane: %{pane_id}")
        return pane

    def _window_index(self, target: str) -> int:
        """The index of `@ID`, of the window of `%ID`, or of the current window ("")."""
        if not target:
            return self.windows.current
        if target.startswith("%"):
            return self.windows.window_of(self._pane(target).id)
        try:
            window_id = int(target.removeprefix("@"))
        except ValueError:
            raise BadRequest(f"can't find window: {target}") from None
        for index in self.windows.indices:
            if self.windows[index].id == window_id:
                return index
        raise BadRequest(f"can't find window: @{window_id}")

    def _layout_of(self, pane: Pane) -> Layout:
        return self.windows[self.windows.window_of(pane.id)].layout

    # -- parsing: one budget per turn, shared ------------------------------------------------------------

    def want_parse(self, pane: Pane) -> None:
        self.busy[pane.id] = pane
        if self.parse_timer is None:
            self.parse_timer = self.loop.call_later(0, self._parse_round)

    def _parse_round(self) -> None:
        """Each pane with output parses for its share of PARSE_BUDGET, the panes just typed into
        first, then the smallest backlog (an echo is a few bytes); then the loop turns. A small output
        parsed whole is drawn at once, before the busier panes' slices; while an echo is awaited
        those get the shortest turns, so the loop comes back to read it soon."""
        self.parse_timer = None
        typed = self._typed()
        panes = sorted(self.busy.values(), key=lambda pane: (pane.id not in typed, len(pane.unparsed)))
        self.busy.clear()
        share = max(MIN_SHARE, PARSE_BUDGET / len(panes)) if panes else 0
        for i, pane in enumerate(panes):
            if self.panes.get(pane.id) is not pane:
                continue  # closed by an earlier pane's exit in this round
            turn = MIN_SHARE if typed and pane.id not in typed else share
            if pane.parse(time.monotonic() + turn, turn):
                self.busy[pane.id] = pane
                continue
            self.unechoed.discard(pane.id)  # it printed, and all of it is parsed
            if self.panes.get(pane.id) is pane and (
                typed.pop(pane.id, None) is not None or (pane.pending_output <= SMALL_OUTPUT and i < len(panes) - 1)
            ):
                pane.flush()
        if self.busy and self.parse_timer is None:
            self.parse_timer = self.loop.call_later(0, self._parse_round)

    def _typed(self) -> dict[int, float]:
        """The panes typed into whose output has not been parsed since, within ECHO_WAIT of their
        first key. Pruned in place: a round pops the panes it drew from this same dict."""
        if self.typed:
            now = time.monotonic()
            for pane_id in [pane_id for pane_id, until in self.typed.items() if until <= now]:
                del self.typed[pane_id]
                self.unechoed.add(pane_id)
        return self.typed

    # -- frames -----------------------------------------------------------------------------------

    def send_frame(self, pane: Pane, full: bool) -> bool:
        if pane.emu.bell and pane.id not in self.shown:
            pane.emu.bell = False
            with contextlib.suppress(BadRequest):
                self.windows.bell(self.windows.window_of(pane.id))
                self._schedule_layout()
        daemon = self.daemon
        if daemon is None or pane.id not in self.shown:
            return False  # dirty rows keep accumulating; a pane being shown gets a full frame anyway
        # Another pane's echo is awaited (it goes first), keys may be waiting to be read, or the
        # daemon is behind: skip this intermediate state.
        if not full and (self._echo_first(pane) or daemon.buffered() > MAX_QUEUED):
            pane.retry_flush()
            return False
        self.seq += 1
        daemon.send(pane.frame(self.config.session_id, self.seq, full))
        self.shown[pane.id] = (pane.emu.cols, pane.emu.rows)
        return True

    def _echo_first(self, pane: Pane) -> bool:
        """Whether `pane`'s frame waits for another pane's echo, or for keys not read yet (a pane
        being typed into never waits for those)."""
        return pane.id not in self._typed() and (bool(self.typed) or self.loop.urgent_ready())

    def _visible(self) -> list[int]:
        return list(self._current().layout.visible())

    def _sync_sizes(self) -> None:
        """Every pane at its place's size (a zoomed pane: the window's); programs get SIGWINCH."""
        for index in self.windows.indices:
            layout = self.windows[index].layout
            visible = layout.visible()
            for pane_id, rect in layout.rects().items():
                shown = visible.get(pane_id, rect)
                self.panes[pane_id].resize(shown.width, shown.height)

    def _changed(self, redraw: bool = False) -> None:
        """After windows or panes changed: sizes, the Layout, then a full frame of each pane newly
        shown or resized (every visible pane with `redraw`)."""
        if self.layout_timer is not None:
            self.layout_timer.cancel()
            self.layout_timer = None
        self._sync_sizes()
        previous = {} if redraw else self.shown
        self.shown = {pane_id: previous.get(pane_id, (-1, -1)) for pane_id in self._visible()}
        if self.daemon is None:
            return
        self.daemon.send(self.layout())
        for pane_id, size in list(self.shown.items()):
            pane = self.panes[pane_id]
            if size != (pane.emu.cols, pane.emu.rows):
                self.send_frame(pane, True)

    def _schedule_layout(self) -> None:
        """A change not caused by a request (a title, a program's name, an exit): one Layout for all
        the changes of this turn."""
        if self.layout_timer is None:
            self.layout_timer = self.loop.call_later(0, self._changed)

    def layout(self) -> p.Layout:
        windows, panes = [], []
        for index in self.windows.indices:
            window = self.windows[index]
            layout = window.layout
            visible = layout.visible()
            windows.append(
                p.WindowInfo(
                    index=index,
                    id=window.id,
                    name=window.name,
                    flags=self.windows.flags(index),
                    layout=layout.to_string(),
                    active_pane=layout.active,
                    automatic_rename=window.automatic_rename,
                    synchronize=window.synchronize,
                )
            )
            for pane_id, rect in layout.rects().items():
                pane = self.panes[pane_id]
                panes.append(
                    p.PaneInfo(
                        id=pane_id,
                        window=index,
                        left=rect.x,
                        top=rect.y,
                        width=rect.width,
                        height=rect.height,
                        active=pane_id == layout.active,
                        visible=pane_id in visible,
                        pid=pane.pid,
                        cwd=pane.cwd(),
                        command=pane.command,
                        current=pane.current,
                        title=pane.emu.title,
                        exited=pane.exit_status is not None,
                        exit_status=pane.exit_status or 0,
                    )
                )
        cols, rows = self._current().layout.size
        borders = [[b.x, b.y, b.length, int(b.vertical), int(b.active)] for b in self._current().layout.borders()]
        return p.Layout(
            session_id=self.config.session_id, cols=cols, rows=rows, windows=windows, panes=panes, borders=borders
        )

    # -- panes coming and going -----------------------------------------------------------------------

    def pane_exited(self, pane: Pane) -> None:
        """tmux's default: the pane closes (its window with its last pane). The session's very last
        pane stays with its last screen: the daemon applies its on_exit policy."""
        if len(self.panes) == 1:
            self.exit_status = pane.exit_status
            self._changed()  # the Layout saying so goes before ChildExited
            if self.daemon is not None:
                self.daemon.send(p.ChildExited(status=pane.exit_status or 0))
            return
        self._remove(pane)
        self._changed()

    def pass_clipboard(self, pane: Pane) -> None:
        """A program's OSC 52 to the daemon, which decides whether it becomes a buffer
        (program_clipboard); kept until a daemon is connected (a program may copy at once)."""
        if pane.emu.clipboard is not None and self.daemon is not None:
            data, pane.emu.clipboard = pane.emu.clipboard, None
            self.daemon.send(p.SetBuffer(data=data[: p.MAX_BUFFER], clipboard=True))

    def pane_renamed(self, pane: Pane) -> None:
        with contextlib.suppress(BadRequest):
            index = self.windows.window_of(pane.id)
            if self.windows[index].layout.active == pane.id and pane.current:
                self.windows.update_name(index, pane.current)
        self._schedule_layout()

    def _remove(self, pane: Pane) -> None:
        self.windows.kill_pane(pane.id)
        self.controls.closed(pane.id)
        pane.close()
        del self.panes[pane.id]
        self.busy.pop(pane.id, None)
        self.typed.pop(pane.id, None)
        self.unechoed.discard(pane.id)
        self.shown.pop(pane.id, None)

    def _kill(self, panes: list[Pane]) -> None:
        """kill-pane / kill-window: the panes close now; the session's last pane instead ends its
        program, and its exit goes the usual way (on_exit)."""
        for pane in panes:
            if len(self.panes) == 1:
                pane.terminate()
                return
            self._remove(pane)

    # -- requests ---------------------------------------------------------------------------------------

    def command(self, msg: p.Message) -> p.Message:
        """One of tmux's verbs, applied in one step: refused (nothing changed) with BadRequest."""
        sid = self.config.session_id
        match msg:
            case p.SplitWindow():
                target = self._pane(msg.target)
                layout = self._layout_of(target)
                if msg.pane_id in self.panes:
                    raise BadRequest(f"pane id %{msg.pane_id} is in use")
                trial = layout.copy()
                axis = Axis.LEFT_RIGHT if msg.horizontal else Axis.TOP_BOTTOM
                trial.split(target.id, axis, msg.pane_id, size=msg.size or None, percent=msg.percent or None,
                            before=msg.before, full=msg.full, detached=msg.detached)  # fmt: skip
                rect = trial.rects()[msg.pane_id]
                self._spawn(msg.pane_id, msg.command, msg.cwd, rect.width, rect.height)
                index = self.windows.window_of(target.id)
                self.windows[index].layout = trial
                return p.Spawned(session_id=sid, window=index, window_id=self.windows[index].id, pane=msg.pane_id)
            case p.NewWindow():
                if msg.pane_id in self.panes:
                    raise BadRequest(f"pane id %{msg.pane_id} is in use")
                command = " ".join(msg.command or [])
                index = self.windows.new_window(msg.window_id, msg.pane_id, name=msg.name, command=command,
                                                shell=default_shell(), index=msg.index if msg.index >= 0 else None,
                                                detached=msg.detached)  # fmt: skip
                rect = self.windows[index].layout.rects()[msg.pane_id]
                try:
                    self._spawn(msg.pane_id, msg.command, msg.cwd, rect.width, rect.height)
                except BadRequest:
                    self.windows.kill_window(index)
                    raise
                return p.Spawned(session_id=sid, window=index, window_id=msg.window_id, pane=msg.pane_id)
            case p.SelectPane():
                pane = self._pane(msg.target)
                index = self.windows.window_of(pane.id)
                layout = self.windows[index].layout
                if msg.direction:
                    found = layout.neighbour(pane.id, _direction(msg.direction))
                    if found is not None:
                        layout.select(found)
                elif msg.last:
                    layout.select_last()
                elif msg.step:
                    layout.select(pane.id)
                    layout.select_next(msg.step)
                else:
                    layout.select(pane.id)
                self.windows.select_window(index)
            case p.SelectWindow():
                if msg.step > 0:
                    self.windows.next_window()
                elif msg.step < 0:
                    self.windows.previous_window()
                elif msg.last:
                    self.windows.last_window()
                else:
                    self.windows.select_window(self._window_index(msg.target))
            case p.KillPane():
                self._kill([self._pane(msg.target)])
            case p.KillWindow():
                window = self.windows[self._window_index(msg.target)]
                self._kill([self.panes[pane_id] for pane_id in window.layout.panes])
            case p.RenameWindow():
                self.windows.rename_window(self._window_index(msg.target), msg.name)
            case p.ResizePane():
                pane = self._pane(msg.target)
                layout = self._layout_of(pane)
                if msg.zoom:
                    layout.toggle_zoom(pane.id)
                if msg.direction:
                    layout.resize_pane(pane.id, _direction(msg.direction), msg.amount)
                if msg.width or msg.height:
                    layout.resize_pane_to(pane.id, width=msg.width or None, height=msg.height or None)
            case p.SwapPane():
                pane = self._pane(msg.target)
                layout = self._layout_of(pane)
                if msg.source:
                    other = self._pane(msg.source)
                    if other.id not in layout.panes:
                        raise BadRequest("swap-pane: both panes must be in the same window")
                    layout.swap(pane.id, other.id, detached=msg.detached)
                elif msg.previous or msg.next:
                    layout.select(pane.id)
                    layout.swap_next(previous=msg.previous, detached=msg.detached)
                else:
                    raise BadRequest("swap-pane: give -U, -D or a source pane")
            case p.BreakPane():
                pane = self._pane(msg.target)
                index = self.windows.break_pane(pane.id, msg.window_id, name=msg.name, detached=msg.detached,
                                                command=" ".join(pane.command), shell=default_shell())  # fmt: skip
                return p.Spawned(session_id=sid, window=index, window_id=self.windows[index].id, pane=pane.id)
            case p.SelectLayout():
                layout = self.windows[self._window_index(msg.target)].layout
                if msg.step:
                    layout.next_preset(previous=msg.step < 0)
                elif msg.spread:
                    layout.spread()
                elif "," in msg.layout:
                    layout.select_layout(msg.layout)
                else:
                    layout.select_preset(msg.layout)
            case p.DragBorder():
                self.windows[self._window_index(msg.target)].layout.drag_border(msg.x, msg.y, msg.to_x, msg.to_y)
            case p.SetWindowOption():
                index = self._window_index(msg.target)
                on = _on_off(msg.value)
                if msg.name == "synchronize-panes":
                    self.windows[index].synchronize = on
                elif msg.name == "automatic-rename":
                    self.windows.set_automatic_rename(index, on)
                else:
                    raise BadRequest(f"invalid option: {msg.name} (synchronize-panes or automatic-rename)")
            case _:
                raise BadRequest(f"host: unexpected {type(msg).__name__}")
        return p.Done()

    def write_input(self, data: bytes, pane_id: int) -> None:
        """Keys for one pane; -1: the active pane, or every pane of a synchronized window."""
        if pane_id >= 0:
            pane = self.panes.get(pane_id)
            if pane is not None:
                self._keys(pane, data)
            return
        window = self._current()
        targets = window.layout.panes if window.synchronize else (window.layout.active,)
        for target in targets:
            self._keys(self.panes[target], data)

    def _keys(self, pane: Pane, data: bytes) -> None:
        self.controls.input(pane.id, data)
        # Counted from the first key not drawn yet: a key held down in a program that does not
        # echo would otherwise hold the other panes' frames for as long as it repeats.
        if pane.id not in self.unechoed:
            self.typed.setdefault(pane.id, time.monotonic() + ECHO_WAIT)
        pane.keys(data)

    def note(self, pane_id: int, text: str, kind: str) -> None:
        """A line of Scarab's own (what a limit did, why a recording stopped) on a pane's screen,
        `[scarab: text]`, and pushed to the daemon: to the status bar of every client attached to
        the session, and to watchers as a `kind` event."""
        pane = self.panes.get(pane_id)
        if pane is not None:
            pane.emu.feed(f"\r\n[scarab: {text}]\r\n".encode())
            pane.schedule_flush()
        if self.daemon is not None:
            self.daemon.send(p.Notice(session_id=self.config.session_id, text=text, pane=pane_id, kind=kind))

    def tick_controls(self) -> None:
        """Each second: programs a memory limit killed are named on their pane's screen."""
        self.loop.call_later(CONTROLS_TICK, self.tick_controls)
        self.controls.tick([pane.ref() for pane in self.panes.values()])

    # -- daemon side ------------------------------------------------------------------------------

    def info(self) -> p.HostInfo:
        active = self._pane("")
        cols, rows = self._current().layout.size
        return p.HostInfo(
            session_id=self.config.session_id,
            name=self.name,
            host_pid=os.getpid(),
            child_pid=active.pid,
            cols=cols,
            rows=rows,
            cwd=active.cwd(),
            exited=self.exit_status is not None,
            exit_status=self.exit_status or 0,
            environ=list(self.environ),
            limits=self.controls.limits.to_wire(),
        )

    def listen(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(path))
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
            self.shown = {}

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
            self._changed(redraw=True)
            for pane in self.panes.values():
                self.pass_clipboard(pane)
            return
        handler = self._handlers.get(type(msg))
        if handler is not None:
            handler(self, conn, msg)
            return
        try:
            reply = self.command(msg)
        except BadRequest as exc:
            conn.send(p.Failed(code=exc.code, message=str(exc)))
            return
        self._changed()
        conn.send(reply)

    # One handler per daemon request that is not a verb (those go through `command`).

    def _input(self, conn: FrameConn, msg: p.HostInput) -> None:
        self.write_input(msg.data, msg.pane)

    def _resize(self, conn: FrameConn, msg: p.HostResize) -> None:
        if 1 <= msg.cols <= p.MAX_SIZE and 1 <= msg.rows <= p.MAX_SIZE:
            self.windows.resize(msg.cols, msg.rows)
            self._changed(redraw=True)

    def _redraw(self, conn: FrameConn, msg: p.HostRedraw) -> None:
        self._changed(redraw=True)

    def _rename(self, conn: FrameConn, msg: p.HostRename) -> None:
        self.name = self.controls.name = msg.name
        set_process_title(f"scarab-host: {msg.name}")

    def _environment(self, conn: FrameConn, msg: p.HostEnvironment) -> None:
        self.environ = list(msg.entries)

    def _reading(self, conn: FrameConn, msg: p.Message) -> None:
        """Requests that read one pane's screen; an unknown pane is answered Failed."""
        try:
            match msg:
                case p.HostHistory(start=start, count=count, pane=pane):
                    conn.send(self._pane(pane).history(self.config.session_id, start, count))
                case p.HostClearHistory():
                    self._pane("").emu.clear_history()
                    conn.send(p.Done())
                case p.HostCapture(scrollback=scrollback, ansi=ansi, page=page, pane=pane):
                    conn.send(self._pane(pane).capture_page(scrollback, ansi, page))
                case p.HostSnapshot(pane=pane):
                    conn.send(self._pane(pane).snapshot())
                case p.HostSaveRows(start=start, stop=stop, pane=pane):
                    conn.send(self._pane(pane).save_rows(start, stop))
        except BadRequest as exc:
            conn.send(p.Failed(code=exc.code, message=str(exc)))

    def _grep(self, conn: FrameConn, msg: p.HostGrep) -> None:
        """`scarab grep` in every pane (p.ALL_PANES) or one: hits by window index and pane id."""
        try:
            rx = compile_pattern(msg.pattern, msg.regex, msg.ignore_case)
            panes = list(self.panes.values()) if msg.pane == p.ALL_PANES else [self._pane(msg.pane)]
        except BadRequest as exc:
            conn.send(p.Failed(code=exc.code, message=str(exc)))
            return
        cfg, truncated, left = self.config, False, msg.limit
        found_panes: list[p.GrepPane] = []
        try:
            with time_limit():
                for pane in panes:
                    found, more = pane.grep(rx, left)
                    truncated = truncated or more
                    if found:
                        window = self.windows.window_of(pane.id)
                        found_panes.append(
                            p.GrepPane(
                                session_id=cfg.session_id, session=self.name, window=window, pane=pane.id, rows=found
                            )
                        )
                        left -= len(found)
        except BadRequest as exc:  # stopped: the pattern backtracks for ever
            conn.send(p.Failed(code=exc.code, message=str(exc)))
            return
        conn.send(p.GrepHits(panes=found_panes, truncated=truncated))

    def _paste(self, conn: FrameConn, msg: p.HostPaste) -> None:
        with contextlib.suppress(BadRequest):
            self._pane(msg.pane).paste(msg.data)

    def _record(self, conn: FrameConn, msg: p.HostRecord) -> None:
        try:
            pane = self._pane(msg.pane)
        except BadRequest as exc:
            conn.send(p.Failed(code=exc.code, message=str(exc)))
            return
        conn.send(self.controls.record(msg, pane.ref()))

    def _limit(self, conn: FrameConn, msg: p.HostLimit) -> None:
        conn.send(self.controls.limit(msg, [pane.ref() for pane in self.panes.values()]))

    def _terminate(self, conn: FrameConn, msg: p.HostTerminate) -> None:
        conn.send(p.Done())
        self.loop.stop()

    _handlers: dict[type[p.Message], Callable[[SessionHost, FrameConn, Any], None]] = {
        p.HostInput: _input,
        p.HostResize: _resize,
        p.HostRedraw: _redraw,
        p.HostRename: _rename,
        p.HostEnvironment: _environment,
        p.HostHistory: _reading,
        p.HostClearHistory: _reading,
        p.HostCapture: _reading,
        p.HostSnapshot: _reading,
        p.HostSaveRows: _reading,
        p.HostGrep: _grep,
        p.HostPaste: _paste,
        p.HostRecord: _record,
        p.HostLimit: _limit,
        p.HostTerminate: _terminate,
    }

    def shutdown(self) -> None:
        """End every pane's program (as a closing terminal does) and say goodbye to the daemon."""
        self.controls.close()
        if self.listener is not None:
            self.loop.remove_reader(self.listener.fileno())
            self.listener.close()
        for pane in self.panes.values():
            pane.close()
        if self.daemon is not None:
            self.daemon.flush(2.0)
            self.daemon.close()
        for conn in list(self.greeting):
            conn.close()


def _direction(text: str) -> Direction:
    direction = DIRECTIONS.get(text)
    if direction is None:
        raise BadRequest(f"bad direction {text!r}: L, R, U or D")
    return direction


def _on_off(value: str) -> bool:
    if value not in ("on", "off"):
        raise BadRequest(f"bad value {value!r}: on or off")
    return value == "on"


def _spec_layout(w: WindowSpec, cols: int, rows: int) -> Layout:
    """A saved window's layout: its string with its pane ids; a string that does not fit the saved
    panes costs the arrangement (tiled instead), never the panes."""
    ids = [pane.id for pane in w.panes]
    try:
        layout = Layout.from_string(w.layout, cols=cols, rows=rows)
        if sorted(layout.panes) != sorted(ids):
            raise BadRequest(f"layout {w.layout!r} does not hold panes {ids}")
    except BadRequest as exc:
        print(f"scarab-host: window {w.index}: {exc}; tiling its panes", file=sys.stderr)
        layout = Layout(ids[0], cols, rows)
        for pane in ids[1:]:
            with contextlib.suppress(BadRequest):
                layout.split(layout.panes[-1], Axis.TOP_BOTTOM, pane)
                layout.select_preset("tiled")
    with contextlib.suppress(BadRequest):
        layout.select(w.active)
    if w.zoomed:
        layout.toggle_zoom()
    return layout


def _load_restore(path: Path | None, pane: Pane) -> None:
    """The restore file: the snapshot's head, then one `[start, stop, rows]` per history page; and
    the banner offering the program that was in the foreground when it was saved."""
    if not path:
        return
    try:
        with open(path, "rb") as f:
            items = msgpack.Unpacker(f, raw=False, max_buffer_size=p.MAX_FRAME)
            head = next(items)
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(head.get("saved_at", time.time())))
            pages = ((int(start), int(stop), bytes(data)) for start, stop, data in items)
            restore(pane.emu, head, pages, str(head.get("marker") or f"[scarab: restored {stamp}]"))
            argv = head.get("foreground")
            if isinstance(argv, list) and argv and all(isinstance(word, str) for word in argv):
                pane.offer_again(tuple(argv))
    except Exception as exc:  # a damaged snapshot costs the old screen, never the session
        pane.emu.feed(f"[scarab: could not restore the saved screen: {exc}]\r\n".encode())
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _serve(config: HostConfig, ready: Reporter, blank: Emulator | None) -> int:
    loop = Loop()
    host = SessionHost(config, loop, blank)
    host.listen(config.socket)
    host.keep_socket()
    host.tick_controls()
    try:
        host.build()
        ready(f"ready {os.getpid()} {host.info().child_pid}")
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
    ready = Reporter(ready_fd)
    try:
        return _serve(config, ready, blank)
    except Exception as exc:
        ready(f"error {exc}")  # nothing if the ready line went already
        raise


def main(argv: list[str] | None = None) -> int:
    """A host as a fresh interpreter (when there is no zygote); stdout is the daemon's ready pipe."""
    config = HostConfig.from_argv(sys.argv[1:] if argv is None else argv)
    # Fork so the daemon's child exits at once and the host is re-parented to init: the daemon owes
    # it no wait(), and the host lives on when the daemon dies.
    if os.fork() != 0:
        os._exit(0)
    return serve_detached(config, os.dup(1))


if __name__ == "__main__":
    raise SystemExit(main())
