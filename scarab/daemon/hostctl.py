"""Host controls layer: a session host's recordings (at most one per pane) and its session's limits.

The host calls `output`, `input` and `resize` as a pane's bytes pass, `spawned` once a pane's
program has started (with `preexec` run in it before exec), and `handle` for HostRecord and
HostLimit; `tick` (each second while limits are set) notices programs the kernel killed for memory
and writes on that pane's screen what happened. Everything here serves the session and never
stops it: a recording that cannot be written stops itself, a limit that cannot be applied is
said, and only the session's programs are ever limited, never the host.

Defaults come from config.toml as the host starts (`record = true`, `memory`, `cpu`, `tasks`),
under the session's own (new's flags, a template's, kept ones: HostConfig), so a new session is
recorded from its first byte and limited before its first program runs.
"""

from __future__ import annotations

import functools
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from scarab import protocol as p
from scarab.config import Config, load_config
from scarab.daemon.emulator import Emulator
from scarab.daemon.limits import Enforcer, Limits, choose_enforcer
from scarab.daemon.recording import Recording, RecordingError, default_path
from scarab.daemon.usage import UsageMeter, descendants
from scarab.errors import ScarabError
from scarab.humanize import size as human_size
from scarab.styles import line_to_ansi

__all__ = ["HostControls", "PaneRef", "screen_paint"]

MAX_KEPT = 16  # stopped recordings still listed by `record status`


@dataclass(frozen=True, slots=True)
class PaneRef:
    """What the controls need of a pane: its id, screen, program and command."""

    id: int
    emu: Emulator
    pid: int  # its program (0: none running)
    command: tuple[str, ...]


def screen_paint(emu: Emulator) -> bytes:
    """The screen as bytes that draw it on a blank terminal of its size (a recording's first frame
    when it starts on a pane that already shows something)."""
    rows = [line_to_ansi(line) for line in emu.screen_lines()]
    x, y, visible, _shape = emu.cursor
    paint = "\x1b[H\x1b[2J" + "\r\n".join(rows) + f"\x1b[{y + 1};{x + 1}H" + ("" if visible else "\x1b[?25l")
    return paint.encode()


@functools.cache
def _config_file() -> Path:
    """Where config.toml is. The same for every host a zygote forks (their environment is its own),
    so looked up once there: platformdirs' lookups run in each host copied ~100-300 KB of the
    zygote's shared pages into it. The file itself is read as each host starts."""
    return Path(platformdirs.user_config_dir("scarab")) / "config.toml"


def _config() -> Config:
    """config.toml's defaults; a broken file (the daemon and CLI say what is wrong) gives none."""
    try:
        return load_config(_config_file())
    except ScarabError:
        return Config()


