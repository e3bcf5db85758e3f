"""Config layer: `config.toml` in the user's config dir, read once, validated, with clear errors.

```toml
prefix = "ctrl+b"        # the TUI's prefix key
status_bar = true
scrollback = 10000       # lines kept per session
default_shell = "/bin/zsh"
on_exit = "keep"         # when the program exits: keep its last screen, remove, or restart it
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scarab.errors import ScarabError

__all__ = ["Config", "ConfigError", "load_config"]


class ConfigError(ScarabError):
    code = "config"


@dataclass(frozen=True)
class Config:
    prefix: str = "ctrl+b"
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
    if values.get("on_exit", "keep") not in ("keep", "remove", "restart"):
        raise ConfigError(f'config {path}: on_exit must be "keep", "remove" or "restart"')
    if not 0 <= values.get("scrollback", 0) <= 1_000_000:
        raise ConfigError(f"config {path}: scrollback must be between 0 and 1000000")
    return Config(**values)
