"""Limits and usage layers (scarab.daemon.limits, scarab.daemon.usage) on real processes.

The setrlimit way runs everywhere and is tested on real programs; the cgroup and systemd ways need a
delegated cgroup v2 or a systemd user manager, and their real test says why it is skipped where
there is none. Usage figures are compared with what /proc says about the same processes."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scarab.daemon.limits import CgroupEnforcer, Enforcer, Limits, SystemdEnforcer, choose_enforcer
from scarab.daemon.usage import UsageMeter, tree_usage
from scarab.errors import BadRequest
from scarab.quantities import parse_cpu, parse_memory, parse_tasks
from scarab.testkit import wait_for

pytestmark = pytest.mark.timeout(60)

ALLOCATE = "import sys; b = bytearray(int(sys.argv[1]) * 1024 * 1024); print('allocated', flush=True)"


def test_parsing() -> None:
    assert parse_memory("2G") == 2 * 1024**3
    assert parse_memory("1.5g") == int(1.5 * 1024**3)
    assert parse_memory("512MiB") == 512 * 1024**2
    assert parse_memory("1048576") == 1024**2
    assert parse_cpu("50%") == 50 and parse_cpu("200") == 200
    assert parse_tasks(" 500 ") == 500
    for bad, parse in (("2X", parse_memory), ("-1G", parse_memory), ("10K", parse_memory), ("half", parse_cpu),
                       ("0%", parse_cpu), ("0", parse_tasks), ("many", parse_tasks)):  # fmt: skip
        with pytest.raises(BadRequest):
            parse(bad)
    limits = Limits(memory=2 * 1024**3).updated(Limits(cpu=50))
    assert limits == Limits(2 * 1024**3, 50, None)
    assert limits.describe() == "memory 2G, cpu 50%"
    assert Limits.from_wire(limits.to_wire()) == limits
    assert not Limits() and Limits().describe() == "none"


def test_setrlimit_caps_a_program_not_its_parent() -> None:
    enforcer = Enforcer("s1")
    enforcer.set(Limits(memory=parse_memory("200M")), [])
    preexec = enforcer.preexec()
    assert preexec is not None
    over = subprocess.run([sys.executable, "-c", ALLOCATE, "400"], preexec_fn=preexec, capture_output=True,
                          text=True, timeout=30)  # fmt: skip
    assert over.returncode != 0 and "MemoryError" in over.stderr
    under = subprocess.run([sys.executable, "-c", ALLOCATE, "20"], preexec_fn=preexec, capture_output=True,
                           text=True, timeout=30)  # fmt: skip
    assert under.returncode == 0 and "allocated" in under.stdout
    # This process (the host, in Scarab) is untouched.
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY
    assert "setrlimit" in enforcer.statement() and "cannot be capped" in enforcer.statement()


def test_setrlimit_applies_live_to_running_programs() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        enforcer = Enforcer("s2")
        enforcer.set(Limits(memory=parse_memory("300M")), [proc.pid])
        assert resource.prlimit(proc.pid, resource.RLIMIT_AS)[0] == 300 * 1024**2
        enforcer.set(Limits(memory=parse_memory("400M")), [proc.pid])
        assert resource.prlimit(proc.pid, resource.RLIMIT_AS)[0] == 400 * 1024**2
    finally:
        proc.kill()
        proc.wait()


def test_cgroup_files_written_under_a_delegated_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cgroup v2 way's files, on a directory laid out as a delegated cgroup (the kernel's own
    behaviour is the next test's, where one exists)."""
    root = tmp_path / "cg"
    (root / "user").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "user" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    monkeypatch.setenv("SCARAB_CGROUP", str(root / "user"))
    monkeypatch.setattr("scarab.daemon.limits._user_manager_runs", lambda: None)
    enforcer = choose_enforcer("abc", root)
    assert isinstance(enforcer, CgroupEnforcer)
    enforcer.set(Limits(memory=parse_memory("2G"), cpu=50, tasks=500), [])
    cg = root / "user" / "scarab-abc"
    assert (cg / "memory.max").read_text() == str(2 * 1024**3)
    assert (cg / "cpu.max").read_text() == "50000 100000"
    assert (cg / "pids.max").read_text() == "500"
    (cg / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert enforcer.killed() == 1 and enforcer.killed() == 0
    assert "cgroup v2" in enforcer.statement()
    monkeypatch.delenv("SCARAB_CGROUP")
    (root / "user" / "cgroup.subtree_control").write_text("")
    assert type(choose_enforcer("abc", root)) is Enforcer  # nothing delegated: setrlimit


def test_a_hybrid_machine_says_its_memory_and_pids_controllers_are_v1s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why setrlimit is all there is, said as it is: cgroup v2 mounted beside v1 hierarchies that
    hold the memory and pids controllers (a hybrid systemd machine, many containers)."""
    root = tmp_path / "unified"
    root.mkdir()
    (root / "cgroup.controllers").write_text("hugetlb\n")
    monkeypatch.delenv("SCARAB_CGROUP", raising=False)
    monkeypatch.setattr("scarab.daemon.limits._user_manager_runs", lambda: None)
    monkeypatch.setattr("scarab.daemon.limits._read", lambda path: "9:pids:/\n4:memory:/job\n1:name=systemd:/\n0::/\n")
    enforcer = choose_enforcer("abc", root)
    assert type(enforcer) is Enforcer
    assert enforcer.why == (
        f"no systemd user manager, and cgroup v2 at {root} delegates no memory and pids controllers to us "
        "(it offers: hugetlb); memory and pids are on cgroup v1 here, which Scarab does not use"
    )
    monkeypatch.setattr("scarab.daemon.limits._read", lambda path: "0::/user.slice\n")  # pure v2: nothing to add
    assert choose_enforcer("abc", root).why.endswith("(it offers: hugetlb)")


def test_real_cgroup_or_systemd_scope_kills_the_program_over_its_memory() -> None:
    enforcer = choose_enforcer("test-" + os.urandom(4).hex())
    if type(enforcer) is Enforcer:
        pytest.skip(f"only setrlimit here: {enforcer.why}")
    proc = subprocess.Popen([sys.executable, "-c", f"import sys; sys.stdin.read(); {ALLOCATE}", "400"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        enforcer.set(Limits(memory=parse_memory("100M")), [proc.pid])
        proc.communicate(b"", timeout=30)
        assert proc.returncode == -9  # the OOM killer's SIGKILL
        wait_for(lambda: enforcer.killed() >= 1, 5, what="memory.events to count the OOM kill")
    finally:
        proc.kill()
        proc.wait()
        enforcer.close()


def _proc_tree(root: int) -> tuple[float, int]:
    """CPU seconds and RSS bytes of root's descendants, as /proc/PID/status and stat say."""
    cpu, rss = 0.0, 0
    for pid in subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True).stdout.split():
        with open(f"/proc/{pid}/status") as f:
            rss += next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu, rss


