"""Echo latency and flood behaviour of `scarab attach --ssh` through an artificially slow link.

The link is tests/fake_ssh.py: the remote command's output is delayed and rate-limited. Prints the
figures recorded in the README. Usage: .venv/bin/python benchmarks/slow_link.py [RATE_BYTES_PER_S DELAY_S]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scarab import protocol as p  # noqa: E402
from scarab.client import Client  # noqa: E402
from scarab.remote import SshTarget  # noqa: E402


@dataclass
class LinkFigures:
    rate: float
    delay: float
    echo_ms: list[float]
    flood_bytes: int
    flood_seconds: float
    link_bytes: int


class Screen:
    def __init__(self) -> None:
        self.rows: dict[int, str] = {}
        self.changed = asyncio.Event()

    def apply(self, frame: p.Frame) -> None:
        if frame.full:
            self.rows.clear()
        for y, text, _runs in frame.lines:
            self.rows[y] = text
        self.changed.set()

    def has(self, needle: str) -> bool:
        return any(needle in row for row in self.rows.values())


async def measure(rate: float, delay: float, flood_lines: int = 100_000) -> LinkFigures:
    stats = Path(os.environ["XDG_RUNTIME_DIR"]) / "link-bytes"
    os.environ.update(
        SCARAB_SSH=f"{sys.executable} {ROOT / 'tests' / 'fake_ssh.py'}",
        SCARAB_REMOTE_COMMAND=f"{sys.executable} -m scarab",
        FAKE_SSH_RATE=str(rate),
        FAKE_SSH_DELAY=str(delay),
        FAKE_SSH_STATS=str(stats),
    )
    client = await Client.connect_ssh(SshTarget("example.org"))
    screen = Screen()

    async def pump() -> None:
        while (msg := await client.events.get()) is not None:
            if isinstance(msg, p.Frame):
                screen.apply(msg)

    reader = asyncio.create_task(pump())

    async def until(predicate: object, timeout: float = 120) -> float:
        start = time.monotonic()
        while not predicate():  # type: ignore[operator]
            screen.changed.clear()
            await asyncio.wait_for(screen.changed.wait(), timeout)
        return time.monotonic() - start

    try:
        await client.request(p.SessionCreate(name="slow", cols=80, rows=24, command=["sh"]))
        await client.request(p.SessionAttach(target="slow", cols=80, rows=24))
        await until(lambda: screen.has("$"))
        echo = []
        for i in range(10):
            token = f"k{i}q"
            start = time.monotonic()
            client.send(p.Input(target="slow", data=token.encode()))
            await until(lambda token=token: screen.has(token))
            echo.append((time.monotonic() - start) * 1000)
            client.send(p.Input(target="slow", data=b"\x15"))  # ctrl+u clears the line again
            await until(lambda token=token: not screen.has(token))
        link_before = _link_bytes(stats)
        start = time.monotonic()
        client.send(p.Input(target="slow", data=f"seq 1 {flood_lines}; echo flood-done\r".encode()))
        await until(lambda: screen.has("flood-done") and screen.has(str(flood_lines)))
        flood_seconds = time.monotonic() - start
    finally:
        reader.cancel()
        await client.close()
    # The link's byte count is written when the ssh stand-in exits.
    deadline = time.monotonic() + 10
    while _link_bytes(stats) <= 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    flood_bytes = sum(len(f"{i}\n") for i in range(1, flood_lines + 1))
    return LinkFigures(rate, delay, echo, flood_bytes, flood_seconds, _link_bytes(stats) - link_before)


def _link_bytes(stats: Path) -> int:
    try:
        return sum(int(line) for line in stats.read_text().split())
    except (OSError, ValueError):
        return 0


def report(f: LinkFigures) -> str:
    return (
        f"link {f.rate / 1000:g} KB/s + {f.delay * 1000:g} ms: echo p50 {statistics.median(f.echo_ms):.0f} ms, "
        f"max {max(f.echo_ms):.0f} ms; `seq` flood of {f.flood_bytes / 1e6:.2f} MB shown complete after "
        f"{f.flood_seconds:.1f} s with {f.link_bytes / 1e3:.0f} KB over the link "
        f"(sending it all would take {f.flood_bytes / f.rate:.0f} s)"
    )


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.helpers import destroy_env, make_env

    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    env = make_env()
    try:
        for key in ("XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "HOME", "SHELL", "PS1"):
            os.environ[key] = env.env[key]
        figures = asyncio.run(measure(rate, delay))
        print(report(figures))
    finally:
        destroy_env(env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
