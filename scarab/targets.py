"""Targets layer: tmux's `-t` syntax, parsed to a frozen value and resolved against a read-only view.

No IO: the CLI parses what the user typed, the daemon resolves it against a view of its sessions,
windows and panes (`SessionView`...) that it builds. The rules are tmux 3.3a's `cmd-find.c`:

* `session:window.pane`, `session:window`, `session:`, `:window`, `.pane`, `window.pane`, and a word
  alone, which a session, window or pane command takes as a session, window or pane; `$ID`, `@ID`,
  `%ID` are a session, window and pane id; `=name` asks for an exact session or window name.
* A session: its id, then its exact name, then a unique name prefix, then a unique fnmatch pattern.
* A window in a session: `@ID`, `+N`/`-N` (wrapping), `!` (last), `^`/`$` (first/last index), an
  index, an exact name, a unique prefix, a unique pattern; `{last}`, `{next}`, `{previous}`,
  `{start}`, `{end}` are the same tokens spelt out. Without a session part: the current session's
  window, else a session of that name (its current window).
* A pane in a window: `%ID`, `!` (last pane), `+N`/`-N`, an index; `{last}`, `{next}`, `{previous}`.
  A word alone: a pane of the current window, else a window, else a session.

Scarab's additions: Scarab's session ids are long hex strings, so a session also resolves by its
exact id (before anything else, so `scarab attach ID` never means a name) and by a unique id prefix
(after the name prefix, as the registry always did); `$` takes either. A whole target that names a
session exactly (its id, or a name with a `.` in it, which tmux would not allow) is that session.
Ambiguous names are refused with the candidates in the message, where tmux only says it can't find.
Not modelled: `{mouse}`/`=` and `{marked}`/`~` (Scarab has no marked pane and targets come from the
command line), pane descriptions by position (`{top}`, `{left-of}`...), and linked windows.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from scarab.errors import BadRequest, SessionNotFound

__all__ = [
    "Found",
    "Kind",
    "SessionView",
    "Target",
    "WindowView",
    "parse_target",
    "resolve",
    "resolve_index",
]

_INT_MAX = 2**31 - 1
_WINDOW_TOKENS = {"{start}": "^", "{last}": "!", "{end}": "$", "{next}": "+", "{previous}": "-"}
_PANE_TOKENS = {"{last}": "!", "{next}": "+", "{previous}": "-"}


class Kind(Enum):
    """What the command wants: how a word alone is taken, and whether a free window index will do
    (new-window -t, break-pane -t, move-window -t)."""

    SESSION = "session"
    WINDOW = "window"
    PANE = "pane"
    WINDOW_INDEX = "window-index"


@dataclass(frozen=True)
class Target:
    """A parsed target: its session, window and pane parts (None when absent)."""

    text: str
    kind: Kind
    session: str | None = None
    window: str | None = None
    pane: str | None = None
    exact_session: bool = False
    exact_window: bool = False
    window_only: bool = False  # given after a colon: never a session name
    pane_only: bool = False  # given after a period: never a window or session name


@dataclass(frozen=True)
class WindowView:
    """A window as resolution needs it: panes in pane-index order."""

    index: int
    id: int
    name: str
    panes: tuple[int, ...]
    active: int
    last_pane: int | None = None


@dataclass(frozen=True)
class SessionView:
    """A session as resolution needs it: windows by index, the current and last window's index."""

    id: str
    name: str
    windows: tuple[WindowView, ...]
    current: int
    last: int | None = None

    def window(self, index: int) -> WindowView | None:
        return next((w for w in self.windows if w.index == index), None)

    def sorted_windows(self) -> tuple[WindowView, ...]:
        return tuple(sorted(self.windows, key=lambda w: w.index))


@dataclass(frozen=True)
class Found:
    """What a target names: a session id, a window index and a pane id. `pane` is None only for a
    WINDOW_INDEX target naming a free index (`window` is then that index)."""

    session: str
    window: int
    pane: int | None


@dataclass(frozen=True)
class _Current:
    session: SessionView
    window: WindowView
    pane: int


