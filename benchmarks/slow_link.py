"""Echo latency and flood behaviour of `scarab attach --ssh` through an artificially slow link.

The link is tests/fake_ssh.py: the remote command's output is delayed and rate-limited. Prints the
figures recorded in the README. Usage: .venv/bin/python benchmarks/slow_link.py [RATE_BYTES_PER_S DELAY_S]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scarab.testkit import LinkFigures, Sandbox, measure_slow_link  # noqa: E402


def report(f: LinkFigures) -> str:
    return (
        f"link {f.rate / 1000:g} KB/s + {f.delay * 1000:g} ms: echo p50 {statistics.median(f.echo_ms):.0f} ms, "
        f"max {max(f.echo_ms):.0f} ms; `seq` flood of {f.flood_bytes / 1e6:.2f} MB shown complete after "
        f"{f.flood_seconds:.1f} s with {f.link_bytes / 1e3:.0f} KB over the link "
        f"(sending it all would take {f.flood_bytes / f.rate:.0f} s)"
    )


def main() -> int:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    env = Sandbox.create()
    try:
        for key in ("XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME", "SHELL", "PS1"):
            os.environ[key] = env.env[key]
        figures = asyncio.run(measure_slow_link(rate, delay, ROOT / "tests" / "fake_ssh.py"))
        print(report(figures))
    finally:
        env.destroy()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
