"""Paste buffers through the real CLI: a stack in SQLite that survives the daemon, pasted into real ptys."""

from __future__ import annotations

import json
import os
import signal
import stat

from tests.helpers import ScarabEnv, pid_alive, wait_for


def new_sh(env: ScarabEnv, name: str, *command: str) -> None:
    env.ok("new", "-d", "-s", name, "--", *(command or ("sh",)))
    if not command:
        wait_for(lambda: "$" in env.capture(name), what="the shell prompt")


def test_buffers_are_a_stack_with_tmux_names_and_errors(scarab: ScarabEnv) -> None:
    missing = scarab.run("show-buffer")
    assert missing.returncode == 1 and missing.stderr.strip() == "scarab: no buffers"
    scarab.ok("set-buffer", "first")
    scarab.ok("set-buffer", "second\nline")
    assert scarab.ok("show-buffer") == "second\nline"
    listing = scarab.ok("list-buffers").splitlines()
    assert listing == ['buffer1: 11 bytes: "second\\012line"', 'buffer0: 5 bytes: "first"']
    scarab.ok("set-buffer", "-b", "mine", "named")
    scarab.ok("set-buffer", "-b", "mine", "-a", "+more")
    assert scarab.ok("show-buffer", "-b", "mine") == "named+more"
    listed = json.loads(scarab.ok("list-buffers", "--json"))
    assert [b["name"] for b in listed] == ["mine", "buffer1", "buffer0"]
    assert listed[0]["size"] == 10 and listed[0]["sample"] == "named+more"
    scarab.ok("delete-buffer")  # the most recent
    assert scarab.ok("show-buffer") == "second\nline"
    unknown = scarab.run("delete-buffer", "-b", "nope")
    assert unknown.returncode == 1 and unknown.stderr.strip() == "scarab: no buffer nope"


def test_load_and_save_files_and_pipes(scarab: ScarabEnv) -> None:
    source = scarab.root / "in.txt"
    source.write_bytes(b"from a file\n\xe2\x9c\x93\n")
    scarab.ok("load-buffer", str(source))
    scarab.run("load-buffer", "-b", "piped", "-", input="from stdin", check=True)
    target = scarab.root / "out.txt"
    scarab.ok("save-buffer", "-b", "buffer0", str(target))
    assert target.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # screen contents
    scarab.ok("save-buffer", "-a", "-b", "piped", str(target))
    assert target.read_bytes().endswith(b"from stdin")
    assert scarab.ok("save-buffer", "-b", "piped", "-") == "from stdin"
    unreadable = scarab.run("load-buffer", str(scarab.root / "absent"))
    assert unreadable.returncode == 1 and "cannot read" in unreadable.stderr and "No such file" in unreadable.stderr
    too_big = scarab.root / "big"
    too_big.write_bytes(b"x" * 2_000_000)
    refused = scarab.run("load-buffer", str(too_big))
    assert refused.returncode == 1 and "limit" in refused.stderr
    assert scarab.ok("show-buffer") == "from stdin"  # nothing lost


def test_buffers_survive_daemon_kill9(scarab: ScarabEnv) -> None:
    scarab.ok("set-buffer", "kept across a crash")
    daemon = scarab.daemon_pid()
    assert daemon is not None
    os.kill(daemon, signal.SIGKILL)
    wait_for(lambda: not pid_alive(daemon), what="the daemon to die")
    assert scarab.ok("show-buffer") == "kept across a crash"
    assert scarab.daemon_pid() not in (None, daemon)


def test_paste_buffer_types_into_the_session(scarab: ScarabEnv) -> None:
    new_sh(scarab, "w")
    scarab.ok("set-buffer", "echo pasted-$((40+2))\n")
    scarab.ok("paste-buffer", "-t", "w", "-d")
    wait_for(lambda: "pasted-42" in scarab.capture("w").splitlines(), what="the pasted line to run")
    assert scarab.run("show-buffer").stderr.strip() == "scarab: no buffers"  # -d deleted it
    inside = scarab.run("paste-buffer", env_extra={"SCARAB": ""})
    assert inside.returncode == 1 and "use -t TARGET" in inside.stderr


def test_paste_is_bracketed_when_the_program_asked(scarab: ScarabEnv) -> None:
    new_sh(scarab, "b", "sh", "-c", r"printf 'ready\033[?2004h\n'; exec cat -v")
    wait_for(lambda: "ready" in scarab.capture("b"), what="bracketed paste to be asked for")
    scarab.ok("set-buffer", "two\nlines")
    scarab.ok("paste-buffer", "-t", "b")
    scarab.ok("send", "b", "Enter")
    wait_for(lambda: "^[[200~two" in scarab.capture("b"), what="the bracketed paste")
    assert "lines^[[201~" in scarab.capture("b")


def test_emulator_keeps_a_programs_osc52_and_never_answers_a_query() -> None:
    from scarab.daemon.emulator import Emulator

    replies: list[bytes] = []
    emu = Emulator(20, 5, on_reply=replies.append)
    emu.feed(b"\x1b]52;c;aGVsbG8gY2xpcA==\x07text")
    assert emu.clipboard == b"hello clip" and emu.screen_lines()[0].text == "text"
    emu.clipboard = None
    emu.feed(b"\x1b]52;c;?\x07\x1b]52;p;!!!\x1b\\")
    assert emu.clipboard is None and replies == []


def osc52_program(text: str) -> list[str]:
    import base64

    encoded = base64.b64encode(text.encode()).decode()
    return ["sh", "-c", f"printf '\\033]52;c;{encoded}\\007'; echo after-the-copy; exec cat"]


def test_a_programs_osc52_is_ignored_by_default(scarab: ScarabEnv) -> None:
    scarab.ok("new", "-d", "-s", "p", "--", *osc52_program("not for the clipboard"))
    wait_for(lambda: "after-the-copy" in scarab.capture("p"), what="the program's output")
    assert scarab.run("show-buffer").stderr.strip() == "scarab: no buffers"


def test_a_programs_osc52_sets_a_buffer_when_enabled(scarab: ScarabEnv) -> None:
    scarab.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    scarab.paths.config_file.write_text("program_clipboard = true\n")
    scarab.ok("new", "-d", "-s", "p", "--", *osc52_program("copied by a program"))
    wait_for(lambda: scarab.run("show-buffer").stdout == "copied by a program", what="the program's copy")
