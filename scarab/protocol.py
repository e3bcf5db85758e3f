"""Protocol layer: the messages clients, the daemon and session hosts exchange, and their wire form.

Wire form: a 4-byte big-endian length, then a msgpack array `[tag, {field: value}]`. Every message is a
frozen dataclass with a numeric TAG and named fields; `decode` checks each field's type so a handler
never sees a malformed value. A bad frame raises ProtocolError and the connection is closed.

Bump PROTOCOL_VERSION whenever a message, tag or field changes meaning.
"""

from __future__ import annotations

import dataclasses
import struct
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import msgpack

from scarab.errors import ProtocolError

__all__ = [
    "ALL_PANES",
    "MAX_FRAME",
    "MAX_HISTORY_ROWS",
    "PROTOCOL_VERSION",
    "Message",
    "decode",
    "encode",
]

PROTOCOL_VERSION = 7  # 4: SessionsChanged pushed; 5: session environment; 6: windows and panes, buffers, grep;
# 7: grep hits per pane (GrepHits.panes, HostGrep.pane), History.limit/size, Notice, limits in HostInfo

ALL_PANES = -2  # HostGrep.pane: every pane of the session

# Anything bigger is hostile: replies that can be large (captures, snapshots) travel as bounded pages.
MAX_FRAME = 32 * 1024 * 1024
# Rows per History reply: a page of a tall view, small enough to travel in a few milliseconds.
MAX_HISTORY_ROWS = 1000
# A paste buffer travels in one frame from a client (the daemon takes at most 1 MiB per client frame).
MAX_BUFFER = 1000 * 1000
MAX_GREP_HITS = 100_000  # lines one Grep returns at most (its `limit` is capped there)
MAX_SIZE = 1000  # columns and rows a session may have, in every layer (CLI, daemon, host)
HEADER = struct.Struct(">I")


class _Value:
    """Equality, repr and immutability for every wire value.

    @dataclass would generate __eq__, __repr__, __setattr__, __delattr__ and __init__ for each of the
    ~40 classes, one exec() apiece: ~40 ms of every client's start-up on a slow machine (cold attach
    has a 350 ms budget). Here the first four read the fields and the inits come from one exec()
    for all classes (_install_inits); dataclasses.fields(), asdict() and match still work."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _field_names(type(self)))

    __hash__ = None  # type: ignore[assignment]  # values hold lists

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _field_names(type(self)))
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    return names


_T = typing.TypeVar("_T")
_NEEDS_INIT: list[type] = []


@typing.dataclass_transform(frozen_default=True)
def _value(cls: type[_T]) -> type[_T]:
    """A frozen dataclass whose methods come from _Value; its __init__ from _install_inits."""
    if cls.__doc__ is None:
        # Else @dataclass writes one from inspect.signature, parsing object's text signature: slow.
        cls.__doc__ = f"The {cls.__name__} wire value."
    _NEEDS_INIT.append(cls)
    return dataclass(init=False, eq=False, repr=False)(cls)


def _install_inits() -> None:
    """Give every @_value class its __init__, all compiled by one exec()."""
    namespace: dict[str, Any] = {"_set": object.__setattr__}
    source = []
    for i, cls in enumerate(_NEEDS_INIT):
        params, body = ["self"], []
        for f in dataclasses.fields(cls):
            if f.default is dataclasses.MISSING:
                params.append(f.name)
            else:
                namespace[f"_default_{i}_{f.name}"] = f.default
                params.append(f"{f.name}=_default_{i}_{f.name}")
            body.append(f"    _set(self, {f.name!r}, {f.name})")
        source.append(f"def _init_{i}({', '.join(params)}):\n" + "\n".join(body or ["    pass"]))
    exec("\n".join(source), namespace)
    for i, cls in enumerate(_NEEDS_INIT):
        init = namespace[f"_init_{i}"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = init  # type: ignore[misc]
    _NEEDS_INIT.clear()


@_value
class Message(_Value):
    TAG: ClassVar[int] = 0


# -- values carried inside messages ---------------------------------------------------------------


@_value
class SessionInfo(_Value):
    """What `scarab ls` shows about one session."""

    id: str
    name: str
    created_at: int
    last_attached: int
    cols: int
    rows: int
    state: str  # running | restoring | exited
    command: list[str]
    cwd: str
    attached: int = 0
    host_pid: int = 0
    child_pid: int = 0
    exit_status: int = 0  # the program's, once state is exited (a signal N shows as 128+N, as in sh)
    windows: int = 0  # how many windows and panes it has (0 until its host describes them)
    panes: int = 0
    recording: bool = False  # a pane of it is being recorded
    memory: int = -1  # bytes resident, its programs together (-1: not measured)
    cpu: float = -1.0  # percent of one CPU, its programs together, since the last look (-1: not measured)
    limits: str = ""  # its limits and how they are enforced ("" when it has none)


@_value
class PaneInfo(_Value):
    """One pane as clients, `list-panes` and the store see it. The rectangle is tmux's pane_left/top/
    width/height in its window (a hidden pane of a zoomed window keeps its unzoomed place)."""

    id: int  # tmux's %N: unique per user, never reused
    window: int  # the index of its window
    left: int
    top: int
    width: int
    height: int
    active: bool  # the active pane of its window
    visible: bool  # drawn (False for the other panes of a zoomed window)
    pid: int = 0  # its program's
    cwd: str = ""
    command: list[str] | None = None  # what it was started with
    current: str = ""  # the foreground program's name (automatic-rename, #{pane_current_command})
    title: str = ""
    exited: bool = False
    exit_status: int = 0


@_value
class WindowInfo(_Value):
    """One window as the status bar, `list-windows` and the store see it."""

    index: int
    id: int  # tmux's @N
    name: str
    flags: str  # tmux's window_flags: `*` current, `-` last, `Z` zoomed
    layout: str  # tmux's #{window_layout} (with checksum): what `select-layout` takes back
    active_pane: int
    automatic_rename: bool = True
    synchronize: bool = False  # synchronize-panes: keys typed go to every pane of the window


# -- handshake ------------------------------------------------------------------------------------


@_value
class Hello(Message):
    """First message on every connection, in both directions."""

    TAG = 1
    version: int
    role: str  # client | daemon | host
    pid: int = 0


# -- client -> daemon: control ---------------------------------------------------------------------


@_value
class SessionCreate(Message):
    TAG = 10
    name: str | None = None
    cols: int = 80
    rows: int = 24
    cwd: str | None = None
    command: list[str] | None = None
    environ: list[str] | None = None  # the creating client's UPDATE_ENVIRONMENT values, see `environ`
    # The session's limits [memory, cpu, tasks] (0: config.toml's default, -1: none, else the
    # value) and whether it is recorded: given to its host, so its first program starts under them.
    limits: list[int] | None = None
    record: bool = False


@_value
class SessionDelete(Message):
    TAG = 11
    target: str
    force: bool = False


@_value
class SessionList(Message):
    TAG = 12
    usage: bool = False  # ask each running host too: recording mark, CPU, memory, limits (ls, the picker)


@_value
class SessionAttach(Message):
    """Attach this connection; frames for the session follow the `Attached` reply."""

    TAG = 13
    target: str
    cols: int = 0  # 0 = keep the session's size
    rows: int = 0
    environ: list[str] | None = None  # refreshes the session's environment (tmux's update-environment)


@_value
class SessionDetach(Message):
    TAG = 14
    target: str


@_value
class SessionRename(Message):
    TAG = 15
    target: str
    new_name: str


@_value
class Capture(Message):
    """Answered by `Captured` pages: every page but the last has `more` set."""

    TAG = 16
    target: str
    scrollback: bool = False
    ansi: bool = False


@_value
class Input(Message):
    """Bytes for the session's PTY; written before any pending output is parsed."""

    TAG = 17
    target: str
    data: bytes
    ack: bool = False  # reply Done/Failed (the CLI); the TUI sends without, and bad targets are Kicked


