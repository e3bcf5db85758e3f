"""CLI layer, windows and panes: tmux's verbs (split-window, new-window, select-pane, ...,
list-windows, list-panes) as `scarab` subcommands. Parses their arguments into the protocol's
messages, sends them through the client library and prints the replies; cli.py registers and
dispatches them through the VERBS table.

Targets are tmux's (`session:window.pane`, `%ID`, `@ID`); the daemon resolves them. A command run
inside a session tells the daemon where it runs (SCARAB, SCARAB_PANE), as tmux's TMUX_PANE does, so
`scarab split-window` there splits the pane it was typed in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
from collections.abc import Callable
from typing import Any

from scarab import protocol as p
from scarab.client import Client
from scarab.cliverbs import ask, context
from scarab.errors import BadRequest, HostUnavailable, SessionNotFound
from scarab.formats import expand, pane_values, window_values
from scarab.paths import Paths

__all__ = ["ALIASES", "VERBS", "add_verbs", "context", "pane_rows", "run_verb", "window_rows"]

_SIZE = re.compile(r"^(\d+)(%?)$")
_FORMAT_FIELD = re.compile(r"#\{([a-z_]+)\}")
# tmux's default -P format for split-window, new-window and break-pane.
SPAWNED_FORMAT = "#{session_name}:#{window_index}.#{pane_index}"


def _run(msg: p.Message) -> p.Message:
    async def go() -> p.Message:
        client = await Client.connect(Paths.default())
        try:
            return await ask(client, msg)
        finally:
            await client.close()

    return asyncio.run(go())


def _command(argv: list[str]) -> list[str] | None:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    return argv or None


def _cwd(text: str | None) -> str | None:
    return os.path.abspath(os.path.expanduser(text)) if text else None


def _size(text: str) -> tuple[int, int]:
    """-l SIZE: cells, or N% of the space (tmux 3.3a's -l N%)."""
    match = _SIZE.match(text.strip())
    if not match:
        raise BadRequest(f"bad size {text!r}: use a number of cells or a percentage (like 20 or 30%)")
    value = int(match.group(1))
    if match.group(2):
        if not 0 < value < 100:
            raise BadRequest(f"bad size {text!r}: a percentage must be between 1 and 99")
        return 0, value
    if not 0 < value <= p.MAX_SIZE:
        raise BadRequest(f"bad size {text!r}: must be between 1 and {p.MAX_SIZE} cells")
    return value, 0


def _print_spawned(args: argparse.Namespace, spawned: p.Message) -> None:
    if not args.print:
        return
    assert isinstance(spawned, p.Spawned)
    reply = _run(p.LayoutQuery(target=f"%{spawned.pane}"))
    assert isinstance(reply, p.LayoutReply)
    values = {"session_name": reply.session_name, "session_id": f"${spawned.session_id}"}
    pane = next((q for q in reply.layout.panes if q.id == spawned.pane), None)
    if pane is not None:
        values.update(pane_values(reply.layout, pane))
    print(expand(args.format or SPAWNED_FORMAT, values))


# -- the verbs ----------------------------------------------------------------------------------------


def split_window(args: argparse.Namespace) -> int:
    if args.horizontal and args.vertical:
        raise BadRequest("split-window takes -h or -v, not both")
    if args.size is not None and args.percent is not None:
        raise BadRequest("split-window takes -l SIZE or -p PERCENT, not both")
    size, percent = _size(args.size) if args.size is not None else (0, 0)
    if args.percent is not None:
        size, percent = _size(f"{args.percent}%")
    msg = p.SplitWindow(
        target=args.target or "", horizontal=args.horizontal, before=args.before, full=args.full, size=size,
        percent=percent, detached=args.detached, cwd=_cwd(args.cwd), command=_command(args.argv),
    )  # fmt: skip
    _print_spawned(args, _run(msg))
    return 0


def new_window(args: argparse.Namespace) -> int:
    msg = p.NewWindow(target=args.target or "", name=args.name, detached=args.detached, cwd=_cwd(args.cwd),
                      command=_command(args.argv))  # fmt: skip
    _print_spawned(args, _run(msg))
    return 0


def break_pane(args: argparse.Namespace) -> int:
    _print_spawned(args, _run(p.BreakPane(target=args.source or "", name=args.name, detached=args.detached)))
    return 0


def select_pane(args: argparse.Namespace) -> int:
    _run(p.SelectPane(target=args.target or "", direction=args.direction or "", last=args.last))
    return 0


def select_window(args: argparse.Namespace) -> int:
    step = 1 if args.next else -1 if args.previous else 0
    _run(p.SelectWindow(target=args.target or "", step=step, last=args.last))
    return 0


def kill_pane(args: argparse.Namespace) -> int:
    _run(p.KillPane(target=args.target or ""))
    return 0


def kill_window(args: argparse.Namespace) -> int:
    _run(p.KillWindow(target=args.target or ""))
    return 0


def rename_window(args: argparse.Namespace) -> int:
    if not args.name.strip():
        raise BadRequest("a window name must not be empty")
    _run(p.RenameWindow(target=args.target or "", name=args.name))
    return 0


def resize_pane(args: argparse.Namespace) -> int:
    if args.amount is not None and not args.direction:
        raise BadRequest("resize-pane: an adjustment needs a direction (-L, -R, -U or -D)")
    amount = args.amount if args.amount is not None else 1
    for value, what in ((amount, "adjustment"), (args.width, "width"), (args.height, "height")):
        if value is not None and not 0 < value <= p.MAX_SIZE:
            raise BadRequest(f"resize-pane: bad {what} {value}: must be between 1 and {p.MAX_SIZE}")
    msg = p.ResizePane(target=args.target or "", direction=args.direction or "", amount=amount, zoom=args.zoom,
                       width=args.width or 0, height=args.height or 0)  # fmt: skip
    _run(msg)
    return 0


def swap_pane(args: argparse.Namespace) -> int:
    if args.source and (args.up or args.down):
        raise BadRequest("swap-pane takes -s SRC or -U/-D, not both")
    _run(p.SwapPane(target=args.target or "", source=args.source or "", previous=args.up, next=args.down,
                    detached=args.detached))  # fmt: skip
    return 0


def select_layout(args: argparse.Namespace) -> int:
    step = 1 if args.next else -1 if args.previous else 0
    if not (step or args.spread or args.layout):
        raise BadRequest("select-layout needs a layout name or string (or -n, -p, -E)")
    _run(p.SelectLayout(target=args.target or "", layout=args.layout or "", step=step, spread=args.spread))
    return 0


_OPTIONS = ("synchronize-panes", "automatic-rename")


def set_window_option(args: argparse.Namespace) -> int:
    if args.option not in _OPTIONS:
        raise BadRequest(f"unknown window option {args.option!r}: Scarab has {', '.join(_OPTIONS)}")
    if args.value not in ("on", "off"):
        raise BadRequest(f"bad value {args.value!r} for {args.option}: use on or off")
    _run(p.SetWindowOption(target=args.target or "", name=args.option, value=args.value))
    return 0


def window_rows(reply: p.LayoutReply) -> list[dict[str, Any]]:
    """list-windows' fields for each window of the session."""
    layout = reply.layout
    return [
        {
            "session": reply.session_name,
            "index": w.index,
            "id": f"@{w.id}",
            "name": w.name,
            "flags": w.flags,
            "active": "*" in w.flags,
            "last": "-" in w.flags,
            "zoomed": "Z" in w.flags,
            "panes": sum(1 for pane in layout.panes if pane.window == w.index),
            "width": layout.cols,
            "height": layout.rows,
            "layout": w.layout,
            "active_pane": f"%{w.active_pane}",
            "automatic_rename": w.automatic_rename,
            "synchronize_panes": w.synchronize,
        }
        for w in layout.windows
    ]


def pane_rows(reply: p.LayoutReply, whole_session: bool) -> list[dict[str, Any]]:
    """list-panes' fields for each pane of the named window (or of the session)."""
    layout = reply.layout
    zoomed = {w.index for w in layout.windows if "Z" in w.flags}
    rows = []
    for w in layout.windows:
        if not whole_session and w.index != reply.window:
            continue
        for index, pane in enumerate(pane for pane in layout.panes if pane.window == w.index):
            rows.append(
                {
                    "session": reply.session_name,
                    "id": f"%{pane.id}",
                    "window": w.index,
                    "window_id": f"@{w.id}",
                    "index": index,
                    "left": pane.left,
                    "top": pane.top,
                    "width": pane.width,
                    "height": pane.height,
                    "active": pane.active,
                    "zoomed": w.index in zoomed,
                    "visible": pane.visible,
                    "pid": pane.pid,
                    "cwd": pane.cwd,
                    "command": list(pane.command or []),
                    "current_command": pane.current,
                    "title": pane.title,
                    "exited": pane.exited,
                    "exit_status": pane.exit_status,
                }
            )
    return rows


def _session_values(reply: p.LayoutReply) -> dict[str, str]:
    """The session variables list-panes/list-windows -F can show without asking again."""
    return {"session_name": reply.session_name, "session_id": f"${reply.layout.session_id}",
            "session_windows": str(len(reply.layout.windows))}  # fmt: skip


async def _layouts(client: Client, target: str | None, every_session: bool) -> list[p.LayoutReply]:
    """The Layout of the session `target` names, or (-a) of every session that has described its windows."""
    if not every_session:
        reply = await ask(client, p.LayoutQuery(target=target or ""))
        assert isinstance(reply, p.LayoutReply)
        if not reply.layout.windows:
            raise BadRequest(
                f"session {reply.session_name!r} has not described its windows yet (its host is restoring)"
            )
        return [reply]
    listed = await client.request(p.SessionList())
    assert isinstance(listed, p.Listed)
    replies = []
    for session in p.by_name(listed.sessions):  # tmux's -a goes through its sessions by name
        try:
            reply = await client.request(p.LayoutQuery(target=f"${session.id}:"))
        except SessionNotFound:  # deleted since it was listed
            continue
        assert isinstance(reply, p.LayoutReply)
        if reply.layout.windows:
            replies.append(reply)
    return replies


async def _history(client: Client, pane: p.PaneInfo) -> dict[str, str]:
    """A pane's history figures (tmux's history_size, history_limit, history_bytes); a pane whose
    host does not run (an exited session) has none kept."""
    try:
        reply = await client.request(p.HistoryRequest(target=f"%{pane.id}", start=0, count=0))
    except (HostUnavailable, SessionNotFound):
        return {"history_size": "0", "history_limit": "0", "history_bytes": "0"}
    assert isinstance(reply, p.History)
    return {"history_size": str(reply.total - reply.oldest), "history_limit": str(reply.limit),
            "history_bytes": str(reply.size)}  # fmt: skip


def _listing(
    target: str | None, every_session: bool, history: bool
) -> list[tuple[p.LayoutReply, dict[int, dict[str, str]]]]:
    """Each session's LayoutReply, with each pane's history figures when `history` (one connection)."""

    async def go() -> list[tuple[p.LayoutReply, dict[int, dict[str, str]]]]:
        client = await Client.connect(Paths.default())
        try:
            out = []
            for reply in await _layouts(client, target, every_session):
                figures = {pane.id: await _history(client, pane) for pane in reply.layout.panes} if history else {}
                out.append((reply, figures))
            return out
        finally:
            await client.close()

    return asyncio.run(go())


# tmux 3.3a's default list-windows and list-panes lines (cmd-list-windows.c, cmd-list-panes.c).
WINDOWS_FORMAT = (
    "#{window_index}: #{window_name}#{window_raw_flags} (#{window_panes} panes) "
    "[#{window_width}x#{window_height}] [layout #{window_layout}] #{window_id}#{?window_active, (active),}"
)
WINDOWS_ALL_FORMAT = (
    "#{session_name}:#{window_index}: #{window_name}#{window_raw_flags} (#{window_panes} panes) "
    "[#{window_width}x#{window_height}] "
)
PANES_FORMAT = (
    "#{pane_index}: [#{pane_width}x#{pane_height}] [history #{history_size}/#{history_limit}, "
    "#{history_bytes} bytes] #{pane_id}#{?pane_active, (active),}#{?pane_dead, (dead),}"
)
PANES_SESSION_FORMAT = "#{window_index}." + PANES_FORMAT
PANES_ALL_FORMAT = "#{session_name}:#{window_index}." + PANES_FORMAT  # fmt: skip


def list_windows(args: argparse.Namespace) -> int:
    target = args.target
    if target and ":" not in target and not target.startswith(("@", "%")):
        target += ":"  # list-windows -t takes a session
    fmt = args.format if args.format is not None else WINDOWS_ALL_FORMAT if args.all else WINDOWS_FORMAT
    expand(fmt, {})  # a bad format is refused before anything is asked
    listing = _listing(target, args.all, history=False)
    if args.json:
        print(json.dumps([row for reply, _ in listing for row in window_rows(reply)], indent=2))
        return 0
    for reply, _ in listing:
        for window in reply.layout.windows:
            print(expand(fmt, {**_session_values(reply), **window_values(reply.layout, window)}))
    return 0


def list_panes(args: argparse.Namespace) -> int:
    whole_session = args.session or args.all
    default = PANES_ALL_FORMAT if args.all else PANES_SESSION_FORMAT if args.session else PANES_FORMAT
    fmt = args.format if args.format is not None else default
    expand(fmt, {})
    listing = _listing(args.target, args.all, history=not args.json and "history_" in fmt)
    if args.json:
        print(json.dumps([row for reply, _ in listing for row in pane_rows(reply, whole_session)], indent=2))
        return 0
    for reply, figures in listing:
        for info in reply.layout.panes:
            if whole_session or info.window == reply.window:
                values = {**_session_values(reply), **pane_values(reply.layout, info), **figures.get(info.id, {})}
                print(expand(fmt, values))
    return 0


VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "split-window": split_window,
    "new-window": new_window,
    "break-pane": break_pane,
    "select-pane": select_pane,
    "select-window": select_window,
    "kill-pane": kill_pane,
    "kill-window": kill_window,
    "rename-window": rename_window,
    "resize-pane": resize_pane,
    "swap-pane": swap_pane,
    "select-layout": select_layout,
    "set-window-option": set_window_option,
    "list-windows": list_windows,
    "list-panes": list_panes,
}
ALIASES = {"splitw": "split-window", "neww": "new-window", "selectp": "select-pane", "selectw": "select-window",
           "killp": "kill-pane", "killw": "kill-window", "renamew": "rename-window", "resizep": "resize-pane",
           "swapp": "swap-pane", "breakp": "break-pane", "selectl": "select-layout", "setw": "set-window-option",
           "lsw": "list-windows", "lsp": "list-panes"}  # fmt: skip


