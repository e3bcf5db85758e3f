"""Outbox layer (pure + one writer task): a send queue that coalesces screen frames.

When the reader on the other side is slow (an SSH link, a busy terminal), frames that are still
queued are merged into one: newer rows replace older ones, so only the latest screen state travels
and `cat bigfile` never queues megabytes behind a keystroke. Other messages keep their order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from scarab import protocol as p

__all__ = ["Outbox", "merge_frames"]


def merge_frames(old: p.Frame, new: p.Frame) -> p.Frame:
    """One frame equivalent to applying `old` then `new`."""
    if (
        new.full
        or (new.cols, new.rows) != (old.cols, old.rows)
        or (new.session_id, new.pane) != (old.session_id, old.pane)
    ):
        # A full frame replaces everything; a size change is always followed by a full frame.
        return new
    rows: dict[int, list[object]] = {}
    wrapped = (set(old.wrapped or ()) - {line[0] for line in new.lines}) | set(new.wrapped or ())
    offset = len(old.styles)
    for y, text, runs in old.lines:
        rows[y] = [y, text, runs]
    for y, text, runs in new.lines:
        rows[y] = [y, text, [[count, index + offset] for count, index in runs]]
    return p.Frame(
        session_id=new.session_id,
        seq=new.seq,
        cols=new.cols,
        rows=new.rows,
        cursor=new.cursor,
        modes=new.modes,
        title=new.title,
        full=old.full,
        lines=[rows[y] for y in sorted(rows)],
        styles=[*old.styles, *new.styles],
        bell=old.bell or new.bell,
        pane=new.pane,
        wrapped=sorted(wrapped) or None,
    )


class Outbox:
    """Messages waiting for a slow writer; run `pump` as a task until cancelled.

    With `window` set, at most that many frames may be unacknowledged (`ack`): kernel pipes and
    ssh's channel window would otherwise hold seconds of stale screens on a slow link. Frames that
    wait are merged, so the receiver gets the latest state one round trip after it asked for more.
    """

    def __init__(
        self, write: Callable[[p.Message], Awaitable[None]], limit: int = 10_000, window: int | None = None
    ) -> None:
        self._write = write
        self._queue: deque[p.Message] = deque()
        self._ready = asyncio.Event()
        self._acked = asyncio.Event()
        self.limit = limit
        self.window = window
        self.in_flight = 0
        self.merged = 0

    def ack(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self._acked.set()

    def put(self, msg: p.Message) -> None:
        if isinstance(msg, p.Frame) and self._queue:
            last = self._queue[-1]
            if isinstance(last, p.Frame) and (last.session_id, last.pane) == (msg.session_id, msg.pane):
                self._queue[-1] = merge_frames(last, msg)
                self.merged += 1
                return
        if len(self._queue) >= self.limit:
            raise OverflowError(f"more than {self.limit} messages queued for a peer that is not reading")
        self._queue.append(msg)
        self._ready.set()

    def __len__(self) -> int:
        return len(self._queue)

    async def pump(self) -> None:
        while True:
            await self._ready.wait()
            while self._queue:
                if isinstance(self._queue[0], p.Frame) and self.window is not None:
                    while self.in_flight >= self.window:
                        self._acked.clear()
                        await self._acked.wait()  # meanwhile, newer frames merge into the queued one
                    self.in_flight += 1
                await self._write(self._queue.popleft())
            self._ready.clear()