@_value
class Resize(Message):
    TAG = 18
    target: str
    cols: int
    rows: int


@_value
class Cleanup(Message):
    TAG = 19
    older_than: int  # seconds since last attach


@_value
class DaemonStatus(Message):
    TAG = 20


@_value
class DaemonStop(Message):
    TAG = 21


# TAG 22 was Ping, which nothing sent: retired, not reused.


@_value
class SessionRespawn(Message):
    """Start an exited session's program again (tmux's respawn-pane), below its last screen."""

    TAG = 23
    target: str


@_value
class ClearHistory(Message):
    """Forget the session's scrollback (tmux's clear-history); answered by Done."""

    TAG = 24
    target: str


@_value
class ShowEnvironment(Message):
    """The session's environment overrides; answered by Environment."""

    TAG = 26
    target: str


@_value
class SetEnvironment(Message):
    """Set (`value`) or remove (None: programs start without it) one variable of the session's
    environment, for programs started afterwards; answered by Ok."""

    TAG = 27
    target: str
    name: str
    value: str | None = None
    unset: bool = False  # drop the session's own value: programs get the daemon's (tmux's -u)


@_value
class HistoryRequest(Message):
    """Rows of the attached session's scrollback, by stable row index; answered by History.

    History rows are numbered from 0 in the order they were ever pushed, so an index keeps naming
    the same row while more output arrives; rows dropped by the scrollback limit (or by
    ClearHistory) are gone and are not returned. `start` may be negative: -N means "the last N
    rows" (the view opens with the rows just above the screen without knowing the numbers first).
    At most MAX_HISTORY_ROWS rows per reply; page with further requests."""

    TAG = 25
    target: str
    start: int
    count: int


# -- daemon -> client: replies -----------------------------------------------------------------------


@_value
class Created(Message):
    TAG = 30
    session: SessionInfo


@_value
class Deleted(Message):
    TAG = 31
    session_id: str


@_value
class Listed(Message):
    """Every session, in creation order (tmux's session index: choose-tree lists them so)."""

    TAG = 32
    sessions: list[SessionInfo]


def by_name(sessions: Iterable[SessionInfo]) -> list[SessionInfo]:
    """Sessions in tmux's order: by name, as its session tree is sorted (strcmp: code points, as
    UTF-8 bytes sort), which list-sessions prints and switch-client -n/-p walk."""
    return sorted(sessions, key=lambda s: s.name)


