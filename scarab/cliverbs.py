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
import sys
from typing import Any

from scarab import protocol as p
from scarab.client import Client
from scarab.errors import BadRequest, SessionNotFound
from scarab.formats import expand, session_values
from scarab.paths import Paths

__all__ = ["add_parsers", "current_session", "run_verb"]

VERBS = ("has-session", "has", "display", "display-message", "watch", "completion")


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

    completion = sub.add_parser("completion", help="a shell completion script: source <(scarab completion bash)")
    completion.add_argument("shell", choices=["bash", "zsh"])


def run_verb(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    match args.command:
        case "has-session" | "has":
            return has_session(args.target or current_session())
        case "display" | "display-message":
            print(display(args.target or current_session(), args.format))
            return 0
        case "watch":
            return watch(args.target or "", args.json, args.output)
        case "completion":
            from scarab.completion import script

            sys.stdout.write(script(parser, args.shell))
            return 0
    raise BadRequest(f"unknown command {args.command}")


async def _connected(paths: Paths | None = None) -> Client:
    return await Client.connect(paths or Paths.default())


def has_session(target: str | None) -> int:
    """tmux's has-session: the answer is the exit status, and nothing is printed either way."""
    if not target:
        return 1

    async def ask() -> int:
        client = await _connected()
        try:
            await client.request(p.Describe(target=target))
        except SessionNotFound:
            return 1
        finally:
            await client.close()
        return 0

    try:
        return asyncio.run(ask())
    except BadRequest:  # an ambiguous prefix names no one session
        return 1


def display(target: str | None, fmt: str) -> str:
    async def ask() -> p.Described:
        client = await _connected()
        try:
            name = target
            if not name:  # tmux's default outside a session: the most recently used one
                listing = await client.request(p.SessionList())
                assert isinstance(listing, p.Listed)
                if not listing.sessions:
                    raise SessionNotFound("no sessions")
                name = max(listing.sessions, key=lambda s: s.last_attached).id
            reply = await client.request(p.Describe(target=name))
            assert isinstance(reply, p.Described)
            return reply
        finally:
            await client.close()

    expand(fmt, {})  # a bad format is refused before anything is asked
    described = asyncio.run(ask())
    return expand(fmt, describe_values(described))


def describe_values(d: p.Described) -> dict[str, str]:
    """A session's variables and its pane's (one window with one pane)."""
    s = d.session
    values = session_values(s)
    values.update(
        session_windows="1", window_index="0", window_active="1", window_panes="1", window_width=str(s.cols),
        window_height=str(s.rows), pane_index="0", pane_active="1", pane_pid=str(s.child_pid),
        pane_width=str(s.cols), pane_height=str(s.rows), pane_left="0", pane_top="0", pane_right=str(s.cols - 1),
        pane_bottom=str(s.rows - 1), pane_current_path=d.current_path or s.cwd,
        pane_current_command=d.current_command, pane_start_command=" ".join(s.command), pane_start_path=s.cwd,
        pane_dead="1" if s.state == "exited" else "0", pane_dead_status=str(s.exit_status),
        socket_path=str(Paths.default().socket),
    )  # fmt: skip
    return values


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
        client = await _connected()
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
