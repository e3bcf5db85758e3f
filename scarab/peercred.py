"""Peer credential layer: which user is at the other end of a Unix socket (SO_PEERCRED)."""

from __future__ import annotations

import socket
import struct

__all__ = ["socket_peer_uid"]

_UCRED = struct.Struct("3i")  # pid, uid, gid


def socket_peer_uid(sock: socket.socket) -> int | None:
    """The peer's uid, or None when `sock` is not a Unix socket."""
    if sock.family != socket.AF_UNIX:
        return None
    _pid, uid, _gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return int(uid)
