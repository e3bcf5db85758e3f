"""Windows and panes through the CLI, with a real daemon and real hosts (issue 14): each verb, the
geometry of list-panes against a real tmux 3.3a server, and the crash guarantees — a daemon
`kill -9` (same pane pids, rectangles and screens), everything killed (the same windows, layout,
working directories, screens and scrollback), and kill -9 in the middle of bursts (the database
consistent with the live host)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from scarab import protocol as p
from tests.helpers import ScarabEnv, pid_alive, wait_for

pytestmark = pytest.mark.timeout(120)


def layout(env: ScarabEnv, target: str) -> p.LayoutReply:
    """The session's latest Layout as list-panes reads it, asked from this process (for polls)."""
    reply = env.ask(lambda client: client.request(p.LayoutQuery(target=target)))
    assert isinstance(reply, p.LayoutReply), reply
    return reply


def panes(env: ScarabEnv, target: str = "w", *, session: bool = True) -> list[dict[str, Any]]:
    """`scarab list-panes [-s] -t TARGET --json`, through the CLI."""
    out = env.ok("list-panes", *(["-s"] if session else []), "-t", target, "--json")
    return json.loads(out)  # type: ignore[no-any-return]


def windows(env: ScarabEnv, target: str = "w") -> list[dict[str, Any]]:
    return json.loads(env.ok("list-windows", "-t", target, "--json"))  # type: ignore[no-any-return]


def rects(rows: list[dict[str, Any]]) -> list[tuple[int, ...]]:
    return [(r["left"], r["top"], r["width"], r["height"], int(r["active"])) for r in rows]


def fail(env: ScarabEnv, *args: str) -> str:
    result = env.run(*args)
    assert result.returncode != 0, f"scarab {' '.join(args)} succeeded: {result.stdout}"
    assert result.stderr.startswith("scarab: "), result.stderr
    return result.stderr


def prompt_ready(env: ScarabEnv, pane: str) -> None:
    wait_for(lambda: "$" in env.capture(pane), what=f"a prompt in {pane}")


def test_targets_and_sizes_are_checked_before_anything_changes(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "w", "-x", "80", "-y", "24", "--", "sh")
    before = layout(scarab, "w")
    assert "can't find window: 9" in fail(scarab, "split-window", "-t", "w:9")
    assert "can't find pane: %999" in fail(scarab, "kill-pane", "-t", "%999")
    assert "can't find session: nosuch" in fail(scarab, "select-window", "-t", "nosuch:0")
    assert "bad size '0'" in fail(scarab, "split-window", "-t", "w", "-l", "0")
    assert "bad size 'abc'" in fail(scarab, "split-window", "-t", "w", "-l", "abc")
    assert "percentage" in fail(scarab, "split-window", "-t", "w", "-p", "150")
    assert "does not exist" in fail(scarab, "split-window", "-t", "w", "-c", str(scarab.root / "nowhere"))
    assert "unknown window option" in fail(scarab, "set-window-option", "-t", "w", "monitor-bell", "on")
    assert "use on or off" in fail(scarab, "set-window-option", "-t", "w", "synchronize-panes", "maybe")
    assert "needs a direction" in fail(scarab, "resize-pane", "-t", "w", "5")
    outside = scarab.run("split-window", env_extra={"SCARAB": "gone"})
    assert outside.returncode == 1, outside.stdout
    after = layout(scarab, "w")
    assert after.layout.panes == before.layout.panes and after.layout.windows == before.layout.windows


def test_ids_are_committed_before_use(scarab: ScarabEnv) -> None:
    """A new session's pane and window ids come from the user's counter, advanced in the database."""
    scarab.ok("new", "-d", "-s", "a", "--", "sh")
    scarab.ok("new", "-d", "-s", "b", "--", "sh")
    with contextlib.closing(scarab.db()) as conn:
        pane, window = conn.execute("SELECT pane, window FROM ids").fetchone()
    assert (pane, window) == (2, 2)


def test_killing_the_last_pane_or_window_ends_the_session_as_in_tmux(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "w", "--", "sh")
    scarab.ok("new-window", "-t", "w", "--", "sh")
    scarab.ok("kill-window", "-t", "w:1")  # one of two windows: the session goes on
    assert [s["name"] for s in scarab.sessions()] == ["w"]
    (host,) = scarab.host_pids()
    scarab.ok("kill-pane", "-t", "w")  # its only pane: the session ends (on_exit keeps only what exits by itself)
    wait_for(lambda: not scarab.sessions(), what="the session to end with its last pane")
    wait_for(lambda: not pid_alive(host), what=f"host {host} to end")
    scarab.ok("new", "-d", "-s", "v", "--", "sh")
    scarab.ok("kill-window", "-t", "v:0")
    wait_for(lambda: not scarab.sessions(), what="the session to end with its last window")
