"""After a reboot, a pane that had a program other than its shell in the foreground offers to run it
again (issue 17): the banner under the restored screen, Enter runs it, Esc dismisses, nothing runs on
its own. The offer itself (scarab/daemon/banner.py) is pure and tested first."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from scarab.daemon.banner import Offer
from tests.helpers import ScarabEnv, new_sh, type_line, wait_for

BANNER = '[scarab: was running "sleep 1000" \u2014 Enter to run again, Esc to dismiss]'


def test_the_offer_answers_the_first_keys() -> None:
    offer = Offer(("vim", "my notes.md"))
    assert offer.banner() == "[scarab: was running \"vim 'my notes.md'\" \u2014 Enter to run again, Esc to dismiss]"
    assert offer.take(b"\r") == b"vim 'my notes.md'\r"
    assert offer.take(b"\x1b") == b""
    assert offer.take(b"ls") == b"ls"


def _foreground_saved(scarab: ScarabEnv, session_id: str) -> bool:
    with contextlib.closing(sqlite3.connect(scarab.paths.database)) as db:
        rows = db.execute("SELECT data FROM snapshots WHERE session_id = ?", (session_id,)).fetchall()
    return any(b"foreground" in bytes(row[0]) and b"sleep" in bytes(row[0]) for row in rows)


def _current(scarab: ScarabEnv, name: str) -> str:
    return scarab.ok("display", "-p", "-t", name, "#{pane_current_command}").strip()


@pytest.mark.timeout(120)
def test_a_resurrected_pane_offers_its_foreground_program_again(scarab: ScarabEnv) -> None:
    ids = {name: new_sh(scarab, name) for name in ("again", "dismissed")}
    for name, sid in ids.items():
        type_line(scarab, name, "sleep 1000")
        wait_for(lambda sid=sid: _foreground_saved(scarab, sid), what="a snapshot naming sleep 1000")
    scarab.kill_all()  # the reboot: daemon, hosts, shells and their sleeps all gone
    for name in ids:
        wait_for(lambda name=name: scarab.session(name)["state"] == "running", what=f"{name} restored")
        wait_for(lambda name=name: BANNER in scarab.capture(name), what=f"the banner in {name}")
        wait_for(lambda name=name: _current(scarab, name) == "sh", what="its new shell")
    assert _current(scarab, "again") == "sh"  # nothing ran on its own
    scarab.ok("send", "-t", "again", "Enter")
    wait_for(lambda: _current(scarab, "again") == "sleep", what="Enter to run sleep 1000 again")
    scarab.ok("send", "-t", "dismissed", "Escape")
    scarab.ok("send", "-t", "dismissed", "Enter")  # a plain Enter for the shell now
    wait_for(lambda: scarab.capture("dismissed").rstrip().endswith("$"), what="a new prompt")
    assert _current(scarab, "dismissed") == "sh"