@_value
class Attached(Message):
    TAG = 33
    session: SessionInfo


@_value
class Detached(Message):
    TAG = 34
    session_id: str
    reason: str = ""


@_value
class Renamed(Message):
    TAG = 35
    session: SessionInfo


@_value
class Failed(Message):
    TAG = 36
    code: str
    message: str


@_value
class Captured(Message):
    """One page of a capture (at most ~512 KB of text); `more`: further pages follow."""

    TAG = 37
    text: str
    more: bool = False


@_value
class Done(Message):
    TAG = 38


@_value
class StatusReport(Message):
    TAG = 39
    pid: int
    version: str
    sessions: int
    hosts_alive: int
    clients: int
    database: str
    socket: str
    uptime: float


@_value
class Frame(Message):
    """Changed rows of one session's screen.

    `lines` holds `[row, text, runs]` where runs are `[cell_count, style_index]` into `styles`;
    a style is `[fg, bg, flags]` (colours: -1 default, 0-255 palette, 0x1000000|rgb truecolor).
    `full` frames replace the whole screen (attach, resize, resync).
    """

    TAG = 40
    session_id: str
    seq: int
    cols: int
    rows: int
    cursor: list[int]  # x, y, visible, shape
    modes: int
    title: str
    full: bool
    lines: list[Any]
    styles: list[Any]
    bell: bool = False
    pane: int = 0  # the pane's id (%N); cols/rows/cursor/modes/title are that pane's
    wrapped: list[int] | None = None  # which of `lines` (by row) wrapped into the next row (copied joined)


@_value
class CleanedUp(Message):
    TAG = 41
    session_ids: list[str]
    names: list[str]  # the same sessions' names, in the same order


@_value
class Respawned(Message):
    TAG = 44
    session: SessionInfo


@_value
class Environment(Message):
    """`NAME=VALUE` for a variable set, `-NAME` for one removed (tmux's show-environment)."""

    TAG = 47
    entries: list[str]


@_value
class History(Message):
    """Scrollback rows `first` .. `first + len(lines) - 1` in the frame row encoding.

    `lines` holds `[index, text, runs]` with runs `[cell_count, style_index]` into `styles`, as in
    Frame. `oldest` is the lowest index still kept and `total` the number of rows ever pushed
    (one past the newest), so a view knows the whole range without fetching it. `limit` is the
    most rows the pane keeps (tmux's history_limit) and `size` what the kept rows hold, in bytes
    (tmux's history_bytes; counted only for a request of no rows, list-panes' look)."""

    TAG = 45
    session_id: str
    first: int
    oldest: int
    total: int
    lines: list[Any]
    styles: list[Any]
    pane: int = 0
    limit: int = 0
    size: int = 0
    wrapped: list[int] | None = None  # the indexes of `lines` that wrapped into the next row


@_value
class FrameAck(Message):
    """Client -> proxy: frame `seq` arrived. Bounds frames in flight on a slow link (see outbox.py)."""

    TAG = 43
    session_id: str
    seq: int


@_value
class Kicked(Message):
    """Pushed (never a reply): this client was detached by someone else or the session ended."""

    TAG = 42
    session_id: str
    reason: str


@_value
class SessionsChanged(Message):
    """Pushed (never a reply) to attached clients: sessions were created, ended, renamed, attached
    or detached; the list as `ls` shows it now (a status bar follows it without polling)."""

    TAG = 46
    sessions: list[SessionInfo]


# -- paste buffers and search across sessions (issue 16) -------------------------------------------


@_value
class BufferInfo(_Value):
    """One paste buffer: tmux's `buffer0`-style name (or the one given), its size in bytes, when it
    was made; `data` is the whole buffer for ShowBuffer, its first SAMPLE_BYTES for ListBuffers."""

    name: str
    size: int
    created: int
    data: bytes


@_value
class ListBuffers(Message):
    """Answered by Buffers: every paste buffer, most recent first, each with a sample of its text."""

    TAG = 90


@_value
class Buffers(Message):
    TAG = 91
    buffers: list[BufferInfo]


@_value
class ShowBuffer(Message):
    """One buffer whole (`name` "": the most recent); answered by Buffers with that buffer."""

    TAG = 92
    name: str = ""


@_value
class SetBuffer(Message):
    """A copy: a new buffer on top of the stack (or `name`'s text replaced, or appended to);
    answered by Done. The daemon pushes it on to attached clients with `clipboard` set when it
    came from a program's OSC 52 (they give it to the outer terminal's clipboard)."""

    TAG = 93
    data: bytes
    name: str = ""
    append: bool = False
    clipboard: bool = False


@_value
class DeleteBuffer(Message):
    """Remove a buffer (`name` "": the most recent); answered by Done."""

    TAG = 94
    name: str = ""


@_value
class PasteBuffer(Message):
    """Type a buffer into a pane (tmux's paste-buffer: LF becomes CR, bracketed when the program
    asked for bracketed paste); answered by Done."""

    TAG = 95
    target: str
    name: str = ""
    delete: bool = False  # -d: remove the buffer once pasted
    raw: bool = False  # -r: keep LF as it is


