"""`scarab grep` across sessions (live hosts, a resurrected one, an exited one's snapshot), and the
pure search rules it shares with copy mode."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest

from scarab.errors import BadRequest
from scarab.search import _engine, compile_pattern, literal_text, search_lines, smartcase
from tests.helpers import ScarabEnv, pid_alive, wait_for


def test_search_lines_one_hit_per_line_and_never_across_lines() -> None:
    lines = ["alpha beta", "gamma", "beta beta", "", "delta"]
    hits, truncated = search_lines(compile_pattern("beta"), lines, 100, 10)
    assert hits == [(100, "alpha beta", 6, 10), (102, "beta beta", 0, 4)] and not truncated
    # `\s` would match the line break of the joined text: hits are those of a per-line search.
    assert search_lines(compile_pattern(r"a\sg"), lines, 0, 10) == ([], False)
    ends = [(0, "alpha beta", 9, 10), (1, "gamma", 4, 5), (2, "beta beta", 8, 9), (4, "delta", 4, 5)]
    assert search_lines(compile_pattern(r"a\s*$"), lines, 0, 10)[0] == ends
    assert search_lines(compile_pattern("^d"), lines, 0, 10)[0] == [(4, "delta", 0, 1)]
    assert search_lines(compile_pattern("a"), lines, 0, 2) == ([(0, "alpha beta", 0, 1), (1, "gamma", 1, 2)], True)


def test_smartcase_and_pattern_errors() -> None:
    assert smartcase("error") and not smartcase("Error") and smartcase(r"\S+\W")
    assert compile_pattern("error").search("An ERROR here")
    assert not compile_pattern("Error").search("An ERROR here")
    assert compile_pattern("a.c", regex=False).search("a.c") and not compile_pattern("a.c", regex=False).search("abc")
    # Plain text has no escapes: `\W` there is a backslash and a capital W, so the case counts.
    assert not smartcase(r"a\W", regex=False) and smartcase(r"a\w", regex=False)
    assert compile_pattern(r"a\W", regex=False).search(r"x a\W") and not compile_pattern(r"a\W", regex=False).search(
        r"a\w"
    )
    assert compile_pattern(r"a\w", regex=False).search(r"A\W")
    with pytest.raises(BadRequest, match=r"'\(oops' is not a valid regular expression \(missing \)"):
        compile_pattern("(oops")
    with pytest.raises(BadRequest, match="empty search pattern"):
        compile_pattern("")


def new_sh(env: ScarabEnv, name: str) -> str:
    sid = env.ok("new", "-d", "-s", name, "--", "sh").strip()
    wait_for(lambda: "$" in env.capture(name), what="the shell prompt")
    return sid


def say(env: ScarabEnv, name: str, text: str) -> None:
    env.ok("send", name, f"echo {text} | tr _ -", "Enter")  # the echoed command line is not the output
    wait_for(lambda: text.replace("_", "-") in env.capture(name, "--scrollback"), what=f"{text} in {name}")


def test_grep_across_live_restored_and_exited_sessions(scarab: ScarabEnv) -> None:
    new_sh(scarab, "live")
    say(scarab, "live", "Needle_live")
    scarab.ok("send", "live", "seq 1 300", "Enter")  # the hit scrolls into history
    wait_for(lambda: "300" in scarab.capture("live"))
    restored = new_sh(scarab, "restored")
    say(scarab, "restored", "needle_restored")
    wait_for(lambda: "needle-restored" in scarab.snapshot_text(restored), what="the snapshot")
    old = scarab.session("restored")
    os.kill(old["host_pid"], signal.SIGKILL)
    wait_for(lambda: scarab.session("restored")["host_pid"] not in (0, old["host_pid"]), what="resurrection")
    wait_for(lambda: scarab.session("restored")["state"] == "running")
    new_sh(scarab, "exited")
    say(scarab, "exited", "NEEDLE_exited")
    scarab.ok("send", "exited", "exit", "Enter")
    wait_for(lambda: scarab.session("exited")["state"] == "exited", what="the shell to exit")

    out = scarab.run("grep", "needle-")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["live", "restored", "exited"]
    assert lines[0].startswith("live:0.0:") and lines[0].endswith(":Needle-live")
    assert lines[2].endswith(":NEEDLE-exited")
    # A capital makes the search case-sensitive (smartcase).
    assert scarab.ok("grep", "Needle-").splitlines() == lines[:1]
    found = json.loads(scarab.ok("grep", "--json", "-t", "exited", "needle-"))
    (hit,) = found["hits"]
    assert hit["saved"] and hit["line"][hit["start"] : hit["end"]] == "NEEDLE-"
    row = json.loads(scarab.ok("grep", "--json", "-t", "live", "needle-"))["hits"][0]["row"]
    assert row < 300  # a history row's stable index: the line is in the scrollback now
    assert scarab.run("grep", "-F", "needle-l.ve").stdout == ""
    nothing = scarab.run("grep", "no such text anywhere")
    assert nothing.returncode == 1 and nothing.stdout == ""


def test_a_hit_names_its_pane_by_index_as_a_target_takes_it(scarab: ScarabEnv) -> None:
    """`session:window.pane` is the pane's index in its window (it was the pane's id: %2 printed as
    w:1.2, a target naming no pane)."""
    new_sh(scarab, "w")
    scarab.ok("new-window", "-t", "w", "--", "sh")
    scarab.ok("split-window", "-t", "w:1", "--", "sh")  # %2: index 1 of window 1
    wait_for(lambda: "$" in scarab.capture("w:1.1"), what="the split pane's prompt")
    say(scarab, "w:1.1", "needle_split")
    (line,) = scarab.ok("grep", "needle-split").splitlines()
    where = line.rsplit(":", 2)[0]
    assert where == "w:1.1", line
    assert "needle-split" in scarab.ok("capture", "-t", where)
    assert json.loads(scarab.ok("grep", "--json", "needle-split"))["hits"][0]["pane_index"] == 1


def test_grep_bad_pattern_is_a_clear_error(scarab: ScarabEnv) -> None:
    new_sh(scarab, "w")
    bad = scarab.run("grep", "[unclosed")
    assert bad.returncode == 2  # grep's status for an error (1: nothing matched)
    assert bad.stderr.startswith("scarab: '[unclosed' is not a valid regular expression (unterminated character set")
    assert "--fixed" in bad.stderr
    assert scarab.session("w")["state"] == "running" and pid_alive(scarab.session("w")["host_pid"])
    assert scarab.run("grep", "-F", "[unclosed").returncode == 1  # searched as text: no hit, no error


def per_line(
    rx: re.Pattern[str], lines: list[str], limit: int, first: int = 0
) -> tuple[list[tuple[int, str, int, int]], bool]:
    """The reference: one regex search per line."""
    hits = []
    for i, line in enumerate(lines, start=first):
        if (m := rx.search(line)) is not None:
            if len(hits) == limit:
                return hits, True
            hits.append((i, line, m.start(), m.end()))
    return hits, False


@pytest.mark.parametrize(
    ("pattern", "regex"),
    [("beta", True), ("Beta", True), ("a-b", True), ("x.y", False), ("(a", False), (r"\d+", True), ("é", True),
     ("İ", True), ("ss", True), (r"\.", True), ("a b", True)],
)  # fmt: skip
def test_plain_text_fast_path_finds_what_a_per_line_regex_finds(pattern: str, regex: bool) -> None:
    lines = ["alpha beta", "BETA gamma", "a-b x.y (a", "x-y 123 é", "İstanbul ISTANBUL", "Straße STRASSE", "", "a b."]
    lines = lines * 3
    rx = compile_pattern(pattern, regex)
    for limit in (2, 100):
        assert search_lines(rx, lines, 0, limit) == per_line(rx, lines, limit)


LEADING_REPEATS = [r"[0-9]{4}\+", r"\d+", r"\d+?x", r"a+b", r"a{2}", r"a{1,}b", r"a{2,3}", r"a{2,3}?", r"a++b",
                   r"a{1,2}+a", r"[^\]a-]+-", r"\.+", r"\w{3,}\b", r"a+|b", r"x+(y)\1", r" +$", r"A{2}",
                   r"[a-c]{2}x"]  # fmt: skip


@pytest.mark.parametrize("pattern", LEADING_REPEATS)
def test_a_leading_repeat_is_searched_faster_with_the_same_hits(pattern: str) -> None:
    lines = ["1234+ab 12345+", "aab aaab a", "x1x 22x .. ...", "b-a]]- foo  ", "xyy xyyy", "AAA aa", "abcx cbax"]
    lines = lines * 3
    rx = compile_pattern(pattern)
    assert _engine(rx).rx.pattern != rx.pattern  # written with the repeated character first
    for limit in (2, 100):
        assert search_lines(rx, lines, 7, limit) == per_line(rx, lines, limit, 7)
    assert _engine(compile_pattern(r"[0-9]{4}\+")).rx.pattern == r"[0-9][0-9]{3}\+"
    for unchanged in ("(a+)b", "a{0,2}", "a*b", ".+x"):
        assert _engine(compile_pattern(unchanged)).rx.pattern == unchanged


LOWERED = ["error|warn", "err(or)?", "[a-z]+ing", r"\w+ed\b", "fo+b", "[^a-m]x", r"\bthe\b", "x{2}", r"[a-c]-[x-z]"]


@pytest.mark.parametrize("pattern", [*LOWERED, "[0-z]x", r"\x41b", "(?-i:a)b", r"[\]-a]x", r"(ab)\1"])
def test_a_pattern_ignoring_case_finds_what_a_per_line_regex_finds(pattern: str) -> None:
    lines = ["An ERROR here", "warned THE Walls", "Fooob FOOB", "ABAB abab", "xx XX Xx", "A-Z c-Y", "the_end Nx zx"]
    rx = compile_pattern(pattern)
    assert rx.flags & re.IGNORECASE
    assert (_engine(rx).lowered is not None) == (pattern in LOWERED)  # run over the text lower-cased
    for text in (lines * 2, [*lines, "naïve Straße"]):  # only ASCII text is lower-cased
        for limit in (2, 100):
            assert search_lines(rx, text, 0, limit) == per_line(rx, text, limit)


def test_a_row_holding_a_line_break_is_searched_as_one_row() -> None:
    # Only a damaged saved page can hold one; its row stays one row and no hit is lost.
    lines = ["one\ntwo", "three", "two"]
    assert search_lines(compile_pattern("t[wh]"), lines, 0, 10)[0] == [
        (0, "one\ntwo", 4, 6), (1, "three", 0, 2), (2, "two", 0, 2)]  # fmt: skip
    assert search_lines(compile_pattern("two"), lines, 0, 10)[0] == [(0, "one\ntwo", 4, 7), (2, "two", 0, 3)]


def test_literal_text() -> None:
    assert literal_text(re.escape("a-b.c (d)")) == "a-b.c (d)"
    assert literal_text("plain words") == "plain words"
    assert literal_text(r"a\d") is None and literal_text("a.c") is None and literal_text("x*") is None


def test_a_runaway_pattern_is_stopped_and_the_sessions_carry_on(scarab: ScarabEnv) -> None:
    # `(a+)+$` backtracks 2^34 ways on each of these lines: years, unless stopped.
    lines = "printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\\n%.0s' 1 2 3"
    scarab.ok("new", "-d", "-s", "live", "--", "sh", "-c", f"{lines}; exec cat")
    for down in ("down", "down2"):
        scarab.ok("new", "-d", "-s", down, "--", "sh", "-c", f"{lines}; read x")
    wait_for(lambda: all("a!" in scarab.capture(name) for name in ("live", "down", "down2")))
    for down in ("down", "down2"):
        scarab.ok("send", down, "Enter")
        wait_for(lambda down=down: scarab.session(down)["state"] == "exited", what="the program to exit")
    started = time.monotonic()
    out = scarab.run("grep", "(a+)+$")
    assert time.monotonic() - started < 15
    assert out.returncode == 1 and out.stdout == ""
    for name in ("live", "down"):
        assert f"not searched: {name}: the search took over 2 s and was stopped" in out.stderr
    # The saved screens are searched on the daemon's loop: they share one 2 s, not 2 s each.
    assert "not searched: down2: the saved screens searched before it used up the time" in out.stderr
    scarab.ok("send", "live", "still here", "Enter")  # the host answers again at once
    wait_for(lambda: "still here" in scarab.capture("live"), what="the live session to carry on")
    assert scarab.ok("grep", "-F", "a!").count("a!") == 9
