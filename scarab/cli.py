"""CLI layer: `scarab` and its tmux-like subcommands. Parses arguments, talks through the client library.

With no subcommand, `scarab` opens the TUI attached to the most recently used session.
Errors print `scarab: <message>` on stderr and exit 1; bad arguments exit 2 with usage.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any, TypeVar

from scarab import __version__, cliverbs, copycli, recordcli
from scarab import protocol as p
from scarab.client import INPUT_CHUNK, Client, start_daemon
from scarab.config import load_config
from scarab.environ import client_entries
from scarab.errors import BadRequest, DaemonUnreachable, DuplicateName, ScarabError, SessionNotFound
from scarab.formats import expand, session_values
from scarab.humanize import age
from scarab.keys import send_keys_bytes
from scarab.panecli import ALIASES, VERBS, add_verbs, context, run_verb
from scarab.paths import Paths
from scarab.remote import SshTarget
from scarab.tui.firstpaint import EarlyAttach, paint

__all__ = ["main"]

T = TypeVar("T")
_DURATION = re.compile(r"^(\d+)([smhdw]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> int:
    match = _DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: use a number with s, m, h, d or w (e.g. 7d)")
    return int(match.group(1)) * _UNITS[match.group(2)]


def positive_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: expected a whole number") from None
    if not 1 <= value <= p.MAX_SIZE:
        raise argparse.ArgumentTypeError(f"bad size {value}: must be between 1 and {p.MAX_SIZE}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scarab", description="A terminal multiplexer.")
    parser.add_argument("-V", "--version", action="version", version=f"scarab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    new = sub.add_parser("new", help="create a session (and attach unless -d)")
    new.add_argument("-d", "--detached", action="store_true", help="create detached and print the id")
    new.add_argument("-A", dest="attach", action="store_true", help="attach to session -s NAME if it exists")
    new.add_argument("-L", dest="layout", metavar="NAME|FILE",
                     help="build it from ~/.config/scarab/layouts/NAME.toml or FILE; attach if it exists")  # fmt: skip
    new.add_argument("-s", "--name", help="session name")
    new.add_argument("-c", "--cwd", help="working directory (default: the current one; with -L: the template's root)")
    new.add_argument("-x", "--cols", type=positive_size, help="width in columns")
    new.add_argument("-y", "--rows", type=positive_size, help="height in rows")
    recordcli.add_new_options(new)
    new.add_argument("argv", nargs=argparse.REMAINDER, help="command to run (after --)")

    attach = sub.add_parser("attach", aliases=["a"], help="attach the TUI to a session")
    _target(attach, "session name or id (default: most recent)", optional=True)
    attach.add_argument("--ssh", metavar="[USER@]HOST[:PORT]", help="attach to a session on another machine")

    ls = sub.add_parser("ls", aliases=["list"], help="list sessions")
    ls.add_argument("--json", action="store_true")
    ls.add_argument(
        "-F", "--format", metavar="FORMAT",
        help="one line per session from FORMAT: #{session_name}, #{name}, #{state}, ... (see README); no header",
    )  # fmt: skip
    ls.add_argument("--tsv", action="store_true", help="tab-separated, no header, durations in seconds")
    ls.add_argument("--ssh", metavar="[USER@]HOST[:PORT]", help="list the sessions on another machine")

    sub.add_parser("proxy", help="bridge stdin/stdout to the daemon (the remote end of --ssh)")

    rename = sub.add_parser("rename", help="rename a session")
    rename.add_argument("-t", dest="t", metavar="TARGET", help="session to rename (else the first argument)")
    rename.add_argument("names", nargs="+", metavar="[TARGET] NEW_NAME")

    kill = sub.add_parser("kill", help="end a session and its programs")
    _target(kill, "session name or id")
    kill.add_argument("--force", action="store_true", help="detach attached clients first")

    sub.add_parser("kill-server", help="end every session and its programs, then the daemon (like tmux)")

    respawn = sub.add_parser("respawn", help="start an exited session's program again")
    _target(respawn, "session name or id")

    clear = sub.add_parser("clear-history", help="forget a session's scrollback (like tmux clear-history)")
    _target(clear, "session name or id")

    cleanup = sub.add_parser("cleanup", help="kill sessions not attached for a while")
    cleanup.add_argument("--older-than", type=parse_duration, required=True, metavar="AGE", help="e.g. 7d, 12h")
    cleanup.add_argument("--json", action="store_true")

    show_env = sub.add_parser("show-environment", help="a session's own environment (like tmux)")
    show_env.add_argument("-t", dest="target", metavar="TARGET", help="session (default: the one you are in)")

    set_env = sub.add_parser("set-environment", help="set a variable for programs a session starts later")
    set_env.add_argument("-t", dest="target", metavar="TARGET", help="session (default: the one you are in)")
    how = set_env.add_mutually_exclusive_group()
    how.add_argument("-u", dest="unset", action="store_true", help="drop the session's value (the daemon's applies)")
    how.add_argument("-r", dest="remove", action="store_true", help="start programs without the variable")
    set_env.add_argument("name")
    set_env.add_argument("value", nargs="?")

    capture = sub.add_parser("capture", help="print a session's screen (like tmux capture-pane -p)")
    _target(capture, "pane or session (default: where this runs, else the most recently attached session)", True)
    capture.add_argument("--scrollback", "-S", action="store_true", help="include the scrollback")
    capture.add_argument("--ansi", "-e", action="store_true", help="keep colours and attributes")

    send = sub.add_parser("send", help="send keys to a session (like tmux send-keys)")
    send.add_argument("-t", dest="t", metavar="TARGET", help="session (else the first argument)")
    send.add_argument("--literal", "-l", action="store_true", help="send the words as text, no key names")
    send.add_argument("keys", nargs="+", metavar="[TARGET] KEY")

    copycli.add_commands(sub)
    add_verbs(sub)
    cliverbs.add_parsers(sub)
    recordcli.add_commands(sub)

    daemon = sub.add_parser("daemon", help="control the per-user daemon")
    daemon.add_argument("action", choices=["start", "stop", "status", "restart", "run"])
    daemon.add_argument("--fork", action="store_true", help=argparse.SUPPRESS)
    daemon.add_argument("--json", action="store_true")
    return parser


def _target(parser: argparse.ArgumentParser, help: str, optional: bool = False) -> None:
    """A target given as tmux does (`-t TARGET`) or positionally; `_resolve_target` picks one."""
    parser.add_argument("-t", dest="t", metavar="TARGET", help=help)
    parser.add_argument("target", nargs="?", help=argparse.SUPPRESS)
    parser.set_defaults(target_optional=optional)


def _resolve_target(args: argparse.Namespace) -> None:
    if args.t is not None and args.target is not None:
        raise BadRequest(f"two targets ({args.t!r} and {args.target!r}): give one, positionally or with -t")
    if args.t is not None:
        args.target = args.t
    if args.target is None and not args.target_optional:
        args.target = cliverbs.current_session()  # tmux's default: the session this command runs in
    if args.target is None and not args.target_optional:
        raise BadRequest(f"`scarab {args.command}` needs a target: a session name or id, positionally or with -t")


def _split_target(args: argparse.Namespace, rest: str, what: str) -> list[str]:
    """For commands whose other arguments are positional too (send, rename): with -t every
    positional is `rest`; without it the first one is the target."""
    words: list[str] = getattr(args, rest)
    if args.t is None:
        if len(words) < 2:
            raise BadRequest(f"`scarab {args.command}` needs a target and {what}")
        args.t, words = words[0], words[1:]
    args.target = args.t
    return words


def _current_session(target: str | None) -> str:
    """`target`, else the session this command runs in (tmux's default target)."""
    current = target or cliverbs.current_session()
    if not current:
        raise BadRequest("no session given: use -t TARGET (or run this inside a session)")
    return current


def _fail(message: str) -> int:
    print(f"scarab: {message}", file=sys.stderr)
    return 1


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


TSV_FIELDS = ("id", "name", "created", "last_attached", "clients", "size", "state", "exit_status", "command", "cwd")


def format_sessions(sessions: list[p.SessionInfo]) -> str:
    if not sessions:
        return "no sessions"
    rows = [["ID", "NAME", "CREATED", "ATTACHED", "CLIENTS", "SIZE", "WINDOWS", "STATE", "COMMAND", "CWD"]]
    home = os.path.expanduser("~")
    for s in sessions:
        cwd = "~" + s.cwd[len(home) :] if home != "/" and s.cwd.startswith(home) else s.cwd
        created, attached = f"{age(s.created_at)} ago", f"{age(s.last_attached)} ago"
        size = f"{s.cols}x{s.rows}"
        state = f"exited ({s.exit_status})" if s.state == "exited" else s.state
        state += " recording" if s.recording else ""
        windows = f"{s.windows} ({s.panes} panes)" if s.windows else "-"
        rows.append(
            [s.id[:8], s.name, created, attached, str(s.attached), size, windows, state, " ".join(s.command), cwd]
        )
    return _table(rows)


def _connector(ssh: str | None, autostart: bool = True) -> Callable[[], Awaitable[Client]]:
    if ssh:
        target = SshTarget.parse(ssh)
        return lambda: Client.connect_ssh(target)
    return lambda: Client.connect(Paths.default(), autostart=autostart)


async def _with_client(fn: Callable[[Client], Awaitable[T]], autostart: bool = True, ssh: str | None = None) -> T:
    client = await _connector(ssh, autostart)()
    try:
        return await fn(client)
    finally:
        await client.close()


def _call(msg: p.Message, autostart: bool = True, ssh: str | None = None) -> Any:
    return asyncio.run(_with_client(lambda c: c.request(msg), autostart, ssh))


def cmd_new(args: argparse.Namespace) -> int:
    if not args.detached:
        _refuse_nesting()
    if not args.detached and not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Checked before creating anything, so a script that forgot -d leaves no stray session.
        raise BadRequest("`scarab new` attaches, which needs a terminal; use `scarab new -d` from scripts")
    argv = list(args.argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    cols, rows = args.cols, args.rows
    if cols is None or rows is None:
        size = os.get_terminal_size() if sys.stdout.isatty() else os.terminal_size((80, 24))
        cols, rows = cols or size.columns, rows or size.lines
    cwd = os.path.abspath(args.cwd) if args.cwd else os.getcwd()
    msg: p.SessionCreate | p.SessionBuild
    if args.layout:
        if argv:
            raise BadRequest("`scarab new -L` takes its programs from the template, not after --")
        if not args.detached and args.rows is None and load_config(Paths.default().config_file).status_bar:
            rows -= 1  # the window the TUI will show: the template is laid out at its final size
        msg = cliverbs.template_request(args.layout, args.name, cols, rows, root=args.cwd)
        name = msg.name
    else:
        msg = p.SessionCreate(name=args.name, cols=cols, rows=rows, cwd=cwd, command=argv or None,
                              environ=client_entries())  # fmt: skip
        name = args.name
    try:
        session = _call(recordcli.with_new_options(msg, args)).session
    except DuplicateName:
        if not ((args.attach or args.layout) and name):
            raise
        # tmux's new -A (and tmuxinator's habit): it exists, so this attaches (its programs stay,
        # as they are: the flags of a create, limits and --record among them, are not applied).
        session = _call(p.Describe(target=name, session_only=True)).session
    if args.detached:
        print(session.id)
        return 0
    return _attach(session.id)


def _refuse_nesting() -> None:
    inside = os.environ.get("SCARAB_SESSION") or os.environ.get("SCARAB")
    if inside:
        # Like tmux: a client inside one of its own sessions would draw itself forever.
        raise BadRequest(f"already inside scarab session {inside!r}; detach first, or unset SCARAB to nest")


def _attach(target: str | None, ssh: str | None = None, early: EarlyAttach | None = None) -> int:
    if not ssh:
        _refuse_nesting()
    paths = Paths.default()
    config = load_config(paths.config_file)
    if early is None and not ssh:  # else painted before this module was imported
        early = paint(target, paths, config)
    painted, relay = (early.painted, early.relay) if early is not None else (None, None)
    try:
        # Textual reads ESCDELAY at import: how long (ms) it waits to tell a lone Esc from Alt+key.
        os.environ.setdefault("ESCDELAY", "10")
        # The terminal's size is its tty's, as tmux's client and the first paint ask it: Textual
        # (shutil.get_terminal_size, Rich's Console) would take COLUMNS and LINES first, a copy of
        # some size that no resize updates (Python's readline exports 80x24 to its children when
        # its output is no terminal).
        for var in ("COLUMNS", "LINES"):
            os.environ.pop(var, None)
        from scarab.tui.app import run_app
        from scarab.tui.input import install

        install()  # keys read as tmux reads them, or a clear refusal on a Textual it was not written for
    except BaseException:
        if painted is not None:  # the app never started, so nothing else will give the terminal back
            from scarab.tui.firstpaint import leave_first_paint

            leave_first_paint(sys.stdout, relay.handover()[0] if relay is not None else painted)
        raise
    held = b""
    if relay is not None:  # the app reads the tty from here on
        painted, held = relay.handover()
    return run_app(target, _connector(ssh), remote=bool(ssh), config=config, painted=painted, held=held)


def cmd_ls(args: argparse.Namespace) -> int:
    if args.format is not None:
        expand(args.format, {})  # a bad field is an error even with no sessions
    reply: p.Listed = _call(p.SessionList(usage=True), ssh=args.ssh)
    sessions = p.by_name(reply.sessions)  # as tmux's list-sessions
    if args.json:
        print(json.dumps([asdict(s) for s in sessions], indent=2))
    elif args.format is not None:
        for s in sessions:
            print(expand(args.format, session_values(s)))
    elif args.tsv:
        for s in sessions:
            values = session_values(s)
            print("\t".join(values[name] for name in TSV_FIELDS))
    else:
        print(format_sessions(sessions))
    return 0


def cmd_daemon(args: argparse.Namespace) -> int:
    paths = Paths.default()
    if args.action == "run":
        from scarab.daemon.server import fork_daemon, run_daemon

        return fork_daemon(paths) if args.fork else asyncio.run(run_daemon(paths))
    if args.action == "start":
        print(start_daemon(paths))
        return 0
    if args.action == "status":
        try:
            status: p.StatusReport = _call(p.DaemonStatus(), autostart=False)
        except DaemonUnreachable as exc:
            print(f"scarab: daemon not running ({exc})", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(asdict(status), indent=2))
        else:
            # The pid first and alone on its line, so `$(scarab daemon status | head -1)` is the pid.
            print(status.pid)
            print(
                f"version {status.version}, up {status.uptime:.0f}s, {status.sessions} session(s), "
                f"{status.hosts_alive} host(s) alive, {status.clients} client(s)\n"
                f"socket {status.socket}\ndatabase {status.database}"
            )
        return 0
    if args.action in ("stop", "restart"):
        _stop_daemon()
        if args.action == "restart":
            print(start_daemon(paths))
        return 0
    raise AssertionError(args.action)


def _stop_daemon() -> None:
    """Ask the daemon to stop (hosts keep running) and wait until its pid is gone."""
    try:
        status: p.StatusReport = _call(p.DaemonStatus(), autostart=False)
        _call(p.DaemonStop(), autostart=False)
    except DaemonUnreachable:
        return
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(status.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    raise ScarabError(f"the daemon (pid {status.pid}) did not stop within 15s; `kill {status.pid}` ends it")


def cmd_kill_server() -> int:
    """tmux's kill-server: every session ended with its programs (attached clients detached), then
    the daemon stopped, so nothing is left to bring back."""

    async def kill_all(client: Client) -> None:
        listing = await client.request(p.SessionList())
        assert isinstance(listing, p.Listed)
        for session in listing.sessions:
            with contextlib.suppress(SessionNotFound):  # ended meanwhile by someone else
                await client.request(p.SessionDelete(target=session.id, force=True))

    asyncio.run(_with_client(kill_all))
    _stop_daemon()
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    async def capture(client: Client) -> None:
        where = context()
        if where is not None:
            client.send(where)  # `capture -t .1` inside a session: a pane of the window it runs in
        # Page by page: a 40 MB scrollback never sits whole in this process.
        async for text in client.capture(args.target or "", args.scrollback, args.ansi):
            sys.stdout.write(text)

    asyncio.run(_with_client(capture))
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    data = send_keys_bytes(_split_target(args, "keys", "keys"), literal=args.literal)

    async def send(client: Client) -> None:
        where = context()
        if where is not None:
            client.send(where)
        for start in range(0, max(len(data), 1), INPUT_CHUNK):
            await client.request(p.Input(target=args.target, data=data[start : start + INPUT_CHUNK], ack=True))

    asyncio.run(_with_client(send))
    return 0


def dispatch(args: argparse.Namespace, early: EarlyAttach | None = None) -> int:
    if hasattr(args, "target_optional"):
        _resolve_target(args)
    match args.command:
        case None:
            return _attach(None, early=early)
        case "new":
            return cmd_new(args)
        case "attach" | "a":
            return _attach(args.target, args.ssh, early)
        case "proxy":
            from scarab.proxy import run_proxy

            return asyncio.run(run_proxy(Paths.default()))
        case "ls" | "list":
            return cmd_ls(args)
        case "rename":
            names = _split_target(args, "names", "a new name")
            if len(names) != 1:
                raise BadRequest("`scarab rename` takes one new name: scarab rename [-t] TARGET NEW_NAME")
            reply: p.Renamed = _call(p.SessionRename(target=args.target, new_name=names[0]))
            print(f"renamed {reply.session.id[:8]} to {reply.session.name}")
            return 0
        case "kill":
            _call(p.SessionDelete(target=args.target, force=args.force))
            return 0
        case "kill-server":
            return cmd_kill_server()
        case "cleanup":
            cleaned: p.CleanedUp = _call(p.Cleanup(older_than=args.older_than))
            if args.json:
                print(json.dumps(cleaned.session_ids))
            elif cleaned.names:
                print(f"removed {len(cleaned.names)} session(s): {', '.join(cleaned.names)}")
            else:
                print("removed no sessions")
            return 0
        case "respawn":
            respawned: p.Respawned = _call(p.SessionRespawn(target=args.target))
            print(f"respawned {respawned.session.name}")
            return 0
        case "show-environment":
            shown: p.Environment = _call(p.ShowEnvironment(target=_current_session(args.target)))
            for entry in shown.entries:
                print(entry)
            return 0
        case "set-environment":
            if (args.value is None) != (args.unset or args.remove):
                raise BadRequest("set-environment takes NAME VALUE, or -u NAME / -r NAME")
            target = _current_session(args.target)
            _call(p.SetEnvironment(target=target, name=args.name, value=args.value, unset=args.unset))
            return 0
        case "clear-history":
            _call(p.ClearHistory(target=args.target))
            return 0
        case "capture":
            return cmd_capture(args)
        case "send":
            return cmd_send(args)
        case "daemon":
            return cmd_daemon(args)
        case verb if verb in VERBS or verb in ALIASES:
            return run_verb(args)
        case verb if verb in cliverbs.VERBS:
            return cliverbs.run_verb(args, build_parser())
        case command if command in recordcli.COMMANDS:
            return recordcli.run(args, _call)
    done = copycli.run(args, _call)
    if done is not None:
        return done
    raise BadRequest(f"unknown command {args.command}")


def main(argv: list[str] | None = None, early: EarlyAttach | None = None) -> int:
    """`early`: the attach that `argv` asks for was painted already (scarab.launch)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "send" and not any(word.startswith("-") for word in extra):
        # argparse stops filling a positional list at an option (`send w -l echo hi`): the words
        # after it are keys too, in order.
        args.keys += extra
    elif extra and args.command in recordcli.COMMANDS and recordcli.take_extra(args, extra):
        pass  # `record start -t NAME FILE`: the file after the option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return dispatch(args, early)
    except ScarabError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout.close()
        return 0
