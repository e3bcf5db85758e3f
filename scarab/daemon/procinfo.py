"""Process layer: what /proc says about the program in a pane's foreground. Read-only; Linux /proc.

tmux's `pane_current_path` and `pane_current_command` are the foreground process group's, not the
shell's: a `cd` inside vim's `:sh`, or `make` running, shows there. The terminal's foreground group
is field 8 (tpgid) of the shell's /proc/PID/stat; its leader's cwd and command line are the answer.
The same look, taken when a snapshot is saved, is what a resurrected pane offers to run again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Foreground", "foreground", "waiting_for_input"]

# Where a process sleeps (/proc/PID/wchan) while it waits to read its terminal: in the tty's read
# (dash, a plain `read`), or in poll/select on it (readline, zle, fish). Measured on Linux 5.x/6.x.
_READ_WAITS = ("wait_woken", "n_tty_read", "poll_schedule_timeout", "do_select", "do_sys_poll", "core_sys_select")


@dataclass(frozen=True, slots=True)
class Foreground:
    pid: int  # the foreground group's leader (the pane's own program when nothing else runs)
    cwd: str
    argv: tuple[str, ...]
    is_shell: bool  # the pane's own program is in the foreground (its prompt, or a program it runs)

    @property
    def name(self) -> str:
        """tmux's pane_current_command: the program's name."""
        return os.path.basename(self.argv[0]) if self.argv else ""


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return data[data.rindex(b")") + 2 :].decode().split()


def _argv(pid: int) -> tuple[str, ...]:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        raw = f.read()
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0")[:-1])


def foreground(pid: int) -> Foreground | None:
    """The foreground program of the terminal whose session leader (a pane's program) is `pid`;
    None when `pid` is gone (or not ours to read)."""
    try:
        fields = _stat_fields(pid)
        tpgid = int(fields[5])  # state ppid pgrp session tty_nr tpgid
        leader = tpgid if tpgid > 0 and tpgid != pid else pid
        try:
            cwd, argv = os.readlink(f"/proc/{leader}/cwd"), _argv(leader)
        except OSError:  # the foreground program ended just now: the shell again
            leader = pid
            cwd, argv = os.readlink(f"/proc/{pid}/cwd"), _argv(pid)
    except (OSError, ValueError, IndexError):
        return None
    return Foreground(pid=leader, cwd=cwd, argv=argv, is_shell=leader == pid)


def waiting_for_input(pid: int) -> bool:
    """Is `pid` (a pane's shell) in its terminal's foreground, asleep waiting to read it? Then a line
    typed now reaches it, instead of a startup file's program or the void (tmuxinator's lost
    commands). False while it starts, runs something, or is gone."""
    try:
        fields = _stat_fields(pid)
        with open(f"/proc/{pid}/wchan") as f:
            wchan = f.read().strip()
    except (OSError, ValueError):
        return False
    state, pgrp, tpgid = fields[0], int(fields[2]), int(fields[5])
    return state == "S" and tpgid == pgrp == pid and wchan.startswith(_READ_WAITS)
