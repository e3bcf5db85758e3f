"""Host controls layer (scarab.daemon.hostctl): what a session host does with its recordings and
limits, on real processes and files, driven as the host drives it (no host, no daemon).

The kernel's OOM kill cannot be had on a machine without a cgroup that delegates memory (the real
test of it is test_limits'), so its enforcer here is a cgroup enforcer whose kill count the test
sets: the rest (which program went, on which pane, what the screen says) is the host's real code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scarab.daemon.emulator import Emulator
from scarab.daemon.hostctl import HostControls, PaneRef
from scarab.daemon.limits import CgroupEnforcer, Limits
from scarab.quantities import parse_memory
from scarab.testkit import wait_for

pytestmark = pytest.mark.timeout(30)


class Notes:
    """What the host would write on a pane's screen and tell the daemon."""

    def __init__(self) -> None:
        self.said: list[tuple[int, str, str]] = []

    def __call__(self, pane: int, text: str, kind: str) -> None:
        self.said.append((pane, text, kind))


class KilledByTheTest(CgroupEnforcer):
    """A cgroup enforcer whose memory.events count is what the test says (see the module docstring)."""

    def __init__(self, session_id: str, parent: Path) -> None:
        super().__init__(session_id, parent)
        self.kills = 0

    def killed(self) -> int:
        new, self.kills = self.kills, 0
        return new


@pytest.fixture(autouse=True)
def private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The controls read config.toml's defaults: this test's own, empty unless it writes one."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "config" / "scarab" / "config.toml"


def test_a_program_the_kernel_killed_for_memory_is_named_on_its_pane(tmp_path: Path) -> None:
    notes = Notes()
    controls = HostControls("s1", "work", notes, limits=(parse_memory("2G"), 0, 0))
    enforcer = KilledByTheTest("s1", tmp_path)
    controls.enforcer = enforcer
    # A shell with a big program under it, as in a pane; the shell stays when the program goes.
    shell = subprocess.Popen(["sh", "-c", f"{sys.executable} -c 'import time; time.sleep(60)' & wait; exec cat"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        pane = PaneRef(id=7, emu=Emulator(80, 24), pid=shell.pid, command=("sh",))
        program = wait_for(lambda: _child(shell.pid), what="the program under the shell")
        controls.tick([pane])  # the programs as they are
        assert notes.said == []
        os.kill(program, signal.SIGKILL)  # what the OOM killer does
        wait_for(lambda: _child(shell.pid) is None, what="the program to go")
        enforcer.kills = 1
        controls.tick([pane])
        assert notes.said == [(7, f'"{Path(sys.executable).name[:15]}" killed: memory limit 2G', "program-killed")]
        assert shell.poll() is None  # the pane's shell (and the host) stay
    finally:
        shell.kill()
        shell.wait()


def _child(pid: int) -> int | None:
    kids = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return int(kids[0]) if kids else None


def test_new_record_starts_with_the_first_program_and_the_cap_is_100M_by_default(tmp_path: Path) -> None:
    notes = Notes()
    controls = HostControls("s2", "demo", notes, record=True)
    assert controls.config.record_cap == 100 * 1024 * 1024
    controls.spawned(PaneRef(id=3, emu=Emulator(80, 24), pid=0, command=("bash",)))
    [recording] = controls.recordings.values()
    assert recording.cap == 100 * 1024 * 1024
    assert recording.path.parent == tmp_path / "data" / "scarab" / "recordings"
    assert recording.path.name.startswith("demo-")
    assert HostControls("s3", "plain", notes).recordings == {}
    controls.close()


def test_limits_are_readied_before_the_first_program_starts(tmp_path: Path) -> None:
    controls = HostControls("s4", "w", Notes(), limits=(parse_memory("300M"), 0, 0))
    preexec = controls.preexec()  # before any program: the enforcer has the limits already
    assert preexec is not None and controls.enforcer is not None
    assert controls.enforcer.limits == Limits(memory=300 * 2**20)
    shown = subprocess.run(["grep", "Max address space", "/proc/self/limits"], preexec_fn=preexec,
                           capture_output=True, text=True, timeout=10).stdout  # fmt: skip
    assert shown.split()[3] == str(300 * 2**20)
