"""Templates layer: session layout templates (TOML), parsed and checked into a frozen plan. Pure,
except that it reads the file and checks that its directories exist.

`load(path, cwd, root)` reads `~/.config/scarab/layouts/NAME.toml` (or any path); `Template.plan(cols,
rows)` lays every window out at the size it will have, so each pane's size is known before any
program starts. Every mistake is one `BadRequest` naming the file, the line and the key
(`work.toml:12: windows[1].panes[0].size: ...`), raised before anything is created.

The format (README has a commented example):

    name = "work"                 # the session's name (default: the file's name)
    root = "~/src/app"            # every pane's directory (relative ones are taken from here)
    environment = { EDITOR = "vim" }
    memory = "2G"                 # the session's limits, as `new --memory/--cpu/--tasks` ("none":
    cpu = "50%"                   #   not config.toml's default either)
    tasks = 500
    [[windows]]
    name = "code"
    root = "src"                  # this window's panes' directory, relative to the session's root
    layout = "main-vertical"      # a preset, or a tmux layout string (`#{window_layout}`)
    focus = true                  # the window shown first
    [[windows.panes]]
    command = "vim ."             # typed into the pane's shell once it waits for input (or a list)
    focus = true
    [[windows.panes]]
    command = "make test"
    split = "horizontal"          # split from the pane before: "vertical" (below) or "horizontal"
    size = "30%"                  # of the pane it is split from, or a number of cells (no layout)
    cwd = "tests"
    environment = { CI = "1" }

A pane can also be just its command: `panes = ["vim .", "htop"]`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scarab.daemon.layout import PRESETS, Axis, Layout, checksum
from scarab.errors import BadRequest
from scarab.quantities import parse_cpu, parse_memory, parse_tasks

__all__ = [
    "PaneTemplate", "SavedPane", "SavedWindow", "Template", "WindowPlan", "WindowTemplate", "dump", "load",
    "renumber", "template_path",
]  # fmt: skip

_TOP_KEYS = ("name", "root", "environment", "memory", "cpu", "tasks", "windows")
_LIMITS = {"memory": parse_memory, "cpu": parse_cpu, "tasks": parse_tasks}  # in the protocol's order
_WINDOW_KEYS = ("name", "root", "layout", "focus", "panes", "environment")
_PANE_KEYS = ("command", "cwd", "size", "split", "focus", "environment")
_SPLITS = {"vertical": Axis.TOP_BOTTOM, "v": Axis.TOP_BOTTOM, "horizontal": Axis.LEFT_RIGHT, "h": Axis.LEFT_RIGHT}
_EXAMPLES = {"memory": '"2G"', "cpu": '"50%"', "tasks": "500"}
_LEAF = re.compile(r"(\d+x\d+,\d+,\d+),(\d+)")


@dataclass(frozen=True)
class PaneTemplate:
    cwd: str
    commands: tuple[str, ...]  # lines typed into its shell, in order, once it waits for input
    environment: tuple[tuple[str, str], ...]
    axis: Axis  # how it is split from the pane before it
    cells: int | None  # its size in cells, or
    percent: int | None  # in percent of the pane it is split from (neither: half)
    focus: bool
    where: str  # `file:line: key` of its size, for errors found when laying it out


@dataclass(frozen=True)
class WindowTemplate:
    name: str
    layout: str  # "" (as split), a preset, or a tmux layout string
    focus: bool
    panes: tuple[PaneTemplate, ...]
    where: str


@dataclass(frozen=True)
class WindowPlan:
    """A window as it will be built: its layout string at the session's size, with panes numbered
    0..n-1 in pane order (`renumber` gives them their real ids) and the pane to make active."""

    name: str
    layout: str
    active: int
    panes: tuple[PaneTemplate, ...]


@dataclass(frozen=True)
class Template:
    path: Path
    name: str
    root: str
    environment: tuple[tuple[str, str], ...]
    windows: tuple[WindowTemplate, ...]
    focus: int  # the index of the window shown first
    limits: tuple[int, int, int] = (0, 0, 0)  # [memory, cpu, tasks]: 0 config.toml's, -1 none

    def plan(self, cols: int, rows: int) -> tuple[WindowPlan, ...]:
        """Every window laid out at cols x rows (the session's window size)."""
        return tuple(_plan_window(window, cols, rows) for window in self.windows)


@dataclass(frozen=True)
class SavedPane:
    cwd: str
    command: str  # typed into the shell when rebuilt ("": just the shell)
    focus: bool


@dataclass(frozen=True)
class SavedWindow:
    name: str  # "": automatic-rename
    layout: str
    focus: bool
    panes: tuple[SavedPane, ...]


def dump(name: str, windows: list[SavedWindow], stamp: str = "") -> str:
    """A template that `new -L` rebuilds into these windows (`scarab save`)."""
    out = [f"# scarab save{', ' + stamp if stamp else ''}: `scarab new -L` builds it again", f"name = {_quote(name)}"]
    for window in windows:
        out += ["", "[[windows]]"]
        if window.name:
            out.append(f"name = {_quote(window.name)}")
        out.append(f"layout = {_quote(window.layout)}")
        if window.focus:
            out.append("focus = true")
        for pane in window.panes:
            out += ["", "  [[windows.panes]]", f"  cwd = {_quote(pane.cwd)}"]
            if pane.command:
                out.append(f"  command = {_quote(pane.command)}")
            if pane.focus:
                out.append("  focus = true")
    return "\n".join(out) + "\n"


def _quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, for the characters json.dumps escapes)."""
    return json.dumps(text, ensure_ascii=False)


def template_path(name: str, config_dir: Path) -> Path:
    """`NAME` is `CONFIG/layouts/NAME.toml`; anything with a slash or ending in .toml is a path."""
    if "/" in name or name.endswith(".toml"):
        return Path(name).expanduser()
    return config_dir / "layouts" / f"{name}.toml"


def load(path: Path, cwd: str | None = None, root: str | None = None) -> Template:
    """The template at `path`, checked; directories relative to `cwd` (default: the current one).
    `root` (new -c) replaces the template's own root: the same project in another checkout."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise BadRequest(f"no template {path} (templates live in ~/.config/scarab/layouts/NAME.toml)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"cannot read template {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = match.group(1) if match else "1"
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) if match else str(exc)
        raise BadRequest(f"{path}:{line}: invalid TOML: {message}") from None
    return _Checker(path, text, cwd or os.getcwd(), root).template(data)


