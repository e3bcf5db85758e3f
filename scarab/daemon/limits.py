"""Limits layer: caps on what a session's programs may use, enforced the best way this machine has.

A session's limits (`Limits`: memory, CPU share, task count) apply to the programs in its panes,
never to its host: whatever a limit kills, the host and its session stay. Three ways, tried in this
order, and `Enforcer.statement` says plainly which one is in force and what it cannot do:

* **systemd scope**: a user manager runs: every pane program goes into one transient scope of the
  session (`scarab-<id>.scope`, MemoryMax/CPUQuota/TasksMax), created and changed over D-Bus with
  `busctl --user` (the way tmux asks systemd for a scope per pane, with limits added).
* **cgroup v2**: a cgroup directory we may write whose `cgroup.subtree_control` already gives its
  children the memory and pids controllers (a delegated subtree, or `SCARAB_CGROUP` naming one):
  a child `scarab-<id>` with memory.max, cpu.max, pids.max; programs join it before they exec.
* **setrlimit**: everywhere: each program's address space (RLIMIT_AS) and, for a non-root user,
  the user's process count (RLIMIT_NPROC); CPU share and the session's total memory cannot be
  capped this way, and the statement says so.

Under a cgroup (systemd's or our own) the kernel's OOM killer ends the offending program; the host
learns of it from `memory.events` and writes on the pane's screen what happened. Under setrlimit an
allocation past the cap fails inside the program, which reports it itself.

The values are read by scarab.quantities, as `scarab new --memory 2G --cpu 50% --tasks 500` and
config.toml write them.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from scarab.errors import BadRequest
from scarab.humanize import size as human_size
from scarab.quantities import MIN_MEMORY

__all__ = [
    "CgroupEnforcer",
    "Enforcer",
    "Limits",
    "SystemdEnforcer",
    "check_wire",
    "choose_enforcer",
]

CPU_PERIOD = 100_000  # microseconds: cgroup v2's default cpu.max period
BUSCTL_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Limits:
    """A session's caps; None: not capped."""

    memory: int | None = None  # bytes
    cpu: int | None = None  # percent of one CPU
    tasks: int | None = None

    def __bool__(self) -> bool:
        return any(value is not None for value in (self.memory, self.cpu, self.tasks))

    def updated(self, other: Limits) -> Limits:
        """These limits with those `other` sets replacing ours."""
        return replace(
            self,
            **{name: getattr(other, name) for name in ("memory", "cpu", "tasks") if getattr(other, name) is not None},
        )

    def changed(self, values: list[int] | tuple[int, ...]) -> Limits:
        """These limits changed as the protocol says: [memory, cpu, tasks], each 0 to keep ours,
        -1 to remove it, else the new value."""
        current = self.to_wire()
        asked = [*values, 0, 0, 0][:3]
        return Limits.from_wire([old if new == 0 else max(new, 0) for old, new in zip(current, asked, strict=True)])

    def describe(self) -> str:
        parts = []
        if self.memory is not None:
            parts.append(f"memory {human_size(self.memory)}")
        if self.cpu is not None:
            parts.append(f"cpu {self.cpu}%")
        if self.tasks is not None:
            parts.append(f"tasks {self.tasks}")
        return ", ".join(parts) or "none"

    def to_wire(self) -> list[int]:
        """[memory, cpu, tasks] with 0 for not capped (the protocol's form)."""
        return [self.memory or 0, self.cpu or 0, self.tasks or 0]

    @classmethod
    def from_wire(cls, values: list[int]) -> Limits:
        memory, cpu, tasks = [*values, 0, 0, 0][:3]
        return cls(memory or None, cpu or None, tasks or None)


