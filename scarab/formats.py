"""Formats layer: tmux's `#{...}` format language, expanded against plain values. Pure; no IO.

`expand(fmt, values)` does what tmux 3.3a's `format_expand` does for the subset scripts use:

* `#{name}`: a variable (`#{session_name}`, `#{pane_id}`...). A variable Scarab knows but that has
  no value here (a pane variable in `ls -F`) is empty, as in tmux; a name Scarab does not know is an
  error naming it (tmux prints nothing, which hides typos in scripts).
* `#S #I #P #D #W #T #F #H #h`: tmux's one-letter aliases; `##`, `#,`, `#}`: a literal `#` `,` `}`.
* `#{?cond,then,else}`: `cond` is a variable, or a format when it contains `#{`; true when not
  empty and not `0`.
* `#{==:a,b}` `#{!=:a,b}` `#{<:a,b}` `#{>:a,b}` `#{<=:a,b}` `#{>=:a,b}` `#{||:a,b}` `#{&&:a,b}`:
  `1` or `0`.
* `#{=N:name}` / `#{=-N:name}`: the first / last N characters; `#{b:name}` / `#{d:name}`: basename
  and dirname; `#{t:name}`: an epoch time as tmux prints it; `#{l:text}`: text as it is.

`\\t` in a format given on a command line is a tab (the shell does not turn it into one).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

from scarab import __version__
from scarab import protocol as p
from scarab.errors import BadRequest
from scarab.humanize import age

__all__ = ["ALIASES", "KNOWN", "expand", "pane_values", "session_values", "window_values"]

# tmux's single-character aliases (format.c format_upper / format_lower).
ALIASES = {
    "S": "session_name",
    "I": "window_index",
    "P": "pane_index",
    "D": "pane_id",
    "W": "window_name",
    "T": "pane_title",
    "F": "window_flags",
    "H": "host",
    "h": "host_short",
}

# Every variable Scarab can fill in somewhere: tmux's names (format.c) and Scarab's own `ls` fields.
KNOWN = frozenset(
    {
        # tmux's
        "host", "host_short", "pid", "socket_path", "version", "start_time",
        "session_name", "session_id", "session_windows", "session_attached", "session_created",
        "session_activity", "session_last_attached", "session_path", "session_width", "session_height",
        "session_many_attached", "client_session",
        "window_index", "window_id", "window_name", "window_active", "window_panes", "window_layout",
        "window_flags", "window_zoomed_flag", "window_width", "window_height", "window_last_flag",
        "window_synchronize", "window_automatic_rename", "window_raw_flags",
        "history_size", "history_limit", "history_bytes",
        "pane_index", "pane_id", "pane_pid", "pane_current_path", "pane_current_command",
        "pane_start_command", "pane_start_path", "pane_width", "pane_height", "pane_left", "pane_top",
        "pane_right", "pane_bottom", "pane_active", "pane_title", "pane_dead", "pane_dead_status",
        "pane_tty",
        # Scarab's `ls -F` fields (README)
        "id", "short_id", "name", "created", "created_ago", "last_attached", "attached_ago", "idle",
        "clients", "cols", "rows", "size", "state", "exit_status", "host_pid", "child_pid", "windows",
        "panes", "command", "cwd", "recording", "cpu", "memory",
    }
)  # fmt: skip

_COMPARISONS = ("==", "!=", "<=", ">=", "<", ">", "||", "&&")
_MAX_DEPTH = 50  # a format nested deeper than this is refused, not recursed into


def expand(fmt: str, values: Mapping[str, str], *, tabs: bool = True) -> str:
    """`fmt` with every `#{...}` and alias replaced from `values`."""
    if tabs:
        fmt = fmt.replace("\\t", "\t")
    return _Expander(values).run(fmt, 0)


class _Expander:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values

    def run(self, fmt: str, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise BadRequest(f"format nested more than {_MAX_DEPTH} deep")
        out: list[str] = []
        i, n = 0, len(fmt)
        while i < n:
            ch = fmt[i]
            if ch != "#" or i + 1 == n:
                out.append(ch)
                i += 1
                continue
            nxt = fmt[i + 1]
            if nxt in "#,}":
                out.append(nxt)
                i += 2
            elif nxt == "{":
                end = _closing(fmt, i + 2)
                out.append(self.replace(fmt[i + 2 : end], depth + 1))
                i = end + 1
            elif nxt in ALIASES:
                out.append(self.variable(ALIASES[nxt]))
                i += 2
            else:
                out.append("#")
                i += 1
        return "".join(out)

    def variable(self, name: str) -> str:
        value = self.values.get(name)
        if value is not None:
            return value
        if name in KNOWN:
            return ""
        raise BadRequest(
            f"unknown format field #{{{name}}}: e.g. #{{session_name}}, #{{pane_id}}, #{{name}} (see README)"
        )

    def condition(self, text: str, depth: int) -> bool:
        """A format, or a variable's name (one Scarab does not know is false here, as in tmux)."""
        value = self.run(text, depth) if "#" in text else self.values.get(text, "")
        return value not in ("", "0")

    def replace(self, body: str, depth: int) -> str:
        """The value of one `#{body}`."""
        if body.startswith("?"):
            # tmux 3.3a: the condition, the value if true, and everything after it (commas too) if false.
            cond, then, *otherwise = [*_split(body[1:]), ""]
            return self.run(then if self.condition(cond, depth) else ",".join(otherwise[:-1]), depth)
        modifier, sep, rest = body.partition(":")
        if not sep or "#{" in modifier:
            return self.variable(body)
        if modifier in _COMPARISONS:
            return self.compare(modifier, rest, depth)
        if modifier == "l":
            return rest
        value = self.run(rest, depth) if "#" in rest else self.variable(rest)
        if modifier.startswith("=") and _is_int(modifier[1:]):
            count = int(modifier[1:])
            return value[:count] if count >= 0 else value[count:]
        if modifier == "b":
            return os.path.basename(value)
        if modifier == "d":
            return os.path.dirname(value)
        if modifier == "t":
            return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(int(value))) if value.isdigit() else ""
        raise BadRequest(f"unknown format modifier {modifier!r} in #{{{body}}}: use ?, ==, !=, =N, b, d, t or l")

    def compare(self, op: str, rest: str, depth: int) -> str:
        parts = _split(rest)
        if len(parts) != 2:
            raise BadRequest(f"#{{{op}:...}} takes two values separated by a comma")
        left, right = (self.run(part, depth) for part in parts)
        if op == "||":
            result = left not in ("", "0") or right not in ("", "0")
        elif op == "&&":
            result = left not in ("", "0") and right not in ("", "0")
        else:
            result = {
                "==": left == right, "!=": left != right, "<": left < right,
                ">": left > right, "<=": left <= right, ">=": left >= right,
            }[op]  # fmt: skip
        return "1" if result else "0"