def renumber(layout: str, ids: list[int]) -> str:
    """A plan's layout string with pane N's cell given `ids[N]` (and its checksum recomputed)."""
    body = layout.split(",", 1)[1]
    body = _LEAF.sub(lambda m: f"{m.group(1)},{ids[int(m.group(2))]}", body)
    return f"{checksum(body):04x},{body}"


def _plan_window(window: WindowTemplate, cols: int, rows: int) -> WindowPlan:
    layout = Layout(0, cols, rows)
    for index, pane in enumerate(window.panes[1:], start=1):
        rect = layout.rects()[index - 1]
        room = (rect.width if pane.axis is Axis.LEFT_RIGHT else rect.height) - 2  # a border, and one cell left
        if pane.cells is not None and pane.cells > room:
            # tmux would clamp it; a template that cannot be built as written says so instead.
            raise BadRequest(
                f"{pane.where}: pane {index} does not fit at {cols}x{rows}: {pane.cells} cells asked, "
                f"{max(room, 0)} available in the pane it is split from"
            )
        try:
            layout.split(index - 1, pane.axis, index, size=pane.cells, percent=pane.percent, detached=True)
        except BadRequest as exc:
            raise BadRequest(f"{pane.where}: pane {index} does not fit at {cols}x{rows} ({exc})") from None
    if window.layout:
        try:
            if window.layout in PRESETS:
                layout.select_preset(window.layout)
            else:
                layout.select_layout(window.layout)
        except BadRequest as exc:
            raise BadRequest(f"{window.where}: {exc}") from None
    active = next((i for i, pane in enumerate(window.panes) if pane.focus), 0)
    return WindowPlan(name=window.name, layout=layout.to_string(), active=active, panes=window.panes)


