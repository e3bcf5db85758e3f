"""Long load tests (`make stress`): floods, huge pastes, resize storms, create/delete churn."""

from __future__ import annotations

import asyncio
import hashlib
import random
import statistics
import time
from pathlib import Path

import pytest

from scarab import protocol as p
from scarab.client import Client
from scarab.testkit import frame_with, shows
from tests.helpers import ScarabEnv, rss_kb

pytestmark = [pytest.mark.stress, pytest.mark.timeout(900)]


def test_flood_keeps_other_sessions_responsive(in_env: ScarabEnv) -> None:
    async def scenario() -> list[float]:
        control = await Client.connect()
        await control.request(p.SessionCreate(name="flood", command=["sh", "-c", "yes flood-line"]))
        flood_viewer = await Client.connect()
        await flood_viewer.request(p.SessionAttach(target="flood"))
        samples: list[float] = []
        for i in range(10):
            await control.request(p.SessionCreate(name=f"s{i}", command=["sh"]))
            client = await Client.connect()
            await client.request(p.SessionAttach(target=f"s{i}"))
            await frame_with(client, shows("$"))
            for k in range(20):
                token = f"{chr(97 + k)}"
                start = time.perf_counter()
                client.send(p.Input(target=f"s{i}", data=token.encode()))
                await frame_with(client, shows(f"$ {'abcdefghijklmnopqrstuvwxyz'[: k + 1]}"))
                samples.append((time.perf_counter() - start) * 1000)
            await client.close()
        await flood_viewer.close()
        await control.close()
        return samples

    samples = asyncio.run(asyncio.wait_for(scenario(), 300))
    p99 = statistics.quantiles(samples, n=100)[98]
    print(f"echo under flood: p50 {statistics.median(samples):.1f} ms, p99 {p99:.1f} ms")
    assert p99 < 20, f"echo p99 {p99:.1f} ms while another session floods"


def test_10mb_paste_arrives_intact(in_env: ScarabEnv) -> None:
    target = in_env.root / "pasted"
    rng = random.Random(42)
    line = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(99)) + "\n"
    data = (line * (10 * 1024 * 1024 // len(line) + 1)).encode()[: 10 * 1024 * 1024]

    async def scenario() -> None:
        client = await Client.connect()
        command = ["sh", "-c", f"stty raw -echo; head -c {len(data)} > {target}; echo pasted-ok; sleep 600"]
        await client.request(p.SessionCreate(name="paste", command=command))
        await client.request(p.SessionAttach(target="paste"))
        for start in range(0, len(data), 65536):
            await client.request(p.Input(target="paste", data=data[start : start + 65536], ack=True))
        await frame_with(client, shows("pasted-ok"), timeout=120)
        await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 300))
    assert hashlib.sha256(Path(target).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_resize_storm(in_env: ScarabEnv) -> None:
    async def scenario() -> None:
        client = await Client.connect()
        await client.request(p.SessionCreate(name="rs", command=["sh"]))
        await client.request(p.SessionAttach(target="rs"))
        sizes = [(80 + i % 50, 24 + i % 20) for i in range(300)]
        start = time.monotonic()
        for i, (cols, rows) in enumerate(sizes):
            client.send(p.Resize(target="rs", cols=cols, rows=rows))
            await asyncio.sleep(max(0, start + (i + 1) / 100 - time.monotonic()))  # 100 per second
        client.send(p.Input(target="rs", data=b"stty size\r"))
        await frame_with(client, shows(f"{sizes[-1][1]} {sizes[-1][0]}"))
        await client.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    assert in_env.session("rs")["cols"] == 80 + 299 % 50


def test_create_delete_churn_leaks_nothing(in_env: ScarabEnv) -> None:
    def fds(pid: int) -> int:
        return len(list(Path(f"/proc/{pid}/fd").iterdir()))

    async def scenario() -> tuple[int, int, int, int]:
        client = await Client.connect()
        daemon = client.daemon_pid
        base_fds = base_rss = 0
        for i in range(1000):
            created = await client.request(p.SessionCreate(name=f"c{i}", command=["sh"]))
            assert isinstance(created, p.Created)
            await client.request(p.SessionDelete(target=created.session.id))
            if i == 99:
                base_fds, base_rss = fds(daemon), rss_kb(daemon)
        result = (base_fds, fds(daemon), base_rss, rss_kb(daemon))
        await client.close()
        return result

    base_fds, end_fds, base_rss, end_rss = asyncio.run(asyncio.wait_for(scenario(), 800))
    print(f"daemon fds {base_fds} -> {end_fds}, RSS {base_rss} -> {end_rss} KB")
    assert end_fds <= base_fds + 2
    assert end_rss - base_rss < 20 * 1024
    assert in_env.host_pids() == [], "host processes leaked"
    assert in_env.sessions() == []