@_value
class Grep(Message):
    """Search the screen and scrollback of every pane of every session (or of `target`'s);
    answered by GrepHits. `regex` False: the pattern is plain text. Smartcase: case-insensitive
    unless the pattern has a capital letter."""

    TAG = 96
    pattern: str
    target: str = ""
    regex: bool = True
    limit: int = 10_000  # at most MAX_GREP_HITS


class GrepHit(NamedTuple):
    """One matching line (GrepHits.hit_list; rows travel packed per pane, not as values): `row` is
    its stable index in the pane (history rows first, then the screen's as `total + y`),
    `start`/`end` the first match's span in `line`."""

    session_id: str
    session: str
    window: int
    pane: int
    row: int
    line: str
    start: int
    end: int
    saved: bool = False  # from the snapshot of a session that is down
    pane_index: int = -1  # the pane's index in its window (tmux's #{pane_index}); -1: not known

    @property
    def where(self) -> str:
        """`session:window.pane` as a target takes it: the pane's index, else its %ID."""
        return f"{self.session}:{self.window}.{self.pane_index if self.pane_index >= 0 else f'%{self.pane}'}"


@_value
class GrepPane(_Value):
    """The matching lines of one pane; `rows` holds `[row, line, start, end]` per line, in order.
    `pane` is its id (%N); `pane_index` its place in its window, which the daemon fills in."""

    session_id: str
    session: str
    window: int
    pane: int
    rows: list[Any]
    saved: bool = False
    pane_index: int = -1


@_value
class GrepHits(Message):
    """Hits by session and pane, rows in order; `truncated`: more lines matched than `limit`.
    Packed per pane: a value per line cost ~0.1 ms to check and build on each side."""

    TAG = 97
    panes: list[GrepPane]
    truncated: bool = False
    skipped: list[str] | None = None  # sessions not searched, each as "NAME: why"

    def hit_list(self) -> list[GrepHit]:
        return [
            GrepHit(
                g.session_id,
                g.session,
                g.window,
                g.pane,
                int(r[0]),
                str(r[1]),
                int(r[2]),
                int(r[3]),
                g.saved,
                g.pane_index,
            )
            for g in self.panes
            for r in g.rows
        ]


@_value
class HostGrep(Message):
    """Grep as the daemon forwards it to each live host (the pattern already checked); the host
    answers GrepHits for its panes, `row` as each pane's stable index."""

    TAG = 98
    pattern: str
    regex: bool
    ignore_case: bool
    limit: int
    pane: int = ALL_PANES  # else that pane (-1: the active one)


@_value
class HostPaste(Message):
    """Bytes typed into a pane as a paste: bracketed if its program asked for bracketed paste."""

    TAG = 99
    data: bytes
    pane: int = -1


@_value
class Layout(Message):
    """Pushed (host -> daemon -> attached clients) when attaching and after every change of windows,
    panes, sizes, zoom, names or titles: the whole structure, so a client never computes geometry.
    `cols` x `rows` is the window size; `borders` are the current window's border runs as
    `[x, y, length, vertical, active]` (0/1 flags: drawn down instead of across; in the active colour)."""

    TAG = 48
    session_id: str
    cols: int
    rows: int
    windows: list[WindowInfo]
    panes: list[PaneInfo]  # every pane of every window
    borders: list[list[int]]


# -- client -> daemon -> host: windows and panes (tmux's verbs) --------------------------------------
#
# A client names its target in tmux's syntax (`session:window.pane`, `%ID`, `@ID`); the daemon resolves
# it and forwards the same message to the session's host with `target` rewritten to `%ID` (a pane) or
# `@ID` (a window), and new ids (`pane_id`, `window_id`) taken from the daemon's persisted counter.
# The host applies it in one step, pushes `Layout`, then answers `Done`, `Spawned` or `Failed`.


@_value
class SplitWindow(Message):
    TAG = 70
    target: str
    horizontal: bool = False  # -h: side by side (a left-right split); else one above the other
    before: bool = False  # -b: the new pane goes left of / above the target
    full: bool = False  # -f: across the whole window
    size: int = 0  # -l: cells (0: half)
    percent: int = 0  # -p / -l N%
    detached: bool = False  # -d: the target stays active
    cwd: str | None = None
    command: list[str] | None = None
    pane_id: int = 0


@_value
class NewWindow(Message):
    TAG = 71
    target: str  # a session, or `session:INDEX` for the index to use
    name: str | None = None
    detached: bool = False
    cwd: str | None = None
    command: list[str] | None = None
    index: int = -1  # -1: the first free index
    pane_id: int = 0
    window_id: int = 0


@_value
class SelectPane(Message):
    TAG = 72
    target: str
    direction: str = ""  # L R U D: the neighbour that way (-L -R -U -D)
    last: bool = False  # -l: the previously active pane
    step: int = 0  # +1 / -1: next / previous pane in pane order (prefix o)


@_value
class SelectWindow(Message):
    TAG = 73
    target: str
    step: int = 0  # +1 / -1: next / previous window (-n / -p)
    last: bool = False  # -l


