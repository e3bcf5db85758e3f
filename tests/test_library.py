"""The library API (SessionManager) and the client library, in-process, with real hosts and ptys."""

from __future__ import annotations

import asyncio

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.daemon.registry import ManagerConfig, SessionManager
from scarab.daemon.store import SessionRecord, Store
from scarab.errors import BadRequest, DuplicateName, SessionBusy, SessionNotFound
from scarab.paths import Paths
from scarab.testkit import frame_with
from tests.helpers import ScarabEnv, until


def stored(store: Store, session_id: str) -> SessionRecord:
    """The session's row as the database has it."""
    (record,) = [r for r in store.sessions() if r.id == session_id]
    return record


class Sink:
    def __init__(self) -> None:
        self.messages: list[p.Message] = []

    def push(self, msg: p.Message, wire: bytes = b"") -> None:
        self.messages.append(msg)

    def expect_full(self, panes: set[int]) -> None:
        self.messages.clear()


def test_session_manager_api(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        paths = Paths.default()
        paths.prepare_runtime()
        store = Store(paths.database)
        manager = SessionManager(paths, store, ManagerConfig(snapshot_interval=0.1))
        try:
            a = await manager.create_session("a", 80, 24, command=["sh"])
            b = await manager.create_session("b", 100, 30, command=["sh"])
            assert manager.session_count() == 2
            assert [s.name for s in manager.list_sessions()] == ["a", "b"]
            assert manager.get_session(a.id[:5]).record.name == "a"
            with pytest.raises(SessionNotFound, match="Session not found: zzz"):
                manager.get_session("zzz")
            with pytest.raises(DuplicateName):
                await manager.create_session("a", command=["sh"])
            with pytest.raises(BadRequest, match="bad size"):
                await manager.create_session("c", 0, 24, command=["sh"])

            viewer = Sink()
            info = await manager.attach_client("b", viewer, 120, 40)
            assert (info.attached, info.cols, info.rows) == (1, 120, 40)
            assert stored(store, b.id).attached == 1  # type: ignore[union-attr]

            async def got_full_frame() -> bool:
                return any(isinstance(m, p.Frame) and m.cols == 120 for m in viewer.messages)

            await until(got_full_frame)
            # A switch from b to a and back: the session left behind counts one client fewer, in
            # SQLite too (it kept 1 while `ls` showed 0).
            await manager.attach_client("a", viewer)
            assert (stored(store, a.id).attached, stored(store, b.id).attached) == (1, 0)
            await manager.attach_client("b", viewer)
            assert (stored(store, a.id).attached, stored(store, b.id).attached) == (0, 1)
            with pytest.raises(SessionBusy):
                await manager.delete_session("b")
            assert manager.detach_client(viewer) == [b.id]
            assert stored(store, b.id).attached == 0  # type: ignore[union-attr]

            renamed = await manager.rename_session("a", "alpha")
            assert renamed.name == "alpha" and stored(store, a.id).name == "alpha"  # type: ignore[union-attr]

            assert await manager.cleanup_detached_sessions(older_than=3600) == []
            removed = await manager.cleanup_detached_sessions(older_than=-10)
            assert sorted(removed) == sorted([(a.id, "alpha"), (b.id, "b")])
            assert manager.session_count() == 0 and store.sessions() == []
        finally:
            await manager.close()
            store.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_restore_sessions_adopts_live_hosts(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        paths = Paths.default()
        paths.prepare_runtime()
        store = Store(paths.database)
        first = SessionManager(paths, store)
        info = await first.create_session("keep", command=["sh"])
        await first.close()  # the daemon goes away; the host stays
        second = SessionManager(paths, store)
        try:
            await second.restore_sessions()
            assert second.list_sessions()[0].state == "running"
            (adopted,) = second.list_sessions()
            assert (adopted.id, adopted.host_pid, adopted.child_pid) == (info.id, info.host_pid, info.child_pid)
            await second.delete_session("keep")
        finally:
            await second.close()
            store.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_client_attach_receives_frames_and_input(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        client = await Client.connect()
        try:
            created = await client.request(p.SessionCreate(name="live", cols=40, rows=10, command=["sh"]))
            assert isinstance(created, p.Created)
            attached = await client.request(p.SessionAttach(target="live", cols=50, rows=12))
            assert isinstance(attached, p.Attached) and attached.session.attached == 1
            client.send(p.Input(target="live", data=b"echo fr$((1+1))ame\r"))
            rows: dict[int, str] = {}

            def shows_echo(frame: p.Frame) -> bool:
                assert (frame.cols, frame.rows) == (50, 12)
                for y, text, runs in frame.lines:
                    assert sum(count for count, _style in runs) == len(text)
                    rows[y] = text
                return "fr2ame" in rows.values()

            await frame_with(client, shows_echo)
            # A second client killing the attached session needs --force, and kicks the first.
            other = await Client.connect()
            with pytest.raises(SessionBusy, match="attached"):
                await other.request(p.SessionDelete(target="live"))
            await other.request(p.SessionDelete(target="live", force=True))
            await other.close()
            while True:
                msg = await asyncio.wait_for(client.events.get(), 10)
                if isinstance(msg, p.Kicked):
                    assert "killed" in msg.reason
                    break
        finally:
            await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