def parse_target(text: str, kind: Kind) -> Target:
    """Split a target as tmux's cmd_find_target does (first `:`, then the first `.` after it)."""
    session: str | None = None
    window: str | None = None
    pane: str | None = None
    window_only = pane_only = False
    head, colon, rest = text.partition(":")
    if colon:
        session = head
        window, period, pane_part = rest.partition(".")
        window_only = True
        if period:
            pane, pane_only = pane_part, True
    else:
        window_part, period, pane_part = text.partition(".")
        if period:
            window, pane, pane_only = window_part, pane_part, True
        elif text.startswith("$"):
            session = text
        elif text.startswith("@"):
            window = text
        elif text.startswith("%"):
            pane = text
        elif kind is Kind.SESSION:
            session = text
        elif kind is Kind.PANE:
            pane = text
        else:
            window = text
    exact_session = session is not None and session.startswith("=")
    exact_window = window is not None and window.startswith("=")
    session = (session[1:] if exact_session else session) or None if session is not None else None
    window = (window[1:] if exact_window else window) or None if window is not None else None
    pane = pane or None
    if window is not None:
        window = _WINDOW_TOKENS.get(window, window)
    if pane is not None:
        pane = _PANE_TOKENS.get(pane, pane)
    return Target(text, kind, session, window, pane, exact_session, exact_window, window_only, pane_only)


def resolve(target: str | Target, kind: Kind, sessions: tuple[SessionView, ...],
            current: Found | None = None) -> Found:  # fmt: skip
    """The session, window and pane a target names. `current` is where the user is (the attached
    session, or the one the CLI would pick); targets without a session part need it."""
    parsed = target if isinstance(target, Target) else parse_target(target, kind)
    return _Resolver(sessions, current, parsed).run()


def resolve_index(target: str, sessions: tuple[SessionView, ...],
                  current: Found | None = None) -> tuple[str, int | None]:  # fmt: skip
    """A `-t` where a window may be created or moved (new-window, break-pane, move-window): the
    session id and the index, which may be free; None when the target gives no window (the first
    free index, or with -a/-b the current window)."""
    resolver = _Resolver(sessions, current, parse_target(target, Kind.WINDOW_INDEX))
    found = resolver.run()
    return found.session, None if resolver.index_absent else found.window