def add_verbs(sub: Any) -> None:
    """Register the verbs' subcommands (and tmux's short aliases) on cli.py's subparsers."""
    aliases = {verb: [a for a, v in ALIASES.items() if v == verb] for verb in VERBS}

    def verb(name: str, help: str, target: str) -> argparse.ArgumentParser:
        # tmux's -h is split-window's "side by side": help is --help only.
        parser: argparse.ArgumentParser = sub.add_parser(name, aliases=aliases[name], help=help, add_help=False)
        parser.add_argument("--help", action="help", help="show this help message and exit")
        if target:
            parser.add_argument("-t", dest="target", metavar="TARGET", help=target)
        return parser

    def spawn_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-d", dest="detached", action="store_true", help="do not make it the active one")
        parser.add_argument("-P", dest="print", action="store_true", help="print where it is (session:window.pane)")
        parser.add_argument("-F", dest="format", metavar="FORMAT", help="with -P: #{pane_id}, #{window_index}, ...")

    split = verb("split-window", "split a pane in two (like tmux)", "the pane to split (default: the active one)")
    split.add_argument("-h", dest="horizontal", action="store_true", help="side by side")
    split.add_argument("-v", dest="vertical", action="store_true", help="one above the other (the default)")
    split.add_argument("-b", dest="before", action="store_true", help="the new pane left of / above the target")
    split.add_argument("-f", dest="full", action="store_true", help="across the whole window")
    split.add_argument("-c", dest="cwd", metavar="DIR", help="working directory")
    split.add_argument("-l", dest="size", metavar="SIZE", help="size of the new pane: cells, or N%%")
    split.add_argument("-p", dest="percent", type=int, metavar="PERCENT", help="size as a percentage")
    spawn_options(split)
    split.add_argument("argv", nargs=argparse.REMAINDER, help="command to run (after --)")

    new = verb("new-window", "open a new window (like tmux)", "SESSION or SESSION:INDEX")
    new.add_argument("-n", dest="name", help="window name")
    new.add_argument("-c", dest="cwd", metavar="DIR", help="working directory")
    spawn_options(new)
    new.add_argument("argv", nargs=argparse.REMAINDER, help="command to run (after --)")

    brk = verb("break-pane", "move a pane to a window of its own", "")
    brk.add_argument("-s", dest="source", metavar="SRC", help="the pane (default: the active one)")
    brk.add_argument("-n", dest="name", help="the new window's name")
    spawn_options(brk)

    sel = verb("select-pane", "make a pane the active one", "the pane")
    how = sel.add_mutually_exclusive_group()
    for flag, direction in (("-L", "L"), ("-R", "R"), ("-U", "U"), ("-D", "D")):
        how.add_argument(flag, dest="direction", action="store_const", const=direction, help=f"the pane {flag}")
    how.add_argument("-l", dest="last", action="store_true", help="the previously active pane")

    selw = verb("select-window", "show another window", "the window")
    how = selw.add_mutually_exclusive_group()
    how.add_argument("-n", dest="next", action="store_true", help="the next window")
    how.add_argument("-p", dest="previous", action="store_true", help="the previous window")
    how.add_argument("-l", dest="last", action="store_true", help="the last window")

    verb("kill-pane", "end a pane and its program", "the pane")
    verb("kill-window", "end a window and its panes", "the window")
    rename = verb("rename-window", "rename a window (automatic-rename goes off)", "the window")
    rename.add_argument("name", metavar="NEW_NAME")

    resize = verb("resize-pane", "resize a pane, or zoom it (-Z)", "the pane")
    how = resize.add_mutually_exclusive_group()
    for flag, direction in (("-L", "L"), ("-R", "R"), ("-U", "U"), ("-D", "D")):
        how.add_argument(flag, dest="direction", action="store_const", const=direction)
    resize.add_argument("amount", nargs="?", type=int, help="cells to move the border by (default 1)")
    resize.add_argument("-x", dest="width", type=int, help="an absolute width")
    resize.add_argument("-y", dest="height", type=int, help="an absolute height")
    resize.add_argument("-Z", dest="zoom", action="store_true", help="toggle zoom")

    swap = verb("swap-pane", "swap two panes", "the pane (default: the active one)")
    swap.add_argument("-s", dest="source", metavar="SRC", help="swap this pane with the target")
    swap.add_argument("-U", dest="up", action="store_true", help="with the previous pane")
    swap.add_argument("-D", dest="down", action="store_true", help="with the next pane")
    swap.add_argument("-d", dest="detached", action="store_true", help="keep the active pane where it is")

    layout = verb("select-layout", "arrange a window's panes", "a pane of the window")
    how = layout.add_mutually_exclusive_group()
    how.add_argument("-n", dest="next", action="store_true", help="the next preset")
    how.add_argument("-p", dest="previous", action="store_true", help="the previous preset")
    how.add_argument("-E", dest="spread", action="store_true", help="spread the panes out evenly")
    layout.add_argument("layout", nargs="?", help="even-horizontal, even-vertical, main-horizontal, "
                        "main-vertical, tiled, or a layout string from list-windows")  # fmt: skip

    setw = verb("set-window-option", "synchronize-panes or automatic-rename on|off", "the window")
    setw.add_argument("option", metavar="OPTION")
    setw.add_argument("value", metavar="on|off")

    lsw = verb("list-windows", "list a session's windows", "the session")
    lsw.add_argument("-a", dest="all", action="store_true", help="every window of every session")
    lsw.add_argument("--json", action="store_true")
    lsw.add_argument("-F", dest="format", metavar="FORMAT", help="one line per window: #{window_index}, ...")
    lsp = verb("list-panes", "list a window's panes", "the window")
    lsp.add_argument("-s", dest="session", action="store_true", help="every pane of the session")
    lsp.add_argument("-a", dest="all", action="store_true", help="every pane of every session")
    lsp.add_argument("--json", action="store_true")
    lsp.add_argument("-F", dest="format", metavar="FORMAT", help="one line per pane: #{pane_id}, #{pane_pid}, ...")


def run_verb(args: argparse.Namespace) -> int:
    return VERBS[ALIASES.get(args.command, args.command)](args)
