"""Process naming: the short name `ps -e`, `top` and /proc/PID/comm show (Linux prctl PR_SET_NAME).

Hosts forked from the zygote would otherwise all look like the zygote; naming them keeps `ps`
readable and lets tools (and tests) tell daemon, zygote and hosts apart. Best effort elsewhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util

__all__ = ["set_process_name"]

_PR_SET_NAME = 15


def set_process_name(name: str) -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
