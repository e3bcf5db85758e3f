"""Search layer (pure): the pattern rules `scarab grep` and copy mode share, and the search of rows.

Used by the session host (its live panes), the daemon (the saved snapshots of sessions that are
down) and copy mode (the matches on the rows in sight), so all of them answer the same way. A pane's
rows are searched as one string: Python's regex engine over ~10,000 joined lines is many times
faster than 10,000 separate searches (each call has a fixed cost), which is what keeps 50 sessions
x 10,000 lines within the 300 ms budget.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import re
import signal
from collections.abc import Iterator, Sequence
from types import FrameType

from scarab.errors import BadRequest

__all__ = ["SEARCH_LIMIT", "Hit", "compile_pattern", "literal_text", "search_lines", "smartcase", "time_limit"]

# Seconds one process may spend on one search. Ordinary ones take milliseconds; a pattern that
# backtracks (nested repeats like `(a+)+$`) could take years and would freeze a session host.
SEARCH_LIMIT = 2.0

# (row, line, start, end): the row's index, its text, the first match's span in it.
Hit = tuple[int, str, int, int]
_ESCAPE = re.compile(r"\\.")
_OPERATORS = frozenset(".^$*+?{}[]|()")


def smartcase(pattern: str) -> bool:
    """Ignore case unless the pattern has a capital letter (less's and vim's smartcase); a letter
    after a backslash is an escape (`\\S`, `\\W`), not a capital."""
    return not any(c.isupper() for c in _ESCAPE.sub("", pattern))


def compile_pattern(pattern: str, regex: bool = True, ignore_case: bool | None = None) -> re.Pattern[str]:
    """The pattern compiled as grep and copy mode use it; BadRequest with the regex module's reason."""
    if not pattern:
        raise BadRequest("empty search pattern: give the text or regular expression to look for")
    if ignore_case is None:
        ignore_case = smartcase(pattern)
    if not any(c.isalpha() for c in _ESCAPE.sub("", pattern)):
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
    text = "\n".join(lines)
    literal = literal_text(rx.pattern)
    if literal and "\n" not in literal:
        hay, needle = text, literal
        if rx.flags & re.IGNORECASE:
            hay, needle = text.lower(), literal.lower()
        if len(hay) == len(text) and len(needle) == len(literal):  # lower() kept every offset
            return _find_lines(hay, needle, lines, first_row, limit)
    starts: list[int] | None = None
    hits: list[Hit] = []
    pos = 0
    end_of_text = len(text)
    while pos <= end_of_text:
        match = rx.search(text, pos)
        if match is None:
            break
        if starts is None:
            starts = _line_starts(lines)
        i = bisect.bisect_right(starts, match.start()) - 1
        line = lines[i]
        line_start = starts[i]
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
        pos = starts[i + 1]
    return hits, False


def _line_starts(lines: Sequence[str]) -> list[int]:
    """Where each line starts in the joined text, and one past the end."""
    return [0, *itertools.accumulate(len(line) + 1 for line in lines)]


def _find_lines(hay: str, needle: str, lines: Sequence[str], first_row: int, limit: int) -> tuple[list[Hit], bool]:
    hits: list[Hit] = []
    starts: list[int] | None = None
    pos = hay.find(needle)
    while pos >= 0:
        if starts is None:
            starts = _line_starts(lines)
        i = bisect.bisect_right(starts, pos) - 1
        if len(hits) == limit:
            return hits, True
        column = pos - starts[i]
        hits.append((first_row + i, lines[i], column, column + len(needle)))
        pos = hay.find(needle, starts[i + 1])
    return hits, False


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
