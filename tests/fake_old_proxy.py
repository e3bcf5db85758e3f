"""Plays a remote `scarab proxy` from another protocol version (for the version-mismatch test)."""

from __future__ import annotations

import sys

from scarab import protocol as p

sys.stdout.buffer.write(p.encode(p.Hello(version=p.PROTOCOL_VERSION + 98, role="daemon", pid=1)))
sys.stdout.buffer.flush()
sys.stdin.buffer.read(1)
