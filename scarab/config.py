"""Config layer: `config.toml` in the user's config dir, read once, validated, with clear errors.

```toml
prefix = "C-b"           # the TUI's prefix key: tmux's spelling (C-a, M-a, ^A) or Textual's (ctrl+a)
status_bar = true
scrollback = 10000       # lines kept per session
default_shell = "/bin/zsh"
on_exit = "keep"         # when the program exits: keep its last screen, remove, or restart it
```
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scarab.errors import ScarabError
from scarab.keys import Key, parse_key_name

__all__ = ["Config", "ConfigError", "load_config"]


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


_TYPES: dict[str, type] = {
    "prefix": str,
    "status_bar": bool,
    "scrollback": int,
    "default_shell": str,
    "on_exit": str,
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
    if values.get("on_exit", "keep") not in ("keep", "remove", "restart"):
        raise ConfigError(f'config {path}: on_exit must be "keep", "remove" or "restart"')
    if not 0 <= values.get("scrollback", 0) <= 1_000_000:
        raise ConfigError(f"config {path}: scrollback must be between 0 and 1000000")
    return Config(**values)


def _line_of(text: str, setting: str) -> int:
    """The line a top-level setting is on (tomllib does not say)."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{setting}\s*=", line):
            return number
    return 0
