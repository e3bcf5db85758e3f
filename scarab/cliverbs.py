"""CLI layer (continued): the verbs scripts and tools use — has-session, display -p, watch, completion.

cli.py parses the command line and hands these verbs here; they talk through the client library.
`current_session()` is tmux's default target: inside a pane ($SCARAB is set, like $TMUX), a command
without -t is about that pane's session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from scarab import protocol as p
from scarab.client import Client
from scarab.environ import client_entries
from scarab.errors import BadRequest, SessionNotFound
from scarab.formats import expand, pane_values, session_values
from scarab.paths import Paths
from scarab.remote import SshTarget
from scarab.templates import SavedPane, SavedWindow, dump, load, template_path

__all__ = ["add_parsers", "ask", "context", "current_session", "run_verb"]

VERBS = ("has-session", "has", "display", "display-message", "watch", "completion", "save")
# Programs that are a shell: a pane running one is saved as "a shell" (plus its foreground program).
SHELLS = frozenset({"sh", "bash", "zsh", "fish", "dash", "ksh", "mksh", "tcsh", "csh", "env"})


def current_session() -> str | None:
    """The session this command runs in: $SCARAB is `SOCKET,HOST_PID,SESSION_ID` (a bare id from
    an older Scarab is taken as it is)."""
    value = os.environ.get("SCARAB", "")
    return value.rsplit(",", 1)[-1] or None


def add_parsers(sub: Any) -> None:
    has = sub.add_parser("has-session", aliases=["has"], help="exit 0 if the session exists, else 1 (silent)")
    has.add_argument("-t", dest="target", metavar="TARGET", help="session name or id")

    display = sub.add_parser("display", aliases=["display-message"], help="print a format (like tmux display -p)")
    display.add_argument("-p", dest="print", action="store_true", help="print to stdout (the only way, here)")
    display.add_argument("-t", dest="target", metavar="TARGET", help="session (default: this one, or the latest)")
    display.add_argument("format", nargs="?", default="#{session_name}", metavar="FORMAT")

    watch = sub.add_parser("watch", help="print events as they happen (sessions, clients, bells, output)")
    watch.add_argument("-t", dest="target", metavar="TARGET", help="only this session's events")
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.add_argument("--output", action="store_true", help="each pane's changed rows too (merged, ~10/s)")

    save = sub.add_parser("save", help="write a session's windows and panes as a template (new -L builds it)")
    save.add_argument("-t", dest="t", metavar="TARGET", help="the session (default: this one)")
    save.add_argument("target", nargs="?", help=argparse.SUPPRESS)
    save.add_argument("-o", dest="output", metavar="FILE",
                      help="where (default: ~/.config/scarab/layouts/NAME.toml; - for stdout)")  # fmt: skip
    save.add_argument("--ssh", metavar="[USER@]HOST[:PORT]", help="a session on another machine")

    completion = sub.add_parser("completion", help="a shell completion script: source <(scarab completion bash)")
    completion.add_argument("shell", choices=["bash", "zsh"])


def run_verb(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    match args.command:
        case "has-session" | "has":
            return has_session(args.target or current_session())
        case "display" | "display-message":
            print(display(args.target, args.format))
            return 0
        case "watch":
            return watch(args.target or "", args.json, args.output)
        case "save":
            return save(args.t or args.target or ("" if args.ssh else current_session()) or "", args.output, args.ssh)
        case "completion":
            from scarab.completion import script

            sys.stdout.write(script(parser, args.shell))
            return 0
    raise BadRequest(f"unknown command {args.command}")


def context() -> p.ClientContext | None:
    """Where this command runs, when it runs inside a session ($SCARAB and $SCARAB_PANE): targets
    without a session part are taken from there, as tmux takes $TMUX_PANE."""
    session = current_session()
    if not session:
        return None
    pane = os.environ.get("SCARAB_PANE", "")
    return p.ClientContext(session=session, pane=int(pane[1:]) if re.fullmatch(r"%\d+", pane) else -1)


async def ask(client: Client, msg: p.Message) -> p.Message:
    """One request, after telling the daemon where this command runs."""
    where = context()
    if where is not None:
        client.send(where)
    return await client.request(msg)


def _describe(target: str, session_only: bool = False) -> p.Described:
    async def go() -> p.Message:
        client = await Client.connect(Paths.default())
        try:
            return await ask(client, p.Describe(target=target, session_only=session_only))
        finally:
            await client.close()

    reply = asyncio.run(go())
    assert isinstance(reply, p.Described)
    return reply


def has_session(target: str | None) -> int:
    """tmux's has-session: the answer is the exit status, and nothing is printed either way."""
    if not target:
        return 1
    try:
        _describe(target, session_only=True)
    except (SessionNotFound, BadRequest):  # BadRequest: an ambiguous prefix names no one session
        return 1
    return 0


def display(target: str | None, fmt: str) -> str:
    """tmux's display -p: FORMAT for the target pane (default: the one this runs in, else the
    active pane of the most recently used session)."""
    expand(fmt, {})  # a bad format is refused before anything is asked
    return expand(fmt, describe_values(_describe(target or "")))


