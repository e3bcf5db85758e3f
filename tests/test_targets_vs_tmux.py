"""Target resolution against a real tmux 3.3a: the same sessions, windows and panes, the same picks.

A private tmux server (tests/tmux_oracle.py) gets sessions whose names share prefixes, windows whose
names share prefixes and panes; Scarab's view is built from tmux's own listing. For each target and
each kind (a session, window or pane command) tmux's pick (`list-windows`, `list-panes`, `display -p`
with `-t TARGET`) or its error must equal `resolve`'s. tmux's `$N` session ids stand for Scarab's.
"""

from __future__ import annotations

import shutil

import pytest

from scarab.errors import ScarabError
from scarab.targets import Found, Kind, SessionView, WindowView, resolve
from tests.tmux_oracle import Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

LISTING = ("#{session_id}\t#{session_name}\t#{window_index}\t#{window_id}\t#{window_name}\t#{window_active}\t"
           "#{window_last_flag}\t#{pane_id}\t#{pane_active}\t#{pane_last}")  # fmt: skip
SETUP = {  # session: [(window name, panes)]
    "alpha": [("vim", 1), ("vim2", 2), ("logs", 3)],
    "alphabet": [("build", 2), ("b*ld", 1)],
    "beta": [("vim", 1), ("vim", 1)],
    "gamma-1": [("x", 1)],
    "gamma-2": [("y", 1)],
    "7": [("seven", 2)],
}


def sid(tmux_id: str) -> str:
    return f"{int(tmux_id[1:]):032x}"


def build(tmux: Tmux) -> tuple[SessionView, ...]:
    ((ok, out),) = tmux.run([f"list-panes -a -F '{LISTING}'"])
    assert ok, out
    sessions: dict[str, dict[str, object]] = {}
    for line in out.splitlines():
        s_id, s_name, w_index, w_id, w_name, w_active, w_last, p_id, p_active, p_last = line.split("\t")
        session = sessions.setdefault(s_id, {"name": s_name, "windows": {}, "current": 0, "last": None})
        windows: dict[int, dict[str, object]] = session["windows"]  # type: ignore[assignment]
        window = windows.setdefault(int(w_index), {"id": int(w_id[1:]), "name": w_name, "panes": [],
                                                   "active": 0, "last": None})  # fmt: skip
        window["panes"].append(int(p_id[1:]))  # type: ignore[attr-defined]
        if p_active == "1":
            window["active"] = int(p_id[1:])
        if p_last == "1":
            window["last"] = int(p_id[1:])
        if w_active == "1":
            session["current"] = int(w_index)
        if w_last == "1":
            session["last"] = int(w_index)
    views = []
    for s_id, s in sessions.items():
        windows = s["windows"]
        assert isinstance(windows, dict)
        views.append(SessionView(sid(s_id), str(s["name"]), tuple(
            WindowView(index, w["id"], w["name"], tuple(w["panes"]), w["active"], w["last"])
            for index, w in windows.items()), s["current"], s["last"]))  # type: ignore[arg-type]  # fmt: skip
    return tuple(views)


def targets(views: tuple[SessionView, ...]) -> list[str]:
    alpha = next(s for s in views if s.name == "alpha")
    logs = next(w for w in alpha.windows if w.name == "logs")
    other = next(s for s in views if s.name == "beta").windows[0]
    names = ["", "alpha", "alp", "al", "a", "alphab", "alpha:", "alpha:1", "alpha:v", "alpha:vim", "alpha:vi*",
             "alpha:vim?", "alpha:l", "alpha:logs.1", "alpha:logs.2", "alpha:logs.3", ":1", ":vim2", ":vim", ":l",
             ".1", ".2", ".+1", ".-", ".+", ".-2", ".!", ".{last}", ".{next}", "1.1", "2.1", "2.9", "logs", "logs.2",
             "vim", "vim2", "v", "beta", "bet", "beta:vim", "beta:v", "beta:1", "gam", "gamma-*", "gamma-?", "g*",
             "[ab]eta", "*a*", "7", "7:", "7:1", "7.1", "=alph", "=alpha:0", "alpha:=vi", "alpha:=vim2", "alpha:!",
             "alpha:^", "alpha:$", "alpha:+", "alpha:-", "alpha:+2", "alpha:-5", "alpha:{next}", "alpha:{last}",
             "alpha:{start}", "alpha:{end}", "alpha:{previous}", "!", "^", "$", "+", "-", "+1", "{last}", "nosuch",
             "nosuch:1", "alpha:9", "alpha:2.9", "alpha:.0", "alpha:.1", "beta:.0", "alphabet:b", "alphabet:b*",
             "alphabet:b\\*ld", "seven", "seven.1", "0", "1", "2", "3", "9", "%999", "@999", "$999", "x", "y",
             "gamma-1:x", "alpha:@999", "alpha:%999", f"alpha:%{other.panes[0]}",
             f"alpha:{logs.index}.%{other.panes[0]}"]  # fmt: skip
    names += [f"%{pane}" for s in views for w in s.windows for pane in w.panes]
    names += [f"@{w.id}" for s in views for w in s.windows] + [f"alpha:@{w.id}" for w in alpha.windows]
    names += [f"${int(s.id, 16)}" for s in views]
    return names


