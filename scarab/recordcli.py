"""CLI layer for recording, playback and limits: `record start|stop|status`, `play`, `limit`, and
`new`'s `--record`, `--memory`, `--cpu`, `--tasks`.

Kept beside scarab.cli (which adds these parsers and calls `run` and `with_new_options`) so each stays
one screen of commands; requests go through the `call` it is given (scarab.cli's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from scarab import protocol as p
from scarab.errors import BadRequest
from scarab.humanize import size as human_size
from scarab.quantities import parse_cpu, parse_memory, parse_tasks

__all__ = ["COMMANDS", "add_commands", "add_new_options", "run", "take_extra", "with_new_options"]

COMMANDS = ("record", "play", "limit")
Call = Callable[[p.Message], Any]


def _flag(parse: Callable[[str], int]) -> Callable[[str], int]:
    """An argparse type from a quantities parser; "none" removes the limit (-1 on the wire)."""

    def convert(text: str) -> int:
        if text.strip().lower() in ("none", "max", "infinity"):
            return -1
        try:
            return parse(text)
        except BadRequest as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _limit_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--memory",
        type=_flag(parse_memory),
        metavar="SIZE",
        help="memory its programs may use together, e.g. 2G (none: no limit)",
    )
    parser.add_argument(
        "--cpu", type=_flag(parse_cpu), metavar="SHARE", help="CPU share, e.g. 50%% (half a CPU) or 200%% (two)"
    )
    parser.add_argument("--tasks", type=_flag(parse_tasks), metavar="N", help="processes and threads")  # fmt: skip


def add_new_options(new: argparse.ArgumentParser) -> None:
    new.add_argument("--record", action="store_true", help="record the session from its start (asciicast)")
    _limit_flags(new)


def add_commands(sub: Any) -> None:
    record = sub.add_parser("record", help="record a session's pane as asciicast (playable by asciinema)")
    record.add_argument("action", choices=["start", "stop", "status"])
    record.add_argument("file", nargs="?", help="start: where to write (default: the data dir's recordings/)")
    record.add_argument("-t", dest="target", metavar="TARGET", help="session (default: the one you are in)")
    record.add_argument("--input", action="store_true", help="start: record keystrokes too")
    record.add_argument("--json", action="store_true", help="status: as JSON")

    play = sub.add_parser("play", help="play a recording in this terminal (Space pause, . step, q quit)")
    play.add_argument("file")
    play.add_argument("--speed", type=float, default=1.0, help="e.g. 2 for twice as fast")
    play.add_argument("--idle-limit", type=float, metavar="S", help="cut pauses longer than S seconds")
    play.add_argument("-t", dest="target", metavar="TARGET", help="play in a new pane split from TARGET's")

    limit = sub.add_parser("limit", help="show or change what a session's programs may use")
    limit.add_argument("-t", dest="target", metavar="TARGET", help="session (default: the one you are in)")
    _limit_flags(limit)
    limit.add_argument("--json", action="store_true")


def take_extra(args: argparse.Namespace, extra: list[str]) -> bool:
    """argparse leaves a positional after an option unparsed (`record start -t NAME FILE`): take
    it as the file when that is all it is."""
    if args.command == "record" and args.file is None and len(extra) == 1 and not extra[0].startswith("-"):
        args.file = extra[0]
        return True
    return False


def _wanted(args: argparse.Namespace) -> list[int]:
    return [args.memory or 0, args.cpu or 0, args.tasks or 0]


def with_new_options(msg: p.SessionCreate | p.SessionBuild, args: argparse.Namespace) -> p.Message:
    """`new`'s create request with its --memory/--cpu/--tasks (each over a template's own) and
    --record: the host gets them with the rest, so the first program starts under them."""
    limits = [flag or kept for flag, kept in zip(_wanted(args), msg.limits or [0, 0, 0], strict=True)]
    return replace(msg, limits=limits if any(limits) else None, record=args.record)


def _session(target: str | None) -> str:
    current = target or os.environ.get("SCARAB")
    if not current:
        raise BadRequest("no session given: use -t TARGET (or run this inside a session)")
    return current


def run(args: argparse.Namespace, call: Call) -> int:
    if args.command == "play":
        return _play(args, call)
    target = _session(args.target)
    if args.command == "limit":
        report: p.LimitsReport = call(p.Limit(target=target, limits=_wanted(args)))
        if args.json:
            print(json.dumps(asdict(report), indent=2))
        else:
            print(format_report(report))
        return 0
    if args.file and args.action != "start":
        raise BadRequest(f"`record {args.action}` takes no file")
    path = os.path.abspath(args.file) if args.file else ""
    reply: p.Recordings = call(p.Record(target=target, action=args.action, path=path, input=args.input))
    if args.json:
        print(json.dumps([asdict(item) for item in reply.items], indent=2))
    elif args.action == "start":
        print(reply.items[-1].path if reply.items else "")
    elif args.action == "status":
        print(format_recordings(reply.items))
    return 0


def _play(args: argparse.Namespace, call: Call) -> int:
    from scarab.player import Cast, play

    path = Path(args.file).absolute()
    if args.target is None:
        return play(path, args.speed, args.idle_limit)
    Cast(path).file.close()  # a file that cannot be played is said here, not in a pane that closes at once
    command = [sys.executable, "-m", "scarab", "play", str(path), "--speed", str(args.speed)]
    if args.idle_limit is not None:
        command += ["--idle-limit", str(args.idle_limit)]
    # Like tmux's split-window with a command: the pane closes when the player ends.
    spawned: p.Spawned = call(p.SplitWindow(target=args.target, command=command))
    print(f"%{spawned.pane}")
    return 0


def format_recordings(items: list[p.RecordingInfo]) -> str:
    if not items:
        return "not recording"
    lines = []
    for item in items:
        state = "recording" if item.active else f"stopped ({item.reason})"
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item.started))
        lines.append(f"%{item.pane}  {state}  {human_size(item.size)}  since {since}  {item.path}")
    return "\n".join(lines)


def format_report(report: p.LimitsReport) -> str:
    memory, cpu, tasks = report.limits
    limits = ", ".join(
        part
        for part in (
            f"memory {human_size(memory)}" if memory else "",
            f"cpu {cpu}%" if cpu else "",
            f"tasks {tasks}" if tasks else "",
        )
        if part
    )
    used = f"memory {human_size(report.memory)}" if report.memory >= 0 else "memory ?"
    share = f"cpu {report.cpu:.1f}%" if report.cpu >= 0 else "cpu ?"
    return (
        f"limits: {limits or 'none'}\n"
        f"enforced by: {report.statement}\n"
        f"using: {used}, {share} ({report.cpu_seconds:.2f}s in all), {report.processes} processes"
    )
