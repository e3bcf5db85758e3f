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

__all__ = ["Channel", "check_hello", "peer_uid"]


class Channel:
    """Framed messages over a stream pair. `recv` raises EOFError on a clean close."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

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
        try:
            header = await self.reader.readexactly(HEADER.size)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise ProtocolError("truncated frame header") from None
            raise EOFError from None
        length = frame_length(header)
        try:
            payload = await self.reader.readexactly(length)
        except asyncio.IncompleteReadError:
            raise ProtocolError(f"truncated frame: expected {length} bytes") from None
        return decode(payload)

    def send_nowait(self, msg: Message) -> None:
        """Queue a message; use `drain` (or `send`) where backpressure matters."""
        if not self.writer.is_closing():
            self.writer.write(encode(msg))

    async def send(self, msg: Message) -> None:
        self.send_nowait(msg)
        await self.writer.drain()

    def buffered(self) -> int:
        """Bytes queued but not yet accepted by the kernel (to spot a peer that stopped reading)."""
        transport = self.writer.transport
        return transport.get_write_buffer_size() if transport else 0

    async def hello(self, role: str) -> Hello:
        """Exchange Hello both ways; refuse a peer speaking another protocol version."""
        await self.send(Hello(version=PROTOCOL_VERSION, role=role, pid=os.getpid()))
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
