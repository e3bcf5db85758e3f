"""Daemon buffers layer: tmux's paste buffers, kept in the store so they survive restarts and reboots.

A stack, most recent first. A copy without a name makes an automatic buffer (`buffer0`,
`buffer1`, ... as tmux names them) and only the newest BUFFER_LIMIT automatic ones are kept
(tmux's buffer-limit); named buffers (`set-buffer -b NAME`) stay until deleted. Every change is
committed before the reply, as every control operation is.
"""

from __future__ import annotations

import re
import time

from scarab import protocol as p
from scarab.daemon.store import SavedBuffer, Store
from scarab.errors import BadRequest

__all__ = ["BUFFER_LIMIT", "SAMPLE_BYTES", "PasteBuffers", "paste_bytes"]

BUFFER_LIMIT = 50  # tmux's buffer-limit
SAMPLE_BYTES = 200  # of each buffer in a listing: enough for a preview line
_AUTOMATIC = re.compile(r"buffer(\d+)\Z")


class PasteBuffers:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self) -> list[p.BufferInfo]:
        sizes = self.store.buffer_sizes()
        return [
            p.BufferInfo(name=b.name, size=sizes.get(b.name, len(b.data)), created=b.created, data=b.data)
            for b in self.store.buffers(sample=SAMPLE_BYTES)
        ]

    def get(self, name: str = "") -> SavedBuffer:
        """The buffer called `name`, or the most recent; BadRequest in tmux's words when there is none."""
        buffers = self.store.buffers()
        if not name:
            if not buffers:
                raise BadRequest("no buffers")
            return buffers[0]
        found = next((b for b in buffers if b.name == name), None)
        if found is None:
            raise BadRequest(f"no buffer {name}")
        return found

    def set(self, data: bytes, name: str = "", append: bool = False) -> str:
        """A new buffer on top (or `name`'s contents replaced or appended to); its name."""
        if name and not name.isprintable():
            raise BadRequest(f"buffer name {name!r} has unprintable characters")
        if append:
            data = self.get(name).data + data
        check_size(data)
        if not name:
            name = self._next_name()
        automatic = _AUTOMATIC.match(name) is not None
        self.store.put_buffer(SavedBuffer(name, int(time.time()), automatic, data), BUFFER_LIMIT)
        return name

    def delete(self, name: str = "") -> None:
        self.store.delete_buffer(self.get(name).name)

    def _next_name(self) -> str:
        numbers = [int(m.group(1)) for b in self.store.buffers(sample=0) if (m := _AUTOMATIC.match(b.name))]
        return f"buffer{max(numbers, default=-1) + 1}"


def check_size(data: bytes) -> None:
    if len(data) > p.MAX_BUFFER:
        raise BadRequest(f"a buffer of {len(data)} bytes is over the {p.MAX_BUFFER} byte limit; nothing was stored")


def paste_bytes(data: bytes, raw: bool = False) -> bytes:
    """What paste-buffer types: line feeds become carriage returns (Enter), as tmux's default
    separator does, unless `raw` (-r)."""
    return data if raw else data.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
