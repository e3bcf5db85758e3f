"""Search layer (pure): the pattern rules `scarab grep` and copy mode share, and the search of rows.

Used by the session host (its live panes), the daemon (the saved snapshots of sessions that are
down) and copy mode (the matches on the rows in sight), so all of them answer the same way. A pane's
rows are searched as one string: Python's regex engine over ~10,000 joined lines is many times
faster than 10,000 separate searches (each call has a fixed cost), which is what keeps 50 sessions
x 10,000 lines within the 300 ms budget. A pattern that starts with a repeated character (`\\d+`,
`[0-9]{4}`) or ignores case is run in a form with the same matches that lets the engine skip to
where a match may start (`_engine`).
"""

from __future__ import annotations

import contextlib
import functools
import re
import signal
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import NamedTuple

from scarab.errors import BadRequest

__all__ = ["SEARCH_LIMIT", "Hit", "compile_pattern", "literal_text", "search_lines", "smartcase", "time_limit"]

# Seconds one process may spend on one search. Ordinary ones take milliseconds; a pattern that
# backtracks (nested repeats like `(a+)+$`) could take years and would freeze a session host.
SEARCH_LIMIT = 2.0

# (row, line, start, end): the row's index, its text, the first match's span in it.
Hit = tuple[int, str, int, int]
_ESCAPE = re.compile(r"\\.")
_OPERATORS = frozenset(".^$*+?{}[]|()")


def smartcase(pattern: str, regex: bool = True) -> bool:
    """Ignore case unless the pattern has a capital letter (less's and vim's smartcase). In a
    regular expression a letter after a backslash is an escape (`\\S`, `\\W`), not a capital; in
    plain text (`regex` False) it is the letter itself."""
    return not any(c.isupper() for c in _letters(pattern, regex))


def _letters(pattern: str, regex: bool) -> str:
    """The pattern without its escapes if it is a regular expression."""
    return _ESCAPE.sub("", pattern) if regex else pattern


def compile_pattern(pattern: str, regex: bool = True, ignore_case: bool | None = None) -> re.Pattern[str]:
    """The pattern compiled as grep and copy mode use it (its flags say whether the case is
    ignored); BadRequest with the regex module's reason."""
    if not pattern:
        raise BadRequest("empty search pattern: give the text or regular expression to look for")
    if ignore_case is None:
        ignore_case = smartcase(pattern, regex)
    if not any(c.isalpha() for c in _letters(pattern, regex)):
        ignore_case = False  # nothing to fold (digits, punctuation): the engine is ~10x faster without
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    try:
        return re.compile(pattern if regex else re.escape(pattern), flags)
    except re.error as exc:
        raise BadRequest(
            f"{pattern!r} is not a valid regular expression ({exc}); use --fixed to search for it as plain text"
        ) from None
    except (OverflowError, RecursionError) as exc:  # a pattern nested or repeated past the engine's limits
        raise BadRequest(f"{pattern!r} is too complex a regular expression ({exc})") from None


def literal_text(pattern: str) -> str | None:
    """The text a regex matches if it is a plain string (letters, and punctuation escaped as
    re.escape does); None if it has any operator or escape sequence."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1].isalnum():
                return None
            out.append(pattern[i + 1])
            i += 2
            continue
        if c in _OPERATORS:
            return None
        out.append(c)
        i += 1
    return "".join(out)


def search_lines(rx: re.Pattern[str], lines: Sequence[str], first_row: int, limit: int) -> tuple[list[Hit], bool]:
    """The rows of `lines` (numbered from `first_row`) where `rx` matches, one hit per row with its
    first match; and whether more than `limit` rows matched. A match found across a line break in
    the joined text is checked again on its own line, so hits are exactly those of a per-line search.

    Plain text (most searches) is found with str.find, on lower-cased text when the case is
    ignored: Python's regex engine ignoring case is ~10x slower than without."""
    try:
        return _search(rx, lines, first_row, limit)
    except _BrokenRow:
        # A row holding a line break (only a damaged saved page can): searched with a space there.
        clean = [line.replace("\n", " ") for line in lines]
        hits, more = _search(rx, clean, first_row, limit)
        return [(row, lines[row - first_row], start, end) for row, _line, start, end in hits], more


