"""Errors layer: every exception Scarab raises on purpose, under one base class.

Each error carries a message meant for the user: what happened and, where it helps, what to do.
The `code` travels over the protocol in `Error` replies so a client can re-raise the same class.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "DaemonUnreachable",
    "DuplicateName",
    "HostUnavailable",
    "ProtocolError",
    "ScarabError",
    "SessionBusy",
    "SessionNotFound",
    "StorageError",
    "error_from_code",
]


class ScarabError(Exception):
    """Base of all Scarab errors; `str(err)` is the message shown to the user."""

    code = "error"


class SessionNotFound(ScarabError):
    code = "not_found"


class DuplicateName(ScarabError):
    code = "duplicate_name"


class SessionBusy(ScarabError):
    """The operation would disturb attached clients (e.g. kill without --force)."""

    code = "busy"


class BadRequest(ScarabError):
    """Arguments that can never work: a bad size, an empty name, an ambiguous target."""

    code = "bad_request"


class ProtocolError(ScarabError):
    """A malformed, oversized or unknown frame, or a protocol version mismatch."""

    code = "protocol"


class DaemonUnreachable(ScarabError):
    code = "unreachable"


class HostUnavailable(ScarabError):
    """The session's host process is not reachable (exited, or being restored)."""

    code = "host_unavailable"


class StorageError(ScarabError):
    """The SQLite store could not be read or written (disk full, read-only, locked)."""

    code = "storage"


_BY_CODE: dict[str, type[ScarabError]] = {
    cls.code: cls
    for cls in (
        ScarabError,
        SessionNotFound,
        DuplicateName,
        SessionBusy,
        BadRequest,
        ProtocolError,
        DaemonUnreachable,
        HostUnavailable,
        StorageError,
    )
}


def error_from_code(code: str, message: str) -> ScarabError:
    """Rebuild the error a daemon reported, so clients raise what the daemon raised."""
    return _BY_CODE.get(code, ScarabError)(message)