class HostControls:
    def __init__(
        self,
        session_id: str,
        name: str,
        note: Callable[[int, str, str], None],
        limits: tuple[int, ...] = (0, 0, 0),
        record: bool = False,
    ) -> None:
        """`note(pane, text, kind)`: say `text` on that pane's screen (`[scarab: text]`), on the
        status bar of the clients attached and to watchers as a `kind` event (what a limit did,
        why a recording stopped). `limits`: the
        session's own (new's flags, a template's, or kept from before a resurrection), over
        config.toml's defaults as the Limit verb changes them (0: the default, -1: none).
        `record`: every pane recorded from its first byte, as config.toml's `record = true` does."""
        self.session_id = session_id
        self.name = name
        self.note = note
        config = _config()
        self.config = config
        self.record_all = config.record or record
        self.recordings: dict[int, Recording] = {}  # active, by pane
        self.stopped: list[tuple[int, Recording]] = []  # newest last
        self.limits = Limits(config.memory, config.cpu, config.tasks).changed(limits)
        self.enforcer: Enforcer | None = None  # chosen once limits are first set (it asks systemd)
        self.meter = UsageMeter()
        self.applied = False  # limits set on the session's first program (the rest are adopted)
        # At the last tick: pid -> (name, resident bytes, pane) of every program of the session.
        self.programs: dict[int, tuple[str, int, int]] = {}

    # -- as bytes pass ----------------------------------------------------------------------------

    def output(self, pane: int, data: bytes) -> None:
        recording = self.recordings.get(pane)
        if recording is not None:
            recording.output(data)

    def input(self, pane: int, data: bytes) -> None:
        recording = self.recordings.get(pane)
        if recording is not None:
            recording.input(data)

    def closed(self, pane: int) -> None:
        """The pane is gone: its recording ends."""
        recording = self.recordings.get(pane)
        if recording is not None:
            recording.stop("the pane closed")

    def resize(self, pane: int, cols: int, rows: int) -> None:
        recording = self.recordings.get(pane)
        if recording is not None:
            recording.resize(cols, rows)

    # -- programs ---------------------------------------------------------------------------------

    def preexec(self) -> Callable[[], None] | None:
        """What a new pane program runs before exec, so it starts under the session's limits."""
        if not self.limits:
            return None
        enforcer = self._enforcer()
        if enforcer.limits != self.limits:
            # The session's first program: the enforcer is readied before it starts (the limits
            # known, a cgroup made to join), so it runs under them from its first instruction.
            enforcer.set(self.limits, [])
        return enforcer.preexec()

    def spawned(self, pane: PaneRef) -> None:
        """A pane's program has started (right after spawn: `record = true` starts here too)."""
        if self.limits:
            enforcer = self._enforcer()
            if not self.applied:
                enforcer.set(self.limits, [pane.pid])
                self.applied = True
                self.note(pane.id, f"limits {self.limits.describe()} ({enforcer.short()})", "limits-set")
            else:
                enforcer.adopt(pane.pid)
        if self.record_all and pane.id not in self.recordings and not self.stopped:
            try:
                self._start(pane, None, False)
            except RecordingError as exc:
                print(f"scarab-host: record = true, but {exc}", file=sys.stderr)

    def tick(self, panes: list[PaneRef]) -> None:
        """Each second while limits are set: a program the kernel killed for memory is named on the
        screen of the pane it ran in (only a cgroup tells; under setrlimit the program itself
        reports its failed allocation)."""
        enforcer = self.enforcer
        if enforcer is None or enforcer.kind == Enforcer.kind or not self.limits.memory:
            return
        killed = enforcer.killed()
        seen: dict[int, tuple[str, int, int]] = {}
        for pane in panes:
            if pane.pid:
                for pid, (_cpu, resident) in descendants(pane.pid, including=True).items():
                    seen[pid] = (_name(pid), resident, pane.id)
        if killed:
            # The kernel kills the biggest program: of those gone since the last look, the biggest.
            gone = sorted(((resident, name, pane) for pid, (name, resident, pane) in self.programs.items()
                           if pid not in seen), reverse=True)  # fmt: skip
            for _resident, name, pane_id in gone[:killed] or [(0, "", panes[0].id if panes else 0)]:
                who = f'"{name}"' if name else "a program"
                self.note(pane_id, f"{who} killed: memory limit {human_size(self.limits.memory)}", "program-killed")
        self.programs = seen

    # -- verbs ------------------------------------------------------------------------------------

    def record(self, msg: p.HostRecord, pane: PaneRef) -> p.Message:
        if msg.action == "start":
            if pane.id in self.recordings:
                current = self.recordings[pane.id].path
                return p.Failed(code="bad_request", message=f"pane %{pane.id} is already being recorded to {current}")
            try:
                self._start(pane, Path(msg.path) if msg.path else None, msg.input)
            except RecordingError as exc:
                return p.Failed(code="bad_request", message=str(exc))
        elif msg.action == "stop":
            recording = self.recordings.get(pane.id)
            if recording is None:
                return p.Failed(code="bad_request", message=f"pane %{pane.id} is not being recorded")
            recording.stop("stopped by record stop")
        elif msg.action != "status":
            return p.Failed(code="bad_request", message=f"record: unknown action {msg.action!r}")
        return self.recordings_info()

    def recordings_info(self) -> p.Recordings:
        items = [(pane, rec) for pane, rec in self.stopped] + list(self.recordings.items())
        return p.Recordings(
            session_id=self.session_id,
            items=[
                p.RecordingInfo(pane=pane, path=str(rec.path), active=rec.active, size=rec.size,
                                started=float(rec.started), reason=rec.reason, input=rec.record_input)
                for pane, rec in sorted(items, key=lambda item: item[1].started)
            ],
        )  # fmt: skip

    def limit(self, msg: p.HostLimit, panes: list[PaneRef]) -> p.LimitsReport:
        """Change the limits (each value 0: as it is; -1: removed) of every program of the session."""
        wanted = self.limits.changed(msg.limits)
        if wanted != self.limits:
            self.limits = wanted
            enforcer = self._enforcer()
            programs = [pid for pane in panes if pane.pid for pid in [pane.pid, *descendants(pane.pid)]]
            enforcer.set(self.limits, programs)
            for pane in panes:
                self.note(pane.id, f"limits {self.limits.describe()} ({enforcer.short()})", "limits-set")
        return self.report(panes)

    def report(self, panes: list[PaneRef]) -> p.LimitsReport:
        """The limits, how they are enforced, and what the session's programs use now."""
        figures = [self.meter.measure(pane.pid, including=True) for pane in panes if pane.pid]
        self.meter.forget({pane.pid for pane in panes})
        percents = [usage.cpu_percent for usage in figures]
        enforcer = self.enforcer
        return p.LimitsReport(
            session_id=self.session_id,
            limits=self.limits.to_wire(),
            enforcement=enforcer.kind if enforcer is not None else "",
            statement=enforcer.statement() if enforcer is not None else "no limits",
            memory=sum(usage.memory for usage in figures),
            cpu=-1.0 if not percents or min(percents) < 0 else round(sum(percents), 1),
            cpu_seconds=round(sum(usage.cpu_seconds for usage in figures), 2),
            processes=sum(usage.processes for usage in figures),
        )

    def close(self) -> None:
        for recording in list(self.recordings.values()):
            recording.stop("the session ended")
        if self.enforcer is not None:
            self.enforcer.close()

    # -- inside -----------------------------------------------------------------------------------

    def _enforcer(self) -> Enforcer:
        if self.enforcer is None:
            self.enforcer = choose_enforcer(self.session_id)
        return self.enforcer

    def _start(self, pane: PaneRef, path: Path | None, record_input: bool) -> None:
        started = time.time()
        if path is None:
            where = default_path(Path(platformdirs.user_data_dir("scarab")) / "recordings", self.name, started)
        else:
            where = path
        emu = pane.emu
        recording = Recording.start(
            where,
            emu.cols,
            emu.rows,
            command=shlex.join(pane.command),
            title=self.name,
            cap=self.config.record_cap,
            record_input=record_input,
            exclusive_name=path is None,
            on_stop=lambda rec: self._stopped(pane.id, rec),
        )
        self.recordings[pane.id] = recording
        recording.output(screen_paint(emu))

    def _stopped(self, pane: int, recording: Recording) -> None:
        if self.recordings.get(pane) is recording:
            del self.recordings[pane]
        self.stopped = [*self.stopped, (pane, recording)][-MAX_KEPT:]
        if recording.reason not in ("stopped by record stop", "the pane closed", "the session ended"):
            # Past its cap or on a full disk: say so where the user looks (the pane, the status bar
            # of every client attached), and in the host's log.
            self.note(pane, f"recording stopped: {recording.reason}", "recording-stopped")
        print(f"scarab-host: recording {recording.path} stopped: {recording.reason}", file=sys.stderr)


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "a program"
