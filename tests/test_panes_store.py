"""The daemon's pure and storage side of windows and panes: the store's windows/panes/ids tables and
its migration of per-session snapshots to per-pane ones, and targets resolved against a Layout."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.daemon import store as store_module
from scarab.daemon.server import ClientConn
from scarab.daemon.session import layout_from_records, layout_records
from scarab.daemon.store import LEGACY_PANE, SavedSnapshot, SessionRecord, Store
from scarab.daemon.targeting import ANY_PANE, current_of, resolve_pane, resolve_verb, session_view
from scarab.daemon.windows import IdCounter
from scarab.errors import BadRequest, SessionNotFound
from scarab.targets import Kind

pytestmark = pytest.mark.timeout(20)


def pane(id_: int, window: int, left: int, width: int, *, active: bool = False) -> p.PaneInfo:
    return p.PaneInfo(id=id_, window=window, left=left, top=0, width=width, height=24, active=active, visible=True,
                      pid=1000 + id_, cwd=f"/tmp/{id_}", command=["sh"], title=f"t{id_}")  # fmt: skip


LAYOUT = p.Layout(
    session_id="s1",
    cols=80,
    rows=24,
    windows=[
        p.WindowInfo(index=0, id=0, name="sh", flags="-", layout="b25f,80x24,0,0,0", active_pane=0),
        p.WindowInfo(index=2, id=3, name="vim", flags="*Z", layout="x", active_pane=5, synchronize=True),
    ],
    panes=[pane(0, 0, 0, 80, active=True), pane(4, 2, 0, 40), pane(5, 2, 41, 39, active=True)],
    borders=[],
)


def test_layout_round_trips_through_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    try:
        store.put(SessionRecord(id="s1", name="w", created_at=1, last_attached=1))
        windows, panes = layout_records(LAYOUT)
        store.put_layout("s1", windows, panes)
        assert store.layout("s1") == (windows, panes)
        again = layout_from_records("s1", 80, 24, *store.layout("s1"))
        assert again == LAYOUT
        # A pane gone from the layout takes its snapshot and history with it; the others stay.
        for pane_id in (0, 4, 5):
            store.snapshots._save("s1", pane_id, b"head", SavedSnapshot("e", 0, 1))
            store.snapshots._append("s1", pane_id, "e", 0, 1, b"rows")
        fewer = p.Layout(session_id="s1", cols=80, rows=24, windows=LAYOUT.windows, borders=[],
                         panes=[LAYOUT.panes[0], LAYOUT.panes[2]])  # fmt: skip
        store.put_layout("s1", *layout_records(fewer))
        assert store.snapshot_panes("s1") == [0, 5]
        assert store.snapshots._pages("s1", 4, SavedSnapshot("e", 0, 1)) == []
        assert store.snapshots._pages("s1", 5, SavedSnapshot("e", 0, 1)) == [(0, 1, b"rows")]
        store.delete("s1")
        assert store.layout("s1") == ([], [])
    finally:
        store.close()


def test_the_id_counter_is_committed_and_never_goes_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    assert store.ids() == IdCounter(0, 0)
    store.put_ids(IdCounter(7, 3))
    store.put_ids(IdCounter(2, 9))  # a stale counter cannot take ids back
    store.close()
    reopened = Store(tmp_path / "db")
    try:
        assert reopened.ids() == IdCounter(7, 9)
    finally:
        reopened.close()


def test_a_version_4_database_keeps_its_snapshots_as_the_legacy_pane(tmp_path: Path) -> None:
    path = tmp_path / "db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for version in range(1, 5):
            for statement in store_module._MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("PRAGMA user_version=4")
        conn.execute("INSERT INTO sessions (id, name, created_at, last_attached) VALUES ('old', 'w', 1, 1)")
        conn.execute("INSERT INTO snapshots VALUES ('old', 5, X'AA', 'e', 2, 4)")
        conn.execute("INSERT INTO history VALUES ('old', 'e', 2, 4, X'BB')")
        conn.commit()
    store = Store(path)
    try:
        assert store.snapshot("old", LEGACY_PANE) == (5, b"\xaa", SavedSnapshot("e", 2, 4))
        assert store.snapshots._pages("old", LEGACY_PANE, SavedSnapshot("e", 2, 4)) == [(2, 4, b"\xbb")]
        assert store.layout("old") == ([], [])
    finally:
        store.close()


VIEWS = (session_view("s1", "work", LAYOUT), session_view("s2", "other", p.Layout(
    session_id="s2", cols=80, rows=24, windows=[], panes=[], borders=[])))  # fmt: skip


@pytest.mark.parametrize(
    ("target", "kind", "expected"),
    [
        ("work:2.0", Kind.PANE, ("s1", 2, 4)),
        ("work:0", Kind.PANE, ("s1", 0, 0)),
        ("%4", Kind.PANE, ("s1", 2, 4)),
        ("@3", Kind.WINDOW, ("s1", 2, 5)),
        ("work:vim.1", Kind.PANE, ("s1", 2, 5)),
        ("work:!", Kind.WINDOW, ("s1", 0, 0)),
        ("work", Kind.PANE, ("s1", 2, 5)),  # a session alone: its current window's active pane
        (".0", Kind.PANE, ("s1", 2, 4)),  # a pane of the current window
        ("", Kind.PANE, ("s1", 2, 5)),
        ("other", Kind.PANE, ("s2", 0, ANY_PANE)),  # a host that has not described its windows
    ],
)
def test_targets_resolve_against_the_latest_layout(target: str, kind: Kind, expected: tuple[str, int, int]) -> None:
    current = current_of(VIEWS, "s1")
    resolved = resolve_pane(target, kind, VIEWS, current)
    assert (resolved.session, resolved.window, resolved.pane) == expected


def test_current_is_the_pane_a_command_runs_in() -> None:
    inside = current_of(VIEWS, "s1", 0)  # pane %0, of window 0 (not the current window)
    for target in ("", ".0", ":0.0"):
        resolved = resolve_pane(target, Kind.PANE, VIEWS, inside)
        assert (resolved.session, resolved.window, resolved.pane) == ("s1", 0, 0), target
    assert resolve_pane("", Kind.PANE, VIEWS, inside).named is False
    assert resolve_pane(".0", Kind.PANE, VIEWS, inside).named is True
    assert current_of(VIEWS, "gone") is None


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("work:7", "can't find window: 7"),
        ("%99", "can't find pane: %99"),
        ("nosuch:0", "can't find session: nosuch"),
        ("work:2.5", "can't find pane: 5"),
    ],
)
def test_unknown_targets_are_refused(target: str, error: str) -> None:
    with pytest.raises((BadRequest, SessionNotFound), match=error):
        resolve_pane(target, Kind.PANE, VIEWS, current_of(VIEWS, "s1"))


def test_verbs_reach_the_host_with_ids() -> None:
    current = current_of(VIEWS, "s1")
    session, verb = resolve_verb(p.SplitWindow(target="work:2.0", horizontal=True), VIEWS, current)
    assert session == "s1" and verb == p.SplitWindow(target="%4", horizontal=True)
    session, verb = resolve_verb(p.KillWindow(target="work:sh"), VIEWS, current)
    assert verb == p.KillWindow(target="@0")
    session, verb = resolve_verb(p.NewWindow(target="work:5", name="x"), VIEWS, current)
    assert verb == p.NewWindow(target="", name="x", index=5)
    session, verb = resolve_verb(p.NewWindow(target="work"), VIEWS, current)
    assert verb == p.NewWindow(target="", index=-1)
    _, verb = resolve_verb(p.SwapPane(target="%4", source="work:0.0"), VIEWS, current)
    assert verb == p.SwapPane(target="%4", source="%0")
    with pytest.raises(BadRequest, match="no current session"):
        resolve_verb(p.KillPane(target=""), VIEWS, None)


class _Channel:
    """What ClientConn needs of a channel: what it sends, and how much is queued."""

    def __init__(self) -> None:
        self.sent: list[p.Message] = []
        self.queued = 0

    def send_nowait(self, msg: p.Message) -> None:
        self.sent.append(msg)

    def buffered(self) -> int:
        return self.queued


def frame(pane_id: int, *, full: bool) -> p.Frame:
    return p.Frame(session_id="s1", seq=0, cols=1, rows=1, cursor=[0, 0, 1, 0], modes=0, title="", full=full,
                   lines=[], styles=[], pane=pane_id)  # fmt: skip


def test_a_client_behind_catches_up_on_a_full_frame_of_every_visible_pane() -> None:
    channel = _Channel()
    asked: list[str] = []

    def redraw(session_id: str) -> set[int]:
        asked.append(session_id)
        return {4, 5}

    client = ClientConn(channel, redraw)  # type: ignore[arg-type]
    client.expect_full({4, 5})  # attached: incremental frames diff against screens it lacks
    client.push(frame(4, full=False))
    client.push(frame(4, full=True))
    client.push(frame(4, full=False))  # pane 5 is still missing: still behind
    client.push(frame(5, full=True))
    client.push(frame(4, full=False))
    assert [(f.pane, f.full) for f in channel.sent if isinstance(f, p.Frame)] == [(4, True), (5, True), (4, False)]
    # Behind again (too much queued): a redraw is asked once, and pane 5 closing ends the wait for it.
    channel.queued = 10**9
    client.push(frame(4, full=False))
    channel.queued = 0
    client.push(frame(4, full=False))
    client.push(frame(4, full=False))
    assert asked == ["s1"]
    client.push(frame(4, full=True))
    client.push(frame(4, full=False))
    assert channel.sent[-1] == frame(4, full=True)
    closed = p.Layout(session_id="s1", cols=80, rows=24, windows=LAYOUT.windows, panes=LAYOUT.panes[:2], borders=[])
    client.push(closed)  # layouts always go through; pane 5 is not in this one
    assert channel.sent[-1] is closed
    client.push(frame(4, full=False))
    assert channel.sent[-1] == frame(4, full=False)
