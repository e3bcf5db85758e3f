from __future__ import annotations

import pytest

from scarab.humanize import age


@pytest.mark.parametrize(("delta", "text"), [(0, "0s"), (59, "59s"), (60, "1m"), (7200, "2h"), (86400 * 6, "6d")])
def test_age(delta: int, text: str) -> None:
    assert age(1_000_000, now=1_000_000 + delta) == text
    assert age(1_000_000 + 5, now=1_000_000) == "0s"  # clocks that went back never give negatives
