"""The session host's own event loop and framed connection (hostio), over real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarab import protocol as p
from scarab.daemon.hostio import FrameConn, Loop


@pytest.fixture
def loop() -> Iterator[Loop]:
    loop = Loop()
    yield loop
    loop.close()


def run_until(loop: Loop, predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Run `loop` until `predicate()` holds; fail after `timeout` seconds."""
    expired: list[bool] = []

    def check() -> None:
        if predicate() or expired:
            loop.stop()
        else:
            loop.call_later(0.001, check)

    loop.call_later(timeout, lambda: expired.append(True))
    loop.call_later(0, check)
    loop.run()
    assert predicate(), "timed out"


def test_timers_run_in_order_and_cancelled_ones_never(loop: Loop) -> None:
    ran: list[str] = []
    loop.call_later(0.02, lambda: ran.append("late"))
    loop.call_later(0.0, lambda: ran.append("soon"))
    loop.call_later(0.01, lambda: ran.append("cancelled")).cancel()
    loop.call_later(0.03, loop.stop)
    loop.run()
    assert ran == ["soon", "late"]


def test_a_failing_callback_is_logged_and_the_loop_goes_on(loop: Loop, capsys: pytest.CaptureFixture[str]) -> None:
    ran: list[int] = []

    def fail() -> None:
        raise ZeroDivisionError("on purpose")

    loop.call_later(0.0, fail)
    loop.call_later(0.001, lambda: ran.append(1))
    loop.call_later(0.002, loop.stop)
    loop.run()
    assert ran == [1]
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_urgent_readers_run_first_in_one_wake_up(loop: Loop) -> None:
    # Keystrokes (the daemon's socket) go to the PTY before pending output is parsed.
    order: list[str] = []
    plain_r, plain_w = os.pipe()
    urgent_r, urgent_w = os.pipe()
    try:

        def reader(fd: int, what: str) -> Callable[[], None]:
            def read() -> None:
                order.append(what)
                os.read(fd, 10)

            return read

        loop.add_reader(plain_r, reader(plain_r, "output"))
        loop.add_reader(urgent_r, reader(urgent_r, "input"), urgent=True)
        os.write(plain_w, b"x")
        os.write(urgent_w, b"y")
        run_until(loop, lambda: len(order) == 2)
        assert order == ["input", "output"]
        loop.remove_reader(plain_r)
        loop.remove_reader(urgent_r)
    finally:
        for fd in (plain_r, plain_w, urgent_r, urgent_w):
            os.close(fd)


def test_urgent_ready_tells_of_waiting_input_on_urgent_readers_only(loop: Loop) -> None:
    # A flood's parse stops early when keys wait; output of another PTY does not stop it.
    plain_r, plain_w = os.pipe()
    urgent_r, urgent_w = os.pipe()
    try:
        loop.add_reader(plain_r, lambda: None)
        loop.add_reader(urgent_r, lambda: None, urgent=True)
        os.write(plain_w, b"x")
        assert not loop.urgent_ready()
        os.write(urgent_w, b"y")
        assert loop.urgent_ready()
        os.read(urgent_r, 1)
        assert not loop.urgent_ready()
        os.write(urgent_w, b"y")
        loop.remove_reader(urgent_r)
        assert not loop.urgent_ready(), "a removed reader is not watched"
        loop.remove_reader(plain_r)
    finally:
        for fd in (plain_r, plain_w, urgent_r, urgent_w):
            os.close(fd)


def test_frames_split_across_reads_arrive_whole_and_in_order(loop: Loop) -> None:
    ours, theirs = socket.socketpair()
    got: list[p.Message] = []
    conn = FrameConn(loop, ours, lambda conn, msg: got.append(msg), lambda conn: None)
    sent = [p.HostInput(data=bytes([i]) * (i * 1000)) for i in range(1, 30)]
    wire = b"".join(p.encode(m) for m in sent)

    def send_in_pieces() -> None:
        for i in range(0, len(wire), 777):
            theirs.sendall(wire[i : i + 777])

    sender = threading.Thread(target=send_in_pieces)  # the socket buffer is smaller than `wire`
    sender.start()
    run_until(loop, lambda: len(got) == len(sent))
    sender.join()
    assert got == sent
    conn.close()
    theirs.close()


def test_a_bad_frame_gets_an_error_and_closes_only_that_connection(loop: Loop) -> None:
    closed: list[FrameConn] = []
    good_ours, good_theirs = socket.socketpair()
    bad_ours, bad_theirs = socket.socketpair()
    got: list[p.Message] = []
    good = FrameConn(loop, good_ours, lambda conn, msg: got.append(msg), closed.append)
    bad = FrameConn(loop, bad_ours, lambda conn, msg: got.append(msg), closed.append)
    bad_theirs.sendall(p.HEADER.pack(p.MAX_FRAME + 1))  # 32 MB + 1: refused before any payload
    good_theirs.sendall(p.encode(p.SessionList()))
    run_until(loop, lambda: closed and got)
    assert closed == [bad] and bad.closed and not good.closed
    assert got == [p.SessionList()]
    reply = bad_theirs.recv(65536)
    error = p.decode(reply[p.HEADER.size :])
    assert isinstance(error, p.Failed) and "exceeds" in error.message
    assert bad_theirs.recv(10) == b""  # closed after the error
    good.close()
    for sock in (good_theirs, bad_theirs):
        sock.close()


def test_a_peer_that_stops_reading_is_buffered_not_blocked_on(loop: Loop) -> None:
    ours, theirs = socket.socketpair()
    conn = FrameConn(loop, ours, lambda conn, msg: None, lambda conn: None)
    big = p.HostInput(data=b"z" * 1_000_000)
    for _ in range(8):
        conn.send(big)  # returns at once although nobody reads
    assert conn.buffered() > 1_000_000
    received = 0
    total = 8 * len(p.encode(big))
    theirs.setblocking(False)
    while received < total:
        try:
            received += len(theirs.recv(1 << 20))
        except BlockingIOError:
            loop.call_later(0.001, loop.stop)
            loop.run()  # lets the writer callback drain the queue
    assert conn.buffered() == 0
    conn.close()
    theirs.close()


def test_the_zygote_and_hosts_do_not_load_asyncio() -> None:
    # Hosts are forks of the zygote; asyncio there would cost every idle session ~1 MB.
    code = "import sys, scarab.daemon.zygote; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


valid_frames = st.sampled_from(
    [p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="daemon")), p.encode(p.HostRedraw()), p.encode(p.SessionList())]
)
hostile = st.lists(st.one_of(valid_frames, st.binary(max_size=64)), max_size=8).map(b"".join)


@settings(max_examples=150, deadline=None)
@given(data=hostile, piece=st.integers(1, 40))
def test_any_bytes_from_a_peer_end_in_messages_or_a_clean_close(data: bytes, piece: int) -> None:
    # The host's side of its daemon connection: whatever arrives, in whatever pieces, the loop
    # survives, whole messages come out in order, and the connection ends closed.
    loop = Loop()
    ours, theirs = socket.socketpair()
    got: list[p.Message] = []
    conn = FrameConn(loop, ours, lambda conn, msg: got.append(msg), lambda conn: None)
    try:
        for i in range(0, len(data), piece):
            theirs.sendall(data[i : i + piece])
        theirs.shutdown(socket.SHUT_WR)
        run_until(loop, lambda: conn.closed)
        assert all(isinstance(msg, p.Message) for msg in got)
    finally:
        conn.close()
        theirs.close()
        loop.close()
