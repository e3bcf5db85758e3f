"""The session spec a host is started with: round trip, and damaged files refused whole."""

from __future__ import annotations

import msgpack
import pytest

from scarab.daemon.spec import PaneSpec, SessionSpec, SpecError, WindowSpec

pytestmark = pytest.mark.timeout(10)

SPEC = SessionSpec(
    windows=(
        WindowSpec(0, 1, "bash", "b25d,80x24,0,0,2", (PaneSpec(2, "/tmp", ("bash",), "/r/2"),), active=2),
        WindowSpec(
            3,
            4,
            "work",
            "x",
            (PaneSpec(5, "/", ("sh", "-c", "top")), PaneSpec(6, "/home", ("vim",))),
            active=6,
            zoomed=True,
            automatic_rename=False,
            synchronize=True,
        ),
    ),
    current=3,
    last=(0,),
)


def test_round_trip() -> None:
    assert SessionSpec.unpack(SPEC.pack()) == SPEC


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw.update(v=99),
        lambda raw: raw.update(current=7),
        lambda raw: raw["windows"][1].update(active=2),
        lambda raw: raw["windows"][1]["panes"][0].update(id=2),
        lambda raw: raw["windows"][1].update(index=0),
        lambda raw: raw["windows"][0]["panes"][0].update(command=[]),
        lambda raw: raw["windows"][0].update(panes=[]),
        lambda raw: raw["windows"][0].update(id=-1),
        lambda raw: raw["windows"][0].update(name=5),
        lambda raw: raw.pop("windows"),
        lambda raw: raw.update(windows=[]),
    ],
)
def test_damaged_specs_are_refused(mutate: object) -> None:
    raw = msgpack.unpackb(SPEC.pack(), raw=False)
    mutate(raw)  # type: ignore[operator]
    with pytest.raises(SpecError):
        SessionSpec.unpack(msgpack.packb(raw, use_bin_type=True))


def test_garbage_is_refused() -> None:
    for data in (b"", b"\xc1", msgpack.packb([1, 2]), msgpack.packb({"v": 1})):
        with pytest.raises(SpecError):
            SessionSpec.unpack(data)
