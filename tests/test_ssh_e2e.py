"""End to end over a real OpenSSH server started by the test on 127.0.0.1 (throwaway keys).

Both remote modes: `scarab ls/attach --ssh` (local client, remote daemon through `scarab proxy`) and
`ssh -t host scarab` (the TUI itself runs remotely) in a 16-colour terminal. Skipped only when
sshd is not installed (`make test` installs openssh-server).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from scarab.client import Client
from scarab.remote import SshTarget
from tests.helpers import ScarabEnv, status_shows, until, wait_for

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
pytestmark = pytest.mark.skipif(SSHD is None or shutil.which("ssh") is None, reason="OpenSSH is not installed")


@dataclass
class Sshd:
    port: int
    ssh: str  # the ssh command line, with the throwaway key and options
    remote_scarab: str  # how the remote side starts scarab, inside the test's isolated dirs

    @property
    def target(self) -> str:
        return f"{getpass.getuser()}@127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sshd(scarab: ScarabEnv) -> Iterator[Sshd]:
    d = scarab.root / "ssh"
    d.mkdir(mode=0o700)
    for name in ("hostkey", "userkey"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    (d / "authorized_keys").write_text((d / "userkey.pub").read_text())
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'hostkey'}\nPidFile {d / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
        "LogLevel ERROR\n"
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    assert SSHD is not None
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE)

    def listening() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
        return proc.poll() is not None  # stop waiting if sshd died (reported below)

    try:
        wait_for(listening, what="sshd to listen")
        if proc.poll() is not None:
            pytest.skip(f"sshd could not start here: {proc.stderr.read().decode() if proc.stderr else ''}")
        ssh = (
            f"ssh -i {d / 'userkey'} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            "-o LogLevel=ERROR -o BatchMode=yes"
        )
        # sshd gives the remote command a fresh login environment: point it at this test's dirs.
        keep = ("XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "SHELL", "SCARAB_SNAPSHOT_INTERVAL", "PS1")
        env = " ".join(f"{k}={shlex.quote(scarab.env[k])}" for k in keep)
        remote = f"env {env} HOME={shlex.quote(scarab.env['HOME'])} {sys.executable} -m scarab"
        yield Sshd(port, ssh, remote)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_ls_and_attach_over_real_ssh(scarab: ScarabEnv, sshd: Sshd, monkeypatch: pytest.MonkeyPatch) -> None:
    scarab.env.update(SCARAB_SSH=sshd.ssh, SCARAB_REMOTE_COMMAND=sshd.remote_scarab)
    assert scarab.ok("ls", "--ssh", sshd.target).strip() == "no sessions"  # remote daemon auto-started
    scarab.ok("new", "-d", "-s", "far", "--", "sh")
    assert "far" in scarab.ok("ls", "--ssh", sshd.target)

    from scarab.tui.app import ScarabApp

    for key in ("XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME", "SCARAB_SSH", "SCARAB_REMOTE_COMMAND"):
        monkeypatch.setenv(key, scarab.env[key])
    target = SshTarget.parse(sshd.target)

    async def scenario() -> None:
        app = ScarabApp("far", connect=lambda: Client.connect_ssh(target), remote=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(
                lambda: app.attached.is_set() and "$" in "\n".join(app.view.text()), 30, what="a prompt over ssh"
            )
            await pilot.press(*"echo via-sshd", "enter")
            await until(lambda: "via-sshd" in app.view.text(), 30, what=lambda: f"the echo in {app.view.text()}")
            # Windows and panes over ssh: the Layout and each pane's frames come through the link.
            await pilot.press("ctrl+b", "percent_sign")
            await until(lambda: len(app.view.scene.panes) == 2, 30, what="the split over ssh")
            left, right = app.view.scene.order
            await pilot.press(*"echo right''pane", "enter")
            await until(lambda: "rightpane" in app.view.pane_text(right), 30, what="the echo in the new pane")
            assert "rightpane" not in app.view.pane_text(left)
            await pilot.press("ctrl+b", "c")
            await until(lambda: "0:sh- 1:sh*" in app.status.render().plain, 30, what="a second window over ssh")
            await pilot.press("ctrl+b", "d")

    asyncio.run(asyncio.wait_for(scenario(), 90))
    assert "via-sshd" in scarab.capture("far:0.0")  # the first pane (window 1 is current now)


def test_tui_runs_remotely_in_a_16_colour_terminal(scarab: ScarabEnv, sshd: Sshd) -> None:
    """`ssh -t host scarab`: the TUI runs on the remote side, here in TERM=xterm (16 colours)."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    sock = str(scarab.root / "tmux.sock")

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-S", sock, "-f", "/dev/null", *args], env=scarab.env, capture_output=True,
                              text=True, timeout=10, check=True).stdout  # fmt: skip

    command = f"{sshd.ssh} -t -p {sshd.port} {getpass.getuser()}@127.0.0.1 {shlex.quote(sshd.remote_scarab)}"
    tmux("new-session", "-d", "-x", "90", "-y", "25", f"env TERM=xterm {command}; sleep 60")
    server = int(tmux("display-message", "-p", "#{pid}").strip())
    try:
        wait_for(lambda: status_shows(tmux("capture-pane", "-p"), "main"), timeout=30, what="the remote TUI")
        tmux("send-keys", "echo remote-tui", "Enter")
        wait_for(lambda: "remote-tui" in tmux("capture-pane", "-p").splitlines(), what="echo in the remote TUI")
        tmux("send-keys", "C-b", "d")
        wait_for(lambda: "[detached (from session main)]" in tmux("capture-pane", "-p"), what="detach")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(server, signal.SIGKILL)
    assert "remote-tui" in scarab.capture("main")
