"""Proxy layer: `scarab proxy`, the remote end of `scarab --ssh HOST`.

stdin/stdout bridged to the local daemon socket (the daemon is auto-started), with frames
coalesced through an Outbox so a slow link carries only the latest screen state. A client of
the daemon like any other (client.py); the ssh side that starts it is remote.py.
"""

from __future__ import annotations

import asyncio
import sys

from scarab import protocol as p
from scarab.channel import Channel
from scarab.client import Client
from scarab.outbox import Outbox
from scarab.paths import Paths

__all__ = ["run_proxy"]

# Frames on the wire before the client acknowledges: 2 keeps the link busy for one round trip.
FRAME_WINDOW = 2


async def run_proxy(paths: Paths) -> int:
    """Bridge stdin/stdout to the local daemon. Runs until either side closes."""
    daemon_channel = await Client.open_raw(paths)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=p.MAX_FRAME)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin.buffer)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout.buffer)
    stdout = asyncio.StreamWriter(transport, protocol, None, loop)
    remote = Channel(stdin, stdout)

    async def write(msg: p.Message) -> None:
        await remote.send(msg)  # waits for the link: what queues meanwhile is merged

    outbox = Outbox(write, window=FRAME_WINDOW)

    async def upstream() -> None:
        # Client -> daemon: passed through in order, never merged (keys must all arrive).
        while True:
            msg = await remote.recv()
            if isinstance(msg, p.FrameAck):
                outbox.ack()
            else:
                await daemon_channel.send(msg)

    async def downstream() -> None:
        while True:
            outbox.put(await daemon_channel.recv())

    tasks = [asyncio.create_task(t) for t in (upstream(), downstream(), outbox.pump())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, EOFError | ConnectionError):
                print(f"scarab proxy: {exc}", file=sys.stderr)
                return 1
        return 0
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await daemon_channel.close()
