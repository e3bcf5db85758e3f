"""CLI layer for copy and search: the paste-buffer verbs (tmux's list-, show-, set-, load-, save-,
paste- and delete-buffer), `scarab grep` across every session, and `scarab edit-scrollback`.

`add_commands` adds the subcommands to scarab's parser; `run` runs one (None: not one of these).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

from scarab import protocol as p
from scarab.client import Client
from scarab.cliverbs import current_session
from scarab.errors import BadRequest, ScarabError

__all__ = ["COMMANDS", "add_commands", "format_hit", "run"]

COMMANDS = (
    "list-buffers", "show-buffer", "set-buffer", "load-buffer", "save-buffer", "paste-buffer", "delete-buffer",
    "grep", "edit-scrollback",
)  # fmt: skip


def add_commands(sub: Any) -> None:
    lsb = sub.add_parser("list-buffers", aliases=["lsb"], help="list paste buffers, most recent first (like tmux)")
    lsb.add_argument("--json", action="store_true")

    show = sub.add_parser("show-buffer", aliases=["showb"], help="print a paste buffer (default: the most recent)")
    _buffer_name(show)

    setb = sub.add_parser("set-buffer", aliases=["setb"], help="make a paste buffer from TEXT")
    _buffer_name(setb)
    setb.add_argument("-a", dest="append", action="store_true", help="append to the buffer")
    setb.add_argument("text")

    load = sub.add_parser("load-buffer", aliases=["loadb"], help="make a paste buffer from FILE (- : stdin)")
    _buffer_name(load)
    load.add_argument("path", metavar="FILE")

    save = sub.add_parser("save-buffer", aliases=["saveb"], help="write a paste buffer to FILE (- : stdout)")
    _buffer_name(save)
    save.add_argument("-a", dest="append", action="store_true", help="append to FILE")
    save.add_argument("path", metavar="FILE")

    paste = sub.add_parser("paste-buffer", aliases=["pasteb"], help="type a paste buffer into a session")
    _buffer_name(paste)
    paste.add_argument("-t", dest="target", metavar="TARGET", help="session (default: the one you are in)")
    paste.add_argument("-d", dest="delete", action="store_true", help="delete the buffer after pasting")
    paste.add_argument("-r", dest="raw", action="store_true", help="keep line feeds (default: they become Enter)")

    delete = sub.add_parser("delete-buffer", aliases=["deleteb"], help="delete a paste buffer")
    _buffer_name(delete)

    grep = sub.add_parser("grep", help="search the screen and scrollback of every pane of every session")
    grep.add_argument("pattern", help="a regular expression; case-insensitive unless it has a capital")
    grep.add_argument("-t", dest="target", metavar="TARGET", help="only this session")
    grep.add_argument("-F", "--fixed", action="store_true", help="the pattern is plain text, not a regex")
    grep.add_argument("--json", action="store_true")

    edit = sub.add_parser("edit-scrollback", help="open a session's screen and scrollback in $VISUAL/$EDITOR")
    edit.add_argument("-t", dest="target", metavar="TARGET", help="session (default: the one you are in)")


def _buffer_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-b", dest="name", default="", metavar="NAME", help="buffer name (default: the most recent)")


_ALIASES = {"lsb": "list-buffers", "showb": "show-buffer", "setb": "set-buffer", "loadb": "load-buffer",
            "saveb": "save-buffer", "pasteb": "paste-buffer", "deleteb": "delete-buffer"}  # fmt: skip


def run(args: argparse.Namespace, call: Any) -> int | None:
    """Run one of COMMANDS with `call(message)` (the CLI's request to the daemon); None for others."""
    command = _ALIASES.get(args.command, args.command)
    match command:
        case "list-buffers":
            listed: p.Buffers = call(p.ListBuffers())
            if args.json:
                print(json.dumps([_buffer_json(b) for b in listed.buffers]))
            for b in [] if args.json else listed.buffers:
                print(f'{b.name}: {b.size} bytes: "{_sample(b.data)}"')
            return 0
        case "show-buffer":
            shown: p.Buffers = call(p.ShowBuffer(name=args.name))
            sys.stdout.flush()
            sys.stdout.buffer.write(shown.buffers[0].data)
            sys.stdout.buffer.flush()
            return 0
        case "set-buffer":
            call(p.SetBuffer(data=_sized(os.fsencode(args.text)), name=args.name, append=args.append))
            return 0
        case "load-buffer":
            call(p.SetBuffer(data=_sized(_read(args.path)), name=args.name))
            return 0
        case "save-buffer":
            saved: p.Buffers = call(p.ShowBuffer(name=args.name))
            _write(args.path, saved.buffers[0].data, args.append)
            return 0
        case "paste-buffer":
            call(p.PasteBuffer(target=_session(args.target), name=args.name, delete=args.delete, raw=args.raw))
            return 0
        case "delete-buffer":
            call(p.DeleteBuffer(name=args.name))
            return 0
        case "grep":
            try:
                found: p.GrepHits = call(p.Grep(pattern=args.pattern, target=args.target or "", regex=not args.fixed))
            except ScarabError as exc:  # grep(1)'s status for trouble: 1 says only that nothing matched
                print(f"scarab: {exc}", file=sys.stderr)
                return 2
            hits = found.hit_list()
            for why in found.skipped or []:
                print(f"scarab: grep: not searched: {why}", file=sys.stderr)
            if args.json:
                print(json.dumps({"hits": [_hit_json(h) for h in hits], "truncated": found.truncated}))
            else:
                sys.stdout.writelines(format_hit(hit) + "\n" for hit in hits)
                if found.truncated:
                    print(f"scarab: grep: stopped after {len(hits)} lines", file=sys.stderr)
            return 0 if hits else 1
        case "edit-scrollback":
            return _edit_scrollback(_session(args.target))
    return None


def format_hit(hit: p.GrepHit) -> str:
    """`session:window.pane:line:text`, line counted from 1 at the oldest row ever kept, as grep -n."""
    return f"{hit.where}:{hit.row + 1}:{hit.line}"


def _hit_json(hit: p.GrepHit) -> dict[str, Any]:
    return hit._asdict()


def _buffer_json(b: p.BufferInfo) -> dict[str, Any]:
    return {"name": b.name, "size": b.size, "created": b.created, "sample": b.data.decode(errors="replace")}


def _sample(data: bytes, width: int = 50) -> str:
    """tmux's list-buffers sample: the start of the text with controls made visible."""
    text = data.decode(errors="replace")
    out = "".join(c if c.isprintable() else f"\\{ord(c):03o}" for c in text[:width])
    return out + ("..." if len(text) > width else "")


def _session(target: str | None) -> str:
    current = target or current_session()
    if not current:
        raise BadRequest("no session given: use -t TARGET (or run this inside a session)")
    return current


def _sized(data: bytes) -> bytes:
    if len(data) > p.MAX_BUFFER:
        raise BadRequest(f"a buffer of {len(data)} bytes is over the {p.MAX_BUFFER} byte limit; nothing was stored")
    return data


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ScarabError(f"cannot read {path}: {exc.strerror}") from None


def _write(path: str, data: bytes, append: bool) -> None:
    if path == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        # A buffer holds screen contents: a file made for it is the user's alone.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except OSError as exc:
        raise ScarabError(f"cannot write {path}: {exc.strerror}") from None


def _edit_scrollback(target: str) -> int:
    from scarab.editor import edit_text
    from scarab.paths import Paths

    async def text() -> str:
        client = await Client.connect(Paths.default())
        try:
            return await client.capture_text(target, scrollback=True)
        finally:
            await client.close()

    label = f"{target}-{time.strftime('%H%M%S')}"
    return edit_text(asyncio.run(text()), label)
