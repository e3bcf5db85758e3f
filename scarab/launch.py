"""Entry layer: the `scarab` command's first step, before the CLI is imported.

Importing the CLI (argparse, asyncio, every verb's module) takes ~60-100 ms, all before a cold
`scarab attach` could show anything. So `scarab`, `scarab attach [TARGET]` and `scarab a [TARGET]`
(`-t TARGET` too) paint the session's screen first (`scarab.tui.firstpaint`, which needs only a
socket and the protocol) and start relaying keys, then import the CLI, which takes over what was
painted. Anything else, or anything unexpected here, goes to the CLI as it came: it parses, checks
and reports as always.
"""

from __future__ import annotations

import os
import sys

from scarab.tui.firstpaint import EarlyAttach, paint

__all__ = ["attach_target", "main", "paint_early"]


def attach_target(argv: list[str]) -> tuple[bool, str | None]:
    """Whether `argv` is a plain local attach (no other option), and to which target."""
    match argv:
        case []:
            return True, None
        case ["attach" | "a"]:
            return True, None
        case ["attach" | "a", "-t", target] if target and not target.startswith("-"):
            return True, target
        case ["attach" | "a", target] if target and not target.startswith("-"):
            return True, target
    return False, None


def paint_early(argv: list[str]) -> EarlyAttach | None:
    """The session's screen on the terminal and keys relayed to it, if `argv` attaches here."""
    plain, target = attach_target(argv)
    if not plain or os.environ.get("SCARAB_SESSION") or os.environ.get("SCARAB"):
        return None  # nesting is refused by the CLI, with its message
    from scarab.config import load_config
    from scarab.errors import ScarabError
    from scarab.paths import Paths

    try:
        paths = Paths.default()
        config = load_config(paths.config_file)
    except (ScarabError, OSError):
        return None  # the CLI says what is wrong
    return paint(target, paths, config)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    early = paint_early(args)
    try:
        from scarab.cli import main as cli_main
    except BaseException:
        if early is not None:  # nothing else will give the terminal back
            from scarab.tui.firstpaint import leave_first_paint

            leave_first_paint(sys.stdout, early.relay.handover()[0])
        raise
    return cli_main(args, early=early)
