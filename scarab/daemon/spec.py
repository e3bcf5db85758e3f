"""Session spec layer: the windows and panes a new host is asked to build, as one frozen value.

The daemon writes it when it starts a host for a session that had windows before (resurrection
after a reboot or a host kill): each window's index, id, name and tmux layout string (pane ids
included), and each pane's id, working directory, command and restore file (the `screens.restore`
format: the pane's last screen and scrollback). The host reads it before its ready line. A brand
new session needs no spec: the host builds window 0 with one pane from its own config.

Pure values and their msgpack form; `unpack` checks every field so a damaged file is refused
with a clear error (the daemon then starts the session with a single fresh pane) and never
half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

__all__ = ["PaneSpec", "SessionSpec", "SpecError", "WindowSpec"]

SPEC_VERSION = 1


class SpecError(ValueError):
    """A spec file that cannot be used as a whole."""


@dataclass(frozen=True, slots=True)
class PaneSpec:
    id: int
    cwd: str
    command: tuple[str, ...]
    restore: str | None = None  # a restore file of its last screen and scrollback (deleted once read)


@dataclass(frozen=True, slots=True)
class WindowSpec:
    index: int
    id: int
    name: str
    layout: str  # tmux's layout string with these panes' ids in its cells
    panes: tuple[PaneSpec, ...]  # in pane order
    active: int  # the active pane's id
    zoomed: bool = False
    automatic_rename: bool = True
    synchronize: bool = False


@dataclass(frozen=True, slots=True)
class SessionSpec:
    windows: tuple[WindowSpec, ...]
    current: int  # the index of the window shown
    last: tuple[int, ...] = ()  # the last-window stack (indices), most recently left first

    def pack(self) -> bytes:
        data: bytes = msgpack.packb(
            {
                "v": SPEC_VERSION,
                "current": self.current,
                "last": list(self.last),
                "windows": [
                    {
                        "index": w.index,
                        "id": w.id,
                        "name": w.name,
                        "layout": w.layout,
                        "active": w.active,
                        "zoomed": w.zoomed,
                        "automatic_rename": w.automatic_rename,
                        "synchronize": w.synchronize,
                        "panes": [
                            {"id": p.id, "cwd": p.cwd, "command": list(p.command), "restore": p.restore}
                            for p in w.panes
                        ],
                    }
                    for w in self.windows
                ],
            },
            use_bin_type=True,
        )
        return data

    @classmethod
    def unpack(cls, data: bytes) -> SessionSpec:
        try:
            raw = msgpack.unpackb(data, raw=False, strict_map_key=True)
            if raw.get("v") != SPEC_VERSION:
                raise SpecError(f"spec version {raw.get('v')!r}, expected {SPEC_VERSION}")
            windows = tuple(_window(w) for w in raw["windows"])
            spec = cls(windows=windows, current=_int(raw["current"]), last=tuple(_int(i) for i in raw["last"]))
        except SpecError:
            raise
        except Exception as exc:  # msgpack's assorted errors, KeyError, TypeError: all one damaged file
            raise SpecError(f"damaged session spec ({exc.__class__.__name__}: {exc})") from None
        indices = [w.index for w in spec.windows]
        panes = [p.id for w in spec.windows for p in w.panes]
        if not spec.windows or len(set(indices)) != len(indices) or len(set(panes)) != len(panes):
            raise SpecError("a session spec needs windows with distinct indices and pane ids")
        if spec.current not in indices or any(w.active not in {p.id for p in w.panes} for w in spec.windows):
            raise SpecError("a session spec's current window and active panes must exist")
        return spec


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SpecError(f"expected a number >= 0, got {value!r}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise SpecError(f"expected text, got {value!r}")
    return value


def _window(raw: dict[str, Any]) -> WindowSpec:
    panes = tuple(
        PaneSpec(
            id=_int(p["id"]),
            cwd=_str(p["cwd"]),
            command=tuple(_str(c) for c in p["command"]),
            restore=None if p.get("restore") is None else _str(p["restore"]),
        )
        for p in raw["panes"]
    )
    if not panes or any(not p.command for p in panes):
        raise SpecError("every window of a session spec needs panes with commands")
    return WindowSpec(
        index=_int(raw["index"]),
        id=_int(raw["id"]),
        name=_str(raw["name"]),
        layout=_str(raw["layout"]),
        panes=panes,
        active=_int(raw["active"]),
        zoomed=bool(raw.get("zoomed", False)),
        automatic_rename=bool(raw.get("automatic_rename", True)),
        synchronize=bool(raw.get("synchronize", False)),
    )
