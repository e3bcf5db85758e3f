"""Unit and property tests of the pure window list (scarab/daemon/windows.py); the same rules are
compared with a real tmux in tests/test_windows_vs_tmux.py."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarab.daemon.layout import Axis
from scarab.daemon.windows import (
    IdCounter,
    WindowEntry,
    Windows,
    automatic_name,
    default_name,
    parse_window_name,
    status_list,
)
from scarab.errors import BadRequest


def session(count: int) -> Windows:
    windows = Windows(80, 24)
    for i in range(count):
        windows.new_window(i, 100 + i, shell="/bin/bash")
    return windows


def test_names_follow_tmux_parse_window_name() -> None:
    assert parse_window_name("exec vim -p a b") == "vim"
    assert parse_window_name("-bash") == "bash"
    assert parse_window_name("/usr/bin/python3 x.py") == "python3"
    assert parse_window_name('"/bin/sh" -c x') == "sh"
    assert parse_window_name("") == ""
    assert parse_window_name("/") == "/"
    assert default_name("", "/bin/zsh") == "zsh"
    assert default_name("top -d 1", "/bin/zsh") == "top"
    assert automatic_name("/usr/bin/less") == "less"
    assert automatic_name("vim", in_mode=True) == "[tmux]"
    assert automatic_name("bash", dead=True) == "bash[dead]"


def test_new_window_takes_the_first_free_index_and_becomes_current() -> None:
    windows = session(3)
    assert windows.indices == (0, 1, 2) and windows.current == 2 and windows.last == 1
    windows.kill_window(1)
    assert windows.new_window(9, 109, shell="/bin/sh") == 1
    assert windows.status() == "0:bash  1:sh* 2:bash-"
    with pytest.raises(BadRequest, match="create window failed: index 2 in use"):
        windows.new_window(10, 110, index=2)
    assert windows.new_window(10, 110, index=7, detached=True, name="logs") == 7
    assert windows.current == 1 and windows[7].name == "logs" and not windows[7].automatic_rename


def test_new_window_after_moves_later_windows_up() -> None:
    windows = session(3)
    windows.select_window(0)
    assert windows.new_window(5, 105, after=True) == 1
    assert [windows[i].id for i in windows.indices] == [0, 5, 1, 2]
    assert windows.new_window(6, 106, index=0, before=True) == 0
    assert [windows[i].id for i in windows.indices] == [6, 0, 5, 1, 2]


def test_kill_window_shows_the_last_then_previous_then_next() -> None:
    windows = session(4)
    windows.select_window(1)
    windows.select_window(3)
    windows.kill_window(3)
    assert windows.current == 1  # the last window
    windows.kill_window(1)
    assert windows.current == 2 or windows.current == 0
    assert not windows.kill_window(windows.current)
    assert windows.kill_window(windows.current) and windows.empty


def test_select_next_previous_last_and_their_errors() -> None:
    windows = session(1)
    for step, message in ((windows.next_window, "no next window"), (windows.previous_window, "no previous window"),
                          (windows.last_window, "no last window")):  # fmt: skip
        with pytest.raises(BadRequest, match=message):
            step()
    windows = session(3)
    windows.next_window()
    assert windows.current == 0
    windows.previous_window()
    assert windows.current == 2
    windows.last_window()
    assert windows.current == 0
    windows.select_window(0, toggle=True)
    assert windows.current == 2
    with pytest.raises(BadRequest, match="can't find window: 7"):
        windows.select_window(7)


def test_flags_bell_zoom_and_status() -> None:
    windows = session(2)
    windows[0].layout.split(100, Axis.LEFT_RIGHT, 200)
    windows[0].layout.toggle_zoom()
    windows.bell(0)
    windows.bell(1)  # the current window takes no bell flag
    assert [e.flags for e in windows.entries()] == ["!-Z", "*"]
    windows.select_window(0)
    assert windows.flags(0) == "*Z"
    assert status_list((WindowEntry(0, 0, "a", "", False), WindowEntry(1, 1, "b", "*", True))) == "0:a  1:b*"


def test_rename_stops_automatic_rename() -> None:
    windows = session(1)
    assert windows.update_name(0, "/usr/bin/vim") and windows[0].name == "vim"
    assert not windows.update_name(0, "vim")
    windows.rename_window(0, "edit")
    assert not windows.update_name(0, "less") and windows[0].name == "edit"


def test_break_pane_and_kill_pane() -> None:
    windows = session(1)
    windows[0].layout.split(100, Axis.TOP_BOTTOM, 300)
    assert windows.break_pane(300, 7) == 1 and windows.current == 1
    assert windows.window_of(300) == 1 and windows[0].layout.panes == (100,)
    assert windows.break_pane(300, 8, index=5) == 5 and windows[5].id == 7  # a lone pane's window moves
    assert windows.indices == (0, 5) and windows.last == 0
    assert not windows.kill_pane(300)
    assert list(windows.indices) == [0]
    with pytest.raises(BadRequest, match="can't find pane: %9"):
        windows.kill_pane(9)
    assert windows.kill_pane(100) and windows.empty


def test_move_and_swap() -> None:
    windows = session(3)
    assert windows.move_window(0, 5) == 5 and windows.current == 5
    with pytest.raises(BadRequest, match="index in use: 1"):
        windows.move_window(5, 1)
    windows.swap_window(1, 2)
    assert windows[1].id == 2 and windows.current == 5


def test_ids_are_the_callers_and_never_reused() -> None:
    windows = session(2)
    with pytest.raises(BadRequest, match="window id @1 is in use"):
        windows.new_window(1, 500)
    with pytest.raises(BadRequest, match="pane id %100 is in use"):
        windows.new_window(5, 100)
    counter = IdCounter()
    pane, counter = counter.next_pane()
    window, counter = counter.next_window()
    assert (pane, window, counter) == (0, 0, IdCounter(1, 1))


operation = st.tuples(
    st.sampled_from(["new", "new_at", "after", "kill", "select", "next", "prev", "last", "split", "break",
                     "killpane", "move", "swap", "rename"]),
    st.integers(0, 8), st.integers(0, 8),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=60))
def test_invariants_hold_under_any_sequence(ops: list[tuple[str, int, int]]) -> None:
    windows = session(1)
    ids = IdCounter(pane=1000, window=10)
    for kind, a, b in ops:
        if windows.empty:
            break
        pane_list = windows.panes()
        pane = pane_list[a % len(pane_list)]
        pid, wid = ids.pane, ids.window
        try:
            if kind == "new":
                windows.new_window(wid, pid, detached=b % 2 == 0)
            elif kind == "new_at":
                windows.new_window(wid, pid, index=a)
            elif kind == "after":
                windows.new_window(wid, pid, index=a, after=True)
            elif kind == "kill":
                windows.kill_window(a)
            elif kind == "select":
                windows.select_window(a, toggle=b % 2 == 0)
            elif kind == "next":
                windows.next_window()
            elif kind == "prev":
                windows.previous_window()
            elif kind == "last":
                windows.last_window()
            elif kind == "split":
                windows[windows.window_of(pane)].layout.split(pane, Axis.LEFT_RIGHT, pid)
            elif kind == "break":
                windows.break_pane(pane, wid, index=b if b % 3 == 0 else None)
            elif kind == "killpane":
                windows.kill_pane(pane)
            elif kind == "move":
                windows.move_window(a, b)
            elif kind == "swap":
                windows.swap_window(a, b, detached=b % 2 == 0)
            elif kind == "rename":
                windows.rename_window(a, f"n{b}")
                assert windows[a].name == f"n{b}"
        except BadRequest:
            pass
        ids = IdCounter(pane=pid + 1, window=wid + 1)
        if windows.empty:
            assert len(windows) == 0
            break
        indices = windows.indices
        assert len(set(indices)) == len(indices) and all(i >= 0 for i in indices)
        assert windows.current in indices
        assert windows.last is None or (windows.last in indices and windows.last != windows.current)
        panes = windows.panes()
        assert len(set(panes)) == len(panes)
        assert len({windows[i].id for i in indices}) == len(indices)
        assert sum(e.active for e in windows.entries()) == 1
        assert sum("*" in e.flags for e in windows.entries()) == 1
        assert sum("-" in e.flags for e in windows.entries()) == (windows.last is not None)
