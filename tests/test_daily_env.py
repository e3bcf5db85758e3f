"""Several clients and the session environment (issue 12): real daemon, hosts, clients and ssh-agent."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.paths import Paths
from tests.helpers import ScarabEnv, status_shows, wait_for
from tests.pilot import run
from tests.realterm import Tmux, tmux  # noqa: F401  (fixture)


def test_new_session_gets_the_creating_clients_agent_and_display(scarab: ScarabEnv) -> None:
    scarab.ok("daemon", "start")  # started from an "old login": no agent, another display
    env = dict(scarab.env, SSH_AUTH_SOCK="/tmp/new-login/agent.1", DISPLAY=":7")
    env.pop("WAYLAND_DISPLAY", None)
    subprocess.run(
        [sys.executable, "-m", "scarab", "new", "-d", "-s", "w", "--", "sh"], env=env, check=True,
        capture_output=True, cwd=scarab.root,
    )  # fmt: skip
    scarab.ok("send", "w", 'echo "sock=$SSH_AUTH_SOCK display=$DISPLAY wl=${WAYLAND_DISPLAY-unset}"', "Enter")
    wait_for(lambda: "sock=/tmp/new-login/agent.1 display=:7 wl=unset" in scarab.capture("w"), what="the env")
    shown = scarab.ok("show-environment", "-t", "w").splitlines()
    assert "SSH_AUTH_SOCK=/tmp/new-login/agent.1" in shown and "DISPLAY=:7" in shown and "-WAYLAND_DISPLAY" in shown


def test_attach_refreshes_the_environment_for_programs_started_later(in_env: ScarabEnv) -> None:
    scarab = in_env
    scarab.ok("new", "-d", "-s", "w", "--", "sh", "-c", 'echo "sock=$SSH_AUTH_SOCK"; exit 0')
    wait_for(lambda: scarab.session("w")["state"] == "exited")

    # An exited session cannot be attached, but set-environment and respawn work on it.
    scarab.ok("set-environment", "-t", "w", "SSH_AUTH_SOCK", "/tmp/login-2/agent")
    scarab.ok("set-environment", "-t", "w", "FOO", "bar")
    scarab.ok("set-environment", "-t", "w", "-r", "HOME_AWAY")
    shown = scarab.ok("show-environment", "-t", "w").splitlines()
    assert shown == sorted(shown, key=lambda e: e.lstrip("-"))
    assert {"FOO=bar", "-HOME_AWAY", "SSH_AUTH_SOCK=/tmp/login-2/agent"} <= set(shown)
    scarab.ok("set-environment", "-t", "w", "-u", "FOO")
    scarab.ok("respawn", "w")
    wait_for(lambda: "sock=/tmp/login-2/agent" in scarab.capture("w"), what="the respawned program's env")
    scarab.ok("kill", "w")
    # A running session: an attach brings the attaching client's values.
    scarab.ok("new", "-d", "-s", "r", "--", "sh")
    run(attach_from_a_new_login_r)
    assert "SSH_AUTH_SOCK=/tmp/login-3/agent" in scarab.ok("show-environment", "-t", "r").splitlines()
    bad = scarab.run("set-environment", "-t", "r", "A=B", "x")
    assert bad.returncode == 1 and "bad environment variable name" in bad.stderr


async def attach_from_a_new_login_r() -> None:
    client = await Client.connect(Paths.default())
    try:
        await client.request(p.SessionAttach(target="r", environ=["SSH_AUTH_SOCK=/tmp/login-3/agent"]))
    finally:
        await client.close()


@pytest.mark.skipif(shutil.which("ssh-agent") is None, reason="ssh-agent is not installed")
def test_agent_forwarding_works_in_a_session_created_from_a_new_login(scarab: ScarabEnv) -> None:
    scarab.ok("daemon", "start")  # the daemon's environment has no agent at all
    agent_sock = str(scarab.root / "agent.sock")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", agent_sock], stdout=subprocess.DEVNULL, env=scarab.env)
    try:
        wait_for(lambda: os.path.exists(agent_sock), what="ssh-agent to listen")
        scarab.run("new", "-d", "-s", "ssh", "--", "sh", check=True, env_extra={"SSH_AUTH_SOCK": agent_sock})
        scarab.ok("send", "ssh", "ssh-add -l; echo agent-status=$?", "Enter")
        # 1: the agent answered and holds no keys; 2 would mean no agent could be reached.
        wait_for(lambda: "agent-status=1" in scarab.capture("ssh"), what="ssh-add to reach the agent")
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(10)


def test_window_size_follows_the_client_that_types(in_env: ScarabEnv) -> None:
    scarab = in_env
    scarab.ok("new", "-d", "-s", "w", "--", "sh")

    async def scenario() -> None:
        small = await Client.connect(Paths.default())
        big = await Client.connect(Paths.default())
        try:
            await small.request(p.SessionAttach(target="w", cols=70, rows=20))
            await big.request(p.SessionAttach(target="w", cols=120, rows=40))
            assert scarab.session("w")["cols"] == 120  # the last to attach
            small.send(p.Input(target="w", data=b"echo typed-small\r"))
            await asyncio.to_thread(
                wait_for, lambda: (scarab.session("w")["cols"], scarab.session("w")["rows"]) == (70, 20)
            )
            big.send(p.Input(target="w", data=b"stty size\r"))
            await asyncio.to_thread(wait_for, lambda: "40 120" in scarab.capture("w"), what="the big client's size")
        finally:
            await small.close()
            await big.close()

    run(scenario)


def test_smaller_view_pans_to_the_cursor_and_larger_shows_dots(in_env: ScarabEnv, tmux: Tmux) -> None:  # noqa: F811
    scarab = in_env
    scarab.ok("new", "-d", "-s", "pan", "--", "sh")
    tmux.type(f"cd {scarab.root} && {sys.executable} -m scarab attach pan", "Enter")
    wait_for(lambda: status_shows(tmux.screen(), "pan"), what="the app")  # view: 100x29

    async def other_client_types(cols: int, rows: int, line: bytes, check: Callable[[], bool]) -> None:
        client = await Client.connect(Paths.default())
        try:
            await client.request(p.SessionAttach(target="pan", cols=cols, rows=rows))
            await client.request(p.Input(target="pan", data=line, ack=True))
            await asyncio.to_thread(
                wait_for, lambda: (scarab.session("pan")["cols"], scarab.session("pan")["rows"]) == (cols, rows)
            )
            await asyncio.to_thread(wait_for, check, 10.0)
        finally:
            await client.close()

    # A larger client types: the session grows to 120x50 and this view follows the prompt.
    def prompt_in_sight() -> bool:
        lines = tmux.screen().splitlines()
        return any(line.startswith("big-") for line in lines) and any(line.startswith("$") for line in lines[-5:])

    run(lambda: other_client_types(120, 50, b"clear; seq 1 45 | sed s/^/big-/\r", prompt_in_sight))
    wait_for(lambda: "big-45" in tmux.screen(), what="the panned view to show the newest output")

    # A smaller client types: the session is 60x10 and the rest of this view is dotted, as in tmux.
    def dotted() -> bool:
        lines = tmux.screen().splitlines()
        return len(lines) > 12 and lines[3][60:61] == "│" and lines[10].startswith("─" * 60 + "┘") and "·" in lines[12]

    run(lambda: other_client_types(60, 10, b"clear; echo small\r", dotted))