def check_wire(values: list[int] | None, what: str) -> tuple[int, int, int]:
    """Limits as a client sent them, [memory, cpu, tasks] (each 0: as it is or config.toml's
    default, -1: none, else the value), checked as the CLI checks them: another client may not
    have. None: all 0. `what` names them in the error (`limit`, `a template's limits`)."""
    if values is None:
        return (0, 0, 0)
    if len(values) != 3 or min(values) < -1:
        raise BadRequest(f"{what}: give [memory bytes, cpu percent, tasks], each -1 (none), 0 (as it is) or a value")
    memory, cpu, tasks = values
    if 0 < memory < MIN_MEMORY:
        raise BadRequest(f"{what}: memory {memory} bytes is below 1M: no shell starts in that")
    return (memory, cpu, tasks)


class Enforcer:
    """How a session's limits reach its programs. The base class is the setrlimit way."""

    kind = "setrlimit"

    def __init__(self, session_id: str, why: str = "") -> None:
        self.session_id = session_id
        self.why = why  # why nothing better is in force
        self.limits = Limits()

    def statement(self) -> str:
        """What is in force, plainly (shown by `scarab limit`, on the pane's screen and in the log)."""
        if not self.limits:
            return "no limits"
        parts = []
        if self.limits.memory is not None:
            parts.append(f"address space {human_size(self.limits.memory)} per program")
        if self.limits.tasks is not None:
            parts.append(
                "tasks: not capped (root is exempt from RLIMIT_NPROC)"
                if os.geteuid() == 0
                else f"at most {self.limits.tasks} processes of your user"
            )
        if self.limits.cpu is not None:
            parts.append("CPU share: not capped")
        return (
            f"setrlimit ({', '.join(parts)}); {self.why or 'no systemd user manager or delegated cgroup v2'}, "
            "so CPU share and the session's total memory cannot be capped"
        )

    def short(self) -> str:
        """The way, in a few words (the pane's screen says this when limits are set)."""
        return "setrlimit: per program; CPU share and total memory not capped here"

    def set(self, limits: Limits, pids: Iterable[int]) -> None:
        """New limits, applied at once to the running programs `pids` (each pane's program and
        what it started); later programs get them as they start (`preexec`). A limit removed
        goes back up to the hard limit (what the program could raise it to itself)."""
        lifted = [which for which, old, new in self._rlimits(self.limits, limits) if old is not None and new is None]
        self.limits = limits
        for pid in pids:
            self._apply_rlimits(pid, lifted)

    def preexec(self) -> Callable[[], None] | None:
        """What a new pane program runs between fork and exec (None: nothing to do)."""
        if not self.limits:
            return None
        return lambda: self._apply_rlimits(0)

    def adopt(self, pid: int) -> None:
        """A pane program just started: bring it under the limits if `preexec` could not."""

    def killed(self) -> int:
        """Programs the kernel killed for memory since the last call (0 where nothing tells)."""
        return 0

    def close(self) -> None:
        """The session ends: release what was made for it."""

    @staticmethod
    def _rlimits(old: Limits, new: Limits) -> list[tuple[int, int | None, int | None]]:
        """(resource, old value, new value) of each limit setrlimit can apply."""
        return [(resource.RLIMIT_AS, old.memory, new.memory), (resource.RLIMIT_NPROC, old.tasks, new.tasks)]

    def _apply_rlimits(self, pid: int, lifted: Iterable[int] = ()) -> None:
        """pid 0: this process (between fork and exec). `lifted`: resources to set back to their
        hard limit."""
        wanted = [(which, value) for which, _old, value in self._rlimits(self.limits, self.limits) if value is not None]
        for which, value in [*wanted, *((which, None) for which in lifted)]:
            with contextlib.suppress(OSError, ValueError):
                # Never above the hard limit we have: a raise would fail (and is not ours to make).
                _soft, hard = resource.prlimit(pid, which) if pid else resource.getrlimit(which)
                soft = hard if value is None or (hard != resource.RLIM_INFINITY and value > hard) else value
                if pid:
                    resource.prlimit(pid, which, (soft, hard))
                else:
                    resource.setrlimit(which, (soft, hard))


