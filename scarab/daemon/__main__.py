"""Entry layer for the daemon alone: `python -m scarab.daemon` is `scarab daemon run --fork` without
the CLI, which a client runs when it finds no daemon (the CLI's imports cost each start ~40 ms of CPU,
before a restarted daemon can adopt its sessions)."""

from scarab.daemon.server import fork_daemon
from scarab.paths import Paths

raise SystemExit(fork_daemon(Paths.default()))