@_value
class KillPane(Message):
    TAG = 74
    target: str


@_value
class KillWindow(Message):
    TAG = 75
    target: str


@_value
class RenameWindow(Message):
    TAG = 76
    target: str
    name: str


@_value
class ResizePane(Message):
    TAG = 77
    target: str
    direction: str = ""  # L R U D
    amount: int = 1
    zoom: bool = False  # -Z: toggle zoom
    width: int = 0  # -x: an absolute width (0: unchanged)
    height: int = 0  # -y


@_value
class SwapPane(Message):
    TAG = 78
    target: str
    source: str = ""  # -s: swap with this pane instead
    previous: bool = False  # -U: with the previous pane in order
    next: bool = False  # -D: with the next
    detached: bool = False  # -d: the active pane stays where it is


@_value
class BreakPane(Message):
    TAG = 79
    target: str
    name: str | None = None
    detached: bool = False
    window_id: int = 0


@_value
class SelectLayout(Message):
    TAG = 80
    target: str
    layout: str = ""  # a preset name or a tmux layout string
    step: int = 0  # +1 / -1: next / previous preset (prefix Space)
    spread: bool = False  # -E: spread the pane's neighbours out evenly


@_value
class DragBorder(Message):
    """The mouse dragged the border under (x, y) of the target window to (to_x, to_y)."""

    TAG = 81
    target: str
    x: int
    y: int
    to_x: int
    to_y: int


@_value
class SetWindowOption(Message):
    """`synchronize-panes` or `automatic-rename` to `on` / `off`."""

    TAG = 82
    target: str
    name: str
    value: str


@_value
class Spawned(Message):
    """A new pane (split-window, new-window, break-pane): where it is."""

    TAG = 83
    session_id: str
    window: int  # index
    window_id: int
    pane: int


@_value
class ClientContext(Message):
    """Client -> daemon, no reply: the session and pane this connection's commands run in (a CLI run
    inside a session: SCARAB and SCARAB_PANE, as tmux takes TMUX and TMUX_PANE). Targets without a
    session part (`:1`, `.2`, `-t 1`, none) are taken from there."""

    TAG = 84
    session: str
    pane: int = -1  # -1: the session's active pane


@_value
class LayoutQuery(Message):
    """list-windows / list-panes: the latest Layout of the session a target names (a window
    target; "" the current one); answered by LayoutReply."""

    TAG = 85
    target: str = ""
    programs: bool = False  # also each pane's foreground program (`scarab save`)


@_value
class PaneProgram(_Value):
    """A pane's foreground program, as /proc shows it on the machine the pane runs on (so `save
    --ssh` gets the remote side's): its directory and command line."""

    pane: int
    cwd: str
    argv: list[str]
    shell: bool  # the pane's own program is in the foreground (a shell at its prompt, or not a shell)


@_value
class LayoutReply(Message):
    TAG = 86
    session_name: str
    window: int  # the index of the window the target named
    layout: Layout
    programs: list[PaneProgram] | None = None  # asked for: each live pane's foreground program


# -- recording and limits (issue 18: tags 100-109) ------------------------------------------------


@_value
class RecordingInfo(_Value):
    """One pane's recording, as `scarab record status` shows it."""

    pane: int
    path: str
    active: bool
    size: int  # bytes written
    started: float  # epoch seconds
    reason: str  # why it stopped ("" while active)
    input: bool = False  # keystrokes recorded too


@_value
class Record(Message):
    """`record start|stop|status` of a session's pane (client -> daemon); answered by Recordings."""

    TAG = 100
    target: str
    action: str  # start | stop | status
    path: str = ""  # start: an absolute file name; "" = the default place
    input: bool = False  # start: record keystrokes too


@_value
class Recordings(Message):
    """The recordings of one session's panes, newest last (daemon -> client, host -> daemon)."""

    TAG = 101
    session_id: str
    items: list[RecordingInfo]


@_value
class HostRecord(Message):
    """Record's verb for the host (pane -1: the active pane); answered by Recordings."""

    TAG = 102
    pane: int
    action: str
    path: str = ""
    input: bool = False


@_value
class Limit(Message):
    """Change a session's limits (client -> daemon): [memory bytes, cpu percent, tasks], each 0 to
    leave it as it is, -1 to remove it; all 0 only asks. Answered by LimitsReport."""

    TAG = 103
    target: str
    limits: list[int]


@_value
class LimitsReport(Message):
    """A session's limits now, how they are enforced, and what its programs use."""

    TAG = 104
    session_id: str
    limits: list[int]  # [memory, cpu, tasks], 0: not capped
    enforcement: str  # systemd scope | cgroup v2 | setrlimit
    statement: str  # what is in force, plainly
    memory: int = -1  # bytes resident, its programs together
    cpu: float = -1.0  # percent of one CPU since the last look (-1: first look)
    cpu_seconds: float = 0.0
    processes: int = 0


@_value
class HostLimit(Message):
    """Limit's verb for the host (same values); answered by LimitsReport."""

    TAG = 105
    limits: list[int]


