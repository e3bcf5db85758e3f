"""The outer clipboard: OSC 52 as the terminal gets it, and copy_command run for real."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from scarab.errors import ScarabError
from scarab.tui.clipboard import Clipboard, osc52


def test_osc52_and_copy_command(tmp_path: Path) -> None:
    written: list[str] = []
    target = tmp_path / "copied"
    clipboard = Clipboard(written.append, osc=True, command=f"sh -c 'cat > {target}'")
    asyncio.run(clipboard.copy("héllo\nworld".encode()))
    assert written == ["\x1b]52;c;aMOpbGxvCndvcmxk\x07"] == [osc52("héllo\nworld".encode())]
    assert target.read_text() == "héllo\nworld"


def test_set_clipboard_off_and_a_failing_command(tmp_path: Path) -> None:
    written: list[str] = []
    with pytest.raises(ScarabError, match="copy_command 'false' failed with status 1"):
        asyncio.run(Clipboard(written.append, osc=False, command="false").copy(b"x"))
    assert written == []
    with pytest.raises(ScarabError, match="could not start"):
        asyncio.run(Clipboard(written.append, osc=False, command=str(tmp_path / "absent")).copy(b"x"))
