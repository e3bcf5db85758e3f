"""Request layer: requests answered in order over one Channel; what the peer pushes goes to a callback.

The daemon's link to each host (daemon/hostlink.py) and a client's connection to the daemon
(client.py) are both this: a peer that answers requests in the order they were sent and pushes
messages of its own (frames, layouts, events) between the answers. The user says which messages are
pushed and which reply is a request's last (a capture comes in pages).
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable

from scarab import protocol as p
from scarab.channel import Channel
from scarab.errors import ProtocolError, ScarabError

__all__ = ["Exchange"]


def _single(_reply: p.Message) -> bool:
    return True


class Exchange:
    """Requests and their replies, matched by order, over `channel`.

    `pushed(msg)`: a message the peer sends on its own, given to `on_push` as it comes (in order
    with the replies: a Layout pushed before a reply is handled before the reply is).
    `last(reply)`: whether a reply ends its request (else more replies to it follow).
    `lost()`: the error a request raises when the connection ends (or ended) before its reply.
    A message that is neither pushed nor awaited goes to `on_unsolicited` (e.g. the error a peer
    sends just before it hangs up). While `on_push` runs, `wire` is the pushed message as it came
    (length header and payload): a relay sends those bytes on instead of encoding the message again."""

    def __init__(
        self,
        channel: Channel,
        pushed: Callable[[p.Message], bool],
        on_push: Callable[[p.Message], None],
        lost: Callable[[], ScarabError],
        last: Callable[[p.Message], bool] = _single,
        on_unsolicited: Callable[[p.Message], None] | None = None,
    ) -> None:
        self.channel = channel
        self._pushed = pushed
        self._on_push = on_push
        self._lost = lost
        self._last = last
        self._on_unsolicited = on_unsolicited
        self._waiting: deque[asyncio.Queue[p.Message | None]] = deque()
        self.closed = asyncio.Event()
        self._payload = b""

    async def run(self) -> None:
        """Read until the peer goes away (or until cancelled); pending requests then fail."""
        try:
            while True:
                payload = await self.channel.recv_payload()
                msg = p.decode(payload)
                pushed = self._pushed(msg)
                if self._waiting and not pushed:
                    self._waiting[0].put_nowait(msg)
                    if self._last(msg):
                        self._waiting.popleft()
                    continue
                handle = self._on_push if pushed else self._on_unsolicited
                self._payload = payload if pushed else b""
                try:
                    if handle is not None:
                        handle(msg)
                except Exception as exc:  # e.g. a full disk while storing a pushed layout
                    # One message's trouble is the handler's to report; dropping the connection for
                    # it would leave the peer unreachable (a session host with no daemon link).
                    print(f"scarab: could not handle {type(msg).__name__}: {exc!r}", file=sys.stderr, flush=True)
                finally:
                    self._payload = b""
        except (EOFError, OSError, ProtocolError):
            pass
        finally:
            self.closed.set()
            while self._waiting:
                self._waiting.popleft().put_nowait(None)
            # Shielded: a cancel arriving meanwhile (the owner closing us) would otherwise cancel the
            # stream's own close waiter, and every later wait_closed() would raise CancelledError.
            await asyncio.shield(self.channel.close())

    @property
    def wire(self) -> bytes:
        """The message being pushed, in wire form as the peer sent it (only while `on_push` runs)."""
        return p.HEADER.pack(len(self._payload)) + self._payload

    def send(self, msg: p.Message) -> None:
        """A message that gets no reply (input, resize, redraw): never waits on the peer."""
        self.channel.send_nowait(msg)

    async def ask(self, msg: p.Message) -> asyncio.Queue[p.Message | None]:
        """Send a request; its replies arrive in the queue, then None if the connection ends first.

        A request given up on stays in line, so that its late reply is not taken for the next one's."""
        if self.closed.is_set():
            raise self._lost()
        replies: asyncio.Queue[p.Message | None] = asyncio.Queue()
        self._waiting.append(replies)
        try:
            await self.channel.send(msg)  # a big request waits until the peer reads
        except OSError:
            raise self._lost() from None
        return replies

    async def request(self, msg: p.Message, timeout: float | None = None) -> p.Message:
        """The (first) reply to `msg`; `TimeoutError` after `timeout` seconds."""

        async def reply() -> p.Message:
            first = await (await self.ask(msg)).get()
            if first is None:
                raise self._lost()
            return first

        return await asyncio.wait_for(reply(), timeout)

    async def close(self) -> None:
        await self.channel.close()
