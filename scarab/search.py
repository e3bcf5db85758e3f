"""Search layer (pure): the pattern rules `scarab grep` and copy mode share, and the search of rows.

Used by the session host (its live panes), the daemon (the saved snapshots of sessions that are
down) and copy mode (the matches on the rows in sight), so all of them answer the same way. A pane's
rows are searched as one string: Python's regex engine over ~10,000 joined lines is many times
faster than 10,000 separate searches (each call has a fixed cost), which is what keeps 50 sessions
x 10,000 lines within the 300 ms budget.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from scarab.errors import BadRequest

__all__ = ["Hit", "compile_pattern", "search_lines", "smartcase"]

# (row, line, start, end): the row's index, its text, the first match's span in it.
Hit = tuple[int, str, int, int]
_ESCAPE = re.compile(r"\\.")


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
    flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
    try:
        return re.compile(pattern if regex else re.escape(pattern), flags)
    except re.error as exc:
        raise BadRequest(
            f"{pattern!r} is not a valid regular expression ({exc}); use --fixed to search for it as plain text"
        ) from None
    except (OverflowError, RecursionError) as exc:  # a pattern nested or repeated past the engine's limits
        raise BadRequest(f"{pattern!r} is too complex a regular expression ({exc})") from None


def search_lines(rx: re.Pattern[str], lines: Sequence[str], first_row: int, limit: int) -> tuple[list[Hit], bool]:
    """The rows of `lines` (numbered from `first_row`) where `rx` matches, one hit per row with its
    first match; and whether more than `limit` rows matched. A match found across a line break in
    the joined text is checked again on its own line, so hits are exactly those of a per-line search."""
    text = "\n".join(lines)
    starts = [0]
    position = 0
    for line in lines:
        position += len(line) + 1
        starts.append(position)
    hits: list[Hit] = []
    pos = 0
    end_of_text = len(text)
    while pos <= end_of_text:
        match = rx.search(text, pos)
        if match is None:
            break
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
