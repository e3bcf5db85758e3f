"""`scarab kill-server`, tmux's command to end everything: every session's programs and the daemon."""

from __future__ import annotations

import pytest

from tests.helpers import ScarabEnv, new_sh, pid_alive, wait_for


@pytest.mark.timeout(60)
def test_kill_server_ends_every_session_and_the_daemon(scarab: ScarabEnv) -> None:
    new_sh(scarab, "one")
    new_sh(scarab, "two")
    pids = [pid for s in scarab.sessions() for pid in (s["host_pid"], s["child_pid"])]
    daemon = scarab.daemon_pid()
    assert daemon and all(pid_alive(pid) for pid in pids)

    done = scarab.run("kill-server")

    assert done.returncode == 0, done.stderr
    assert not pid_alive(daemon)
    wait_for(lambda: not any(pid_alive(pid) for pid in pids), timeout=5, what="hosts and shells to end")
    assert scarab.ok("ls").strip() == "no sessions"  # a new daemon finds nothing to bring back
