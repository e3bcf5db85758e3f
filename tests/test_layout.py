"""Unit and property tests of the pure layout layer (scarab/daemon/layout.py).

The expected numbers are tmux 3.3a's (the same commands in a real tmux give them; the oracle test in
test_layout_vs_tmux.py checks random sequences against a live server)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarab.daemon.layout import PRESETS, Axis, Border, Direction, Layout, Rect, checksum
from scarab.errors import BadRequest

H, V = Axis.LEFT_RIGHT, Axis.TOP_BOTTOM
L, R, U, D = Direction.LEFT, Direction.RIGHT, Direction.UP, Direction.DOWN


def sizes(layout: Layout) -> list[tuple[int, int, int, int]]:
    return [(r.x, r.y, r.width, r.height) for r in layout.rects().values()]


def three_columns() -> Layout:
    layout = Layout(0, 80, 24)
    layout.split(0, H, 1)
    layout.split(1, H, 2)
    return layout


# ------------------------------------------------------------------------------------ split


def test_a_new_window_is_one_pane_filling_it() -> None:
    layout = Layout(1, 80, 24)
    assert layout.rects() == {1: Rect(0, 0, 80, 24)}
    assert layout.to_string() == "b25e,80x24,0,0,1"  # printed by tmux 3.3a
    assert layout.active == 1 and layout.panes == (1,) and layout.borders() == ()


def test_split_halves_like_tmux_the_odd_cell_going_to_the_old_pane() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, H, 2)
    assert layout.to_string() == "020a,80x24,0,0{40x24,0,0,1,39x24,41,0,2}"  # printed by tmux 3.3a
    assert layout.active == 2 and layout.last == 1
    layout.split(2, V, 3)
    assert layout.rects()[2] == Rect(41, 0, 39, 12) and layout.rects()[3] == Rect(41, 13, 39, 11)
    assert layout.panes == (1, 2, 3)


def test_split_sizes_cells_percent_before_and_detached() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, H, 2, size=10)
    assert layout.rects()[2] == Rect(70, 0, 10, 24)
    layout.split(1, H, 3, size=10, before=True, detached=True)
    assert layout.rects()[3] == Rect(0, 0, 10, 24) and layout.panes == (3, 1, 2) and layout.active == 2
    layout.split(1, V, 4, percent=25)  # of the pane's 24 rows
    assert layout.rects()[4].height == 6


def test_split_sizes_are_clamped_as_tmux_does() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, H, 2, size=0)
    assert layout.rects()[2].width == 1
    layout.split(1, V, 3, size=500)
    assert layout.rects()[3].height == 22 and layout.rects()[1].height == 1


def test_full_size_split_spans_the_window() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, H, 2)
    layout.split(1, V, 3, full=True)
    assert layout.to_string() == "6b32,80x24,0,0[80x12,0,0{40x12,0,0,1,39x12,41,0,2},80x11,0,13,3]"  # tmux's
    layout.split(2, V, 4, full=True, before=True, percent=50)
    assert layout.panes == (4, 1, 2, 3)
    assert sizes(layout) == [(0, 0, 80, 12), (0, 13, 40, 5), (41, 13, 39, 5), (0, 19, 80, 5)]  # tmux's


def test_a_split_without_space_is_refused_and_changes_nothing() -> None:
    layout = Layout(1, 3, 3)
    layout.split(1, H, 2)
    before = layout.to_string()
    with pytest.raises(BadRequest, match="no space for new pane"):
        layout.split(2, H, 3)
    assert layout.to_string() == before and layout.panes == (1, 2) and layout.active == 2


@pytest.mark.parametrize(
    "kwargs",
    [{"size": -1}, {"percent": 101}, {"percent": -5}, {"size": 5, "percent": 5}, {"size": 10**9}],
)
def test_bad_split_sizes_are_refused(kwargs: dict[str, int]) -> None:
    layout = Layout(1, 80, 24)
    with pytest.raises(BadRequest):
        layout.split(1, H, 2, **kwargs)
    assert layout.panes == (1,)


def test_unknown_or_duplicate_panes_are_refused() -> None:
    layout = Layout(1, 80, 24)
    with pytest.raises(BadRequest, match="no pane 9"):
        layout.split(9, H, 2)
    with pytest.raises(BadRequest, match="already"):
        layout.split(1, H, 1)
    for call in (lambda: layout.close(9), lambda: layout.select(9), lambda: layout.resize_pane(9, L)):
        with pytest.raises(BadRequest):
            call()


# ------------------------------------------------------------------------------------ close


def test_close_gives_the_space_to_the_previous_pane_or_the_next_if_first() -> None:
    layout = three_columns()
    widths = [r.width for r in layout.rects().values()]
    layout.close(1)
    assert layout.rects()[0].width == widths[0] + widths[1] + 1
    layout = three_columns()
    layout.close(0)
    assert layout.rects()[1] == Rect(0, 0, widths[0] + widths[1] + 1, 24)


def test_close_collapses_a_container_left_with_one_cell() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, H, 2)
    layout.split(2, V, 3)
    layout.close(3)
    assert layout.to_string() == "020a,80x24,0,0{40x24,0,0,1,39x24,41,0,2}"
    layout.close(2)
    assert layout.to_string() == "b25e,80x24,0,0,1"


def test_closing_the_active_pane_activates_the_last_one() -> None:
    layout = three_columns()
    layout.select(0)
    layout.close(0)
    assert layout.active == 2 and layout.last is None
    layout.close(2)
    assert layout.active == 1


def test_the_last_pane_cannot_be_closed() -> None:
    with pytest.raises(BadRequest, match="last pane"):
        Layout(1, 80, 24).close(1)


# ----------------------------------------------------------------------------------- resize


def test_resize_pane_moves_the_border_in_the_direction_asked() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, H, 2)
    layout.resize_pane(1, R, 5)
    assert layout.rects()[1].width == 45
    layout.resize_pane(2, R, 3)  # the last pane: its left border moves right
    assert layout.rects()[2].width == 31
    layout.resize_pane(1, U, 3)  # no container runs top-bottom: nothing to move
    assert layout.rects()[1].height == 24


def test_resize_pane_takes_from_panes_further_away() -> None:
    layout = three_columns()
    layout.resize_pane(1, L, 100)  # pane 0 shrinks to the minimum
    assert layout.rects()[0].width == 1
    layout.resize_pane(2, L, 100)  # pane 1 can give all but one cell too
    assert [r.width for r in layout.rects().values()] == [1, 1, 76]
    layout.resize_pane(0, R, 30)  # grows by taking from 1 (empty) then 2
    assert [r.width for r in layout.rects().values()] == [31, 1, 46]


def test_resize_pane_to_an_absolute_size() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, V, 2)
    layout.resize_pane_to(2, height=5)
    assert layout.rects()[2].height == 5
    layout.resize_pane_to(1, width=10, height=20)
    assert layout.rects()[1] == Rect(0, 0, 80, 20)


def test_bad_resize_amounts_are_refused() -> None:
    layout = three_columns()
    for amount in (0, -3):
        with pytest.raises(BadRequest, match="adjustment"):
            layout.resize_pane(1, L, amount)


def test_window_resize_is_proportional_and_keeps_minimum_sizes() -> None:
    layout = three_columns()
    layout.resize(160, 48)
    assert sum(r.width for r in layout.rects().values()) + 2 == 160
    assert all(r.height == 48 for r in layout.rects().values())
    layout.resize(2, 1)  # three panes need 5 columns: the window stays that wide
    assert layout.size == (5, 1) and [r.width for r in layout.rects().values()] == [1, 1, 1]
    layout.resize(80, 24)
    assert layout.size == (80, 24) and sum(r.width for r in layout.rects().values()) + 2 == 80
    with pytest.raises(BadRequest, match="bad window size"):
        layout.resize(0, 24)


# ---------------------------------------------------------------------------------- presets


def panes(count: int, cols: int = 80, rows: int = 24) -> Layout:
    layout = Layout(0, cols, rows)
    for pane in range(1, count):
        layout.split(pane - 1, V if pane % 2 else H, pane)
    return layout


def test_even_presets() -> None:
    layout = panes(3)
    layout.select_preset("even-horizontal")
    assert sizes(layout) == [(0, 0, 26, 24), (27, 0, 26, 24), (54, 0, 26, 24)]
    layout.select_preset("even-v")  # a unique prefix is enough, as in tmux
    assert sizes(layout) == [(0, 0, 80, 7), (0, 8, 80, 7), (0, 16, 80, 8)]


def test_main_presets_use_tmux_default_sizes() -> None:
    layout = panes(3, 200, 50)
    layout.select_preset("main-vertical")  # main-pane-width 80
    assert sizes(layout)[0] == (0, 0, 80, 50)
    layout.select_preset("main-horizontal")  # main-pane-height 24
    assert sizes(layout)[0] == (0, 0, 200, 24)
    small = panes(2)
    small.select_preset("main-vertical")  # 80 columns do not fit beside another pane in 80
    assert sizes(small) == [(0, 0, 78, 24), (79, 0, 1, 24)]
    small.options["main-pane-width"] = "50%"
    small.select_preset("main-vertical")
    assert sizes(small)[0] == (0, 0, 39, 24)


def test_tiled_preset() -> None:
    layout = panes(5)
    layout.select_preset("tiled")
    assert sizes(layout) == [(0, 0, 39, 7), (40, 0, 40, 7), (0, 8, 39, 7), (40, 8, 40, 7), (0, 16, 80, 8)]


def test_preset_names_must_be_unambiguous() -> None:
    layout = panes(2)
    for name in ("even", "main", "", "diagonal"):
        with pytest.raises(BadRequest, match="unknown layout"):
            layout.select_preset(name)


def test_next_preset_cycles_in_tmux_order() -> None:
    layout = panes(4)
    assert [layout.next_preset() for _ in range(6)] == [*PRESETS, PRESETS[0]]
    assert layout.next_preset(previous=True) == PRESETS[-1]


def test_a_preset_too_large_for_the_window_is_fitted_back() -> None:
    layout = panes(6, 8, 24)
    layout.select_preset("even-horizontal")  # needs 11 columns: the window stays that wide
    assert layout.size == (11, 24)
    layout.select_preset("even-vertical")
    assert layout.size == (8, 24)


def test_spread_evens_the_active_panes_container() -> None:
    layout = three_columns()
    layout.resize_pane(0, R, 10)
    layout.spread()
    assert [r.width for r in layout.rects().values()] == [26, 26, 26]


# -------------------------------------------------------------------- neighbours, select, swap


def test_neighbour_by_direction_wraps_around() -> None:
    layout = three_columns()
    assert layout.neighbour(0, R) == 1 and layout.neighbour(0, L) == 2 and layout.neighbour(2, R) == 0
    assert layout.neighbour(0, U) is None


def test_neighbour_prefers_the_most_recently_active_then_the_first() -> None:
    layout = Layout(0, 80, 24)
    layout.split(0, H, 1)
    layout.split(1, V, 2)
    layout.split(2, V, 3)
    assert layout.neighbour(0, R) == 3  # 3 was the active one
    layout.select(1)
    layout.select(0)
    assert layout.neighbour(0, R) == 1
    fresh = Layout.from_string(layout.to_string())
    assert fresh.neighbour(fresh.panes[2], L) == fresh.panes[0]


def test_select_direction_next_and_last() -> None:
    layout = three_columns()
    assert layout.select_direction(L) == 1 and layout.active == 1
    assert layout.select_direction(U) is None and layout.active == 1
    assert layout.select_last() == 2
    assert layout.select_next() == 0
    assert layout.select_next(-1) == 2
    with pytest.raises(BadRequest, match="no last pane"):
        Layout(0, 80, 24).select_last()


def test_swap_exchanges_places_and_order() -> None:
    layout = three_columns()
    before = layout.rects()
    layout.swap(0, 2)
    assert layout.rects()[0] == before[2] and layout.rects()[2] == before[0]
    assert layout.panes == (2, 1, 0) and layout.active == 0
    layout.swap_next()
    assert layout.panes == (0, 1, 2) and layout.active == 0 and layout.rects()[0] == before[0]
    layout.swap_next(previous=True)
    assert layout.panes == (2, 1, 0)


# --------------------------------------------------------------------------------------- zoom


def test_zoom_fills_the_window_and_unzoom_restores() -> None:
    layout = three_columns()
    tree = layout.to_string()
    assert layout.toggle_zoom(1)
    assert layout.zoomed and layout.active == 1 and layout.visible() == {1: Rect(0, 0, 80, 24)}
    assert layout.to_string() == tree and layout.visible_string().endswith("80x24,0,0,1")
    assert layout.rects()[0] == Rect(0, 0, 40, 24) and layout.borders() == ()
    assert not layout.toggle_zoom()
    assert layout.to_string() == tree and not layout.zoomed


def test_zoom_survives_a_window_resize_but_not_a_split() -> None:
    layout = three_columns()
    layout.toggle_zoom()
    layout.resize(100, 30)
    assert layout.zoomed and layout.visible() == {2: Rect(0, 0, 100, 30)}
    layout.split(2, V, 3)
    assert not layout.zoomed and layout.active == 3


def test_a_single_pane_does_not_zoom() -> None:
    layout = Layout(1, 80, 24)
    assert not layout.toggle_zoom()


def test_selecting_another_pane_unzooms_unless_asked_to_keep_it() -> None:
    layout = three_columns()
    layout.toggle_zoom()
    layout.select(0, keep_zoom=True)
    assert layout.zoomed and layout.visible() == {0: Rect(0, 0, 80, 24)}
    layout.select(1)
    assert not layout.zoomed


# ------------------------------------------------------------------------------ layout string


def test_checksum_is_tmuxs() -> None:
    assert checksum("80x24,0,0{40x24,0,0,1,39x24,41,0,2}") == 0x020A


def test_select_layout_string_round_trips_and_assigns_panes_in_order() -> None:
    source = panes(4)
    source.select_preset("tiled")
    text = source.to_string()
    target = panes(4)
    target.select_layout(text)
    assert target.to_string() == text and sizes(target) == sizes(source)


def test_select_layout_with_extra_cells_drops_the_bottom_right_and_fits_the_window() -> None:
    source = panes(3, 100, 30)
    target = panes(2)
    target.select_layout(source.to_string())
    assert target.size == (80, 24) and len(target.rects()) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid layout"),
        ("zzzz,80x24,0,0,1", "invalid layout"),
        ("0000,80x24,0,0,1", "invalid layout"),  # wrong checksum
        ("b25d,80x24,0,0,7x", "invalid layout"),
        ("020a,80x24,0,0{40x24,0,0,1,39x24,41,0,2}", "have 3 panes but need 2"),
    ],
)
def test_bad_layout_strings_are_refused_and_change_nothing(text: str, message: str) -> None:
    layout = panes(3)
    before = layout.to_string()
    with pytest.raises(BadRequest, match=message):
        layout.select_layout(text)
    assert layout.to_string() == before


def test_a_layout_whose_sizes_do_not_add_up_is_refused() -> None:
    body = "80x24,0,0{40x24,0,0,1,39x20,41,0,2}"
    with pytest.raises(BadRequest, match="size mismatch"):
        panes(2).select_layout(f"{checksum(body):04x},{body}")


def test_from_string_restores_pane_ids_and_fits_the_size() -> None:
    source = panes(4)
    restored = Layout.from_string(source.to_string())
    assert sorted(restored.panes) == sorted(source.panes) and restored.active == restored.panes[0]
    assert restored.rects() == source.rects() and restored.to_string() == source.to_string()
    bigger = Layout.from_string(source.to_string(), cols=120, rows=40)
    assert bigger.size == (120, 40)
    with pytest.raises(BadRequest, match="distinct pane id"):
        body = "80x24,0,0{40x24,0,0,1,39x24,41,0,1}"
        Layout.from_string(f"{checksum(body):04x},{body}")


# ------------------------------------------------------------------------------------ borders


def test_borders_of_two_panes_light_half_of_the_line() -> None:
    layout = Layout(1, 10, 4)
    layout.split(1, H, 2)  # 5 | 4; pane 2 active: the lower half of the line is lit
    assert layout.borders() == (
        Border(5, 0, 3, True, (1, 2), False),
        Border(5, 3, 1, True, (1, 2), True),
    )
    layout.select(1)
    assert layout.borders() == (
        Border(5, 0, 3, True, (1, 2), True),
        Border(5, 3, 1, True, (1, 2), False),
    )


def test_borders_of_three_panes_follow_the_active_frame() -> None:
    layout = Layout(1, 10, 5)
    layout.split(1, H, 2)
    layout.split(2, V, 3)  # 3 active: bottom right
    lit = {(b.x + (0 if b.vertical else i), b.y + (i if b.vertical else 0)) for b in layout.borders() if b.active
           for i in range(b.length)}  # fmt: skip
    assert lit == {(5, 2), (5, 3), (5, 4), (6, 2), (7, 2), (8, 2), (9, 2)}


def test_pane_at_and_border_drag() -> None:
    layout = Layout(1, 80, 24)
    layout.split(1, H, 2)
    assert layout.pane_at(10, 10) == 1 and layout.pane_at(60, 10) == 2 and layout.pane_at(40, 5) == 1
    assert layout.drag_border(40, 5, 30, 5)
    assert layout.rects()[1].width == 30 and layout.rects()[2] == Rect(31, 0, 49, 24)
    assert not layout.drag_border(10, 5, 20, 5)  # not on a border


def test_copy_is_independent() -> None:
    layout = three_columns()
    copy = layout.copy()
    copy.close(1)
    copy.toggle_zoom()
    assert layout.panes == (0, 1, 2) and not layout.zoomed


# --------------------------------------------------------------------------------- properties

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["split", "close", "resize", "window", "preset", "zoom", "swap", "select", "string"]),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
    ),
    max_size=40,
)


def apply(layout: Layout, operation: tuple[str, int, int, int], next_id: int) -> int:
    kind, a, b, c = operation
    pane = layout.panes[a % len(layout.panes)]
    try:
        if kind == "split":
            size = None if b % 3 == 0 else b % 50
            layout.split(pane, H if c % 2 else V, next_id, size=size, before=c % 3 == 0, full=c % 5 == 0)
            return next_id + 1
        if kind == "close" and len(layout.panes) > 1:
            layout.close(pane)
        elif kind == "resize":
            layout.resize_pane(pane, list(Direction)[b % 4], 1 + c % 30)
        elif kind == "window":
            layout.resize(1 + b % 150, 1 + c % 50)
        elif kind == "preset":
            layout.select_preset(PRESETS[b % len(PRESETS)])
        elif kind == "zoom":
            layout.toggle_zoom(pane)
        elif kind == "swap":
            layout.swap(pane, layout.panes[b % len(layout.panes)])
        elif kind == "select":
            layout.select_direction(list(Direction)[b % 4])
        elif kind == "string":
            layout.select_layout(layout.to_string())
    except BadRequest as exc:
        assert "no space" in str(exc)
    return next_id


def check_tiling(layout: Layout) -> None:
    """The panes and the borders cover the tree's area exactly, once each, and every border cell is
    reported by borders()."""
    unzoomed = layout.copy()
    unzoomed.unzoom()
    rects = unzoomed.rects()
    cols = max(r.x + r.width for r in rects.values())
    rows = max(r.y + r.height for r in rects.values())
    assert (cols, rows) == layout.size
    owner: dict[tuple[int, int], int] = {}
    for pane, rect in rects.items():
        assert rect.width >= 1 and rect.height >= 1
        for x in range(rect.x, rect.x + rect.width):
            for y in range(rect.y, rect.y + rect.height):
                assert (x, y) not in owner, f"panes {owner[(x, y)]} and {pane} overlap at {x},{y}"
                owner[(x, y)] = pane
    border = set()
    for line in unzoomed.borders():
        for i in range(line.length):
            cell = (line.x, line.y + i) if line.vertical else (line.x + i, line.y)
            assert cell not in border and cell not in owner
            border.add(cell)
    assert len(owner) + len(border) == cols * rows
    for x, y in owner:  # a pane next to another along a line is separated by exactly one border cell
        if (x + 1, y) not in owner and x + 1 < cols:
            assert (x + 1, y) in border and ((x + 2, y) in owner or (x + 2, y) in border)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 120), st.integers(1, 40), OPERATIONS)
def test_any_sequence_tiles_the_window_and_round_trips(cols: int, rows: int, operations: list) -> None:  # type: ignore[type-arg]
    layout = Layout(0, cols, rows)
    next_id = 1
    for operation in operations:
        next_id = apply(layout, operation, next_id)
        check_tiling(layout)
        text = layout.to_string()
        assert int(text[:4], 16) == checksum(text[5:])
        restored = Layout.from_string(text)
        assert restored.to_string() == text
        assert restored.rects() == layout.copy().rects() or layout.zoomed
        # select-layout fits the tree back to the clients' size (tmux's recalculate_sizes): the same
        # string when the window is that size, else what resizing to it gives (a window the panes
        # had kept larger can shrink once a pane has closed).
        fitted = layout.copy()
        fitted.unzoom()
        fitted.resize(*layout.target)
        again = layout.copy()
        again.select_layout(text)
        assert again.to_string() == fitted.to_string()
        if layout.size == layout.target:
            assert again.to_string() == text
        if layout.zoomed:
            assert list(layout.visible().values()) == [Rect(0, 0, *layout.size)]


def test_select_layout_of_a_window_kept_larger_than_asked_fits_it_to_the_asked_size() -> None:
    layout = Layout(0, 1, 3)
    layout.split(0, V, 1)
    layout.resize(1, 1)  # two 1-row panes cannot shrink to one row: the window stays 1x3
    assert layout.size == (1, 3) and layout.target == (1, 1)
    layout.close(0)
    text = layout.to_string()
    assert text.split(",")[1] == "1x3"
    layout.select_layout(text)  # as tmux: the tree is installed, then fitted to what the clients asked
    assert layout.size == (1, 1) and layout.rects() == {1: Rect(0, 0, 1, 1)}


# ----------------------------------------------------- where tmux 3.3a breaks, Scarab stays sound
# Each of these kills or hangs a real tmux 3.3a server (tried by hand); the oracle avoids them.

NESTED = (
    "bb2e,13x53,0,0{1x53,0,0,2,1x53,2,0,16,5x53,4,0[5x12,4,0{1x12,4,0,6,3x12,6,0,15},5x6,4,13,7,5x9,4,20{3x9,4,20"
    "[3x6,4,20,3,3x2,4,27{1x2,4,27,13,1x2,6,27,12}],1x9,8,20,5},5x5,4,30,11,5x5,4,36,8,5x11,4,42,4],1x53,10,0"
    "[1x51,10,0,14,1x1,10,52,17],1x53,12,0,9}"
)


def test_a_full_size_split_that_would_wrap_around_is_refused() -> None:
    layout = Layout.from_string(NESTED)
    with pytest.raises(BadRequest, match="no space for new pane"):
        layout.split(16, V, 99, full=True)  # tmux's server dies here
    assert layout.to_string() == NESTED


def test_spread_leaves_alone_a_container_that_cannot_take_an_equal_share() -> None:
    text = (
        "89bd,128x53,0,0[128x51,0,0{64x51,0,0,10,63x51,65,0[63x25,65,0[63x11,65,0{47x11,65,0[47x8,65,0,16,47x2,65,9,"
        "17],15x11,113,0[15x7,113,0,8,15x1,113,8,13,15x1,113,10,18]},63x3,65,12,12,63x2,65,16,19,63x1,65,19,14,63x4,"
        "65,21,7],63x25,65,26{31x25,65,26[31x5,65,26,4,31x8,65,32,9,31x10,65,41,6],31x25,97,26,3}]},128x1,0,52,15]"
    )
    layout = Layout.from_string(text)
    layout.select(19)
    layout.spread()  # tmux loops forever: the container's first child cannot shrink to 4 rows
    assert layout.rects()[12].height == 3 and layout.rects()[10].width == 63  # the next container up


def test_tiled_in_a_window_shorter_than_its_borders_keeps_minimum_panes() -> None:
    layout = Layout(0, 56, 1)
    for pane in range(1, 5):
        layout.split(pane - 1, H, pane)
    layout.select_preset("tiled")  # tmux's u_int height wraps to ~2^30 and its server dies
    assert layout.size == (56, 5) and {r.height for r in layout.rects().values()} == {1}
