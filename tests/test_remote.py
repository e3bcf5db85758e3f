"""Remote sessions: the proxy transport through a local stand-in for ssh, error messages, frame merging."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.outbox import Outbox, merge_frames
from scarab.remote import SshTarget
from scarab.testkit import measure_slow_link
from tests.helpers import ScarabEnv, until, wait_for

FAKE_SSH = f"{sys.executable} {Path(__file__).parent / 'fake_ssh.py'}"


def remote_env(env: ScarabEnv, **extra: str) -> dict[str, str]:
    out = dict(env.env, SCARAB_SSH=FAKE_SSH, SCARAB_REMOTE_COMMAND=f"{sys.executable} -m scarab")
    out.update(extra)
    return out


def frame(seq: int, lines: list[list[object]], styles: list[list[int]], full: bool = False) -> p.Frame:
    return p.Frame(session_id="s", seq=seq, cols=10, rows=3, cursor=[0, 0, 1, 0], modes=0, title="",
                   full=full, lines=lines, styles=styles)  # fmt: skip


def test_merge_frames_keeps_latest_rows_and_styles() -> None:
    a = frame(1, [[0, "old", [[3, 0]]], [1, "keep", [[4, 0]]]], [[1, -1, 0]], full=True)
    b = frame(2, [[0, "new", [[3, 0]]]], [[2, -1, 0]])
    m = merge_frames(a, b)
    assert m.full and m.seq == 2
    assert m.lines == [[0, "new", [[3, 1]]], [1, "keep", [[4, 0]]]]
    assert m.styles == [[1, -1, 0], [2, -1, 0]]
    assert merge_frames(a, frame(3, [], [], full=True)).lines == []


def test_outbox_merges_while_the_writer_is_slow() -> None:
    async def scenario() -> None:
        written: list[p.Message] = []
        gate = asyncio.Event()

        async def slow_write(msg: p.Message) -> None:
            await gate.wait()
            written.append(msg)

        box = Outbox(slow_write)
        pump = asyncio.create_task(box.pump())
        box.put(frame(1, [[0, "a", [[1, 0]]]], [[-1, -1, 0]]))
        await asyncio.sleep(0)  # the pump takes the first frame and blocks on the link
        for i in range(2, 1000):
            box.put(frame(i, [[i % 3, str(i), [[len(str(i)), 0]]]], [[-1, -1, 0]]))
        box.put(p.Done())
        assert len(box) == 2 and box.merged == 997
        gate.set()
        while len(written) < 3:
            await asyncio.sleep(0.01)
        pump.cancel()
        assert [type(m).__name__ for m in written] == ["Frame", "Frame", "Done"]
        merged = written[1]
        assert isinstance(merged, p.Frame) and merged.seq == 999
        assert {y: text for y, text, _ in merged.lines} == {0: "999", 1: "997", 2: "998"}

    asyncio.run(asyncio.wait_for(scenario(), 10))


def test_ls_and_send_through_the_proxy(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "far", "--", "sh")
    scarab.env = remote_env(scarab)
    listing = scarab.ok("ls", "--ssh", "user@example.org:2222")
    assert "far" in listing.splitlines()[1]


def test_tui_attaches_over_ssh(in_env: ScarabEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from scarab.tui.app import ScarabApp

    for key, value in remote_env(in_env).items():
        monkeypatch.setenv(key, value)
    in_env.ok("new", "-d", "-s", "far", "--", "sh")
    target = SshTarget.parse("example.org")

    async def scenario() -> None:
        app = ScarabApp("far", connect=lambda: Client.connect_ssh(target), remote=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: app.attached.is_set() and "$" in "\n".join(app.view.text()), 20, what="a prompt")
            await pilot.press(*"echo over-ssh", "enter")
            await until(lambda: "over-ssh" in app.view.text(), 20, what=lambda: f"the echo in {app.view.text()}")
            assert app.client is not None and app.client.proc is not None
            await pilot.press("ctrl+b", "d")

    asyncio.run(asyncio.wait_for(scenario(), 60))


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"SCARAB_SSH": "/nonexistent/ssh"}, "ssh is not installed"),
        ({"FAKE_SSH_FAIL": "255"}, "ssh to example.org failed: ssh: connect to host example.org port 22"),
        ({"SCARAB_REMOTE_COMMAND": "no-such-scarab-here"}, "scarab is not installed on example.org"),
    ],
)
def test_clear_errors(scarab: ScarabEnv, extra: dict[str, str], needle: str) -> None:
    scarab.env = remote_env(scarab, **extra)
    result = scarab.run("ls", "--ssh", "example.org")
    assert result.returncode == 1 and needle in result.stderr, result.stderr
    bad = scarab.run("ls", "--ssh", "host:notaport")
    assert bad.returncode == 1 and "the port must be a number" in bad.stderr


def test_version_mismatch_names_both_versions(scarab: ScarabEnv) -> None:
    old = f"{sys.executable} {Path(__file__).parent / 'fake_old_proxy.py'} #"
    scarab.env = remote_env(scarab, SCARAB_REMOTE_COMMAND=old, PYTHONPATH=str(Path(__file__).parents[1]))
    result = scarab.run("ls", "--ssh", "example.org")
    assert result.returncode == 1
    assert f"peer speaks {p.PROTOCOL_VERSION + 98}, this scarab speaks {p.PROTOCOL_VERSION}" in result.stderr


def test_slow_link_carries_latest_state_not_the_backlog(in_env: ScarabEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Through a 20 KB/s link with 50 ms latency, a flood does not queue behind keystrokes."""
    for key in ("SCARAB_SSH", "SCARAB_REMOTE_COMMAND", "FAKE_SSH_RATE", "FAKE_SSH_DELAY", "FAKE_SSH_STATS"):
        monkeypatch.setenv(key, "")
    fake_ssh = Path(__file__).parent / "fake_ssh.py"
    figures = asyncio.run(asyncio.wait_for(measure_slow_link(20_000, 0.05, fake_ssh, flood_lines=40_000), 120))
    assert max(figures.echo_ms) < 1000, figures.echo_ms
    # Sending the flood itself would need ~11 s and 230 KB; only screens of it cross the link.
    assert figures.link_bytes < figures.flood_bytes / 3, figures


def test_save_over_ssh_reads_the_programs_where_the_panes_run(scarab: ScarabEnv) -> None:
    """The client runs with a /proc of its own (a new pid namespace: none of the panes' processes
    are in it), so only the far side can say what runs in each pane and where."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a client with its own /proc needs unshare as root")
    work = scarab.root / "home" / "sub dir"
    work.mkdir()
    scarab.ok("new", "-d", "-s", "far", "-x", "100", "-y", "30", "--", "sh")
    wait_for(lambda: "$" in scarab.capture("far"), what="the shell prompt")
    scarab.ok("send", "far", f"cd {shlex.quote(str(work))} && sleep 1000", "Enter")
    wait_for(lambda: scarab.ok("display", "-p", "-t", "far", "#{pane_current_command}") == "sleep\n",
             what="sleep in the foreground")  # fmt: skip
    out = scarab.root / "far.toml"
    saved = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "scarab", "save", "far", "--ssh",
         "example.org", "-o", str(out)],
        env=remote_env(scarab), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    text = out.read_text()
    assert 'command = "sleep 1000"' in text and f"cwd = {json.dumps(str(work))}" in text, text
    layout = scarab.ok("list-windows", "-t", "far", "-F", "#{window_layout}").strip()
    assert f'layout = "{layout}"' in text
