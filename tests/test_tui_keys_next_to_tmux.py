"""tmux's default window, pane and session keys through the real client, next to tmux 3.3a: the real
`scarab attach` in a real terminal (a pane of a private tmux server) and a real tmux client in
another window of that terminal are typed the same keys (`'`, `,`, `&`, `!`, `{`, `}`, `;`,
M-arrows, `(`, `)`, `L`); after each, both show the same windows (index, name, current one), the
same panes (which pane, where, how big, which one is active) and the same current session."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from scarab import protocol as p
from tests.helpers import ScarabEnv, wait_for
from tests.realterm import Tmux, tmux  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.timeout(120),
]

ROWS = 30  # the outer terminal's (realterm's tmux fixture): the status bar is its last row
PANES = "#{window_index}.#{pane_index} #{pane_id} #{pane_left},#{pane_top} #{pane_width}x#{pane_height} #{pane_active}"
WINDOWS = "#{window_index}:#{window_name}#{?window_active,*,}"


def _ranked(lines: list[str]) -> list[str]:
    """Pane ids replaced by their rank among the ids listed: which pane it is, whatever the numbering."""
    ids = sorted({int(m) for line in lines for m in re.findall(r"%(\d+)", line)})
    return [re.sub(r"%(\d+)", lambda m: f"#{ids.index(int(m.group(1)))}", line) for line in lines]


class Inner:
    """The reference: a tmux 3.3a server of its own, its client in the outer terminal's window 1."""

    def __init__(self, env: ScarabEnv) -> None:
        self.argv = ["tmux", "-S", str(env.root / "inner.sock"), "-f", "/dev/null"]
        self.env = {**env.env, "TMUX": ""}

    def __call__(self, *args: str) -> str:
        proc = subprocess.run([*self.argv, *args], env=self.env, capture_output=True, text=True, timeout=10)
        assert proc.returncode == 0, f"tmux {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def state(self, session: str) -> tuple[list[str], list[str]]:
        windows = self("list-windows", "-t", session, "-F", WINDOWS).splitlines()
        return windows, _ranked(self("list-panes", "-s", "-t", session, "-F", PANES).splitlines())

    def kill(self) -> None:
        proc = subprocess.run([*self.argv, "display-message", "-p", "#{pid}"], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip().isdigit():
            os.kill(int(proc.stdout.strip()), signal.SIGKILL)


def scarab_state(env: ScarabEnv, session: str) -> tuple[list[str], list[str]]:
    """The same listing from Scarab's daemon, asked from this process (one look per poll)."""
    reply = env.ask(lambda client: client.request(p.LayoutQuery(target=f"{session}:")))
    assert isinstance(reply, p.LayoutReply), reply
    layout = reply.layout
    windows = [f"{w.index}:{w.name}{'*' if '*' in w.flags else ''}" for w in layout.windows]
    panes = []
    for w in layout.windows:
        for index, pane in enumerate(q for q in layout.panes if q.window == w.index):
            where = f"{pane.left},{pane.top} {pane.width}x{pane.height}"
            panes.append(f"{w.index}.{index} %{pane.id} {where} {int(pane.active)}")
    return windows, _ranked(panes)


def test_window_pane_and_session_keys_do_what_tmuxs_do(scarab: ScarabEnv, tmux: Tmux) -> None:  # noqa: F811
    inner = Inner(scarab)
    for name in ("work", "x", "y"):
        scarab.ok("new", "-d", "-s", name, "--", "sh")
        inner("new-session", "-d", "-s", name, "sh")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach work", "Enter")
    tmux("new-window", "-d", f"env TMUX= {' '.join(inner.argv)} attach -t work")
    ours, theirs = ":0", ":1"

    def status(window: str) -> str:
        return tmux("capture-pane", "-p", "-t", window).splitlines()[ROWS - 1]

    def current(window: str) -> str:
        match = re.match(r"\s*\[([^\]]*)\]", status(window))
        return match.group(1) if match else ""

    def describe() -> str:
        screens = (tmux("capture-pane", "-p", "-t", w) for w in (ours, theirs))
        mine, real = screens
        return f"scarab:\n{mine}\ntmux:\n{real}"

    def same(session: str, prompt: str = "") -> Callable[[], bool]:
        def check() -> bool:
            if prompt:  # the prompt is where the status bar was, in both (Scarab asks y/n in a box)
                shown = all(prompt in tmux("capture-pane", "-p", "-t", window) for window in (ours, theirs))
            else:
                shown = current(ours) == current(theirs) == session
            return shown and scarab_state(scarab, session) == inner.state(session)

        return check

    def both(*keys: str) -> None:
        for window in (ours, theirs):
            tmux("send-keys", "-t", window, *keys)

    def step(keys: tuple[str, ...], what: str, session: str = "work", prompt: str = "") -> None:
        both(*keys)
        wait_for(
            same(session, prompt),
            what=lambda: (
                f"the same after {what}: scarab {scarab_state(scarab, session)} "
                f"tmux {inner.state(session)}\n{describe()}"
            ),
        )

    try:
        wait_for(same("work"), what=describe)
        step(("C-b", "%"), "split-window -h")
        step(("C-b", '"'), "split-window -v")
        step(("C-b", ";"), "last-pane (prefix ;)")
        step(("C-b", ";"), "last-pane again")
        step(("C-b", "M-Left"), "resize-pane -L 5 (prefix M-Left)")
        step(("C-b", "M-Up"), "resize-pane -U 5 (prefix M-Up)")
        step(("C-b", "M-Right"), "resize-pane -R 5")
        step(("C-b", "M-Down"), "resize-pane -D 5")
        step(("C-b", "{"), "swap-pane -U (prefix {)")
        step(("C-b", "}"), "swap-pane -D (prefix })")
        step(("C-b", "}"), "swap-pane -D again")
        step(("C-b", "Space"), "next-layout (prefix Space)")
        step(("C-b", "Space"), "next-layout again")
        for number, name in enumerate(("even-horizontal", "even-vertical", "main-horizontal", "main-vertical"), 1):
            step(("C-b", f"M-{number}"), f"select-layout {name} (prefix M-{number})")
        step(("C-b", "o"), "select-pane -t :.+ (prefix o)")
        step(("C-b", "C-Down"), "resize-pane -D (prefix C-Down)")
        step(("C-b", "!"), "break-pane (prefix !)")
        step(("C-b", "p"), "previous-window (prefix p)")
        step(("C-b", "n"), "next-window (prefix n)")
        step(("C-b", "'"), "the index prompt open", prompt="index")
        step(("0", "Enter"), "select-window -t :0 from the prompt")
        step(("C-b", ","), "the rename prompt open", prompt="(rename-window) sh")
        step(("C-u", "e", "d", "Enter"), "rename-window ed from the prompt")
        step(("C-b", "c"), "new-window")
        step(("C-b", "&"), "the kill-window confirmation", prompt="kill-window sh? (y/n)")
        step(("y",), "kill-window confirmed")
        step(("C-b", ")"), "switch-client -n (prefix ))", session="x")
        step(("C-b", ")"), "switch-client -n again", session="y")
        step(("C-b", "L"), "switch-client -l (prefix L)", session="x")
        step(("C-b", "("), "switch-client -p (prefix ()", session="work")
        step(("C-b", "("), "switch-client -p again (wrapping)", session="y")
        step(("C-b", "L"), "switch-client -l back", session="work")
    finally:
        inner.kill()
