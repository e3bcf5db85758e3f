"""The window list against a real tmux 3.3a: the same commands, the same windows, flags and panes.

Each case is one tmux session (in the shared private server of tests/tmux_oracle.py) and one
`Windows` model, driven by a seeded random sequence of new-window (-a/-b/-t/-d/-n), kill-window,
select-window (-t/-n/-p/-l/-T), rename-window, split-window, break-pane (-d/-t/-a/-n), kill-pane,
swap-window and move-window. After every command the outcome (and tmux's error message), the
window list (`index id name flags active`) and each pane's window and active flag must be equal.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
from collections.abc import Iterator

import pytest

from scarab.daemon.layout import Axis
from scarab.daemon.windows import Windows
from scarab.errors import BadRequest
from tests.tmux_oracle import Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

WINDOWS = "#{window_index} #{window_id} #{window_name} #{window_flags} #{window_active}"
PANES = "#{window_index} #{pane_id} #{pane_active}"


class Case:
    """One tmux session and its model; commands are queued with the model's outcome, then compared."""

    def __init__(self, tmux: Tmux, name: str) -> None:
        self.tmux, self.name = tmux, name
        ((ok, out),) = tmux.run([f"new-session -d -s {name} -x 80 -y 24 -P -F '#{{window_id}} #{{pane_id}}'"])
        assert ok, out
        window, pane = out.split()
        self.next_window, self.next_pane = int(window[1:]) + 1, int(pane[1:]) + 1
        self.model = Windows(80, 24)
        self.model.new_window(int(window[1:]), int(pane[1:]), command="exec cat")
        self.steps: list[str] = []
        self.pending: list[tuple[str, str | None, str]] = []  # command, expected error, expected state

    def state(self) -> str:
        if self.model.empty:
            return ""
        windows = [f"{e.index} @{e.id} {e.name} {e.flags} {int(e.active)}" for e in self.model.entries()]
        panes = [
            f"{index} %{pane} {int(pane == self.model[index].layout.active)}"
            for index in self.model.indices
            for pane in self.model[index].layout.panes
        ]
        return "\n".join(windows) + "\n--\n" + "\n".join(panes)

    @contextlib.contextmanager
    def op(self, command: str) -> Iterator[None]:
        """Apply to the model (the body of the with block), queue the same command for tmux."""
        error: str | None = None
        try:
            yield
        except BadRequest as exc:
            error = str(exc)
        self.steps.append(command)
        self.pending.append((command, error, self.state()))

    def check(self) -> int:
        commands: list[str] = []
        for command, _, _ in self.pending:
            commands += [command, f"list-windows -t ={self.name} -F '{WINDOWS}'",
                         f"list-panes -s -t ={self.name} -F '{PANES}'"]  # fmt: skip
        # The command that ends the session goes alone: tmux 3.3a's server dies when commands queued
        # in the same batch go on looking at a session that a kill-pane there has just destroyed.
        ending = self.pending[-1][2] == ""
        replies = self.tmux.run(commands[:-3]) if ending else self.tmux.run(commands)
        if ending:
            replies += self.tmux.run(commands[-3:-2])
            replies += self.tmux.run(commands[-2:])
        for i, (_, error, expected) in enumerate(self.pending):
            (ok, out), (listed, windows), (_, panes) = replies[3 * i : 3 * i + 3]
            history = "\n  ".join(self.steps[: len(self.steps) - len(self.pending) + i + 1])
            assert ok == (error is None), f"tmux: {ok} {out!r}, scarab: {error!r} after:\n  {history}"
            if error is not None:
                assert out == error, f"tmux says {out!r}, scarab {error!r} after:\n  {history}"
            got = f"{windows}\n--\n{panes}" if listed else ""
            assert got == expected, f"after:\n  {history}\ntmux:\n{got}\nscarab:\n{expected}"
        count = len(self.pending)
        self.pending.clear()
        return count

    def t(self, index: int) -> str:
        return f"={self.name}:{index}"