class _Resolver:
    def __init__(self, sessions: tuple[SessionView, ...], current: Found | None, target: Target) -> None:
        self.sessions = sessions
        self.target = target
        self.kind = target.kind
        self._current = current
        self.index_absent = False  # a WINDOW_INDEX target without a window part: the first free index

    # ---- the flow of cmd_find_target

    def run(self) -> Found:
        t = self.target
        if t.text in ("=", "{mouse}"):
            raise BadRequest("no mouse target")
        if t.text in ("~", "{marked}"):
            raise BadRequest("no marked target")
        whole = self._whole_session(t.text)
        if whole is not None:
            return self._session_found(whole)
        if t.session is None and t.window is None and t.pane is None:
            current = self.current()
            self.index_absent = True
            return Found(current.session.id, current.window.index, current.pane)
        if t.pane is not None and self.kind is Kind.WINDOW_INDEX:
            raise BadRequest("can't specify pane here")
        if t.session is not None:
            session = self.session(t.session, exact=t.exact_session)
            if t.window is None and t.pane is None:
                self.index_absent = True
                return self._session_found(session)
            if t.pane is None:
                assert t.window is not None
                return self.window_in(session, t.window)
            if t.window is None:
                return self.pane_in_session(session, t.pane)
            found = self.window_in(session, t.window, for_pane=True)
            return self.pane_in(session, self._window(session, found.window), t.pane)
        if t.window is not None and t.pane is not None:
            found = self.window_anywhere(t.window, only=t.window_only, for_pane=True)
            session = self._session_by_id(found.session)
            return self.pane_in(session, self._window(session, found.window), t.pane)
        if t.window is not None:
            return self.window_anywhere(t.window, only=t.window_only)
        assert t.pane is not None
        return self.pane_anywhere(t.pane, only=t.pane_only)

    # ---- sessions

    def _whole_session(self, text: str) -> SessionView | None:
        """Scarab: a target that is exactly a session id, or exactly a session name with a `.` in it."""
        for session in self.sessions:
            if session.id == text or ("." in text and session.name == text and ":" not in text):
                return session
        return None

    def session(self, name: str, *, exact: bool = False) -> SessionView:
        """cmd_find_get_session, with Scarab's ids."""
        missing = SessionNotFound(f"can't find session: {name}")
        if name.startswith("$"):
            key = name[1:]
            exact_id = [s for s in self.sessions if s.id == key]
            found = (
                exact_id[0]
                if exact_id
                else self._unique([s for s in self.sessions if key and s.id.startswith(key)], name)
            )
            if found is None:
                raise missing
            return found
        for matches in ([s for s in self.sessions if s.id == name], [s for s in self.sessions if s.name == name]):
            if matches:
                return matches[0]
        if exact:
            raise missing
        for rule in (lambda s: s.name.startswith(name), lambda s: bool(name) and s.id.startswith(name),
                     lambda s: _fnmatch(s.name, name)):  # fmt: skip
            found = self._unique([s for s in self.sessions if rule(s)], name)
            if found is not None:
                return found
        raise missing

    def _session_found(self, session: SessionView) -> Found:
        window = self._window(session, session.current)
        return Found(session.id, window.index, window.active)

    def _session_by_id(self, id_: str) -> SessionView:
        return next(s for s in self.sessions if s.id == id_)

    # ---- windows

    def window_anywhere(self, name: str, *, only: bool, for_pane: bool = False) -> Found:
        """cmd_find_get_window: a window id anywhere, else in the current session, else a session."""
        if name.startswith("@"):
            return self._window_by_id(name, None)
        try:
            return self.window_in(self.current().session, name, for_pane=for_pane)
        except BadRequest:
            if only:
                raise
        try:
            return self._session_found(self.session(name))
        except SessionNotFound:
            raise BadRequest(f"can't find window: {name}") from None

    def window_in(self, session: SessionView, name: str, *, for_pane: bool = False) -> Found:
        """cmd_find_get_window_with_session."""
        missing = BadRequest(f"can't find window: {name}")
        exact = self.target.exact_window
        index_kind = self.kind is Kind.WINDOW_INDEX and not for_pane
        ordered = session.sorted_windows()
        current = self._window(session, session.current)
        if name.startswith("@"):
            return self._window_by_id(name, session)
        if not exact and name[:1] in ("+", "-"):
            count = _number(name[1:], 1) if name[1:] else 1
            if index_kind:
                index = current.index + count if name[0] == "+" else current.index - count
                if index < 0 or index > _INT_MAX:
                    raise missing
                return self._window_found(session, index)
            position = ordered.index(current) + (count if name[0] == "+" else -count)
            return self._window_found(session, ordered[position % len(ordered)].index)
        if not exact and name in ("!", "^", "$"):
            if name == "!":
                if session.last is None:
                    raise missing
                return self._window_found(session, session.last)
            return self._window_found(session, ordered[0 if name == "^" else -1].index)
        if name[:1] not in ("+", "-") and _number(name, -1) >= 0:
            index = _number(name, -1)
            if session.window(index) is not None or index_kind:
                return self._window_found(session, index)
        rules: list[Callable[[WindowView], bool]] = [lambda w: w.name == name]
        if not exact:
            rules += [lambda w: w.name.startswith(name), lambda w: _fnmatch(w.name, name)]
        for rule in rules:
            matches = [w for w in ordered if rule(w)]
            if len(matches) > 1:
                raise BadRequest(f"can't find window: {name} (it matches windows {', '.join(_names(matches))})")
            if matches:
                return self._window_found(session, matches[0].index)
        raise missing

    def _window_found(self, session: SessionView, index: int) -> Found:
        window = session.window(index)
        return Found(session.id, index, window.active if window is not None else None)

    def _window_by_id(self, text: str, session: SessionView | None) -> Found:
        number = _number(text[1:], -1)
        for s in self.sessions if session is None else (session,):
            for window in s.windows:
                if window.id == number:
                    return Found(s.id, window.index, window.active)
        raise BadRequest(f"can't find window: {text}")

    def _window(self, session: SessionView, index: int) -> WindowView:
        window = session.window(index)
        if window is None:
            raise BadRequest(f"can't find window: {index}")
        return window

    # ---- panes

    def pane_anywhere(self, name: str, *, only: bool) -> Found:
        """cmd_find_get_pane: a pane id anywhere, else in the current window, else a window/session."""
        if name.startswith("%"):
            return self._pane_by_id(name, None)
        try:
            current = self.current()  # without one (the CLI outside a session) a word is a window or session
            return self.pane_in(current.session, current.window, name)
        except BadRequest:
            if only:
                raise
        try:
            return self.window_anywhere(name, only=False)
        except BadRequest:
            raise BadRequest(f"can't find pane: {name}") from None

    def pane_in_session(self, session: SessionView, name: str) -> Found:
        """cmd_find_get_pane_with_session: a pane id in that session, or a pane of its current window."""
        if name.startswith("%"):
            return self._pane_by_id(name, session)
        return self.pane_in(session, self._window(session, session.current), name)

    def pane_in(self, session: SessionView, window: WindowView, name: str) -> Found:
        """cmd_find_get_pane_with_window."""
        missing = BadRequest(f"can't find pane: {name}")
        if name.startswith("%"):
            found = self._pane_by_id(name, session)
            if found.window != window.index:
                raise missing
            return found
        if name == "!":
            if window.last_pane is None:
                raise missing
            return Found(session.id, window.index, window.last_pane)
        if name[:1] in ("+", "-"):
            count = _number(name[1:], 0) if name[1:] else 1
            base = self._current.pane if self._current is not None else None
            base = base if base in window.panes else window.active
            position = window.panes.index(base) + (count if name[0] == "+" else -count)
            return Found(session.id, window.index, window.panes[position % len(window.panes)])
        index = _number(name, -1)
        if 0 <= index < len(window.panes):
            return Found(session.id, window.index, window.panes[index])
        raise missing

    def _pane_by_id(self, text: str, session: SessionView | None) -> Found:
        number = _number(text[1:], -1)
        for s in self.sessions if session is None else (session,):
            for window in s.windows:
                if number in window.panes:
                    return Found(s.id, window.index, number)
        raise BadRequest(f"can't find pane: {text}")

    # ---- helpers

    def current(self) -> _Current:
        if self._current is None:
            raise BadRequest(f"no current session for {self.target.text!r}: name one, like work:1.0")
        found = self._current
        session = next((s for s in self.sessions if s.id == found.session), None)
        if session is None:
            raise SessionNotFound(f"can't find session: {found.session}")
        window = self._window(session, found.window)
        return _Current(session, window, found.pane if found.pane in window.panes else window.active)

    @staticmethod
    def _unique(matches: list[SessionView], name: str) -> SessionView | None:
        if len(matches) > 1:
            raise SessionNotFound(f"can't find session: {name} (it matches sessions {', '.join(_names(matches))})")
        return matches[0] if matches else None


def _names(items: list[SessionView] | list[WindowView]) -> list[str]:
    return [item.name for item in items]


def _fnmatch(name: str, pattern: str) -> bool:
    """fnmatch(3) without flags: as Python's, but a backslash quotes the next character."""
    translated = re.sub(r"\\(.)", lambda m: f"[{m.group(1)}]" if m.group(1) in "*?[]" else m.group(1), pattern)
    return fnmatch.fnmatchcase(name, translated)


def _number(text: str, fallback: int) -> int:
    """strtonum(text, 0, INT_MAX): digits only, else the fallback."""
    if text.isascii() and text.isdigit() and int(text) <= _INT_MAX:
        return int(text)
    return fallback
