"""Formatting layer (pure): times as people read them, shared by the CLI and the TUI."""

from __future__ import annotations

import time

__all__ = ["age", "size"]


def age(stamp: int, now: float | None = None) -> str:
    """How long ago `stamp` (epoch seconds) was, in its largest unit: `45s`, `3m`, `2h`, `6d`."""
    delta = max(0, int(time.time() if now is None else now) - stamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if delta >= size:
            return f"{delta // size}{unit}"
    return f"{delta}s"


def size(count: int) -> str:
    """Bytes in the largest binary unit that keeps them readable, as systemd and `ls -h` write
    them: `512`, `64K`, `100M`, `1.5G`."""
    value = float(count)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            break
        value /= 1024
    return f"{value:.1f}".removesuffix(".0") + unit if unit else str(count)
