"""Transport layer: one framed, message-level connection over an asyncio stream.

The only place that reads or writes protocol bytes on a socket. Daemon, hosts and clients all talk
through a Channel, so framing limits and error handling are the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

from scarab.errors import ProtocolError
from scarab.peercred import socket_peer_uid
from scarab.protocol import (
    HEADER,
    MAX_FRAME,
    PROTOCOL_VERSION,
    Hello,
    Message,
    check_hello,
    decode,
    encode,
    frame_length,
)

__all__ = ["Channel", "FrameBudget", "check_hello", "peer_uid"]


class FrameBudget:
    """Memory shared by the incomplete frames of many connections (the daemon's clients): twenty
    peers each announcing a big frame and sending it all but its last byte would otherwise hold
    twenty big buffers. Frames up to `free` bytes (keys, commands) never count, so a peer holding
    the budget cannot lock anybody out of ordinary messages."""

    def __init__(self, total: int, free: int) -> None:
        self.total = total
        self.free = free
        self.held = 0

    def take(self, length: int) -> bool:
        if length <= self.free:
            return True
        if self.held + length > self.total:
            return False
        self.held += length
        return True

    def give(self, length: int) -> None:
        if length > self.free:
            self.held -= length


class Channel:
    """Framed messages over a stream pair. `recv` raises EOFError on a clean close.

    `max_frame` bounds what this peer may send (far below MAX_FRAME where only small messages are
    expected); `budget`, when given, is shared with other channels for frames being received."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        max_frame: int = MAX_FRAME,
        budget: FrameBudget | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.max_frame = max_frame
        self.budget = budget

    @classmethod
    async def connect_unix(cls, path: str) -> Channel:
        reader, writer = await asyncio.open_unix_connection(path, limit=MAX_FRAME)
        return cls(reader, writer)

    @classmethod
    async def from_socket(cls, sock: socket.socket, pending: bytes = b"") -> Channel:
        """A Channel over a connected socket whose first `pending` bytes were already read off it."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_FRAME, loop=loop)
        if pending:
            reader.feed_data(pending)
        sock.setblocking(False)
        transport, protocol = await loop.create_unix_connection(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), sock=sock
        )
        return cls(reader, asyncio.StreamWriter(transport, protocol, reader, loop))

    async def recv(self) -> Message:
        return decode(await self.recv_payload())

    async def recv_payload(self) -> bytes:
        """The next frame's payload, undecoded (`decode` it, or relay it with its header as it came)."""
        try:
            header = await self.reader.readexactly(HEADER.size)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise ProtocolError("truncated frame header") from None
            raise EOFError from None
        length = frame_length(header)
        if length > self.max_frame:
            raise ProtocolError(f"frame of {length} bytes exceeds the {self.max_frame} byte limit for this connection")
        budget = self.budget
        if budget is not None and not budget.take(length):
            raise ProtocolError(
                f"frame of {length} bytes refused: too much incomplete input is held right now; try again"
            )
        try:
            payload = await self.reader.readexactly(length)
        except asyncio.IncompleteReadError:
            raise ProtocolError(f"truncated frame: expected {length} bytes") from None
        finally:
            if budget is not None:
                budget.give(length)
        return payload

    def send_nowait(self, msg: Message) -> None:
        """Queue a message; use `drain` (or `send`) where backpressure matters."""
        if not self.writer.is_closing():
            self.writer.write(encode(msg))

    def send_wire(self, data: bytes) -> None:
        """Queue a message already in wire form (header and payload), as another peer sent it."""
        if not self.writer.is_closing():
            self.writer.write(data)

    async def send(self, msg: Message) -> None:
        self.send_nowait(msg)
        await self.writer.drain()

    def buffered(self) -> int:
        """Bytes queued but not yet accepted by the kernel (to spot a peer that stopped reading)."""
        transport = self.writer.transport
        return transport.get_write_buffer_size() if transport else 0

    async def hello(self, role: str, then: Message | None = None) -> Hello:
        """Exchange Hello both ways; refuse a peer speaking another protocol version. `then` goes
        right behind our Hello, without waiting for the peer's."""
        self.send_nowait(Hello(version=PROTOCOL_VERSION, role=role, pid=os.getpid()))
        if then is not None:
            self.send_nowait(then)
        await self.writer.drain()
        reply = await self.recv()
        check_hello(reply)
        assert isinstance(reply, Hello)
        return reply

    async def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def peer_uid(writer: asyncio.StreamWriter) -> int | None:
    """The uid of the process at the other end of a stream's Unix socket, if known."""
    sock = writer.get_extra_info("socket")
    return None if sock is None else socket_peer_uid(sock)
