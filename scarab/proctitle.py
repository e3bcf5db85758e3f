"""Process naming: the short name `ps -e`, `top` and /proc/PID/comm show (written there, as
prctl PR_SET_NAME would), and the title `ps aux` / `ps -ef` show (the command line, rewritten in
place as setproctitle does).

Hosts forked from the zygote would otherwise all look like the zygote; naming them keeps `ps`
readable and lets tools (and tests) tell daemon, zygote and hosts apart. Best effort elsewhere.
"""

from __future__ import annotations

import contextlib

__all__ = ["HOST", "set_process_name", "set_process_title"]

HOST = "scarab-host"


def set_process_name(name: str) -> None:
    """What prctl(PR_SET_NAME) sets, through /proc: ctypes' find_library runs `ldconfig -p` and
    parses its output with regexes, which in a host forked from the zygote copied ~0.7 MB of its
    shared pages into the host (and forked a process) for a 15-byte name."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "wb", buffering=0) as comm:
        comm.write(name.encode()[:15])


def set_process_title(title: str) -> None:
    """Show `title` as this process's command line (`scarab-host: work`), as tmux and sshd do.

    The kernel reads /proc/PID/cmdline from the memory that held argv, so the title is written
    there (through /proc/self/mem: no C extension needed), cut to the room argv had and padded with
    NULs so nothing of the old command line shows after it. Linux only; silently nothing elsewhere."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        # Fields after the `(comm)` one, which may itself hold spaces and parentheses.
        fields = stat[stat.rindex(b")") + 2 :].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end: fields 48 and 49 of stat
        room = end - start
        if room < 2:
            return
        data = title.encode(errors="replace")[: room - 1]
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(start)
            mem.write(data.ljust(room, b"\0"))
