"""The format engine (scarab/formats.py) against tmux 3.3a's `display-message -p` on the same values."""

from __future__ import annotations

import pytest

from scarab.errors import BadRequest
from scarab.formats import expand
from tests.tmux_oracle import Tmux

# The oracle's session: named `oracle`, window 0, pane 0, alive, not zoomed.
VALUES = {"session_name": "oracle", "window_index": "0", "pane_index": "0", "pane_dead": "0", "window_zoomed_flag": "0"}
FORMATS = [
    "#{session_name}",
    "#S:#I.#P",
    "##{x}#,#}",
    "#X#",
    "#{?session_name,yes,no}",
    "#{?#{==:#{session_name},oracle},eq,ne}",
    "#{=3:session_name}",
    "#{=-3:session_name}",
    "#{?pane_dead,dead,live}",
    "#{?,a,b}",
    "#{==:a,a}#{!=:a,a}",
    "#{||:0,1}#{&&:1,0}",
    "[#{?window_zoomed_flag,Z,}]",
    "a#{l:#{x}}b",
    "#{?0,a,#{?1,b,c}}",
    "#{?0,a,1,b,c}",
    "#{<:a,b}#{>=:b,a}",
    "#{?session_name,a#,b,c}",
    "#{?#{session_name},1,0}",
]


@pytest.mark.timeout(60)
def test_formats_expand_as_tmux_does(tmux: Tmux) -> None:
    replies = tmux.run([f"display-message -p -t oracle '{fmt}'" for fmt in FORMATS])
    for fmt, (ok, out) in zip(FORMATS, replies, strict=True):
        assert ok, (fmt, out)
        assert expand(fmt, VALUES) == out, fmt


def test_unknown_and_empty_variables() -> None:
    # Known to Scarab but without a value here (a pane variable in `ls -F`): empty, as in tmux.
    assert expand("<#{pane_id}>", {}) == "<>"
    # Unknown: an error that names it (tmux prints nothing, which hides a typo in a script).
    with pytest.raises(BadRequest, match=r"unknown format field #\{sesion_name\}"):
        expand("#{sesion_name}", {})
    with pytest.raises(BadRequest, match="unclosed"):
        expand("#{session_name", {})
    with pytest.raises(BadRequest, match="modifier"):
        expand("#{q:session_name}", {"session_name": "x"})


def test_tabs_basename_dirname_and_deep_nesting() -> None:
    values = {"pane_current_path": "/home/u/src", "session_created": "0"}
    assert expand("#{b:pane_current_path}\\t#{d:pane_current_path}", values) == "src\t/home/u"
    assert expand("#{t:session_created}", values)  # a date, in the local zone
    with pytest.raises(BadRequest, match="nested"):
        expand("#{?" * 60 + "x" + "}" * 60, {})