def _search(rx: re.Pattern[str], lines: Sequence[str], first_row: int, limit: int) -> tuple[list[Hit], bool]:
    text = "\n".join(lines)
    literal = literal_text(rx.pattern)
    if literal and "\n" not in literal:
        hay, needle = text, literal
        if rx.flags & re.IGNORECASE:
            hay, needle = text.lower(), literal.lower()
        if len(hay) == len(text) and len(needle) == len(literal):  # lower() kept every offset
            return _find_lines(hay, needle, lines, first_row, limit)
    engine = _engine(rx)
    hay, search = text, engine.rx.search
    if engine.lowered is not None and text.isascii():
        hay, search = text.lower(), engine.lowered.search
    hits: list[Hit] = []
    rows = _Rows(hay, lines)
    pos = 0
    end_of_text = len(text)
    while pos <= end_of_text:
        match = search(hay, pos)
        if match is None:
            break
        i, line_start = rows.at(match.start())
        line = lines[i]
        span: tuple[int, int] | None
        if match.end() <= line_start + len(line):
            span = (match.start() - line_start, match.end() - line_start)
        else:
            again = rx.search(line)
            span = (again.start(), again.end()) if again is not None else None
        if span is not None:
            if len(hits) == limit:
                return hits, True
            hits.append((first_row + i, line, span[0], span[1]))
        pos = line_start + len(line) + 1
    return hits, False


def _find_lines(hay: str, needle: str, lines: Sequence[str], first_row: int, limit: int) -> tuple[list[Hit], bool]:
    hits: list[Hit] = []
    rows = _Rows(hay, lines)
    pos = hay.find(needle)
    while pos >= 0:
        i, line_start = rows.at(pos)
        if len(hits) == limit:
            return hits, True
        column = pos - line_start
        hits.append((first_row + i, lines[i], column, column + len(needle)))
        pos = hay.find(needle, line_start + len(lines[i]) + 1)
    return hits, False


class _BrokenRow(Exception):
    """A row holds a line break: the joined text has more lines than the rows."""


class _Rows:
    """Which row of the joined text a position is in, for positions asked in increasing order:
    the line breaks are counted from the last position asked (at C speed, and none before the
    first match), not listed for every row first."""

    def __init__(self, text: str, lines: Sequence[str]) -> None:
        self.text = text
        self.lines = lines
        self.row = 0
        self.counted = 0  # the line breaks in text[:counted] are counted in `row`

    def at(self, pos: int) -> tuple[int, int]:
        """The row `pos` is in and where that row starts in the text."""
        text = self.text
        self.row += text.count("\n", self.counted, pos)
        self.counted = pos
        start = text.rfind("\n", 0, pos) + 1
        if self.row >= len(self.lines):
            raise _BrokenRow
        end = start + len(self.lines[self.row])
        if text.find("\n", start, end) >= 0 or end > len(text) or (end < len(text) and text[end] != "\n"):
            raise _BrokenRow
        return self.row, start


# A pattern that starts with one character (a literal, an escaped one, a class, `\d`-like) repeated
# at least once, and how often: `+`, `{m}`, `{m,}` or `{m,n}`, then maybe lazy or possessive.
_LEADING_REPEAT = re.compile(
    r"""(?P<atom> \\[dDsSwW] | \\[^0-9A-Za-z] | \[\^?(?:[^\\\[\]]|\\.)+\] | [^\\.^$*+?{}\[\]|()] )
        (?: (?P<plus>\+) | \{ (?P<low>[1-9][0-9]*) (?:(?P<comma>,)(?P<high>[0-9]*))? \} )
        (?P<mode>[?+]?)""",
    re.VERBOSE,
)


