"""Editor layer: a pane's screen and scrollback opened in the user's editor (`prefix e`,
`scarab edit-scrollback`): a private read-only file, deleted when the editor exits."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping

from scarab.errors import ScarabError

__all__ = ["edit_text", "editor_command"]


def editor_command(environ: Mapping[str, str] | None = None) -> list[str]:
    """$VISUAL, else $EDITOR, else vi, split as a shell would (`code --wait` works)."""
    environ = os.environ if environ is None else environ
    for name in ("VISUAL", "EDITOR"):
        value = environ.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise ScarabError(f"${name} is {value!r}, which cannot be split into words: {exc}") from None
            if words:
                return words
    return ["vi"]


def edit_text(text: str, label: str) -> int:
    """Show `text` in the editor on this terminal and wait for it; the editor's exit status.
    The file is 0400 in a 0700 directory (it holds screen contents) and removed afterwards."""
    command = editor_command()
    with tempfile.TemporaryDirectory(prefix="scarab-") as directory:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label) or "scrollback"
        path = os.path.join(directory, f"{safe}.txt")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as file:
            file.write(text)
        try:
            return subprocess.run([*command, path], check=False).returncode
        except OSError as exc:
            why = exc.strerror
            raise ScarabError(f"cannot start the editor {command[0]!r}: {why}; set $VISUAL or $EDITOR") from None