@_value
class Notice(Message):
    """A line of Scarab's about a session for the status bar (host -> daemon -> each client
    attached, and an Event of its `kind` to each watcher): a recording stopped by itself (size
    cap, full disk), a program a limit killed, the limits set."""

    TAG = 106
    session_id: str
    text: str
    pane: int = -1
    kind: str = "notice"  # recording-stopped | program-killed | limits-set


# -- daemon <-> host -------------------------------------------------------------------------------


@_value
class HostInfo(Message):
    """The host's answer to the daemon's Hello: who it is and what it runs."""

    TAG = 50
    session_id: str
    name: str
    host_pid: int
    child_pid: int
    cols: int
    rows: int
    cwd: str
    exited: bool = False
    exit_status: int = 0
    environ: list[str] | None = None  # the session's environment overrides, as Environment's entries
    limits: list[int] | None = None  # the session's limits [memory, cpu, tasks] (0: none), kept by the daemon


@_value
class HostInput(Message):
    TAG = 51
    data: bytes
    pane: int = -1  # -1: the active pane of the current window (with synchronize-panes: all of it)


@_value
class HostResize(Message):
    TAG = 52
    cols: int
    rows: int


@_value
class HostCapture(Message):
    """Page 0 takes the rows and answers the first `Captured` page; page N the next one of them."""

    TAG = 53
    scrollback: bool
    ansi: bool
    page: int = 0
    pane: int = -1


@_value
class HostSnapshot(Message):
    """Ask the host for the visible part of what resurrection needs; history follows by pages."""

    TAG = 54
    pane: int = -1


@_value
class Snapshot(Message):
    """`data`: msgpack `{v, cols, rows, cursor, cwd, screen: {rows, styles}}` (the frame row
    encoding), packed by the host so the daemon stores it without unpacking. History rows have
    stable indexes (rows ever pushed): `first` is the oldest kept, `total` one past the newest."""

    TAG = 55
    cwd: str
    data: bytes
    first: int = 0
    total: int = 0
    pane: int = 0


@_value
class HostSaveRows(Message):
    """History rows [start, stop) by stable index, for a snapshot; answered by one bounded `SaveRows`."""

    TAG = 62
    start: int
    stop: int
    pane: int = -1


@_value
class SaveRows(Message):
    """History rows [start, stop) as msgpack `{rows, styles}`, packed by the host for the daemon to store
    without unpacking; fewer than asked when the page is full (PAGE_CELLS), starting later when
    older rows already fell off the scrollback."""

    TAG = 63
    start: int
    stop: int
    data: bytes


@_value
class HostRedraw(Message):
    """Ask for a full frame (a client attached, or one fell behind)."""

    TAG = 56


@_value
class HostTerminate(Message):
    TAG = 57


@_value
class HostRename(Message):
    """The session's new name, so a daemon rebuilding from live hosts gets it right."""

    TAG = 59
    name: str


@_value
class ChildExited(Message):
    TAG = 58
    status: int


@_value
class HostEnvironment(Message):
    """The session's environment overrides changed (kept by the host so a new daemon adopts them)."""

    TAG = 64
    entries: list[str]


@_value
class HostClearHistory(Message):
    TAG = 60


@_value
class HostHistory(Message):
    """HistoryRequest as the daemon forwards it; the host answers History."""

    TAG = 61
    start: int
    count: int
    pane: int = -1


@_value
class HostAuth(Message):
    """Right after the daemon's Hello: the secret every host of this database was started with.
    A host takes a connection as its daemon only with it (any process of the user could connect)."""

    TAG = 68
    token: str


# -- client <-> daemon: scripts and tools (display -p, watch) ---------------------------------------


@_value
class Describe(Message):
    """What a target names, for `display -p` (a pane target: tmux's target-pane) and `has-session`
    (`session_only`: tmux's target-session); answered by Described."""

    TAG = 110
    target: str
    session_only: bool = False


@_value
class Described(Message):
    """The target's session, its latest Layout (None until its host has described it) and the pane
    the target names (its window's active pane for a window or session). `current_path` and
    `current_command`: that pane's foreground program's cwd and name, read from /proc when asked
    (tmux's pane_current_path / pane_current_command)."""

    TAG = 111
    session: SessionInfo
    layout: Layout | None = None
    pane: int = -1
    current_path: str = ""
    current_command: str = ""


@_value
class BuildPane(_Value):
    """A pane of a template (templates.py): where it starts, its own variables (`NAME=VALUE`), and
    the lines typed into its shell once the shell waits for input."""

    cwd: str
    environ: list[str]
    commands: list[str]


@_value
class BuildWindow(_Value):
    name: str  # "": automatic-rename, as a window made by hand
    layout: str  # tmux's layout string at the session's size, panes numbered 0..n-1 in order
    active: int  # the index of its active pane
    panes: list[BuildPane]


@_value
class SessionBuild(Message):
    """`new -L`: a session built from a template, every pane at its final size before any program
    starts; answered by Created (once the programs run; commands are typed as each shell is ready)."""

    TAG = 114
    name: str
    cols: int
    rows: int
    cwd: str
    windows: list[BuildWindow]
    current: int = 0  # the index of the window shown first
    environ: list[str] | None = None  # as SessionCreate's, plus the template's own variables
    limits: list[int] | None = None  # [memory, cpu, tasks]: 0 config.toml's default, -1 none, else the value
    record: bool = False  # every pane recorded from its first byte (new -L --record)