class _Engine(NamedTuple):
    """How a pattern is run over a long text: `rx` finds exactly the pattern's matches in any
    text; `lowered`, if not None, finds them in ASCII text turned lower-case."""

    rx: re.Pattern[str]
    lowered: re.Pattern[str] | None


@functools.lru_cache(maxsize=32)
def _engine(rx: re.Pattern[str]) -> _Engine:
    """Patterns with exactly `rx`'s matches that the regex engine runs faster over a long text.

    The engine skips ahead to a possible first character only when a pattern starts with a literal
    or a character set, and the case is not ignored; otherwise it tries a match at every position.
    So a leading repeat is written as the repeated character once, then repeated one time fewer
    (`[0-9]{4}\\+` as `[0-9][0-9]{3}\\+`: the same pattern to the engine's backtracking, searched
    in ~60% of the time), and a pattern whose case is ignored is run case-sensitive over the text
    lower-cased where that finds the same matches (`error|warn` in ~a third of the time,
    `[a-z]+ing` in a fifth)."""
    pattern = _leading_once(rx.pattern)
    fast = _same_groups(pattern, rx.flags, rx) or rx
    lowered = None
    if rx.flags & re.IGNORECASE and _lowering_keeps_matches(rx.pattern):
        lowered = _same_groups(pattern, rx.flags & ~re.IGNORECASE, rx)
    return _Engine(fast, lowered)


def _leading_once(pattern: str) -> str:
    """A leading repeat of one character written as that character, then one repeat fewer."""
    m = _LEADING_REPEAT.match(pattern)
    if m is None:
        return pattern
    if m["plus"]:
        fewer = "*"
    elif m["comma"] is None:
        fewer = f"{{{int(m['low']) - 1}}}"
    else:
        high = m["high"] and str(int(m["high"]) - 1)
        fewer = f"{{{int(m['low']) - 1},{high}}}"
    return m["atom"] + m["atom"] + fewer + m["mode"] + pattern[m.end() :]


def _same_groups(pattern: str, flags: int, rx: re.Pattern[str]) -> re.Pattern[str] | None:
    try:
        compiled = re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return None
    return compiled if compiled.groups == rx.groups else None


# A character named by its code (`\x41`, `\u0041`, `\N{...}`, octal) or a group by number.
_CODED = re.compile(r"\\[0-9xuUN]")
# An inline flag (`(?i)`, `(?-i:...)`): the case may count in part of the pattern.
_INLINE_FLAGS = re.compile(r"\(\?[-aiLmsux]")


def _lowering_keeps_matches(pattern: str) -> bool:
    """Whether `pattern` with its case kept finds in ASCII text lower-cased what it finds with the
    case ignored in the text itself. Python ignores the case of ASCII text by ASCII letters only,
    so it does when the pattern is ASCII, names each letter in lower case (no capital, none by
    its code), has no inline flags, and no range that holds capitals (`[!-~]`, `[0-z]`)."""
    if not pattern.isascii() or not smartcase(pattern) or _CODED.search(pattern) or _INLINE_FLAGS.search(pattern):
        return False
    for i in range(1, len(pattern) - 1):
        if pattern[i] == "-":
            before, after = pattern[i - 1], pattern[i + 1]
            if after == "\\" or (i >= 2 and pattern[i - 2] == "\\") or (before <= "Z" and after >= "A"):
                return False  # a range with an escaped end, or one that may hold capitals
    return True


@contextlib.contextmanager
def time_limit(seconds: float = SEARCH_LIMIT) -> Iterator[None]:
    """Stop the block with BadRequest after `seconds`. By SIGALRM: the regex engine checks for
    signals as it backtracks, so even a pattern that would run for ever is stopped. The main
    thread of a process whose event loop does not use SIGALRM (the host's, the daemon's)."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise BadRequest(
            f"the search took over {seconds:g} s and was stopped: a regular expression that backtracks "
            "(nested repeats like (a+)+); simplify it, or search plain text with --fixed"
        )

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
