"""`scarab new -L` and `scarab save` with a real daemon and real hosts (issue 17): a template of 3
windows and 5 panes built detached at 200x50, every pane's command run once, in its directory, at
its final size; save and rebuild give the same layout; a bad template creates nothing."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ScarabEnv, status_shows, wait_for
from tests.realterm import Tmux, tmux

__all__ = ["tmux"]  # the fixture

pytestmark = pytest.mark.timeout(120)


def template(root: Path, out: Path) -> str:
    """3 windows, 5 panes; each pane records its size and directory in out/N (appending: twice
    would show)."""

    def report(n: int) -> str:
        return f"stty size >> {out}/{n}; pwd >> {out}/{n}"

    return f"""
name = "proj"
root = "{root}"

[[windows]]
name = "edit"
layout = "main-vertical"
  [[windows.panes]]
  command = "{report(0)}"
  focus = true
  [[windows.panes]]
  cwd = "a"
  command = "{report(1)}"
  [[windows.panes]]
  cwd = "b"
  command = "{report(2)}"

[[windows]]
name = "run"
focus = true
  [[windows.panes]]
  cwd = "c"
  command = "{report(3)}"
  [[windows.panes]]
  split = "horizontal"
  size = "30%"
  command = "{report(4)}"

[[windows]]
name = "idle"
"""


def panes(env: ScarabEnv, target: str) -> list[dict[str, Any]]:
    return json.loads(env.ok("list-panes", "-s", "-t", target, "--json"))  # type: ignore[no-any-return]


def layouts(env: ScarabEnv, target: str) -> list[str]:
    """Each window's layout string with its pane ids numbered 0.. in order (ids differ per build)."""
    out = env.ok("list-windows", "-t", target, "-F", "#{window_layout}").split()
    return [_positional(text) for text in out]


def _positional(layout: str) -> str:
    body = layout.split(",", 1)[1]
    ids = itertools.count()
    return re.sub(r"(\d+x\d+,\d+,\d+),(\d+)", lambda m: f"{m.group(1)},{next(ids)}", body)


def test_a_template_is_built_detached_at_its_final_size_with_each_command_run_once(scarab: ScarabEnv) -> None:
    root, out = scarab.root / "proj", scarab.root / "out"
    for sub in ("a", "b", "c"):
        (root / sub).mkdir(parents=True)
    out.mkdir()
    path = scarab.root / "proj.toml"
    path.write_text(template(root, out))
    created = scarab.run("new", "-L", str(path), "-d", "-x", "200", "-y", "50")
    assert created.returncode == 0, created.stderr
    wait_for(lambda: all((out / str(n)).exists() and len((out / str(n)).read_text().split("\n")) > 2
                         for n in range(5)), timeout=30, what="every pane's command")  # fmt: skip
    rows = panes(scarab, "proj")
    assert [r["window"] for r in rows] == [0, 0, 0, 1, 1, 2]
    where = [str(root), str(root / "a"), str(root / "b"), str(root / "c"), str(root)]
    for n, (row, cwd) in enumerate(zip(rows, where, strict=False)):
        size, pwd, *rest = (out / str(n)).read_text().splitlines()
        assert not rest, f"pane {n} ran its command more than once: {(out / str(n)).read_text()!r}"
        assert size == f"{row['height']} {row['width']}", (n, size, row)
        assert pwd == cwd
    assert sorted((r["width"], r["height"]) for r in rows[:3]) == [(80, 50), (119, 24), (119, 25)]
    assert [(r["width"], r["height"]) for r in rows[3:5]] == [(139, 50), (60, 50)]
    windows = json.loads(scarab.ok("list-windows", "-t", "proj", "--json"))
    assert [(w["name"], w["active"]) for w in windows] == [("edit", False), ("run", True), ("idle", False)]
    # new -L again: it exists, so it is attached (here: its id printed), not built twice.
    again = scarab.run("new", "-L", str(path), "-d")
    assert again.returncode == 0 and again.stdout.strip() == created.stdout.strip()


def test_save_then_rebuild_gives_the_same_layout(scarab: ScarabEnv) -> None:
    root, out = scarab.root / "proj", scarab.root / "out"
    for sub in ("a", "b", "c"):
        (root / sub).mkdir(parents=True)
    out.mkdir()
    path = scarab.root / "proj.toml"
    path.write_text(template(root, out))
    scarab.ok("new", "-L", str(path), "-d", "-x", "200", "-y", "50")
    wait_for(lambda: len(list(out.iterdir())) == 5, timeout=30, what="every pane's command")
    scarab.ok("send", "-t", "proj:idle", "sleep 1000", "Enter")
    wait_for(lambda: scarab.ok("display", "-p", "-t", "proj:idle", "#{pane_current_command}") == "sleep\n",
             what="sleep in the foreground")  # fmt: skip
    before = layouts(scarab, "proj")
    saved = scarab.root / "saved.toml"
    assert scarab.ok("save", "proj", "-o", str(saved)).strip() == str(saved)
    text = saved.read_text()
    assert 'command = "sleep 1000"' in text and f'cwd = "{root / "c"}"' in text
    scarab.ok("kill", "proj")
    scarab.ok("new", "-L", str(saved), "-d", "-x", "200", "-y", "50")
    assert layouts(scarab, "proj") == before
    wait_for(lambda: scarab.ok("display", "-p", "-t", "proj:2", "#{pane_current_command}") == "sleep\n",
             what="the saved foreground program running again")  # fmt: skip


