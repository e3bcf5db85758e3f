"""Formatting layer (pure): times as people read them, shared by the CLI and the TUI."""

from __future__ import annotations

import time

__all__ = ["age"]


def age(stamp: int, now: float | None = None) -> str:
    """How long ago `stamp` (epoch seconds) was, in its largest unit: `45s`, `3m`, `2h`, `6d`."""
    delta = max(0, int(time.time() if now is None else now) - stamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if delta >= size:
            return f"{delta // size}{unit}"
    return f"{delta}s"
