"""Config layer: `config.toml` in the user's config dir, read once, validated, with clear errors.

```toml
prefix = "C-b"           # the TUI's prefix key: tmux's spelling (C-a, M-a, ^A) or Textual's (ctrl+a)
status_bar = true
scrollback = 10000       # lines kept per session
default_shell = "/bin/zsh"
on_exit = "keep"         # when the program exits: keep its last screen, remove, or restart it
mode_keys = "vi"         # copy mode's keys: "vi" or "emacs" (default: vi if $VISUAL/$EDITOR is a vi)
set_clipboard = "on"     # copies reach the outer terminal's clipboard (OSC 52); "off" keeps them in
copy_command = "xclip -selection clipboard"   # also receives every copy on its stdin (default none)
program_clipboard = false  # true: a program's OSC 52 copy sets a buffer and the clipboard too
record = false           # record every new session (asciicast, in the data dir's recordings/)
record_cap = "100M"      # a recording stops at this size
memory = "2G"            # limits for every new session's programs (unset: none)
cpu = "50%"
tasks = 500
```
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scarab.errors import BadRequest, ScarabError
from scarab.keys import Key, parse_key_name
from scarab.quantities import parse_cpu, parse_memory, parse_tasks

__all__ = ["Config", "ConfigError", "default_mode_keys", "load_config"]


class ConfigError(ScarabError):
    code = "config"


DEFAULT_PREFIX = Key("\x02")  # C-b, as in tmux


@dataclass(frozen=True)
class Config:
    prefix: Key = DEFAULT_PREFIX
    status_bar: bool = True
    scrollback: int = 10_000
    default_shell: str = ""
    on_exit: str = "keep"  # when a session's program exits: keep (last screen viewable), remove, restart
    mode_keys: str = ""  # copy mode's key table, "vi" or "emacs"; "" chooses as tmux does (copy_keys)
    set_clipboard: str = "on"  # "on": copies go to the outer terminal's clipboard too (OSC 52)
    copy_command: str = ""  # a command that receives every copy on its standard input
    program_clipboard: bool = False  # a program's OSC 52 sets a buffer and the clipboard (tmux's set-clipboard on)
    record: bool = False
    record_cap: int = 100 * 1024 * 1024  # bytes
    memory: int | None = None  # bytes
    cpu: int | None = None  # percent of one CPU
    tasks: int | None = None

    @property
    def copy_keys(self) -> str:
        return self.mode_keys or default_mode_keys(os.environ)


def default_mode_keys(environ: Mapping[str, str]) -> str:
    """tmux's default: vi when $VISUAL (else $EDITOR) names a program with "vi" in its name."""
    editor = environ.get("VISUAL") or environ.get("EDITOR") or ""
    return "vi" if "vi" in editor.rsplit("/", 1)[-1] else "emacs"


_TYPES: dict[str, type] = {
    "prefix": str,
    "status_bar": bool,
    "scrollback": int,
    "default_shell": str,
    "on_exit": str,
    "mode_keys": str,
    "set_clipboard": str,
    "copy_command": str,
    "program_clipboard": bool,
    "record": bool,
    "record_cap": str,
    "memory": str,
    "cpu": str,
    "tasks": int,
}
# Limits are written as people write them ("2G", "50%"); read into numbers here.
_QUANTITIES: dict[str, Callable[[str], int]] = {
    "record_cap": parse_memory,
    "memory": parse_memory,
    "cpu": parse_cpu,
    "tasks": lambda value: parse_tasks(str(value)),
}


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already names the line and column.
        raise ConfigError(f"config {path}: {exc}; fix that line or remove the file") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        expected = _TYPES.get(key)
        if expected is None:
            raise ConfigError(f"config {path}: unknown setting {key!r} (known: {', '.join(_TYPES)})")
        if type(value) is not expected:
            raise ConfigError(f"config {path}: {key} must be a {expected.__name__}, not {value!r}")
        values[key] = value
    if "prefix" in values:
        prefix = parse_key_name(values["prefix"])
        if prefix is None:
            raise ConfigError(
                f"config {path}: line {_line_of(text, 'prefix')}: prefix = {values['prefix']!r} is not a key; "
                'write it as tmux does ("C-a", "M-a", "^A") or as Textual does ("ctrl+a")'
            )
        values["prefix"] = prefix
    for key, parse in _QUANTITIES.items():
        if key in values:
            try:
                values[key] = parse(values[key])
            except BadRequest as exc:
                raise ConfigError(f"config {path}: line {_line_of(text, key)}: {exc}") from None
    if values.get("on_exit", "keep") not in ("keep", "remove", "restart"):
        raise ConfigError(f'config {path}: on_exit must be "keep", "remove" or "restart"')
    if values.get("mode_keys", "vi") not in ("vi", "emacs"):
        raise ConfigError(f'config {path}: line {_line_of(text, "mode_keys")}: mode_keys must be "vi" or "emacs"')
    if values.get("set_clipboard", "on") not in ("on", "off"):
        raise ConfigError(f'config {path}: line {_line_of(text, "set_clipboard")}: set_clipboard must be "on" or "off"')
    if not 0 <= values.get("scrollback", 0) <= 1_000_000:
        raise ConfigError(f"config {path}: scrollback must be between 0 and 1000000")
    return Config(**values)


def _line_of(text: str, setting: str) -> int:
    """The line a top-level setting is on (tomllib does not say)."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{setting}\s*=", line):
            return number
    return 0
