"""A stand-in for `ssh` in tests: runs the remote command locally, optionally over a slow link.

Takes ssh's arguments (options, host, remote command), ignores the options and host, and runs the
command with `sh -c`. With FAKE_SSH_RATE (bytes/s) and FAKE_SSH_DELAY (seconds) set, the command's
output reaches us through a relay that delays and rate-limits it, like a slow network link.
FAKE_SSH_FAIL=255 makes it fail as ssh does when the host is unreachable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

OPTS_WITH_VALUE = {"-e", "-o", "-p", "-i", "-l", "-F"}


def main() -> int:
    args = sys.argv[1:]
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in OPTS_WITH_VALUE else 1
    if os.environ.get("FAKE_SSH_FAIL"):
        print(f"ssh: connect to host {args[i]} port 22: Connection refused", file=sys.stderr)
        return int(os.environ["FAKE_SSH_FAIL"])
    command = " ".join(args[i + 1 :])
    rate = float(os.environ.get("FAKE_SSH_RATE", "0"))
    delay = float(os.environ.get("FAKE_SSH_DELAY", "0"))
    if not rate and not delay:
        os.execvp("sh", ["sh", "-c", command])
    child = subprocess.Popen(["sh", "-c", command], stdout=subprocess.PIPE, bufsize=0)
    assert child.stdout is not None
    out = sys.stdout.buffer
    counter = {"bytes": 0}
    stats = os.environ.get("FAKE_SSH_STATS")

    def relay() -> None:
        # Byte-rate limit plus a fixed latency per chunk: what a slow link does to the stream.
        assert child.stdout is not None
        while chunk := child.stdout.read(4096):
            time.sleep(delay)
            for start in range(0, len(chunk), 512):
                piece = chunk[start : start + 512]
                out.write(piece)
                out.flush()
                counter["bytes"] += len(piece)
                if stats:  # replaced atomically: a reader never sees a half-written count
                    with open(stats + ".tmp", "w") as f:
                        f.write(f"{counter['bytes']}\n")
                    os.replace(stats + ".tmp", stats)
                if rate:
                    time.sleep(len(piece) / rate)
        out.close()

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    status = child.wait()
    thread.join(5)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