@_value
class Watch(Message):
    """Turn this connection into an event stream (tmux's control mode, typed): answered by Done,
    then `Event`s are pushed until it closes. A watcher that stops reading is dropped (closed),
    never waited for."""

    TAG = 112
    target: str = ""  # a session: only its events; "": every session's
    output: bool = False  # also each pane's output, as text (merged and rate-limited under a flood)


@_value
class Event(Message):
    """Pushed to a watcher: `kind` is watching (first: the stream is live), session-created,
    session-renamed, session-closed, session-exited, session-respawned, client-attached,
    client-detached, window-added, window-closed, window-renamed, window-selected, layout-changed,
    pane-added, pane-closed, pane-resized, pane-selected, pane-title-changed, pane-cwd-changed,
    pane-exited, bell, output, recording-stopped, program-killed, limits-set (a Notice: its text
    in `value`), exit (last: the daemon is stopping); see README, `scarab watch`.
    `value` is what the kind says changed: the new name, the exit status, the output text."""

    TAG = 113
    kind: str
    time: float
    session_id: str = ""
    session: str = ""  # the session's name (its new name for session-renamed)
    window: int = -1  # a window's index, when the event is about one
    pane: int = -1  # a pane's id (%N), when the event is about one
    value: str = ""


_install_inits()

MESSAGES: dict[int, type[Message]] = {
    cls.TAG: cls
    for cls in (
        Hello,
        Record,
        Recordings,
        HostRecord,
        Limit,
        LimitsReport,
        HostLimit,
        Notice,
        SessionCreate,
        SessionDelete,
        SessionList,
        SessionAttach,
        SessionDetach,
        SessionRename,
        Capture,
        Input,
        Resize,
        Cleanup,
        DaemonStatus,
        DaemonStop,
        SessionRespawn,
        ClearHistory,
        HistoryRequest,
        ShowEnvironment,
        SetEnvironment,
        Created,
        Deleted,
        Listed,
        Attached,
        Detached,
        Renamed,
        Failed,
        Captured,
        Done,
        StatusReport,
        Frame,
        CleanedUp,
        Kicked,
        SessionsChanged,
        FrameAck,
        Respawned,
        Environment,
        History,
        HostInfo,
        HostInput,
        HostResize,
        HostCapture,
        HostSnapshot,
        Snapshot,
        HostRedraw,
        HostTerminate,
        HostRename,
        HostAuth,
        ChildExited,
        HostClearHistory,
        HostHistory,
        HostSaveRows,
        SaveRows,
        HostEnvironment,
        ListBuffers,
        Buffers,
        ShowBuffer,
        SetBuffer,
        DeleteBuffer,
        PasteBuffer,
        Grep,
        GrepHits,
        HostGrep,
        HostPaste,
        Layout,
        SplitWindow,
        NewWindow,
        SelectPane,
        SelectWindow,
        KillPane,
        KillWindow,
        RenameWindow,
        ResizePane,
        SwapPane,
        BreakPane,
        SelectLayout,
        DragBorder,
        SetWindowOption,
        Spawned,
        ClientContext,
        LayoutQuery,
        LayoutReply,
        Describe,
        Described,
        Watch,
        Event,
        SessionBuild,
    )
}


# -- wire form -------------------------------------------------------------------------------------


def _to_wire(value: Any) -> Any:
    if isinstance(value, _Value):
        return {name: _to_wire(getattr(value, name)) for name in _field_names(type(value))}
    # Only lists of values need converting; rows of a frame go to msgpack as they are (hot path).
    if isinstance(value, list | tuple) and value and isinstance(value[0], _Value):
        return [_to_wire(v) for v in value]
    return value


def encode(msg: Message) -> bytes:
    """One message as a length-prefixed frame."""
    payload: bytes = msgpack.packb([msg.TAG, _to_wire(msg)], use_bin_type=True)
    return HEADER.pack(len(payload)) + payload