def test_a_bad_template_names_file_line_and_key_and_creates_nothing(scarab: ScarabEnv) -> None:
    path = scarab.root / "bad.toml"
    path.write_text('name = "bad"\n[[windows]]\n[[windows.panes]]\n[[windows.panes]]\nsize = "150%"\n')
    bad = scarab.run("new", "-L", str(path), "-d")
    assert bad.returncode == 1
    assert f"scarab: {path}:5: windows[0].panes[1].size: bad size '150%'" in bad.stderr
    missing = scarab.run("new", "-L", "nothere", "-d")
    assert missing.returncode == 1 and "no template" in missing.stderr and "layouts/nothere.toml" in missing.stderr
    assert scarab.ok("ls").strip() == "no sessions"


def test_a_template_in_the_layouts_directory_is_found_by_name(scarab: ScarabEnv) -> None:
    layouts_dir = scarab.paths.config / "layouts"
    layouts_dir.mkdir(parents=True)
    (layouts_dir / "small.toml").write_text('[[windows]]\npanes = ["echo one", "echo two"]\n')
    sid = scarab.ok("new", "-L", "small", "-d", "-x", "100", "-y", "30").strip()
    assert scarab.session("small")["id"] == sid
    wait_for(lambda: "two" in scarab.capture("small:0.1"), what="the second pane's command")


def test_new_c_builds_the_template_in_another_root(scarab: ScarabEnv) -> None:
    first, second, out = scarab.root / "one", scarab.root / "two", scarab.root / "out"
    for root in (first, second):
        (root / "sub").mkdir(parents=True)
    out.mkdir()
    path = scarab.root / "proj.toml"
    path.write_text(
        f'root = "{first}"\n[[windows]]\npanes = ["pwd > {out}/0", {{ cwd = "sub", command = "pwd > {out}/1" }}]\n'
    )
    scarab.ok("new", "-L", str(path), "-c", str(second), "-d")
    wait_for(lambda: all((out / n).exists() and (out / n).read_text() for n in "01"), what="both panes' pwd")
    assert [(out / n).read_text().strip() for n in "01"] == [str(second), str(second / "sub")]
    assert scarab.session("proj")["cwd"] == str(second)
    missing = scarab.run("new", "-L", str(path), "-s", "other", "-c", str(scarab.root / "gone"), "-d")
    assert missing.returncode == 1 and "-c " in missing.stderr and "no such directory" in missing.stderr
    assert [s["name"] for s in scarab.sessions()] == ["proj"]


def test_a_templates_limits_apply_from_its_first_program(scarab: ScarabEnv) -> None:
    path = scarab.root / "lim.toml"
    path.write_text('memory = "200M"\ntasks = 300\n[[windows]]\npanes = ["echo one", "echo two"]\n')
    scarab.ok("new", "-L", str(path), "-d")
    report = json.loads(scarab.ok("limit", "-t", "lim", "--json"))
    assert report["limits"] == [200 * 2**20, 0, 300] and report["enforcement"] == "setrlimit"
    wait_for(lambda: "limits memory 200M, tasks 300" in scarab.capture("lim:0.0", "--scrollback"),
             what="the first pane's note of its limits")  # fmt: skip
    # Every pane's program runs under the cap (the shell's limits, which its commands inherit).
    pids = [int(pid) for pid in scarab.ok("list-panes", "-t", "lim", "-F", "#{pane_pid}").split()]
    for pid in pids:
        limits = Path(f"/proc/{pid}/limits").read_text()
        assert re.search(r"Max address space\s+209715200\s", limits), limits
    bad = scarab.root / "bad.toml"
    bad.write_text('name = "bad"\ncpu = "lots"\n')
    refused = scarab.run("new", "-L", str(bad), "-d")
    assert refused.returncode == 1 and f"{bad}:2: cpu: CPU limit 'lots' is not a share" in refused.stderr
    assert [s["name"] for s in scarab.sessions()] == ["lim"]
    # new's flags go over the template's own, in the build itself; --record records every pane.
    scarab.ok("new", "-L", str(path), "-s", "flags", "-d", "--memory", "none", "--tasks", "40", "--record")
    assert json.loads(scarab.ok("limit", "-t", "flags", "--json"))["limits"] == [0, 0, 40]
    recordings = json.loads(scarab.ok("record", "status", "-t", "flags", "--json"))
    assert len(recordings) == 2 and all(item["active"] for item in recordings)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_an_attached_template_is_built_at_the_terminal_size_less_the_status_bar(scarab: ScarabEnv, tmux: Tmux) -> None:
    out = scarab.root / "out"
    out.mkdir()
    path = scarab.root / "att.toml"
    path.write_text(f'[[windows]]\npanes = ["stty size >> {out}/0", '
                    f'{{ split = "horizontal", command = "stty size >> {out}/1" }}]\n')  # fmt: skip
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab new -L {path}", "Enter")  # a 100x30 terminal
    wait_for(lambda: status_shows(tmux.screen(), "att"), what="the TUI attached")
    wait_for(lambda: all((out / n).exists() and (out / n).read_text() for n in "01"), what="both panes' commands")
    rows = panes(scarab, "att")
    assert [(out / n).read_text().splitlines() for n in "01"] == [[f"{r['height']} {r['width']}"] for r in rows]
    assert [r["height"] for r in rows] == [29, 29] and sum(r["width"] for r in rows) + 1 == 100
    tmux.type("C-b", "d")
    wait_for(lambda: "[detached" in tmux.screen(), what="the detach")