def random_case(tmux: Tmux, seed: int, steps: int) -> int:
    rng = random.Random(seed)
    case = Case(tmux, f"w{seed}")
    model = case.model
    compared = 0
    for _ in range(steps):
        if model.empty:
            break
        indices = model.indices
        some = rng.choice([*indices, max(indices) + 1, rng.randint(0, 12)])
        panes = model.panes()
        pane = rng.choice(panes)
        kind = rng.choices(
            ["new", "kill", "select", "next", "prev", "last", "toggle", "rename", "split", "break", "killpane",
             "swap", "move"],
            weights=[14, 5, 8, 4, 4, 5, 2, 3, 8, 5, 4, 3, 3],
        )[0]  # fmt: skip
        if kind == "new":
            index = rng.choice([None, some])
            after, before = rng.random() < 0.25, rng.random() < 0.1
            detached = rng.random() < 0.25
            name = rng.choice([None, None, f"n{rng.randint(0, 3)}"])
            flags = " -a" * after + " -b" * before + " -d" * detached + (f" -n {name}" if name else "")
            with case.op(f"new-window -t '={case.name}:{'' if index is None else index}'{flags}"):
                model.new_window(case.next_window, case.next_pane, name=name, command="exec cat", index=index,
                                 after=after, before=before, detached=detached)  # fmt: skip
                case.next_window, case.next_pane = case.next_window + 1, case.next_pane + 1
        elif kind == "kill":
            with case.op(f"kill-window -t {case.t(some)}"):
                model.kill_window(some)
        elif kind == "select":
            with case.op(f"select-window -t {case.t(some)}"):
                model.select_window(some)
        elif kind == "toggle":
            with case.op(f"select-window -T -t {case.t(some)}"):
                model.select_window(some, toggle=True)
        elif kind == "next":
            with case.op(f"select-window -n -t ={case.name}"):
                model.next_window()
        elif kind == "prev":
            with case.op(f"select-window -p -t ={case.name}"):
                model.previous_window()
        elif kind == "last":
            with case.op(f"select-window -l -t ={case.name}"):
                model.last_window()
        elif kind == "rename":
            name = f"r{rng.randint(0, 5)}"
            with case.op(f"rename-window -t {case.t(some)} {name}"):
                model.rename_window(some, name)
        elif kind == "split":
            axis = rng.choice(list(Axis))
            with case.op(f"split-window -t %{pane} {'-h' if axis is Axis.LEFT_RIGHT else '-v'}"):
                model[model.window_of(pane)].layout.split(pane, axis, case.next_pane)
                case.next_pane += 1
        elif kind == "break":
            index = rng.choice([None, None, some])
            after = index is not None and rng.random() < 0.3
            detached = rng.random() < 0.3
            name = rng.choice([None, None, "b"])
            single = len(model[model.window_of(pane)].layout.panes) == 1
            flags = " -a" * after + " -d" * detached + (f" -n {name}" if name else "")
            flags += f" -t {case.t(index)}" if index is not None else f" -t ={case.name}:"
            with case.op(f"break-pane -s %{pane}{flags}"):
                model.break_pane(pane, case.next_window, name=name, index=index, after=after, detached=detached,
                                 command="exec cat")  # fmt: skip
                case.next_window += 0 if single else 1
        elif kind == "killpane":
            with case.op(f"kill-pane -t %{pane}"):
                model.kill_pane(pane)
        elif kind == "swap":
            other = rng.choice(indices)
            detached = rng.random() < 0.3
            with case.op(f"swap-window -s {case.t(some)} -t {case.t(other)}{' -d' * detached}"):
                model.swap_window(some, other, detached=detached)
        elif kind == "move":
            to = rng.choice([None, some, rng.randint(0, 12)])
            source = rng.choice(indices)
            detached = rng.random() < 0.3
            target = f" -t {case.t(to)}" if to is not None else f" -t ={case.name}:"
            with case.op(f"move-window -s {case.t(source)}{target}{' -d' * detached}"):
                model.move_window(source, to, detached=detached)
        if len(case.pending) >= 25:
            compared += case.check()
    compared += case.check()
    if not model.empty:
        tmux.run([f"kill-session -t ={case.name}"])
    return compared


@pytest.fixture(scope="module")
def oracle(tmux: Tmux) -> Tmux:
    # automatic-rename off: names come only from the commands compared, not from a timer in tmux.
    tmux.run(["set -gw automatic-rename off"])
    return tmux


@pytest.mark.timeout(60)
def test_random_window_sequences_match_tmux(oracle: Tmux) -> None:
    compared = sum(random_case(oracle, seed, 60) for seed in range(12))
    assert compared >= 12 * 20


@pytest.mark.stress
@pytest.mark.timeout(1800)
def test_many_random_window_sequences_match_tmux(oracle: Tmux) -> None:
    seeds = int(os.environ.get("SCARAB_WINDOWS_SEEDS", "1000"))
    compared = sum(random_case(oracle, 10_000 + seed, 120) for seed in range(seeds))
    print(f"windows oracle: {compared} commands over {seeds} sequences matched tmux")
    assert compared >= seeds * 20