@pytest.mark.timing
def test_usage_of_a_tree_within_ten_percent_of_proc() -> None:
    script = (
        "import subprocess, sys, time\n"
        f"kids = [subprocess.Popen([sys.executable, '-c', {ALLOCATE!r} + '; import time; time.sleep(60)', '60'],"
        " stdout=subprocess.DEVNULL),\n"
        "        subprocess.Popen([sys.executable, '-c', 'while True: pass'])]\n"
        "sys.stdin.read()\n"
        "for k in kids: k.kill()\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE)
    try:
        wait_for(lambda: tree_usage(parent.pid)[1] > 60 * 1024**2, 20, what="the child to allocate 60 MB")
        meter = UsageMeter()
        first = meter.measure(parent.pid)
        assert 0 <= first.cpu_percent <= 100 * (os.cpu_count() or 1)  # since it started
        cpu_before, _ = _proc_tree(parent.pid)
        started = time.monotonic()
        time.sleep(1.0)  # the interval the CPU share is measured over
        cpu_after, rss = _proc_tree(parent.pid)
        wall = time.monotonic() - started
        second = meter.measure(parent.pid)
        assert second.processes == 2
        assert abs(second.memory - rss) <= 0.1 * rss
        assert abs(second.cpu_seconds - cpu_after) <= 0.1 * cpu_after + 0.05
        proc_percent = 100 * (cpu_after - cpu_before) / wall
        assert proc_percent > 5  # the busy child ran
        assert abs(second.cpu_percent - proc_percent) <= 0.1 * proc_percent + 3
    finally:
        parent.communicate(b"", timeout=10)


def _fake_tools(bin_dir: Path, manager_state: str) -> Path:
    """systemctl and busctl stand-ins: systemctl says `manager_state` and where a scope's cgroup
    is; busctl writes each call's arguments, one line each, to calls.txt."""
    bin_dir.mkdir()
    calls = bin_dir / "calls.txt"
    (bin_dir / "systemctl").write_text(
        "#!/bin/sh\n"
        f'case "$*" in *is-system-running*) echo {manager_state};; *ControlGroup*) echo /user.slice/$6;; esac\n'
    )
    (bin_dir / "busctl").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    for tool in ("systemctl", "busctl"):
        (bin_dir / tool).chmod(0o755)
    return calls


def test_enforcement_is_the_best_the_machine_offers_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd scope when a user manager answers, else a delegated cgroup v2, else setrlimit with
    the reason; decided from what the machine shows (its tools, its cgroup files), here laid out."""
    root = tmp_path / "cg"
    (root / "user").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "user" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    monkeypatch.setenv("SCARAB_CGROUP", str(root / "user"))
    _fake_tools(tmp_path / "running", "running")
    _fake_tools(tmp_path / "offline", "offline")
    monkeypatch.setenv("PATH", str(tmp_path / "running"))
    assert type(choose_enforcer("abc", root)) is SystemdEnforcer  # first, even with a delegated cgroup
    monkeypatch.setenv("PATH", str(tmp_path / "offline"))  # a user manager that is not running
    assert type(choose_enforcer("abc", root)) is CgroupEnforcer
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))  # no systemd tools at all
    assert type(choose_enforcer("abc", root)) is CgroupEnforcer
    (root / "user" / "cgroup.subtree_control").write_text("cpu\n")  # delegated, but not memory and pids
    fallback = choose_enforcer("abc", root)
    assert type(fallback) is Enforcer and "delegates no memory and pids controllers" in fallback.why
    monkeypatch.setattr("scarab.daemon.limits.cgroup2_root", lambda: None)
    assert choose_enforcer("abc").why == "no cgroup v2 mounted"


def test_systemd_scope_is_made_changed_and_joined_over_dbus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fake_tools(tmp_path / "bin", "running")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    enforcer = choose_enforcer("abc", tmp_path)
    assert isinstance(enforcer, SystemdEnforcer)
    enforcer.set(Limits(memory=parse_memory("2G"), cpu=50, tasks=500), [])
    assert not calls.exists() and enforcer.preexec() is None  # a scope needs a program to start with
    enforcer.set(enforcer.limits, [1234])
    enforcer.set(Limits(memory=parse_memory("1G")), [1234])
    enforcer.adopt(99)
    manager = "--user call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager"
    never = str(2**64 - 1)
    assert calls.read_text().splitlines() == [
        f"{manager} StartTransientUnit ssa(sv)a(sa(sv)) scarab-abc.scope fail 5 PIDs au 1 1234 "
        f"MemoryMax t {2 * 2**30} MemorySwapMax t 0 CPUQuotaPerSecUSec t 500000 TasksMax t 500 0",
        f"{manager} SetUnitProperties sba(sv) scarab-abc.scope true 4 "
        f"MemoryMax t {2**30} MemorySwapMax t 0 CPUQuotaPerSecUSec t {never} TasksMax t {never}",
        f"{manager} AttachProcessesToUnit ssau scarab-abc.scope  1 99",
    ]
    assert enforcer.path == tmp_path / "user.slice" / "scarab-abc.scope"  # where systemd put it
    assert enforcer.statement() == "systemd user scope scarab-abc.scope (memory 1G)"
