"""TUI clipboard layer: a copy reaching the clipboard of the terminal the user sits at.

OSC 52 goes out through the client's own terminal, so it works through `ssh -t`, `--ssh` and an
outer tmux with `set-clipboard on` (tmux's own copies do the same). For terminals without OSC 52,
`copy_command` (xclip, wl-copy, pbcopy) gets every copy on its standard input, like tmux's
copy-command; it runs on this machine, where the user's clipboard is.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shlex
from collections.abc import Callable

from scarab.errors import ScarabError

__all__ = ["Clipboard", "osc52"]

COMMAND_WAIT = 5.0  # seconds; xclip and wl-copy stay behind to serve the selection: not waited for


def osc52(data: bytes) -> str:
    """Set the terminal's clipboard (`c`) to `data` (xterm's Manipulate Selection Data)."""
    return f"\x1b]52;c;{base64.b64encode(data).decode('ascii')}\x07"


class Clipboard:
    def __init__(self, write: Callable[[str], None], osc: bool, command: str) -> None:
        self.write = write  # to the outer terminal
        self.osc = osc
        self.command = command

    async def copy(self, data: bytes) -> None:
        if self.osc:
            self.write(osc52(data))
        if self.command:
            await self._run_command(data)

    async def _run_command(self, data: bytes) -> None:
        try:
            argv = shlex.split(self.command)
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,  # never onto the screen Textual draws
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,  # no terminal to read from or signal it through
            )
        except (OSError, ValueError) as exc:
            raise ScarabError(f"copy_command {self.command!r} could not start: {exc}") from None
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(data)
            await proc.stdin.drain()
        proc.stdin.close()
        try:
            status = await asyncio.wait_for(proc.wait(), COMMAND_WAIT)
        except TimeoutError:
            return
        if status != 0:
            raise ScarabError(f"copy_command {self.command!r} failed with status {status}")