class _Checker:
    """Walks the parsed TOML, checking each key, knowing where each key is in the file."""

    def __init__(self, path: Path, text: str, cwd: str, root: str | None = None) -> None:
        self.path = path
        self.lines = _key_lines(text)
        self.cwd = cwd
        self.root = root

    def where(self, *key: str | int) -> str:
        line = 0
        for end in range(len(key), 0, -1):
            line = self.lines.get(tuple(key[:end]), 0)
            if line:
                break
        shown = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in key).lstrip(".")
        return f"{self.path}:{line}: {shown}" if shown else f"{self.path}:{line}"

    def fail(self, message: str, *key: str | int) -> BadRequest:
        return BadRequest(f"{self.where(*key)}: {message}")

    def keys(self, table: dict[str, Any], allowed: tuple[str, ...], *key: str | int) -> None:
        for name in table:
            if name not in allowed:
                raise self.fail(f"unknown key; use {', '.join(allowed)}", *key, name)

    def string(self, table: dict[str, Any], name: str, *key: str | int, default: str = "") -> str:
        value = table.get(name, default)
        if not isinstance(value, str):
            raise self.fail(f"expected text in quotes, got {value!r}", *key, name)
        return value

    def flag(self, table: dict[str, Any], name: str, *key: str | int) -> bool:
        value = table.get(name, False)
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {value!r}", *key, name)
        return value

    def directory(self, value: str, base: str, *key: str | int) -> str:
        path = os.path.normpath(os.path.join(base, os.path.expanduser(value)))
        if not os.path.isdir(path):
            what = "is not a directory" if os.path.exists(path) else "does not exist"
            raise self.fail(f"directory {path} {what}", *key)
        return path

    def environment(self, table: dict[str, Any], *key: str | int) -> tuple[tuple[str, str], ...]:
        value = table.get("environment", {})
        if not isinstance(value, dict):
            raise self.fail('expected a table of NAME = "value"', *key, "environment")
        for name, item in value.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise self.fail("not a variable name", *key, "environment", name)
            if not isinstance(item, str):
                raise self.fail(f"expected text in quotes, got {item!r}", *key, "environment", name)
        return tuple(value.items())

    def template(self, data: dict[str, Any]) -> Template:
        self.keys(data, _TOP_KEYS)
        name = self.string(data, "name", default=self.path.stem) or self.path.stem
        if ":" in name or not name.strip():
            raise self.fail("a session name needs a visible character and no ':'", "name")
        if self.root is not None:
            root = os.path.abspath(os.path.expanduser(self.root))
            if not os.path.isdir(root):
                raise BadRequest(f"-c {self.root}: no such directory (the root for {self.path})")
        else:
            root = self.directory(self.string(data, "root", default="."), self.cwd, "root")
        environment = self.environment(data)
        limits = self.limits(data)
        raw_windows = data.get("windows", [{}])
        if not isinstance(raw_windows, list) or not raw_windows:
            raise self.fail("expected one or more [[windows]] tables", "windows")
        windows = tuple(self.window(raw, i, root) for i, raw in enumerate(raw_windows))
        focused = [i for i, window in enumerate(windows) if window.focus]
        if len(focused) > 1:
            raise self.fail("more than one window has focus = true", "windows", focused[1], "focus")
        return Template(self.path, name, root, environment, windows, focused[0] if focused else 0, limits)

    def limits(self, data: dict[str, Any]) -> tuple[int, int, int]:
        """memory, cpu and tasks as config.toml and `new` take them; "none": no limit at all."""
        values = []
        for name, parse in _LIMITS.items():
            value = data.get(name)
            if value is None:
                values.append(0)
            elif isinstance(value, str) and value.strip().lower() == "none":
                values.append(-1)
            elif isinstance(value, bool) or not isinstance(value, str | int):
                raise self.fail(f'expected a value in quotes (e.g. {_EXAMPLES[name]}) or "none", got {value!r}', name)
            else:
                try:
                    values.append(parse(str(value)))
                except BadRequest as exc:
                    raise self.fail(str(exc), name) from None
        memory, cpu, tasks = values
        return memory, cpu, tasks

    def window(self, raw: Any, i: int, root: str) -> WindowTemplate:
        key: tuple[str | int, ...] = ("windows", i)
        if not isinstance(raw, dict):
            raise self.fail("expected a table ([[windows]])", *key)
        self.keys(raw, _WINDOW_KEYS, *key)
        root = self.directory(self.string(raw, "root", *key, default="."), root, *key, "root")
        layout = self.string(raw, "layout", *key)
        if layout and layout not in PRESETS and not _LEAF.search(layout):
            raise self.fail(f"unknown layout {layout!r}: use one of {', '.join(PRESETS)} or a layout string", *key,
                            "layout")  # fmt: skip
        environment = self.environment(raw, *key)
        raw_panes = raw.get("panes", [{}])
        if not isinstance(raw_panes, list) or not raw_panes:
            raise self.fail("expected one or more panes ([[windows.panes]] or a list of commands)", *key, "panes")
        panes = tuple(self.pane(item, (*key, "panes", j), root, environment) for j, item in enumerate(raw_panes))
        focused = [j for j, pane in enumerate(panes) if pane.focus]
        if len(focused) > 1:
            raise self.fail("more than one pane has focus = true", *key, "panes", focused[1], "focus")
        if layout and any(pane.cells is not None or pane.percent is not None for pane in panes):
            j = next(j for j, pane in enumerate(panes) if pane.cells is not None or pane.percent is not None)
            raise self.fail("a window with a layout sets every pane's size; drop size or layout", *key, "panes", j,
                            "size")  # fmt: skip
        if layout and layout not in PRESETS:
            cells = len(_LEAF.findall(layout))
            if cells != len(panes):
                raise self.fail(f"the layout has {cells} panes but the window has {len(panes)}", *key, "layout")
        name = self.string(raw, "name", *key)
        return WindowTemplate(name, layout, self.flag(raw, "focus", *key), panes, self.where(*key, "layout"))

    def pane(
        self, raw: Any, key: tuple[str | int, ...], root: str, inherited: tuple[tuple[str, str], ...]
    ) -> PaneTemplate:
        if isinstance(raw, str):
            raw = {"command": raw}
        if not isinstance(raw, dict):
            raise self.fail("expected a table or a command in quotes", *key)
        self.keys(raw, _PANE_KEYS, *key)
        command = raw.get("command", [])
        commands = (command,) if isinstance(command, str) else command
        if not isinstance(commands, list | tuple) or not all(isinstance(c, str) for c in commands):
            raise self.fail("expected a command in quotes, or a list of them", *key, "command")
        if any("\n" in c or "\r" in c for c in commands):
            raise self.fail("one line per command (use a list for several)", *key, "command")
        cwd = self.directory(self.string(raw, "cwd", *key, default="."), root, *key, "cwd")
        split = self.string(raw, "split", *key, default="vertical")
        if split not in _SPLITS:
            raise self.fail(f"unknown split {split!r}: use \"vertical\" (below) or \"horizontal\" (beside)", *key,
                            "split")  # fmt: skip
        cells, percent = self.size(raw, key)
        environment = dict(inherited)
        environment.update(self.environment(raw, *key))
        return PaneTemplate(
            cwd=cwd, commands=tuple(commands), environment=tuple(environment.items()), axis=_SPLITS[split],
            cells=cells, percent=percent, focus=self.flag(raw, "focus", *key), where=self.where(*key, "size"),
        )  # fmt: skip

    def size(self, raw: dict[str, Any], key: tuple[str | int, ...]) -> tuple[int | None, int | None]:
        if "size" not in raw:
            return None, None
        if key[-1] == 0:
            raise self.fail("the first pane of a window takes what the others leave; size it with the others",
                            *key, "size")  # fmt: skip
        value = raw["size"]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value, None
        if isinstance(value, str) and (match := re.fullmatch(r"(\d+)%", value.strip())):
            percent = int(match.group(1))
            if 1 <= percent <= 99:
                return None, percent
        raise self.fail(f"bad size {value!r}: use a number of cells (e.g. 20) or a percentage (e.g. \"30%\")", *key,
                        "size")  # fmt: skip


def _key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Where each table and key of a TOML text is: its path (array tables by index) -> line number.
    Enough for error messages; keys inside inline tables spread over lines are found by their table."""
    lines: dict[tuple[str | int, ...], int] = {}
    counts: dict[tuple[str | int, ...], int] = {}
    current: tuple[str | int, ...] = ()

    def resolve(parts: list[str]) -> tuple[str | int, ...]:
        path: tuple[str | int, ...] = ()
        for part in parts:
            path += (part,)
            if path in counts:
                path += (counts[path] - 1,)
        return path

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[["):
            parts = [part.strip().strip("\"'") for part in line[2:].split("]]")[0].split(".")]
            array = (*resolve(parts[:-1]), parts[-1])
            counts[array] = counts.get(array, 0) + 1
            current = (*array, counts[array] - 1)
            lines.setdefault(array, number)
            lines[current] = number
        elif line.startswith("["):
            current = resolve([part.strip().strip("\"'") for part in line[1:].split("]")[0].split(".")])
            lines[current] = number
        elif "=" in line and not line.startswith("#"):
            key = tuple(part.strip().strip("\"'") for part in line.split("=", 1)[0].split("."))
            lines.setdefault(current + key, number)
    return lines
