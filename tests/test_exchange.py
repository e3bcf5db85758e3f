"""The request layer both the daemon's host links and the clients use: order, pages, pushes, loss."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from scarab import protocol as p
from scarab.channel import Channel
from scarab.errors import DaemonUnreachable
from scarab.exchange import Exchange

pytestmark = pytest.mark.timeout(20)


def lost() -> DaemonUnreachable:
    return DaemonUnreachable("lost")


def run(scenario: Callable[[Exchange, Channel, list[p.Message]], Awaitable[None]]) -> None:
    """`scenario(exchange, peer, pushed)` over a real socket pair."""

    async def main() -> None:
        ours, theirs = socket.socketpair()
        near, far = await Channel.from_socket(ours), await Channel.from_socket(theirs)
        pushed: list[p.Message] = []
        exchange = Exchange(
            near,
            pushed=lambda msg: isinstance(msg, p.SessionsChanged | p.Kicked),
            on_push=pushed.append,
            lost=lost,
            last=lambda msg: not (isinstance(msg, p.Captured) and msg.more),
            on_unsolicited=pushed.append,
        )
        reader = asyncio.create_task(exchange.run())
        try:
            await scenario(exchange, far, pushed)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await exchange.close()
            await far.close()

    asyncio.run(asyncio.wait_for(main(), 10))


def test_replies_in_order_pages_and_pushes_between_them() -> None:
    async def scenario(exchange: Exchange, peer: Channel, pushed: list[p.Message]) -> None:
        first = asyncio.create_task(exchange.request(p.SessionList()))
        await asyncio.sleep(0)  # sent first
        pages = await exchange.ask(p.Capture(target="x"))
        assert isinstance(await peer.recv(), p.SessionList) and isinstance(await peer.recv(), p.Capture)
        layout = p.SessionsChanged(sessions=[])
        peer.send_nowait(layout)  # pushed before the reply: handled before it
        peer.send_nowait(p.Done())
        peer.send_nowait(p.Captured(text="a", more=True))
        peer.send_nowait(p.Kicked(session_id="s", reason="r"))
        peer.send_nowait(p.Captured(text="b", more=False))
        peer.send_nowait(p.Failed(code="x", message="unsolicited"))
        assert isinstance(await first, p.Done) and pushed[0] == layout
        texts = [await pages.get(), await pages.get()]
        assert [m.text for m in texts if isinstance(m, p.Captured)] == ["a", "b"]
        await asyncio.sleep(0)
        while len(pushed) < 3:
            await asyncio.sleep(0.01)
        assert [type(m) for m in pushed] == [p.SessionsChanged, p.Kicked, p.Failed]

    run(scenario)


def test_a_request_given_up_on_keeps_its_place_in_line() -> None:
    async def scenario(exchange: Exchange, peer: Channel, _pushed: list[p.Message]) -> None:
        with pytest.raises(TimeoutError):
            await exchange.request(p.SessionList(), timeout=0.05)
        second = asyncio.create_task(exchange.request(p.Capture(target="x")))
        peer.send_nowait(p.Done())  # the late reply to the first: not the second's
        peer.send_nowait(p.Captured(text="mine", more=False))
        reply = await second
        assert isinstance(reply, p.Captured) and reply.text == "mine"

    run(scenario)


def test_the_peer_going_away_fails_pending_and_later_requests() -> None:
    async def scenario(exchange: Exchange, peer: Channel, _pushed: list[p.Message]) -> None:
        pending = asyncio.create_task(exchange.request(p.SessionList()))
        await peer.recv()
        await peer.close()
        with pytest.raises(DaemonUnreachable):
            await pending
        with pytest.raises(DaemonUnreachable):
            await exchange.request(p.SessionList())

    run(scenario)


def test_closing_while_the_reader_ends_does_not_poison_the_close() -> None:
    # The reader, ending because the peer went away, was cancelled by its owner's close while it
    # awaited the stream's close: the stream's close waiter was cancelled with it, and the owner's
    # own close then raised CancelledError (seen with a daemon killed under three clients).
    async def main() -> None:
        ours, theirs = socket.socketpair()
        near, far = await Channel.from_socket(ours), await Channel.from_socket(theirs)
        exchange = Exchange(near, pushed=lambda msg: False, on_push=lambda msg: None, lost=lost)
        reader = asyncio.create_task(exchange.run())
        await far.close()
        await exchange.closed.wait()  # the reader is now in its last steps, closing the stream
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await exchange.close()  # must not raise

    asyncio.run(asyncio.wait_for(main(), 10))


def test_a_handler_that_raises_costs_that_message_not_the_connection(capfd: pytest.CaptureFixture[str]) -> None:
    # A pushed Layout the daemon cannot store (disk full) used to end the host link for good.
    async def main() -> None:
        ours, theirs = socket.socketpair()
        near, far = await Channel.from_socket(ours), await Channel.from_socket(theirs)

        def on_push(msg: p.Message) -> None:
            raise OSError(28, "No space left on device")

        exchange = Exchange(near, pushed=lambda msg: isinstance(msg, p.Kicked), on_push=on_push, lost=lost)
        reader = asyncio.create_task(exchange.run())
        try:
            answer = asyncio.create_task(exchange.request(p.SessionList()))
            await far.recv()
            far.send_nowait(p.Kicked(session_id="s", reason="r"))
            far.send_nowait(p.Done())
            assert isinstance(await answer, p.Done)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await exchange.close()
            await far.close()

    asyncio.run(asyncio.wait_for(main(), 10))
    assert "could not handle Kicked" in capfd.readouterr().err
