"""Usage layer: the CPU time and memory of a process tree, read from /proc.

What `scarab ls --json` and the picker show for a session: its programs (every descendant of its
host, the host itself left out) summed: resident memory (RSS) and CPU seconds, and the CPU share
between two looks. Processes come and go while /proc is read: one that vanished is simply not
counted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

__all__ = ["Usage", "UsageMeter", "descendants", "tree_usage"]

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class Usage:
    memory: int  # bytes resident
    cpu_seconds: float  # user + system time, all processes of the tree, since each started
    cpu_percent: float  # share of one CPU since the last look, or since the root started
    processes: int


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, resident bytes) of one process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        with open(f"/proc/{pid}/statm", "rb") as f:
            resident = int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None
    # The command name may hold spaces and parentheses: the fields start after its last ")".
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS, resident


def _uptime() -> float:
    try:
        with open("/proc/uptime") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def _started(pid: int) -> float:
    """Seconds after boot the process started."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rfind(b")") + 2 :].split()[19]) / _TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def descendants(root: int, including: bool = False) -> dict[int, tuple[float, int]]:
    """Every process under `root` (and root itself if `including`): pid -> (CPU seconds, resident bytes)."""
    children: dict[int, list[int]] = {}
    info: dict[int, tuple[float, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        found = _stat(int(entry))
        if found is not None:
            ppid, cpu, resident = found
            children.setdefault(ppid, []).append(int(entry))
            info[int(entry)] = (cpu, resident)
    tree: dict[int, tuple[float, int]] = {}
    todo = [root] if including else list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in info and pid not in tree:
            tree[pid] = info[pid]
            todo.extend(children.get(pid, []))
    return tree


def tree_usage(root: int) -> tuple[float, int, int]:
    """(CPU seconds, resident bytes, process count) of everything under `root`."""
    tree = descendants(root)
    return sum(c for c, _ in tree.values()), sum(m for _, m in tree.values()), len(tree)


class UsageMeter:
    """Remembers the last look at each root, so a share of CPU can be given from the next one."""

    def __init__(self) -> None:
        self.last: dict[int, tuple[float, dict[int, float]]] = {}

    def measure(self, root: int, including: bool = False) -> Usage:
        now = time.monotonic()
        tree = descendants(root, including)
        cpu = {pid: c for pid, (c, _) in tree.items()}
        percent = -1.0
        previous = self.last.get(root)
        if previous is None:
            # A first look: the share since the root process started (-1 if it is gone).
            started = _started(root)
            elapsed = _uptime() - started
            percent = round(100 * sum(cpu.values()) / elapsed, 1) if started and elapsed > 0 else -1.0
        elif previous is not None and now > previous[0]:
            # Only processes seen both times: one that exited takes its CPU time away with it.
            spent = sum(c - previous[1][pid] for pid, c in cpu.items() if pid in previous[1])
            spent += sum(c for pid, c in cpu.items() if pid not in previous[1])
            percent = round(100 * max(0.0, spent) / (now - previous[0]), 1)
        self.last[root] = (now, cpu)
        return Usage(sum(m for _, m in tree.values()), round(sum(cpu.values()), 2), percent, len(tree))

    def forget(self, keep: set[int]) -> None:
        for root in set(self.last) - keep:
            del self.last[root]
