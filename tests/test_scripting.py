"""tmux verbs scripts use (issue 17): has-session, new -A, display -p and ls -F formats, $SCARAB and
$SCARAB_PANE in a pane with commands there defaulting to it, shell completion, kill-server."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.helpers import ScarabEnv, new_sh, pid_alive, type_line, wait_for


@pytest.mark.timeout(60)
def test_has_session_is_silent_and_answers_by_exit_status(scarab: ScarabEnv) -> None:
    new_sh(scarab, "work")
    there = scarab.run("has-session", "-t", "work")
    missing = scarab.run("has-session", "-t", "play")
    assert (there.returncode, there.stdout, there.stderr) == (0, "", "")
    assert (missing.returncode, missing.stdout, missing.stderr) == (1, "", "")
    assert scarab.run("has", "-t", scarab.session("work")["id"]).returncode == 0  # by id too


@pytest.mark.timeout(60)
def test_new_A_attaches_to_an_existing_session_instead_of_failing(scarab: ScarabEnv) -> None:
    first = scarab.ok("new", "-A", "-d", "-s", "work", "--", "sh").strip()
    again = scarab.run("new", "-A", "-d", "-s", "work", "--", "sh")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == first
    assert [s["name"] for s in scarab.sessions()] == ["work"]
    plain = scarab.run("new", "-d", "-s", "work")  # without -A a taken name is still an error
    assert plain.returncode == 1 and "duplicate session name" in plain.stderr


@pytest.mark.timeout(60)
def test_display_p_formats_a_session_and_its_live_foreground_cwd(scarab: ScarabEnv) -> None:
    new_sh(scarab, "work", "-x", "100", "-y", "30")
    sub = scarab.root / "home" / "sub dir"
    sub.mkdir()
    type_line(scarab, "work", f"cd {shlex.quote(str(sub))}")
    info = scarab.session("work")
    fmt = "#{session_name}|#{pane_pid}|#{pane_width}x#{pane_height}|#{?session_attached,yes,no}|#{pane_current_path}"
    expected = f"work|{info['child_pid']}|100x30|no|{sub}"
    wait_for(lambda: scarab.ok("display", "-p", "-t", "work", fmt).strip() == expected, what=expected)
    bad = scarab.run("display", "-p", "-t", "work", "#{sesion_name}")
    assert bad.returncode == 1 and "unknown format field #{sesion_name}" in bad.stderr
    missing = scarab.run("display", "-p", "-t", "nope", "#S")
    assert missing.returncode == 1 and "Session not found: nope" in missing.stderr


@pytest.mark.timeout(60)
def test_ls_F_takes_tmux_variables_and_scarab_fields(scarab: ScarabEnv) -> None:
    new_sh(scarab, "a")
    new_sh(scarab, "b")
    out = scarab.ok("ls", "-F", "#{session_name}:#{name}:#{?session_attached,on,off}")
    assert out.splitlines() == ["a:a:off", "b:b:off"]


@pytest.mark.timeout(60)
def test_a_pane_knows_its_session_and_commands_there_default_to_it(scarab: ScarabEnv) -> None:
    sid = new_sh(scarab, "inner")
    new_sh(scarab, "other")  # the most recent session, which a command outside would default to
    out = scarab.root / "out.txt"
    cli = f"{shlex.quote(sys.executable)} -m scarab"
    type_line(scarab, "inner",
        f'echo "$SCARAB|$SCARAB_PANE" > {out}; {cli} display -p "#S #{{session_id}}" >> {out}; '
        f"{cli} has-session && echo has >> {out}",
    )  # fmt: skip
    wait_for(lambda: out.exists() and out.read_text().count("\n") >= 3, what="the commands run in the pane")
    env_line, display_line, has_line = out.read_text().splitlines()
    socket, host_pid, session_id = env_line.split("|")[0].split(",")
    assert socket == str(scarab.paths.socket)
    assert int(host_pid) == scarab.session("inner")["host_pid"]
    assert session_id == sid
    assert env_line.split("|")[1] == scarab.ok("list-panes", "-t", "inner", "-F", "#{pane_id}").strip()
    assert display_line == f"inner ${sid}"
    assert has_line == "has"


def _complete(scarab: ScarabEnv, script: str, words: list[str]) -> list[str]:
    """What bash's completion offers for `words` (the last one being completed)."""
    line = " ".join(words)
    driver = (
        f'{script}\nscarab() {{ {shlex.quote(sys.executable)} -m scarab "$@"; }}\n'
        f"COMP_LINE={shlex.quote(line)}; COMP_POINT={len(line)}\n"
        "_scarab; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    proc = subprocess.run(["bash", "--norc", "-c", driver], env=scarab.env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return sorted(filter(None, proc.stdout.splitlines()))


@pytest.mark.timeout(60)
def test_bash_completion_offers_verbs_flags_and_live_session_names(scarab: ScarabEnv) -> None:
    new_sh(scarab, "alpha")
    new_sh(scarab, "beta")
    script = scarab.ok("completion", "bash")
    verbs = _complete(scarab, script, ["scarab", "ki"])
    assert {"kill", "kill-server", "kill-pane", "kill-window"} <= set(verbs) and all(v.startswith("ki") for v in verbs)
    assert "-A" in _complete(scarab, script, ["scarab", "new", "-"])
    assert _complete(scarab, script, ["scarab", "kill", "-t", ""]) == ["alpha", "beta"]
    assert _complete(scarab, script, ["scarab", "attach", "b"]) == ["beta"]
    assert _complete(scarab, script, ["scarab", "completion", ""]) == ["bash", "zsh"]
    zsh = scarab.ok("completion", "zsh")
    assert zsh.startswith("#compdef scarab") and "has-session" in zsh and "compdef _scarab scarab" in zsh


def _typed_completion(scarab: ScarabEnv, shell: list[str], setup: str) -> Callable[[str, int, tuple[str, ...]], str]:
    """A real interactive shell in a session, with scarab's completion loaded: `complete(typed,
    tabs, listed)` types `typed` and presses Tab `tabs` times (waiting for each of `listed` to be
    shown, when the shell lists candidates), then runs the line as `echo DONEn LINE` and returns
    what the line had become."""
    cli = f"{shlex.quote(sys.executable)} -m scarab"
    scarab.ok("new", "-d", "-s", "term", "-x", "150", "-y", "40", "--", *shell)
    type_line(scarab, "term", f"scarab() {{ {cli} \"$@\"; }}; PS1='$ '; {setup}; echo READY-$((6*7))")
    wait_for(lambda: "READY-42" in scarab.capture("term").splitlines(), 20, what="the shell with completion")
    count = iter(range(1000))

    def complete(typed: str, tabs: int = 1, listed: tuple[str, ...] = ()) -> str:
        marker = f"DONE{next(count)} "
        # Words that are no key name are typed as text (tmux's send-keys); the shell reads on in order.
        scarab.ok("send", "-t", "term", "C-l", typed, *["Tab"] * tabs)
        wait_for(lambda: all(word in scarab.capture("term") for word in listed), 20,
                 what=lambda: f"{listed} listed: {scarab.capture('term')!r}")  # fmt: skip
        scarab.ok("send", "-t", "term", "C-a", f"echo {marker}", "Enter")

        def echoed() -> str:
            lines = [line for line in scarab.capture("term").splitlines() if line.startswith(marker)]
            return lines[0][len(marker) :] if lines else ""

        return wait_for(echoed, 20, what=lambda: f"the line echoed: {scarab.capture('term')!r}")

    return complete


# How each shell is started bare, and its completion loaded (zsh: in emacs keys, whatever $EDITOR says).
SHELLS = {
    "bash": (["bash", "--norc", "--noprofile", "-i"], "source <(scarab completion bash)"),
    "zsh": (["zsh", "-f", "-i"], "bindkey -e; autoload -U compinit; compinit -u; source <(scarab completion zsh)"),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_completion_in_a_real_shell_offers_sessions_and_their_windows(scarab: ScarabEnv, shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (make test installs it)")
    new_sh(scarab, "alpha")
    scarab.ok("rename-window", "-t", "alpha:0", "code")
    scarab.ok("new-window", "-d", "-t", "alpha", "-n", "logs")
    new_sh(scarab, "beta")
    argv, setup = SHELLS[shell]
    complete = _typed_completion(scarab, argv, setup)
    assert complete("scarab select-window -t alpha:co") == "scarab select-window -t alpha:code"
    assert complete("scarab kill-window -t alpha:l") == "scarab kill-window -t alpha:logs"
    assert complete("scarab attach -t be") == "scarab attach -t beta"
    assert complete("scarab select-window -n -t alp") == "scarab select-window -n -t alpha"
    # Ambiguous: the shell lists the candidates (bash on the second Tab, zsh on the first).
    tabs = 2 if shell == "bash" else 1
    assert complete("scarab select-window -t alpha:", tabs, ("code", "logs")) == "scarab select-window -t alpha:"
    assert complete("scarab kill -t ", tabs, ("alpha", "beta", "term")) == "scarab kill -t"


@pytest.mark.timeout(60)
def test_kill_server_leaves_nothing_of_scarab_running(scarab: ScarabEnv) -> None:
    new_sh(scarab, "one")
    scarab.ok("new", "-d", "-s", "two", "--", "sh", "-c", "sleep 1000 & sleep 1000")
    wait_for(lambda: len(scarab.our_pids()) >= 6, what="daemon, zygote, hosts and programs")
    assert scarab.run("kill-server").returncode == 0
    wait_for(lambda: not [pid for pid in scarab.our_pids() if pid_alive(pid)], timeout=10,
             what=lambda: f"every process to end: {scarab.our_pids()}")  # fmt: skip
    assert not os.path.exists(scarab.paths.socket)


@pytest.mark.timeout(90)
def test_formats_name_windows_and_panes_and_a_pane_knows_its_own_id(scarab: ScarabEnv) -> None:
    new_sh(scarab, "w", "-x", "120", "-y", "40")
    scarab.ok("split-window", "-t", "w", "-h", "--", "sh")
    wait_for(lambda: len(json.loads(scarab.ok("list-panes", "-t", "w", "--json"))) == 2, what="two panes")
    rows = json.loads(scarab.ok("list-panes", "-t", "w", "--json"))
    fmt = "#{pane_index}|#{pane_id}|#{pane_width}x#{pane_height}|#{pane_left},#{pane_top}|#{?pane_active,on,off}|#S:#I"
    listed = scarab.ok("list-panes", "-t", "w", "-F", fmt).splitlines()
    assert listed == [
        f"{r['index']}|{r['id']}|{r['width']}x{r['height']}|{r['left']},{r['top']}|{'on' if r['active'] else 'off'}|w:0"
        for r in rows
    ]
    first, second = rows
    shown = scarab.ok("display", "-p", "-t", f"w:0.{first['index']}", "#{pane_id} #{pane_pid} #{window_panes}")
    assert shown.strip() == f"{first['id']} {first['pid']} 2"
    assert scarab.ok("list-windows", "-t", "w", "-F", "#{window_index}:#{window_panes}:#{window_active}") == "0:2:1\n"
    # Inside the new pane: its own id, and display without -t is about it (tmux's $TMUX_PANE).
    out = scarab.root / "pane.txt"
    cli = f"{shlex.quote(sys.executable)} -m scarab"
    scarab.ok("send", "-t", second["id"], f'echo "$SCARAB_PANE" > {out}; {cli} display -p "#{{pane_id}}" >> {out}',
              "Enter")  # fmt: skip
    wait_for(lambda: out.exists() and out.read_text().count("\n") >= 2, what="the pane's commands")
    assert out.read_text().split() == [second["id"], second["id"]]
