"""Controls layer, daemon side: recording and limits verbs go to the session's host, and `ls` learns
from each running host whether it records, what its programs use and how they are limited.

The host does the work (it writes the recording and applies the limits, so both go on while the
daemon restarts); the daemon only finds the session, forwards the verb and turns a refusal into
the same error the client would get for any other verb.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import TypeVar

from scarab import protocol as p
from scarab.daemon.limits import Limits, check_wire
from scarab.daemon.registry import SessionManager
from scarab.errors import BadRequest, HostUnavailable, error_from_code

__all__ = ["Controls"]

_M = TypeVar("_M", bound=p.Message)

STATUS_TIMEOUT = 0.5  # seconds a host may take to say how it is doing before `ls` goes on without it
ACTIONS = ("start", "stop", "status")


class Controls:
    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager

    async def record(self, target: str, action: str, path: str, record_input: bool) -> p.Recordings:
        if action not in ACTIONS:
            raise BadRequest(f"record: unknown action {action!r} (start, stop or status)")
        # A pane target (`work:1.2`, `%5`) records that pane; a session, its active pane.
        session, pane = self.manager.pane_of(target)
        host = self.manager.host_of(session)
        reply = await host.request(p.HostRecord(pane=pane, action=action, path=path, input=record_input))
        return _expect(reply, p.Recordings)

    async def limit(self, target: str, limits: list[int]) -> p.LimitsReport:
        check_wire(limits, "limit")
        session = self.manager.get_session(target)
        reply = _expect(await self.manager.host_of(session).request(p.HostLimit(limits=limits)), p.LimitsReport)
        self.manager.keep_limits(session.record.id, reply.limits)
        return reply

    async def annotate(self, sessions: list[p.SessionInfo]) -> list[p.SessionInfo]:
        """`sessions` with each running one's recording mark, usage and limits."""
        return list(await asyncio.gather(*(self._annotate(info) for info in sessions)))

    async def _annotate(self, info: p.SessionInfo) -> p.SessionInfo:
        session = self.manager.sessions.get(info.id)
        if session is None or session.host is None or info.state != "running":
            return info
        host = session.host
        with contextlib.suppress(HostUnavailable, TimeoutError, asyncio.TimeoutError):
            recordings, report = await asyncio.gather(
                host.request(p.HostRecord(pane=-1, action="status"), timeout=STATUS_TIMEOUT),
                host.request(p.HostLimit(limits=[0, 0, 0]), timeout=STATUS_TIMEOUT),
            )
            if isinstance(recordings, p.Recordings) and isinstance(report, p.LimitsReport):
                return dataclasses.replace(
                    info,
                    recording=any(item.active for item in recordings.items),
                    memory=report.memory,
                    cpu=report.cpu,
                    limits=f"{Limits.from_wire(report.limits).describe()} ({report.enforcement})"
                    if any(report.limits)
                    else "",
                )
        return info


def _expect(reply: p.Message, kind: type[_M]) -> _M:
    if isinstance(reply, p.Failed):
        raise error_from_code(reply.code, reply.message)
    if not isinstance(reply, kind):
        raise HostUnavailable(f"session host answered {type(reply).__name__} to {kind.__name__}'s request")
    return reply