COMMANDS = {
    Kind.SESSION: "list-windows -t '{}' -F '#{{session_id}}'",
    Kind.WINDOW: "list-panes -t '{}' -F '#{{session_id}}:#{{window_index}}'",
    Kind.PANE: "display-message -p -t '{}' '#{{session_id}}:#{{window_index}}.#{{pane_id}}'",
}
PANE_CHECK = "pipe-pane -t '{}'"  # display-message never fails on a bad target (CMD_FIND_CANFAIL)


def scarab_target(target: str, views: tuple[SessionView, ...]) -> str:
    """tmux's `$N` is Scarab's session id."""
    head, colon, rest = target.partition(":")
    if head.startswith("$") and head[1:].isdigit() and any(s.id == sid(head) for s in views):
        return f"${sid(head)}{colon}{rest}"
    return target


def pick(found: Found, kind: Kind) -> str:
    session = f"${int(found.session, 16)}"
    if kind is Kind.SESSION:
        return session
    if kind is Kind.WINDOW:
        return f"{session}:{found.window}"
    return f"{session}:{found.window}.%{found.pane}"


@pytest.mark.timeout(60)
def test_target_resolution_matches_tmux(tmux: Tmux) -> None:
    commands = ["set -gw automatic-rename off"]
    for session, windows in SETUP.items():
        (name, panes), *rest = windows
        if session == "alpha":  # the control client's own session: where targets without a session look
            commands += ["rename-session -t =oracle alpha", f"rename-window -t =alpha:0 '{name}'"]
        else:
            commands.append(f"new-session -d -s {session} -n '{name}'")
        commands += [f"split-window -t '={session}:0'"] * (panes - 1)
        for index, (name, panes) in enumerate(rest, start=1):
            commands.append(f"new-window -t '={session}:{index}' -n '{name}'")
            commands += [f"split-window -t '={session}:{index}'"] * (panes - 1)
    commands += ["select-window -t =alpha:0", "select-window -t =alpha:2", "select-pane -t =alpha:2.0",
                 "select-pane -t =alpha:2.2", "select-window -t =alphabet:0"]  # fmt: skip
    for ok, out in tmux.run(commands):
        assert ok, out
    views = build(tmux)
    alpha = next(s for s in views if s.name == "alpha")
    current = Found(alpha.id, alpha.current, alpha.windows[alpha.current].active)
    compared = 0
    mismatches = []
    names = targets(views)
    for kind, template in COMMANDS.items():
        replies = tmux.run([template.format(name) for name in names])
        if kind is Kind.PANE:
            checks = tmux.run([PANE_CHECK.format(name) for name in names])
            pairs = zip(replies, checks, strict=True)
            replies = [(check_ok, out if check_ok else check) for (_, out), (check_ok, check) in pairs]
        for name, (ok, out) in zip(names, replies, strict=True):
            want = out.splitlines()[0] if ok else f"error: {out}"
            try:
                got = pick(resolve(scarab_target(name, views), kind, views, current), kind)
            except ScarabError as exc:
                got = f"error: {str(exc).split(' (it matches')[0]}"
            if got != want:
                mismatches.append(f"{kind.value} {name!r}: tmux {want!r}, scarab {got!r}")
            compared += 1
    assert not mismatches, "\n".join(mismatches)
    assert compared == 3 * len(names) > 400
