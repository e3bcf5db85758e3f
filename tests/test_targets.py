"""Unit tests of target parsing and resolution (scarab/targets.py): Scarab's own rules (session ids,
dotted names, free indices) and the errors; tmux's rules are compared in tests/test_targets_vs_tmux.py."""

from __future__ import annotations

import pytest

from scarab.errors import BadRequest, SessionNotFound
from scarab.targets import Found, Kind, SessionView, Target, WindowView, parse_target, resolve, resolve_index

WORK = SessionView("a1b2c3" + "0" * 26, "work", (WindowView(0, 1, "vim", (10, 11), 11, 10),
                                                WindowView(3, 2, "logs", (12,), 12)), current=0, last=3)  # fmt: skip
DOTTED = SessionView("ffee" + "1" * 28, "my.proj", (WindowView(0, 5, "sh", (20,), 20),), current=0)
SESSIONS = (WORK, DOTTED)
HERE = Found(WORK.id, 0, 11)


def test_parse_splits_like_tmux() -> None:
    assert parse_target("work:1.2", Kind.PANE) == Target("work:1.2", Kind.PANE, "work", "1", "2", window_only=True,
                                                         pane_only=True)  # fmt: skip
    assert parse_target("=work:{last}", Kind.WINDOW) == Target("=work:{last}", Kind.WINDOW, "work", "!",
                                                               exact_session=True, window_only=True)  # fmt: skip
    assert parse_target("vim", Kind.SESSION).session == "vim"
    assert parse_target("vim", Kind.WINDOW).window == "vim"
    assert parse_target("vim", Kind.PANE).pane == "vim"
    assert parse_target("%3", Kind.SESSION).pane == "%3"
    assert parse_target(".{next}", Kind.PANE).pane == "+"


def test_scarab_session_ids_and_dotted_names() -> None:
    assert resolve(WORK.id, Kind.SESSION, SESSIONS) == Found(WORK.id, 0, 11)
    assert resolve("a1b2", Kind.SESSION, SESSIONS).session == WORK.id  # a unique id prefix
    assert resolve("$ffee", Kind.PANE, SESSIONS) == Found(DOTTED.id, 0, 20)
    assert resolve("my.proj", Kind.PANE, SESSIONS, HERE) == Found(DOTTED.id, 0, 20)
    assert resolve("my.proj:0.0", Kind.PANE, SESSIONS) == Found(DOTTED.id, 0, 20)


def test_windows_panes_and_tokens() -> None:
    assert resolve("work:logs", Kind.WINDOW, SESSIONS) == Found(WORK.id, 3, 12)
    assert resolve("work:!", Kind.WINDOW, SESSIONS) == Found(WORK.id, 3, 12)
    assert resolve("work:+", Kind.WINDOW, SESSIONS) == Found(WORK.id, 3, 12)
    assert resolve(".!", Kind.PANE, SESSIONS, HERE) == Found(WORK.id, 0, 10)
    assert resolve(".+", Kind.PANE, SESSIONS, HERE) == Found(WORK.id, 0, 10)
    assert resolve("%12", Kind.PANE, SESSIONS) == Found(WORK.id, 3, 12)
    assert resolve("@5", Kind.WINDOW, SESSIONS) == Found(DOTTED.id, 0, 20)
    assert resolve("", Kind.PANE, SESSIONS, HERE) == HERE
    assert resolve("work", Kind.PANE, SESSIONS) == Found(WORK.id, 0, 11)  # no current session: a session


def test_free_window_indices() -> None:
    assert resolve_index("work:7", SESSIONS) == (WORK.id, 7)
    assert resolve_index("work:3", SESSIONS) == (WORK.id, 3)
    assert resolve_index("work:", SESSIONS) == (WORK.id, None)
    assert resolve_index("", SESSIONS, HERE) == (WORK.id, None)
    with pytest.raises(BadRequest, match="can't specify pane here"):
        resolve_index("work:1.0", SESSIONS)


def test_errors_use_tmux_wording() -> None:
    with pytest.raises(SessionNotFound, match="can't find session: nope"):
        resolve("nope:1", Kind.PANE, SESSIONS)
    with pytest.raises(BadRequest, match="can't find window: 9"):
        resolve("work:9", Kind.WINDOW, SESSIONS)
    with pytest.raises(BadRequest, match="can't find pane: %99"):
        resolve("%99", Kind.PANE, SESSIONS)
    with pytest.raises(SessionNotFound, match=r"can't find session: \* \(it matches sessions work, my.proj\)"):
        resolve("*", Kind.SESSION, SESSIONS)
    with pytest.raises(BadRequest, match="no current session"):
        resolve(":1", Kind.WINDOW, SESSIONS)
    with pytest.raises(BadRequest, match="no marked target"):
        resolve("~", Kind.PANE, SESSIONS, HERE)
