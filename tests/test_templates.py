"""Layout templates (scarab/templates.py): parsing, checking with file/line/key errors, and the plan
of each window at its final size. Pure apart from the template files and directories it checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from scarab.daemon.layout import Axis, Layout
from scarab.errors import BadRequest
from scarab.templates import load, renumber, template_path

GOOD = """\
name = "proj"
root = "."
environment = { EDITOR = "vi" }

[[windows]]
name = "code"
layout = "main-vertical"
focus = true

  [[windows.panes]]
  command = "vim ."
  focus = true

  [[windows.panes]]
  command = ["cd sub", "ls"]

  [[windows.panes]]
  cwd = "sub"
  environment = { CI = "1" }

[[windows]]
name = "logs"
panes = ["tail -f log", "htop"]

[[windows]]
name = "split"

  [[windows.panes]]

  [[windows.panes]]
  split = "horizontal"
  size = "30%"
"""


def write(tmp_path: Path, text: str, name: str = "proj.toml") -> Path:
    (tmp_path / "sub").mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_template_becomes_windows_and_panes_at_their_final_size(tmp_path: Path) -> None:
    template = load(write(tmp_path, GOOD), cwd=str(tmp_path))
    assert template.name == "proj" and template.root == str(tmp_path) and template.focus == 0
    assert template.environment == (("EDITOR", "vi"),)
    code, logs, _ = template.windows
    assert [p.commands for p in code.panes] == [("vim .",), ("cd sub", "ls"), ()]
    assert code.panes[2].cwd == str(tmp_path / "sub") and code.panes[2].environment == (("CI", "1"),)
    assert [p.commands for p in logs.panes] == [("tail -f log",), ("htop",)]
    plans = template.plan(200, 50)
    # The plan's layout is what tmux would have after the same splits and select-layout at 200x50.
    rects = [Layout.from_string(plan.layout).rects() for plan in plans]
    assert sorted((r.width, r.height) for r in rects[0].values()) == [(80, 50), (119, 24), (119, 25)]
    assert [(r.width, r.height) for r in rects[1].values()] == [(200, 25), (200, 24)]
    assert [(r.width, r.height) for r in rects[2].values()] == [(139, 50), (60, 50)]
    assert plans[0].active == 0 and all(Layout.from_string(p.layout).size == (200, 50) for p in plans)


def test_renumber_gives_the_panes_their_ids_and_a_valid_checksum() -> None:
    layout = Layout(0, 100, 40)
    layout.split(0, Axis.LEFT_RIGHT, 1)
    text = renumber(layout.to_string(), [7, 12])
    assert Layout.from_string(text).panes == (7, 12)


def test_template_path_names_a_file_in_the_layouts_directory(tmp_path: Path) -> None:
    assert template_path("work", tmp_path) == tmp_path / "layouts" / "work.toml"
    assert template_path("./work.toml", tmp_path) == Path("./work.toml")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("name = \n", r"proj\.toml:1: invalid TOML: "),
        ("nmae = 'x'\n", r"proj\.toml:1: nmae: unknown key; use name, root"),
        (
            "[[windows]]\nname = 'a'\n[[windows]]\nlayuot = 'tiled'\n",
            r"proj\.toml:4: windows\[1\]\.layuot: unknown key",
        ),
        (
            "[[windows]]\n[[windows.panes]]\n[[windows.panes]]\nsize = 'big'\n",
            r"proj\.toml:4: windows\[0\]\.panes\[1\]\.size: bad size 'big'",
        ),
        (
            "[[windows]]\n[[windows.panes]]\n[[windows.panes]]\nsize = 500\n",
            r"proj\.toml:4: windows\[0\]\.panes\[1\]\.size: pane 1 does not fit at 200x50",
        ),
        ("root = 'nowhere'\n", r"proj\.toml:1: root: directory .*/nowhere does not exist"),
        ("[[windows]]\n\n[[windows.panes]]\ncwd = 'gone'\n", r"proj\.toml:4: windows\[0\]\.panes\[0\]\.cwd: directory"),
        ("[[windows]]\nlayout = 'spiral'\n", r"proj\.toml:2: windows\[0\]\.layout: unknown layout 'spiral'"),
        (
            "[[windows]]\nlayout = 'tiled'\n[[windows.panes]]\n[[windows.panes]]\nsize = 5\n",
            r"proj\.toml:5: windows\[0\]\.panes\[1\]\.size: a window with a layout",
        ),
        (
            "[[windows]]\nlayout = 'bb62,159x48,0,0,1'\npanes = ['a', 'b']\n",
            r"proj\.toml:2: windows\[0\]\.layout: the layout has 1 panes but the window has 2",
        ),
        ("[[windows]]\nfocus = true\n[[windows]]\nfocus = true\n", r"proj\.toml:4: windows\[1\]\.focus: more than one"),
        ("[[windows]]\npanes = [3]\n", r"proj\.toml:2: windows\[0\]\.panes\[0\]: expected a table or a command"),
        ("environment = { 'A B' = 'x' }\n", r"proj\.toml:1: environment\.A B: not a variable name"),
        (
            "[[windows]]\n[[windows.panes]]\nsplit = 'diagonal'\n",
            r"proj\.toml:3: windows\[0\]\.panes\[0\]\.split: unknown split",
        ),
        ("name = 'x'\nmemory = 'lots'\n", r"proj\.toml:2: memory: memory limit 'lots' is not a size"),
        ("cpu = '0%'\n", r"proj\.toml:1: cpu: CPU limit '0%' must be at least 1%"),
        ("tasks = true\n", r"proj\.toml:1: tasks: expected a value in quotes \(e\.g\. 500\) or \"none\", got True"),
        ("tasks = -3\n", r"proj\.toml:1: tasks: task limit '-3' must be at least 1"),
    ],
)
def test_bad_templates_name_the_file_line_and_key(tmp_path: Path, text: str, error: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(BadRequest, match=error):
        load(path, cwd=str(tmp_path)).plan(200, 50)


def test_a_missing_template_says_where_templates_live(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match=r"no template .*nope\.toml .*layouts/NAME\.toml"):
        load(tmp_path / "nope.toml")


def test_the_readme_example_template_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Templates and saved sessions", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "tests").mkdir()
    text = example.replace('root = "~/src/app"', f'root = "{tmp_path}"')
    template = load(write(tmp_path, text, "work.toml"), cwd=str(tmp_path))
    assert [w.name for w in template.windows] == ["code", "logs", ""] and template.focus == 1
    assert [len(plan.panes) for plan in template.plan(120, 40)] == [2, 2, 2]


def test_limits_are_read_as_new_takes_them(tmp_path: Path) -> None:
    template = load(write(tmp_path, 'memory = "1.5G"\ncpu = "50%"\ntasks = 300\n'), cwd=str(tmp_path))
    assert template.limits == (3 * 2**29, 50, 300)
    assert load(write(tmp_path, 'memory = "none"\n'), cwd=str(tmp_path)).limits == (-1, 0, 0)  # not the default
    assert load(write(tmp_path, ""), cwd=str(tmp_path)).limits == (0, 0, 0)  # config.toml's


def test_a_root_given_replaces_the_templates_own(tmp_path: Path) -> None:
    other = tmp_path / "checkout2"
    (other / "sub").mkdir(parents=True)
    path = write(tmp_path, 'root = "nowhere"\n[[windows]]\npanes = [{ cwd = "sub" }]\n')
    template = load(path, cwd=str(tmp_path), root=str(other))
    assert template.root == str(other) and template.windows[0].panes[0].cwd == str(other / "sub")
    with pytest.raises(BadRequest, match=r"-c .*/gone: no such directory \(the root for .*proj\.toml\)"):
        load(path, cwd=str(tmp_path), root=str(tmp_path / "gone"))