class CgroupEnforcer(Enforcer):
    """A cgroup v2 directory per session under a delegated parent; programs join it before exec."""

    kind = "cgroup v2"

    def __init__(self, session_id: str, parent: Path) -> None:
        super().__init__(session_id)
        self.parent = parent
        self.path = parent / f"scarab-{session_id}"
        self.oom_kills = 0

    def statement(self) -> str:
        return f"cgroup v2 {self.path} ({self.limits.describe()})"

    def short(self) -> str:
        return "cgroup v2"

    def set(self, limits: Limits, pids: Iterable[int]) -> None:
        self.limits = limits
        with contextlib.suppress(FileExistsError):
            self.path.mkdir()
        self._write("memory.max", str(limits.memory) if limits.memory is not None else "max")
        self._write("memory.swap.max", "0" if limits.memory is not None else "max")
        self._write("pids.max", str(limits.tasks) if limits.tasks is not None else "max")
        quota = "max" if limits.cpu is None else str(limits.cpu * CPU_PERIOD // 100)
        self._write("cpu.max", f"{quota} {CPU_PERIOD}")
        for pid in pids:
            self.adopt(pid)

    def preexec(self) -> Callable[[], None] | None:
        if not self.path.is_dir():
            return None
        procs = os.fsencode(self.path / "cgroup.procs")

        def join() -> None:
            with contextlib.suppress(OSError):
                fd = os.open(procs, os.O_WRONLY)
                try:
                    os.write(fd, b"0")  # "0": the writing process itself
                finally:
                    os.close(fd)

        return join

    def adopt(self, pid: int) -> None:
        if self.path.is_dir():
            self._write("cgroup.procs", str(pid))

    def killed(self) -> int:
        try:
            text = (self.path / "memory.events").read_text()
        except OSError:
            return 0
        count = next((int(line.split()[1]) for line in text.splitlines() if line.startswith("oom_kill ")), 0)
        new, self.oom_kills = count - self.oom_kills, count
        return max(0, new)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()  # only once empty: a program still in it keeps it

    def _write(self, name: str, value: str) -> None:
        with contextlib.suppress(OSError):  # a controller the parent does not give us: not capped
            (self.path / name).write_text(value)


class SystemdEnforcer(CgroupEnforcer):
    """A transient scope of the user manager (`scarab-<id>.scope`), made and changed over D-Bus."""

    kind = "systemd scope"

    def __init__(self, session_id: str, busctl: str, cgroup_root: Path) -> None:
        super().__init__(session_id, cgroup_root)
        self.busctl = busctl
        self.cgroup_root = cgroup_root
        self.unit = f"scarab-{session_id}.scope"
        self.started = False

    def statement(self) -> str:
        return f"systemd user scope {self.unit} ({self.limits.describe()})"

    def short(self) -> str:
        return f"systemd scope {self.unit}"

    def set(self, limits: Limits, pids: Iterable[int]) -> None:
        self.limits = limits
        properties = self._properties(limits)
        pids = list(pids)
        if not self.started and pids:
            self._call("StartTransientUnit", "ssa(sv)a(sa(sv))", self.unit, "fail",
                       str(len(properties) // 3 + 1), "PIDs", "au", str(len(pids)), *map(str, pids),
                       *properties, "0")  # fmt: skip
            self.started = True
            self._find_cgroup()
        elif self.started:
            self._call("SetUnitProperties", "sba(sv)", self.unit, "true", str(len(properties) // 3), *properties)

    def preexec(self) -> Callable[[], None] | None:
        return super().preexec() if self.started else None

    def adopt(self, pid: int) -> None:
        if self.started:
            self._call("AttachProcessesToUnit", "ssau", self.unit, "", "1", str(pid))
        else:
            self.set(self.limits, [pid])

    def close(self) -> None:
        """systemd removes a scope by itself once its last program has gone."""

    @staticmethod
    def _properties(limits: Limits) -> list[str]:
        never = str(2**64 - 1)  # systemd's "infinity"
        quota = never if limits.cpu is None else str(limits.cpu * 10_000)  # microseconds of CPU per second
        props = ["MemoryMax", "t", str(limits.memory) if limits.memory is not None else never,
                 "MemorySwapMax", "t", "0" if limits.memory is not None else never,
                 "CPUQuotaPerSecUSec", "t", quota,
                 "TasksMax", "t", str(limits.tasks) if limits.tasks is not None else never]  # fmt: skip
        return props

    def _call(self, method: str, signature: str, *args: str) -> None:
        subprocess.run(
            [self.busctl, "--user", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
             "org.freedesktop.systemd1.Manager", method, signature, *args],
            check=False, capture_output=True, timeout=BUSCTL_TIMEOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def _find_cgroup(self) -> None:
        """Where systemd put the scope (its memory.events tells of OOM kills)."""
        systemctl = shutil.which("systemctl")
        if systemctl is None:
            return
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            found = subprocess.run(
                [systemctl, "--user", "show", "-p", "ControlGroup", "--value", self.unit],
                capture_output=True, text=True, timeout=BUSCTL_TIMEOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if found.stdout.strip():
                self.path = self.cgroup_root / found.stdout.strip().lstrip("/")


def _own_cgroup(root: Path) -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return root / line[3:].lstrip("/")
    except OSError:
        pass
    return None


def _delegated(path: Path) -> bool:
    try:
        given = set((path / "cgroup.subtree_control").read_text().split())
    except OSError:
        return False
    return {"memory", "pids"} <= given and os.access(path, os.W_OK)


def _user_manager_runs() -> str | None:
    """busctl's path when a systemd user manager answers on the session bus."""
    systemctl, busctl = shutil.which("systemctl"), shutil.which("busctl")
    if systemctl is None or busctl is None:
        return None
    try:
        proc = subprocess.run([systemctl, "--user", "is-system-running"], capture_output=True, text=True,
                              timeout=BUSCTL_TIMEOUT, stdin=subprocess.DEVNULL)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return busctl if proc.stdout.strip() in ("running", "degraded") else None


def cgroup2_root() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a
    hybrid v1/v2 system), if anywhere."""
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                fields = line.split()
                if len(fields) > 2 and fields[2] == "cgroup2":
                    return Path(fields[1])
    except OSError:
        pass
    return None


def choose_enforcer(session_id: str, cgroup_root: Path | None = None) -> Enforcer:
    """The best way this machine has (see the module's docstring)."""
    root = cgroup_root or cgroup2_root()
    if root is None:
        return Enforcer(session_id, "no cgroup v2 mounted")
    if (busctl := _user_manager_runs()) is not None:
        return SystemdEnforcer(session_id, busctl, root)
    explicit = os.environ.get("SCARAB_CGROUP")
    own = _own_cgroup(root)
    for candidate in (Path(explicit) if explicit else None, own.parent if own else None):
        if candidate is not None and _delegated(candidate):
            return CgroupEnforcer(session_id, candidate)
    try:
        offered = (root / "cgroup.controllers").read_text().split()
    except OSError:
        offered = []
    why = (
        f"no systemd user manager, and cgroup v2 at {root} delegates no memory and pids controllers to us "
        f"(it offers: {' '.join(offered) or 'none'})"
    )
    held = _held_by_v1(_read("/proc/self/cgroup")) - set(offered)
    if held:  # a hybrid machine: the controllers that would do it are v1's, which Scarab does not drive
        why += f"; {' and '.join(sorted(held))} are on cgroup v1 here, which Scarab does not use"
    return Enforcer(session_id, why)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _held_by_v1(proc_cgroup: str) -> set[str]:
    """Of memory and pids, those mounted as cgroup v1 hierarchies (`/proc/self/cgroup`'s `N:memory:/...`)."""
    held: set[str] = set()
    for line in proc_cgroup.splitlines():
        number, _, rest = line.partition(":")
        controllers = rest.partition(":")[0]
        if number != "0" and controllers:
            held |= {"memory", "pids"} & set(controllers.split(","))
    return held
