"""Recording and limits in a host with several panes, driven as the daemon drives it (real host,
real PTYs): a recording follows its own pane (its output, its size) and ends with it; limits reach
every pane's program, those running and those started later."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.daemon.hostconfig import HostConfig
from scarab.daemon.hostlink import HostLink, spawn_host
from scarab.testkit import until
from tests.helpers import ScarabEnv, pid_alive, wait_for

pytestmark = pytest.mark.timeout(90)

ECHO = (
    sys.executable, "-c",
    "import sys\nprint('ready', flush=True)\nfor line in sys.stdin: print('got', line.strip(), flush=True)",
)  # fmt: skip


class Host:
    def __init__(self, link: HostLink) -> None:
        self.link = link
        self.layout: p.Layout | None = None

    def on_event(self, link: HostLink, msg: p.Message, wire: bytes = b"") -> None:
        if isinstance(msg, p.Layout):
            self.layout = msg

    async def ask(self, msg: p.Message) -> p.Message:
        reply = await self.link.request(msg)
        assert not isinstance(reply, p.Failed), reply
        return reply

    def pid(self, pane: int) -> int:
        assert self.layout is not None
        return next(q.pid for q in self.layout.panes if q.id == pane)

    def width(self, pane: int) -> int:
        assert self.layout is not None
        return next(q.width for q in self.layout.panes if q.id == pane)

    async def shows(self, pane: int, text: str) -> None:
        async def found() -> bool:
            reply = await self.link.request(p.HostCapture(scrollback=False, ansi=False, pane=pane))
            return isinstance(reply, p.Captured) and text in reply.text

        await until(found, what=f"{text!r} in pane %{pane}")


@asynccontextmanager
async def host(env: ScarabEnv) -> AsyncIterator[Host]:
    hosts = env.root / "hosts"
    hosts.mkdir(exist_ok=True)
    req = HostConfig(
        session_id="sid", name="panes", socket=hosts / "p.sock", log=hosts / "p.log", cols=80, rows=24,
        cwd=str(env.root), command=ECHO, scrollback=100, token="t", pane_id=7, window_id=3, spec=None,
    )  # fmt: skip
    host_pid, _child = await spawn_host(req, None)
    driver = Host.__new__(Host)
    driver.layout = None
    driver.link = await HostLink.connect(req.socket, req.token, lambda link, msg, wire: driver.on_event(link, msg))
    reader = asyncio.create_task(driver.link.run())
    try:
        await until(lambda: driver.layout, what="the Layout")
        yield driver
    finally:
        await driver.link.request(p.HostTerminate())
        reader.cancel()
        await driver.link.close()
        wait_for(lambda: not pid_alive(host_pid), what="the host to end")


def _address_space(pid: int) -> int:
    soft, _hard = resource.prlimit(pid, resource.RLIMIT_AS)
    return soft


def test_a_recording_follows_its_pane_and_ends_with_it(in_env: ScarabEnv) -> None:
    cast = in_env.root / "eight.cast"

    async def scenario() -> None:
        async with host(in_env) as h:
            await h.ask(p.SplitWindow(target="", horizontal=True, command=list(ECHO), pane_id=8))
            await h.shows(8, "ready")
            started = await h.ask(p.HostRecord(pane=8, action="start", path=str(cast)))
            assert isinstance(started, p.Recordings) and [(i.pane, i.active) for i in started.items] == [(8, True)]
            h.link.send(p.HostInput(data=b"to-seven\r", pane=7))
            h.link.send(p.HostInput(data=b"to-eight\r", pane=8))
            await h.shows(7, "got to-seven")
            await h.shows(8, "got to-eight")
            h.link.send(p.HostResize(cols=100, rows=30))
            await until(lambda: h.width(8) == 49, what="pane %8 at its share of 100 columns")
            await h.ask(p.KillPane(target="%8"))
            status = await h.ask(p.HostRecord(pane=-1, action="status"))
            assert isinstance(status, p.Recordings)
            assert [(i.pane, i.active, i.reason) for i in status.items] == [(8, False, "the pane closed")]

    asyncio.run(asyncio.wait_for(scenario(), 80))
    events = [json.loads(line) for line in cast.read_text().splitlines()[1:]]
    text = "".join(data for _t, kind, data in events if kind == "o")
    assert "got to-eight" in text and "to-seven" not in text
    header = json.loads(cast.read_text().splitlines()[0])
    assert (header["width"], header["height"]) == (39, 24)  # pane %8's own size, not the window's
    assert [data for _t, kind, data in events if kind == "r"] == ["49x30"]  # its share of 100x30


def test_limits_reach_every_pane_program_and_later_ones(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        async with host(in_env) as h:
            await h.ask(p.SplitWindow(target="", command=list(ECHO), pane_id=8))
            report = await h.ask(p.HostLimit(limits=[300 * 2**20, 0, 0]))
            assert isinstance(report, p.LimitsReport) and report.enforcement == "setrlimit"
            assert report.processes == 2 and report.memory > 0
            for pane in (7, 8):
                assert _address_space(h.pid(pane)) == 300 * 2**20
                await h.shows(pane, "[scarab: limits memory 300M (setrlimit")
            await h.ask(p.SplitWindow(target="", command=list(ECHO), pane_id=9))
            await h.shows(9, "ready")
            assert _address_space(h.pid(9)) == 300 * 2**20  # started under them
            await h.ask(p.HostLimit(limits=[-1, 0, 0]))
            assert all(_address_space(h.pid(pane)) == resource.RLIM_INFINITY for pane in (7, 8, 9))

    asyncio.run(asyncio.wait_for(scenario(), 80))


def test_a_bad_pane_is_refused_and_changes_nothing(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        async with host(in_env) as h:
            reply = await h.link.request(p.HostRecord(pane=42, action="start"))
            assert isinstance(reply, p.Failed) and "can't find pane" in reply.message
            reply = await h.link.request(p.HostRecord(pane=7, action="rewind"))
            assert isinstance(reply, p.Failed) and "unknown action" in reply.message
            status = await h.ask(p.HostRecord(pane=7, action="status"))
            assert isinstance(status, p.Recordings) and status.items == []

    asyncio.run(asyncio.wait_for(scenario(), 80))
    assert not list(Path(in_env.root).glob("**/*.cast"))
