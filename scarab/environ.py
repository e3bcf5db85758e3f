"""Session environment layer (pure, shared by client and daemon): tmux's update-environment.

A session's environment is the daemon's, plus overrides: variables set to a value, or removed.
The client that creates a session, and every client that attaches, sends its own values of
UPDATE_ENVIRONMENT (a variable it lacks is sent as removed), so a program started in the session
afterwards finds the agent socket and display of the latest login, not of the login that started
the daemon. On the wire an override is `NAME=VALUE` or `-NAME`, as `tmux show-environment` prints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from scarab.errors import BadRequest

__all__ = ["UPDATE_ENVIRONMENT", "Overrides", "apply", "client_entries", "entries", "parse_entries"]

# tmux 3.3a's default update-environment, plus WAYLAND_DISPLAY.
UPDATE_ENVIRONMENT = (
    "DISPLAY",
    "KRB5CCNAME",
    "SSH_ASKPASS",
    "SSH_AUTH_SOCK",
    "SSH_AGENT_PID",
    "SSH_CONNECTION",
    "WAYLAND_DISPLAY",
    "WINDOWID",
    "XAUTHORITY",
)
MAX_ENTRIES = 256
MAX_ENTRY = 64 * 1024

Overrides = dict[str, str | None]  # None: removed


def client_entries(env: Mapping[str, str] | None = None) -> list[str]:
    """This client's UPDATE_ENVIRONMENT values as overrides."""
    env = os.environ if env is None else env
    return [f"{name}={env[name]}" if name in env else f"-{name}" for name in UPDATE_ENVIRONMENT]


def check_name(name: str) -> str:
    if not name or "=" in name or "\0" in name or name.startswith("-"):
        raise BadRequest(f"bad environment variable name {name!r}")
    return name


def parse_entries(items: Iterable[str]) -> Overrides:
    """`NAME=VALUE` / `-NAME` entries as overrides; BadRequest for anything else."""
    out: Overrides = {}
    for item in items:
        if len(out) >= MAX_ENTRIES or len(item) > MAX_ENTRY or "\0" in item:
            raise BadRequest("environment too large or holding a NUL byte")
        if item.startswith("-"):
            out[check_name(item[1:])] = None
        else:
            name, sep, value = item.partition("=")
            if not sep:
                raise BadRequest(f"bad environment entry {item!r}: expected NAME=VALUE or -NAME")
            out[check_name(name)] = value
    return out


def entries(overrides: Overrides) -> list[str]:
    """Overrides as sorted wire entries."""
    return [f"{k}={v}" if v is not None else f"-{k}" for k, v in sorted(overrides.items())]


def apply(env: dict[str, str], overrides: Overrides) -> dict[str, str]:
    """`env` with the overrides applied (in place; returned for convenience)."""
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