def decode(payload: bytes) -> Message:
    """One frame's payload (without the length prefix) as a message, fully type-checked."""
    try:
        obj = msgpack.unpackb(payload, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types for garbage
        raise ProtocolError(f"malformed frame: {exc.__class__.__name__}: {exc}") from None
    if not (isinstance(obj, list) and len(obj) == 2 and isinstance(obj[0], int) and isinstance(obj[1], dict)):
        raise ProtocolError("malformed frame: expected [tag, {fields}]")
    tag, fields = obj
    cls = MESSAGES.get(tag)
    if cls is None:
        raise ProtocolError(f"unknown message tag {tag}")
    message: Message = _build(cls, fields)
    return message


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


_Checker = typing.Callable[[Any, str], Any]


class _Spec(typing.NamedTuple):
    """How to check one class's fields: a checker per field with the field's name for its errors
    (`Class.field`, made here once rather than at every decode), and those that must be present."""

    checkers: dict[str, tuple[_Checker, str]]
    required: tuple[str, ...]


_SPECS: dict[type, _Spec] = {}


def _spec(cls: type) -> _Spec:
    """The class's checkers, compiled from its type hints once (decode is on every message's path)."""
    spec = _SPECS.get(cls)
    if spec is None:
        hints = _hints(cls)
        fields = dataclasses.fields(cls)
        spec = _SPECS[cls] = _Spec(
            {f.name: (_checker(hints[f.name]), f"{cls.__name__}.{f.name}") for f in fields},
            tuple(
                f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ),
        )
    return spec


def _build(cls: type[Any], fields: dict[str, Any]) -> Any:
    checkers, required = _spec(cls)
    kwargs: dict[str, Any] = {}
    for name, value in fields.items():
        checker = checkers.get(name)
        if checker is None:
            raise ProtocolError(f"{cls.__name__}: unknown field {name!r}")
        check, where = checker
        kwargs[name] = check(value, where)
    missing = [name for name in required if name not in kwargs]
    if missing:
        raise ProtocolError(f"{cls.__name__}: missing field(s) {', '.join(missing)}")
    return cls(**kwargs)


def _expected(tp: Any, value: Any, where: str) -> ProtocolError:
    return ProtocolError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {type(value).__name__}")


def _checker(tp: Any) -> _Checker:
    """A function that returns a wire value as field type `tp` wants it, or raises ProtocolError."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return lambda value, where: value
    if origin in (typing.Union, types.UnionType):
        options = [_checker(option) for option in typing.get_args(tp)]

        def check_union(value: Any, where: str) -> Any:
            for option in options:
                try:
                    return option(value, where)
                except ProtocolError:
                    continue
            raise ProtocolError(f"{where}: unexpected {type(value).__name__}")

        return check_union
    if tp is type(None):

        def check_none(value: Any, where: str) -> Any:
            if value is None:
                return None
            raise _expected(tp, value, where)

        return check_none
    if origin is list:
        (item,) = typing.get_args(tp)
        if item is Any:  # frame rows: checked where they are used, not element by element here

            def check_rows(value: Any, where: str) -> Any:
                if isinstance(value, list):
                    return value
                raise _expected(tp, value, where)

            return check_rows
        check_item = _checker(item)

        def check_list(value: Any, where: str) -> Any:
            if isinstance(value, list):
                return [check_item(v, where) for v in value]
            raise _expected(tp, value, where)

        return check_list
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):

        def check_value(value: Any, where: str) -> Any:
            if isinstance(value, dict):
                return _build(tp, value)
            raise _expected(tp, value, where)

        return check_value
    if tp is int:

        def check_int(value: Any, where: str) -> Any:
            # bool is an int subclass; a flag where a number belongs is still a malformed frame.
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise _expected(tp, value, where)

        return check_int

    def check_type(value: Any, where: str) -> Any:
        if isinstance(value, tp):
            return value
        raise _expected(tp, value, where)

    return check_type


def check_hello(msg: Message) -> None:
    """Refuse a peer that does not open with Hello or speaks another protocol version."""
    if not isinstance(msg, Hello):
        raise ProtocolError(f"expected Hello first, got {type(msg).__name__}")
    if msg.version != PROTOCOL_VERSION:
        raise ProtocolError(
            f"protocol version mismatch: peer speaks {msg.version}, this scarab speaks {PROTOCOL_VERSION}; "
            "restart the daemon (`scarab daemon restart`) or upgrade scarab on both sides"
        )


def frame_length(header: bytes | bytearray, offset: int = 0) -> int:
    """The payload length a frame header announces; ProtocolError past MAX_FRAME."""
    (length,) = HEADER.unpack_from(header, offset)
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length} bytes exceeds the {MAX_FRAME} byte limit")
    return int(length)


def split_frames(buffer: bytearray) -> list[bytes]:
    """Remove the complete frames at the front of `buffer` and return their payloads.

    Raises ProtocolError for a frame longer than MAX_FRAME, before its payload is waited for."""
    payloads: list[bytes] = []
    start = 0
    while len(buffer) - start >= HEADER.size:
        end = start + HEADER.size + frame_length(buffer, start)
        if len(buffer) < end:
            break
        payloads.append(bytes(buffer[start + HEADER.size : end]))
        start = end
    del buffer[:start]
    return payloads


def preload() -> None:
    """Compile every message's field checkers and names now (a zygote does, so its forks share
    them: compiled in a host, each class's copied zygote pages into it)."""
    for cls in (*MESSAGES.values(), SessionInfo, PaneInfo, WindowInfo, BufferInfo, GrepPane, BuildPane, BuildWindow,
                PaneProgram):  # fmt: skip
        _spec(cls)
        _field_names(cls)


__all__ += [cls.__name__ for cls in MESSAGES.values()]
__all__ += [
    "BufferInfo",
    "BuildPane",
    "BuildWindow",
    "GrepHit",
    "GrepPane",
    "PaneInfo",
    "PaneProgram",
    "SessionInfo",
    "WindowInfo",
    "by_name",
    "check_hello",
    "frame_length",
    "preload",
    "split_frames",
]
