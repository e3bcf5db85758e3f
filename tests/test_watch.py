"""`scarab watch` and `Client.watch` (issue 17): the daemon's live events, in order, from real
sessions; a watcher that never reads is dropped and does not slow a flood."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.client import Client
from tests.helpers import ScarabEnv, Watching, new_sh, type_line, wait_for


@pytest.mark.timeout(90)
def test_watch_json_sees_a_scripted_sequence_in_order(scarab: ScarabEnv) -> None:
    scarab.ok("daemon", "start")
    watching = Watching(scarab, "--json")
    try:
        new_sh(scarab, "a")
        scarab.ok("rename", "a", "b")
        scarab.ok("new", "-d", "-s", "c", "--", "sh", "-c", "exit 3")
        wait_for(lambda: scarab.session("c")["state"] == "exited", what="c to exit")
        type_line(scarab, "b", "printf '\\a'")

        async def attach_and_leave() -> None:
            client = await Client.connect(scarab.paths, autostart=False)
            await client.request(p.SessionAttach(target="b", cols=80, rows=24))
            await client.close()

        asyncio.run(attach_and_leave())
        split = scarab.ok("split-window", "-t", "b", "-h", "-P", "-F", "#{pane_id}").strip()
        scarab.ok("rename-window", "-t", "b:0", "main")
        scarab.ok("kill-pane", "-t", split)
        scarab.ok("new-window", "-t", "b", "-n", "logs")
        scarab.ok("kill", "b")
        seen = watching.events_until("session-closed", "b")
    finally:
        watching.stop()
    sessions = ("session-", "client-", "bell")
    story = [(e["event"], e.get("session"), e.get("value")) for e in seen if e["event"].startswith(sessions)]
    assert story == [
        ("session-created", "a", "a"),
        ("session-renamed", "b", "b"),
        ("session-created", "c", "c"),
        ("session-exited", "c", "3"),
        ("bell", "b", None),
        ("client-attached", "b", "1"),
        ("client-detached", "b", "0"),
        ("session-closed", "b", None),
    ]
    assert all(isinstance(e["time"], float) and e["session_id"] for e in seen)
    # Windows and panes, from the session's Layouts: these in this order (among resizes and layouts).
    panes = [(e["event"], e.get("window"), e.get("pane"), e.get("value")) for e in seen if e["event"] not in
             ("pane-resized", "layout-changed", "output", "pane-title-changed", "pane-cwd-changed") and
             not e["event"].startswith(sessions) and e.get("session") == "b"]  # fmt: skip
    first = next(e["pane"] for e in seen if e["event"] == "pane-resized")
    assert panes == [
        ("pane-added", 0, split, "39x24"),
        ("pane-selected", 0, split, None),
        ("window-renamed", 0, None, "main"),
        ("pane-closed", 0, split, None),
        ("pane-selected", 0, first, None),
        ("window-added", 1, None, "logs"),
        ("window-selected", 1, None, "logs"),
        ("pane-added", 1, panes[-1][2], "80x24"),
        ("pane-selected", 1, panes[-1][2], None),
    ], panes
    assert any(e["event"] == "layout-changed" and e["window"] == 0 for e in seen)


@pytest.mark.timeout(60)
def test_watch_output_merges_a_pane_and_the_stream_ends_with_exit(scarab: ScarabEnv) -> None:
    new_sh(scarab, "w")
    watching = Watching(scarab, "-t", "w", "--output")
    try:
        type_line(scarab, "w", "echo wat''ched")
        while "watched" not in "\n".join(watching.lines):
            watching.next_line()
        scarab.ok("daemon", "stop")
        while watching.next_line() != "%exit":
            pass
        assert watching.proc.wait(10) == 0
    finally:
        watching.stop()
    assert any(line.startswith("%output w %") for line in watching.lines)


def _stalled_watcher(scarab: ScarabEnv) -> socket.socket:
    """A raw connection that asks for every event with output and then never reads."""
    sock = socket.socket(socket.AF_UNIX)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(str(scarab.paths.socket))
    sock.sendall(p.encode(p.Hello(version=p.PROTOCOL_VERSION, role="client")))
    sock.sendall(p.encode(p.Watch(output=True)))
    return sock


def _flood_seconds(scarab: ScarabEnv, name: str) -> float:
    started = time.monotonic()
    # Wide rows: every output event carries ~10 KB, ten a second, so a stalled watcher's bounds (its
    # socket buffers, ~400 KB) fill within seconds; the flood must outlast that plus MAX_STALL
    # (1,000,000 lines: ~7 s here; 300,000 ended in 2 s, before the buffers were full).
    type_line(scarab, name, "yes $(printf '%0190d' 0) | head -n 1000000; echo flood-''done")
    wait_for(lambda: "flood-done" in scarab.capture(name), timeout=120, interval=0.1, what="the flood to end")
    return time.monotonic() - started


@pytest.mark.timeout(300)
def test_a_watcher_that_never_reads_is_dropped_and_does_not_slow_a_flood(scarab: ScarabEnv) -> None:
    new_sh(scarab, "f", "-x", "200", "-y", "50")
    alone = _flood_seconds(scarab, "f")
    type_line(scarab, "f", "clear")
    stalled = _stalled_watcher(scarab)
    try:
        watched = _flood_seconds(scarab, "f")
        # Dropped: the daemon closed it, after at most its bounded queue (plus socket buffers).
        stalled.settimeout(10)
        received = 0
        try:
            while chunk := stalled.recv(65536):
                received += len(chunk)
        except TimeoutError:
            raise AssertionError(
                f"not dropped: flood {alone:.1f}s alone, {watched:.1f}s watched; read {received}"
            ) from None
    finally:
        stalled.close()
    print(f"flood alone {alone:.2f}s, with a stalled watcher {watched:.2f}s, it got {received} bytes")
    assert received < 4 * 1024 * 1024
    assert watched < 2 * alone + 5
    assert scarab.ok("has-session", "-t", "f") == ""  # the daemon still answers


@pytest.mark.timeout(60)
def test_the_readme_status_line_example_runs(scarab: ScarabEnv) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert "client.watch()" in example and len(example.strip().splitlines()) <= 14
    script = scarab.root / "status.py"
    script.write_text(example)
    scarab.ok("daemon", "start")
    proc = subprocess.Popen([sys.executable, str(script)], env=scarab.env, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in proc.stdout or ()], daemon=True).start()
    try:
        # Until its watch is registered nothing is printed: a session made before that goes unseen.
        line = ""
        for n in range(1, 6):
            new_sh(scarab, f"s{n}")
            with contextlib.suppress(queue.Empty):
                line = lines.get(timeout=2)
                break
        assert line == f"{n} sessions, 0 attached"
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.timeout(60)
def test_watch_reports_a_notice_as_the_status_bar_shows_it(scarab: ScarabEnv) -> None:
    """A Notice (the limits set, a program a memory limit killed, a recording stopped by itself:
    test_record_session's size cap) reaches scripts as an event of its kind, not only the status
    bar of the clients attached."""
    scarab.ok("daemon", "start")
    watching = Watching(scarab, "--json")
    try:
        new_sh(scarab, "n")
        pane = scarab.ok("display", "-p", "-t", "n", "#{pane_id}").strip()
        scarab.ok("limit", "-t", "n", "--tasks", "50")
        limited = watching.events_until("limits-set", "n")[-1]
        assert limited["pane"] == pane and str(limited["value"]).startswith("limits tasks 50 (setrlimit")
    finally:
        watching.stop()