def describe_values(d: p.Described) -> dict[str, str]:
    """Every variable of the session, window and pane a Described names."""
    s = d.session
    values = session_values(s)
    values["socket_path"] = str(Paths.default().socket)
    pane = next((q for q in d.layout.panes if q.id == d.pane), None) if d.layout is not None else None
    if d.layout is not None and pane is not None:
        values.update(pane_values(d.layout, pane))
    if d.current_path:
        values["pane_current_path"] = d.current_path
    if d.current_command:
        values["pane_current_command"] = d.current_command
    return values


def template_request(layout: str, name: str | None, cols: int, rows: int, root: str | None = None) -> p.SessionBuild:
    """`new -L`: the template checked and laid out at cols x rows, as the daemon builds it; `root`
    (new -c) instead of the template's own."""
    template = load(template_path(layout, Paths.default().config), root=root)
    plans = template.plan(cols, rows)
    windows = [
        p.BuildWindow(
            name=w.name, layout=w.layout, active=w.active,
            panes=[p.BuildPane(cwd=q.cwd, environ=[f"{k}={v}" for k, v in q.environment], commands=list(q.commands))
                   for q in w.panes],
        )
        for w in plans
    ]  # fmt: skip
    environ = [*client_entries(), *(f"{k}={v}" for k, v in template.environment)]
    return p.SessionBuild(name=name or template.name, cols=cols, rows=rows, cwd=template.root, windows=windows,
                          current=template.focus, environ=environ, limits=list(template.limits))  # fmt: skip


def save(target: str, output: str | None, ssh: str | None = None) -> int:
    """`scarab save`: the session's windows (layout strings), each pane's directory and the program
    in its foreground (read from /proc now by the daemon, on the machine the panes run on: over
    --ssh, the remote one), as a template."""
    if target and ":" not in target and not target.startswith(("@", "%", "$")):
        target += ":"  # a session

    async def go() -> p.Message:
        if ssh:
            client = await Client.connect_ssh(SshTarget.parse(ssh))
        else:
            client = await Client.connect(Paths.default())
        try:
            query = p.LayoutQuery(target=target, programs=True)
            # This machine's $SCARAB names nothing over there.
            return await (client.request(query) if ssh else ask(client, query))
        finally:
            await client.close()

    reply = asyncio.run(go())
    assert isinstance(reply, p.LayoutReply)
    programs = {program.pane: program for program in reply.programs or ()}
    if not reply.layout.windows:
        raise BadRequest(f"session {reply.session_name!r} has not described its windows yet (it is being restored)")
    windows = [
        SavedWindow(
            name="" if w.automatic_rename else w.name, layout=w.layout, focus="*" in w.flags,
            panes=tuple(_saved_pane(q, q.id == w.active_pane, programs.get(q.id)) for q in reply.layout.panes
                        if q.window == w.index),
        )
        for w in reply.layout.windows
    ]  # fmt: skip
    text = dump(reply.session_name, windows, time.strftime("%Y-%m-%d %H:%M"))
    if output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(output).expanduser() if output else template_path(reply.session_name, Paths.default().config)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(path)
    return 0


def _saved_pane(pane: p.PaneInfo, focus: bool, program: p.PaneProgram | None) -> SavedPane:
    command = ""
    if program is not None and not program.shell:
        command = shlex.join(program.argv)
    elif pane.command and os.path.basename(pane.command[0]) not in SHELLS:
        command = shlex.join(pane.command)  # its own program is no shell: that is what runs there
    return SavedPane(cwd=program.cwd if program is not None else pane.cwd, command=command, focus=focus)


def event_json(event: p.Event) -> str:
    data: dict[str, Any] = {"event": event.kind, "time": round(event.time, 3)}
    if event.session_id:
        data.update(session=event.session, session_id=event.session_id)
    if event.window >= 0:
        data["window"] = event.window
    if event.pane >= 0:
        data["pane"] = f"%{event.pane}"
    if event.value:
        data["value"] = event.value
    return json.dumps(data, ensure_ascii=False)


def event_text(event: p.Event) -> str:
    """tmux control mode's shape: `%kind` and its arguments; output rows indented below it."""
    words = [f"%{event.kind}"]
    if event.session_id:
        words.append(event.session)
    if event.pane >= 0:
        words.append(f"%{event.pane}")
    if event.kind == "output":
        return " ".join(words) + "".join(f"\n  {line}" for line in event.value.split("\n"))
    if event.value and event.value != event.session:
        words.append(event.value)
    return " ".join(words)


def watch(target: str, as_json: bool, output: bool) -> int:
    async def stream() -> int:
        client = await Client.connect(Paths.default())
        try:
            async for event in client.watch(target, output):
                print(event_json(event) if as_json else event_text(event), flush=True)
                if event.kind == "exit":
                    return 0
        finally:
            await client.close()
        print("scarab: the event stream ended (this watcher fell too far behind and was dropped)", file=sys.stderr)
        return 1

    return asyncio.run(stream())
