"""Host config layer: what a session host is started with, as one frozen value, and its two
travelling forms: a dict for the zygote's JSON line, a command line for a fresh interpreter.

The daemon builds it, the zygote or `python -m scarab.daemon.host` carries it, the host reads
it; nobody changes it on the way (what a host learns later, a new name or environment, is the
host's own state). The token never travels on a command line (any user can read those in
/proc): a fresh interpreter takes it from its environment.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["HOST_TOKEN_ENV", "HostConfig"]

HOST_TOKEN_ENV = "SCARAB_HOST_TOKEN"  # how a host started as a fresh interpreter gets its token
_PATHS = ("socket", "log", "restore", "spec")


@dataclass(frozen=True)
class HostConfig:
    session_id: str
    name: str
    socket: Path
    log: Path
    cols: int
    rows: int
    cwd: str
    command: tuple[str, ...]
    scrollback: int
    token: str = ""  # what the daemon must say (HostAuth) to be taken as the daemon
    restore: Path | None = None  # the first pane's last screen (a session without a spec)
    environ: tuple[str, ...] = ()  # the session's environment overrides (environ.py entries)
    pane_id: int = 0  # the ids of a new session's first pane and window (from the daemon's counter)
    window_id: int = 0
    spec: Path | None = None  # a spec.SessionSpec file: the windows and panes to rebuild instead
    # The session's limits [memory, cpu, tasks], each 0: config.toml's default, -1: none, else the
    # value (a resurrected session's, kept in the database; a template's).
    limits: tuple[int, int, int] = (0, 0, 0)
    record: bool = False  # every pane recorded from its first byte (new --record; config.toml's `record` too)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: paths as text, tuples as lists."""
        out = asdict(self)
        for key in _PATHS:
            out[key] = None if out[key] is None else str(out[key])
        out["command"], out["environ"], out["limits"] = list(self.command), list(self.environ), list(self.limits)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostConfig:
        """The inverse of to_dict; TypeError for a field that is missing, unknown or of the wrong type."""
        known = {f.name for f in fields(cls)}
        if set(data) - known:
            raise TypeError(f"unknown host config field(s): {sorted(set(data) - known)}")
        values = dict(data)
        for key in _PATHS:
            if values.get(key) is not None:
                values[key] = Path(values[key])
        values["command"] = tuple(str(arg) for arg in values["command"])
        values["environ"] = tuple(str(entry) for entry in values.get("environ", ()))
        limits = tuple(int(value) for value in values.get("limits") or (0, 0, 0))
        if len(limits) != 3:
            raise TypeError(f"host config limits: expected [memory, cpu, tasks], got {limits}")
        values["limits"] = limits
        if not isinstance(values.get("record", False), bool):
            raise TypeError(f"host config record: expected true or false, got {values['record']!r}")
        return cls(**values)

    def to_argv(self) -> list[str]:
        """A fresh interpreter's command line: every field but the token, the command last."""
        args: list[str] = []
        for key, value in self.to_dict().items():
            if key in ("command", "token") or value is None or value is False:
                continue
            flag = f"--{key.replace('_', '-')}"
            if value is True:  # a switch
                args.append(flag)
                continue
            for item in value if isinstance(value, list) else [value]:
                args.append(f"{flag}={item}")  # `=` keeps a value that starts with - a value
        return [*args, "--", *self.command]

    @classmethod
    def from_argv(cls, argv: list[str]) -> HostConfig:
        """The inverse of to_argv, with the token taken (and removed) from the environment, so the
        child programs never see it."""
        parser = argparse.ArgumentParser(prog="scarab-host")
        for name in ("session-id", "name", "socket", "log", "cwd"):
            parser.add_argument(f"--{name}", required=True)
        for name in ("cols", "rows", "scrollback", "pane-id", "window-id"):
            parser.add_argument(f"--{name}", type=int, required=name in ("cols", "rows", "scrollback"), default=0)
        parser.add_argument("--restore")
        parser.add_argument("--spec")
        parser.add_argument("--environ", action="append", default=[])
        parser.add_argument("--limits", type=int, action="append", default=[])
        parser.add_argument("--record", action="store_true")
        parser.add_argument("command", nargs="+")
        args = vars(parser.parse_args(argv))
        args["token"] = os.environ.pop(HOST_TOKEN_ENV, "")
        return cls.from_dict(args)
