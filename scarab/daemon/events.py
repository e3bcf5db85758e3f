"""Events layer: the daemon's live event stream (`scarab watch`, `Client.watch`), fanned out to watchers.

Events are derived, not reported: the hub compares each new session list with the last one it saw
(created, renamed, closed, exited, clients attached or detached), each session's new Layout with its
last (windows and panes added, closed, renamed, resized, selected; layouts, titles, directories) and
reads what hosts send (a bell, a pane's changed rows, a Notice of what a limit or a recording did).
So the registry needs no call per operation, only two hooks: "the session list changed" and "a
host sent this".

Publishing never waits: each watcher has a bounded queue drained by its own task onto its socket.
A watcher whose queue is full (it stopped reading; its socket buffer is full too) is dropped and its
connection closed, so no watcher can slow a session or the daemon. Output is merged per pane and
sent at most every OUTPUT_INTERVAL: a flooding pane costs a watcher a few events a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable

from scarab import protocol as p
from scarab.channel import Channel

__all__ = ["EventHub", "Watcher"]

# A watcher this far behind (events, or characters of output text) is dropped.
MAX_QUEUED = 1000
MAX_QUEUED_TEXT = 128 * 1024
# A pane's output reaches a watcher at most this often, merged (the newest text of each row).
OUTPUT_INTERVAL = 0.1
# Characters of output in one event; more is cut (the screen moved on anyway).
OUTPUT_MAX = 16 * 1024
# A watcher's socket buffers: small, so one that stops reading is found out after little output.
SOCKET_BUFFER = 64 * 1024
# A watcher that has taken nothing for this long while events wait is dropped too.
MAX_STALL = 3.0


class Watcher:
    """One watching connection: a filter, a bounded queue and the task that writes it out."""

    def __init__(self, channel: Channel, session_id: str, output: bool, on_stall: Callable[[Watcher], None]) -> None:
        self.channel = channel
        self.on_stall = on_stall  # it took nothing for MAX_STALL while events waited: the hub drops it
        self.session_id = session_id  # "" = every session
        self.output = output
        self.queue: deque[p.Event] = deque()
        self.queued_text = 0
        self.ready = asyncio.Event()
        # Output not sent yet, per (session id, pane): row -> text (a newer text of a row replaces it).
        self.rows: dict[tuple[str, int], dict[int, str]] = {}
        self.output_due: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None
        self.dropped = False
        self.closing = False  # the daemon is stopping: write what is queued, then end
        self.stalled_since = 0.0  # when its socket last stopped taking data (0: it takes it)
        sock = channel.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        channel.writer.transport.set_write_buffer_limits(high=SOCKET_BUFFER)

    def wants(self, session_id: str) -> bool:
        return not self.session_id or self.session_id == session_id

    def offer(self, event: p.Event) -> bool:
        """Queue `event`; False when the watcher is too far behind to take it."""
        if len(self.queue) >= MAX_QUEUED or self.queued_text + len(event.value) > MAX_QUEUED_TEXT:
            return False
        if self.stalled_since and time.monotonic() - self.stalled_since > MAX_STALL:
            return False
        self.queue.append(event)
        self.queued_text += len(event.value)
        self.ready.set()
        return True

    async def pump(self) -> None:
        """Until cancelled or the peer goes: write queued events, waiting for the socket to take them."""
        with contextlib.suppress(OSError, ConnectionError):
            while True:
                await self.ready.wait()
                self.ready.clear()
                while self.queue:
                    event = self.queue.popleft()
                    self.queued_text -= len(event.value)
                    self.channel.send_nowait(event)
                self.stalled_since = time.monotonic()
                try:
                    # Not only when the next event is offered: a flood may have ended by then.
                    await asyncio.wait_for(self.channel.writer.drain(), MAX_STALL)
                except TimeoutError:
                    self.on_stall(self)
                    return
                self.stalled_since = 0.0
                if self.closing:
                    return


class EventHub:
    def __init__(self) -> None:
        self.watchers: set[Watcher] = set()
        self.sessions: dict[str, p.SessionInfo] = {}  # the list as last seen
        self.layouts: dict[str, p.Layout] = {}  # each session's last Layout

    # -- watchers ---------------------------------------------------------------------------------

    def add(
        self, channel: Channel, sessions: Iterable[p.SessionInfo], session_id: str = "", output: bool = False
    ) -> Watcher:
        """A new watcher; `sessions` is the list now (what later lists are compared with, when
        nobody was watching: the hub is told of every change, but the daemon's first list is not
        a change)."""
        if not self.watchers:
            self.sessions = {s.id: s for s in sessions}
        watcher = Watcher(channel, session_id, output, self._drop)
        watcher.task = asyncio.get_running_loop().create_task(watcher.pump())
        self.watchers.add(watcher)
        # The first event says the stream is live: everything after it will be seen.
        name = self.sessions[session_id].name if session_id in self.sessions else ""
        watcher.offer(p.Event(kind="watching", time=time.time(), session_id=session_id, session=name))
        return watcher

    def remove(self, channel: Channel) -> None:
        for watcher in [w for w in self.watchers if w.channel is channel]:
            self._forget(watcher)

    def _forget(self, watcher: Watcher) -> None:
        self.watchers.discard(watcher)
        if watcher.output_due is not None:
            watcher.output_due.cancel()
        if watcher.task is not None:
            watcher.task.cancel()

    def _drop(self, watcher: Watcher) -> None:
        """A watcher that stopped reading: closed, so its client sees the end instead of a gap."""
        watcher.dropped = True
        self._forget(watcher)
        watcher.channel.writer.transport.abort()

    async def close(self, timeout: float = 1.0) -> None:
        """The daemon is stopping: each watcher gets what it has queued and then `exit` (tmux's
        %exit), for at most `timeout`; then every pump ends."""
        for watcher in list(self.watchers):
            watcher.closing = True
            if not watcher.offer(p.Event(kind="exit", time=time.time())):
                self._drop(watcher)
        tasks = [w.task for w in self.watchers if w.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        for watcher in list(self.watchers):
            self._forget(watcher)
        await asyncio.gather(*tasks, return_exceptions=True)

    def publish(self, event: p.Event) -> None:
        for watcher in list(self.watchers):
            if watcher.wants(event.session_id) and not watcher.offer(event):
                self._drop(watcher)

    # -- sources ----------------------------------------------------------------------------------

    def sessions_changed(self, sessions: Iterable[p.SessionInfo]) -> None:
        """The session list now: events for what differs from the last one, in list order."""
        now = time.time()
        current = {s.id: s for s in sessions}
        for sid, old in self.sessions.items():
            if sid not in current:
                self.layouts.pop(sid, None)
                self.publish(p.Event(kind="session-closed", time=now, session_id=sid, session=old.name))
        for sid, new in current.items():
            old_info = self.sessions.get(sid)
            for kind, value in _session_changes(old_info, new):
                self.publish(p.Event(kind=kind, time=now, session_id=sid, session=new.name, value=value))
        self.sessions = current

    def host_message(self, session_id: str, msg: p.Message) -> None:
        """What a session's host sent (relayed to clients as well): windows and panes changed (a
        Layout, compared with the last one), bells and output, and its notices (a recording
        stopped by itself, a program a limit killed: what attached clients see on the status bar
        reaches scripts too)."""
        if isinstance(msg, p.Layout):
            self._layout(session_id, msg)
            return
        if not self.watchers or not isinstance(msg, p.Frame | p.Notice):
            return
        name = self.sessions[session_id].name if session_id in self.sessions else ""
        if isinstance(msg, p.Notice):
            self.publish(p.Event(kind=msg.kind, time=time.time(), session_id=session_id, session=name,
                                 pane=msg.pane, value=msg.text))  # fmt: skip
            return
        pane = getattr(msg, "pane", 0)
        if msg.bell:
            self.publish(p.Event(kind="bell", time=time.time(), session_id=session_id, session=name, pane=pane))
        if msg.full or not msg.lines:
            return  # a redraw asked for by a client is not output
        for watcher in self.watchers:
            if watcher.output and watcher.wants(session_id):
                rows = watcher.rows.setdefault((session_id, pane), {})
                for row, text, _runs in msg.lines:
                    rows[row] = text
                if watcher.output_due is None:
                    loop = asyncio.get_running_loop()
                    watcher.output_due = loop.call_later(OUTPUT_INTERVAL, self._send_output, watcher)

    def _layout(self, session_id: str, layout: p.Layout) -> None:
        old = self.layouts.get(session_id)
        self.layouts[session_id] = layout
        if not self.watchers or old is None:
            return  # a session's first Layout (created, adopted) is no change
        now = time.time()
        name = self.sessions[session_id].name if session_id in self.sessions else ""
        for kind, window, pane, value in layout_changes(old, layout):
            self.publish(p.Event(kind=kind, time=now, session_id=session_id, session=name, window=window, pane=pane,
                                 value=value))  # fmt: skip

    def _send_output(self, watcher: Watcher) -> None:
        watcher.output_due = None
        pending, watcher.rows = watcher.rows, {}
        now = time.time()
        for (session_id, pane), rows in pending.items():
            text = "\n".join(rows[row].rstrip() for row in sorted(rows))[:OUTPUT_MAX]
            name = self.sessions[session_id].name if session_id in self.sessions else ""
            event = p.Event(kind="output", time=now, session_id=session_id, session=name, pane=pane, value=text)
            if watcher in self.watchers and not watcher.offer(event):
                self._drop(watcher)
                return


def _session_changes(old: p.SessionInfo | None, new: p.SessionInfo) -> list[tuple[str, str]]:
    """(kind, value) for each difference between two looks at one session."""
    if old is None:
        changes = [("session-created", new.name)]
        if new.state == "exited":
            changes.append(("session-exited", str(new.exit_status)))
        return changes
    changes = []
    if old.name != new.name:
        changes.append(("session-renamed", new.name))
    if new.attached != old.attached:
        changes.append(("client-attached" if new.attached > old.attached else "client-detached", str(new.attached)))
    if new.state == "exited" and old.state != "exited":
        changes.append(("session-exited", str(new.exit_status)))
    elif old.state == "exited" and new.state == "running":
        changes.append(("session-respawned", new.name))
    return changes


def layout_changes(old: p.Layout | None, new: p.Layout) -> list[tuple[str, int, int, str]]:
    """(kind, window index, pane id, value) for each difference between two Layouts of a session,
    windows before panes, in the order tmux's control mode reports them."""
    changes: list[tuple[str, int, int, str]] = []
    old_windows = {w.id: w for w in old.windows} if old is not None else {}
    old_panes = {q.id: q for q in old.panes} if old is not None else {}
    new_windows = {w.id: w for w in new.windows}
    for wid, w in old_windows.items():
        if wid not in new_windows:
            changes.append(("window-closed", w.index, -1, w.name))
    for wid, w in new_windows.items():
        before = old_windows.get(wid)
        if before is None:
            changes.append(("window-added", w.index, -1, w.name))
            if "*" in w.flags:
                changes.append(("window-selected", w.index, -1, w.name))
            continue
        if before.name != w.name:
            changes.append(("window-renamed", w.index, -1, w.name))
        if before.layout != w.layout:
            changes.append(("layout-changed", w.index, -1, w.layout))
        if "*" in w.flags and "*" not in before.flags:
            changes.append(("window-selected", w.index, -1, w.name))
    for pid, q in old_panes.items():
        if pid not in {n.id for n in new.panes}:
            changes.append(("pane-closed", q.window, pid, ""))
    for q in new.panes:
        before_pane = old_panes.get(q.id)
        if before_pane is None:
            changes.append(("pane-added", q.window, q.id, f"{q.width}x{q.height}"))
            if q.active:
                changes.append(("pane-selected", q.window, q.id, ""))
            continue
        if (before_pane.width, before_pane.height) != (q.width, q.height):
            changes.append(("pane-resized", q.window, q.id, f"{q.width}x{q.height}"))
        if q.active and not before_pane.active:
            changes.append(("pane-selected", q.window, q.id, ""))
        if q.title != before_pane.title:
            changes.append(("pane-title-changed", q.window, q.id, q.title))
        if q.cwd != before_pane.cwd and q.cwd:
            changes.append(("pane-cwd-changed", q.window, q.id, q.cwd))
        if q.exited and not before_pane.exited:
            changes.append(("pane-exited", q.window, q.id, str(q.exit_status)))
    return changes