def _closing(fmt: str, start: int) -> int:
    """The index of the `}` that closes a `#{` whose body begins at `start`."""
    depth = 1
    i = start
    while i < len(fmt):
        if fmt[i] == "#" and i + 1 < len(fmt):
            if fmt[i + 1] == "{":
                depth += 1
            i += 2
            continue
        if fmt[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise BadRequest(f"unclosed #{{ in format {fmt!r}")


def _split(text: str) -> list[str]:
    """`text` split at its top-level commas (not those inside `#{...}` nor escaped as `#,`)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "#" and i + 1 < len(text):
            if text[i + 1] == "{":
                depth += 1
            i += 2
            continue
        if ch == "}" and depth:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def session_values(s: p.SessionInfo, now: float | None = None) -> dict[str, str]:
    """A session's variables: tmux's `session_*` and Scarab's own `ls -F` fields (README). Every
    value has no space or tab except command and cwd, which `ls --tsv` puts last for awk."""
    now = time.time() if now is None else now
    host = socket.gethostname()
    return {
        "id": s.id,
        "short_id": s.id[:8],
        "name": s.name,
        "created": str(s.created_at),
        "created_ago": age(s.created_at, now),
        "last_attached": str(s.last_attached),
        "attached_ago": age(s.last_attached, now),
        "idle": str(max(0, int(now) - s.last_attached)),
        "clients": str(s.attached),
        "cols": str(s.cols),
        "rows": str(s.rows),
        "size": f"{s.cols}x{s.rows}",
        "state": s.state,
        "exit_status": str(s.exit_status),
        "host_pid": str(s.host_pid),
        "child_pid": str(s.child_pid),
        "recording": "1" if s.recording else "0",
        "cpu": f"{s.cpu:.1f}" if s.cpu >= 0 else "",
        "memory": str(s.memory) if s.memory >= 0 else "",
        "command": " ".join(s.command),
        "cwd": s.cwd,
        "session_name": s.name,
        "session_id": f"${s.id}",
        "session_attached": str(s.attached),
        "session_many_attached": "1" if s.attached > 1 else "0",
        "session_created": str(s.created_at),
        "session_last_attached": str(s.last_attached),
        "session_path": s.cwd,
        "session_windows": str(s.windows),
        "windows": str(s.windows),
        "panes": str(s.panes),
        "session_width": str(s.cols),
        "session_height": str(s.rows),
        "host": host,
        "host_short": host.split(".")[0],
        "version": __version__,
    }


def window_values(layout: p.Layout, window: p.WindowInfo) -> dict[str, str]:
    """A window's variables (tmux's `window_*`), from its session's latest Layout."""
    panes = [pane for pane in layout.panes if pane.window == window.index]
    return {
        "window_index": str(window.index),
        "window_id": f"@{window.id}",
        "window_name": window.name,
        "window_flags": window.flags,
        "window_raw_flags": window.flags,  # tmux's window_flags with `#` doubled; Scarab's flags have none
        "window_active": "1" if "*" in window.flags else "0",
        "window_last_flag": "1" if "-" in window.flags else "0",
        "window_zoomed_flag": "1" if "Z" in window.flags else "0",
        "window_panes": str(len(panes)),
        "window_layout": window.layout,
        "window_width": str(layout.cols),
        "window_height": str(layout.rows),
        "window_synchronize": "1" if window.synchronize else "0",
        "window_automatic_rename": "1" if window.automatic_rename else "0",
    }


def pane_values(layout: p.Layout, pane: p.PaneInfo) -> dict[str, str]:
    """A pane's variables (tmux's `pane_*`) and its window's, from its session's latest Layout."""
    window = next(w for w in layout.windows if w.index == pane.window)
    siblings = [other.id for other in layout.panes if other.window == pane.window]
    values = window_values(layout, window)
    values.update(
        pane_index=str(siblings.index(pane.id)), pane_id=f"%{pane.id}", pane_pid=str(pane.pid),
        pane_width=str(pane.width), pane_height=str(pane.height), pane_left=str(pane.left),
        pane_top=str(pane.top), pane_right=str(pane.left + pane.width - 1),
        pane_bottom=str(pane.top + pane.height - 1), pane_active="1" if pane.active else "0",
        pane_current_path=pane.cwd, pane_current_command=pane.current,
        pane_start_command=" ".join(pane.command or []), pane_title=pane.title,
        pane_dead="1" if pane.exited else "0", pane_dead_status=str(pane.exit_status),
    )  # fmt: skip
    return values
