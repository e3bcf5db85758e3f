"""Build layer: a session made from a template (`scarab new -L`). The daemon turns the client's plan
into the SessionSpec its new host builds every window and pane from, at their final sizes, before any
program starts; then it types each pane's commands into its shell once that shell waits for input.

Typing only then is what tmuxinator and tmuxp lack: their keys arrive while a slow startup file
still runs, and are lost or go to the wrong program. Here a pane's shell is watched through /proc
(procinfo.waiting_for_input) every POLL seconds, for at most PATIENCE; a shell that never waits
(an rc file that reads from the terminal for ever) gets the commands then, as tmuxinator would.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from scarab import protocol as p
from scarab.daemon.layout import Layout
from scarab.daemon.limits import check_wire
from scarab.daemon.procinfo import waiting_for_input
from scarab.daemon.spec import PaneSpec, SessionSpec, WindowSpec
from scarab.environ import parse_entries
from scarab.errors import BadRequest
from scarab.templates import renumber

__all__ = ["PATIENCE", "check_build", "template_spec", "type_when_ready", "write_spec"]

POLL = 0.02
PATIENCE = 10.0
MAX_PANES = 256  # in one template: more is a mistake (or an attack), not a workspace


def check_build(build: p.SessionBuild) -> None:
    """Refuse a plan that cannot be built as a whole (the CLI checked it; another client may not)."""
    if not build.windows or not 0 <= build.current < len(build.windows):
        raise BadRequest("a template needs windows, and its focused window among them")
    check_wire(build.limits, "a template's limits")
    if sum(len(window.panes) for window in build.windows) > MAX_PANES:
        raise BadRequest(f"a template may have at most {MAX_PANES} panes")
    for window in build.windows:
        try:
            layout = Layout.from_string(window.layout)
        except BadRequest as exc:
            raise BadRequest(f"window {window.name!r}: {exc}") from None
        if layout.panes != tuple(range(len(window.panes))) or not 0 <= window.active < len(window.panes):
            raise BadRequest(f"window {window.name!r}: its layout needs panes 0..{len(window.panes) - 1} in order")
        for pane in window.panes:
            if not os.path.isdir(pane.cwd):
                raise BadRequest(f"working directory {pane.cwd!r} does not exist")
            parse_entries(pane.environ)
            if any("\r" in line or "\n" in line for line in pane.commands):
                raise BadRequest("a template's command is one line each")


def write_spec(path: Path, spec: SessionSpec) -> Path:
    """The spec file a new host reads (and deletes): private, as every file the daemon writes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(spec.pack())
    return path


def template_spec(
    build: p.SessionBuild, pane_ids: list[int], window_ids: list[int], shell: tuple[str, ...]
) -> tuple[SessionSpec, dict[int, list[str]]]:
    """The spec of a template's windows with these ids (in order), and each pane's commands by id."""
    windows, commands = [], {}
    taken = 0
    for index, (window, window_id) in enumerate(zip(build.windows, window_ids, strict=True)):
        ids = pane_ids[taken : taken + len(window.panes)]
        taken += len(ids)
        panes = []
        for pane_id, pane in zip(ids, window.panes, strict=True):
            # The pane's own variables: through env(1), which execs the shell in the same process.
            argv = ("env", *pane.environ, *shell) if pane.environ else shell
            panes.append(PaneSpec(id=pane_id, cwd=pane.cwd, command=argv))
            if pane.commands:
                commands[pane_id] = list(pane.commands)
        windows.append(
            WindowSpec(
                index=index, id=window_id, name=window.name or os.path.basename(shell[0]),
                layout=renumber(window.layout, ids), panes=tuple(panes), active=ids[window.active],
                automatic_rename=not window.name,
            )
        )  # fmt: skip
    return SessionSpec(windows=tuple(windows), current=build.current), commands


async def type_when_ready(
    send: Callable[[p.Message], None], pids: Callable[[], dict[int, int]], commands: dict[int, list[str]]
) -> None:
    """Type each pane's lines (`commands`, by pane id) once its shell waits for input. `pids` gives
    each pane's program's pid now (from the host's latest Layout)."""
    deadline = time.monotonic() + PATIENCE
    pending = dict(commands)
    while pending:
        now = pids()
        late = time.monotonic() > deadline
        for pane, lines in list(pending.items()):
            pid = now.get(pane, 0)
            if pid and (late or waiting_for_input(pid)):
                send(p.HostInput(data="".join(line + "\r" for line in lines).encode(), pane=pane))
                del pending[pane]
            elif late and not pid:
                del pending[pane]  # the pane is gone (its window killed meanwhile)
        if pending:
            await asyncio.sleep(POLL)
