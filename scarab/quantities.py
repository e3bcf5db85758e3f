"""Quantities layer (pure): sizes and shares as people write them for limits (`2G`, `50%`, `500`).

Shared by the CLI's flags, config.toml and the daemon; errors say how to write the value.
"""

from __future__ import annotations

import re

from scarab.errors import BadRequest

__all__ = ["MIN_MEMORY", "parse_cpu", "parse_memory", "parse_tasks"]

MIN_MEMORY = 1024 * 1024  # bytes: below this no shell starts

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_MEMORY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", re.IGNORECASE)
_CPU = re.compile(r"\s*(\d+(?:\.\d+)?)\s*%?\s*")


def parse_memory(text: str) -> int:
    """`2G`, `512M`, `1.5G`, `100K`, `1048576` (bytes; binary units, as systemd's MemoryMax)."""
    match = _MEMORY.fullmatch(text)
    if match is None:
        raise BadRequest(f"memory limit {text!r} is not a size: write it as 512M, 2G or 1.5G")
    value = int(float(match[1]) * _UNITS[match[2].upper()])
    if value < MIN_MEMORY:
        raise BadRequest(f"memory limit {text!r} is below 1M, where no shell starts: write it as 512M, 2G or 1.5G")
    return value


def parse_cpu(text: str) -> int:
    """`50%` (half of one CPU), `200%` (two CPUs): systemd's CPUQuota, in percent of one CPU."""
    match = _CPU.fullmatch(text)
    if match is None:
        raise BadRequest(f"CPU limit {text!r} is not a share: write it as 50% (half a CPU) or 200% (two CPUs)")
    value = round(float(match[1]))
    if value < 1:
        raise BadRequest(f"CPU limit {text!r} must be at least 1%: write it as 50% (half a CPU) or 200% (two CPUs)")
    return value


def parse_tasks(text: str) -> int:
    """A number of processes and threads, at least 1."""
    try:
        value = int(text.strip())
    except ValueError:
        raise BadRequest(
            f"task limit {text!r} is not a number of processes: write it as a whole number, e.g. 500"
        ) from None
    if value < 1:
        raise BadRequest(f"task limit {text!r} must be at least 1: write it as a whole number, e.g. 500")
    return value
