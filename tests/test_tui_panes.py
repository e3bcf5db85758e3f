"""The client's window layer (pure): a `Layout` to what is drawn — pane places, border characters with
tmux's joins, the status bar's window list, display-panes' numbers — and the terminal widget drawing
a window from a Layout and per-pane frames (a Textual app with no daemon: the layer under test is
pure, its input is the two message types)."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import App, ComposeResult

from scarab import protocol as p
from scarab.daemon.layout import Axis
from scarab.daemon.layout import Layout as Tree
from scarab.tui.panes import line_char, number_cells, scene_of, single_pane, window_list
from scarab.tui.statusbar import status_line
from scarab.tui.terminal import ACTIVE_BORDER, BORDER, SYNCHRONIZED_BORDER, TerminalView


def window(index: int, flags: str, name: str = "sh", active: int = 0, sync: bool = False) -> p.WindowInfo:
    return p.WindowInfo(index=index, id=index, name=name, flags=flags, layout="", active_pane=active, synchronize=sync)


def layout_of(tree: Tree, windows: list[p.WindowInfo] | None = None, session: str = "s") -> p.Layout:
    """What the host sends for a window whose panes are `tree` (the daemon's own layout arithmetic)."""
    visible = tree.visible()
    panes = [
        p.PaneInfo(
            id=pane,
            window=0,
            left=r.x,
            top=r.y,
            width=r.width,
            height=r.height,
            active=pane == tree.active,
            visible=pane in visible,
        )
        for pane, r in ((pane, visible.get(pane, rect)) for pane, rect in tree.rects().items())
    ]
    borders = [[b.x, b.y, b.length, int(b.vertical), int(b.active)] for b in tree.borders()]
    cols, rows = tree.size
    return p.Layout(
        session_id=session,
        cols=cols,
        rows=rows,
        windows=windows or [window(0, "*", active=tree.active)],
        panes=panes,
        borders=borders,
    )


def three_panes(cols: int = 80, rows: int = 23) -> Tree:
    """split-window -h, then split-window (the right pane top/bottom): tmux's classic three panes."""
    tree = Tree(0, cols, rows)
    tree.split(0, Axis.LEFT_RIGHT, 1)
    tree.split(1, Axis.TOP_BOTTOM, 2)
    return tree


def drawn(scene: object) -> list[str]:
    """Each window row as drawn, panes blank ('.') so the borders stand out."""
    from scarab.tui.panes import Scene

    assert isinstance(scene, Scene)
    return [
        "".join("." * piece.width if piece.pane >= 0 else piece.text for piece in scene.row(y))
        for y in range(scene.rows)
    ]


def test_line_characters_are_tmuxs_joins() -> None:
    assert line_char(True, True, True, True) == "┼"
    assert line_char(False, True, True, True) == "├"
    assert line_char(True, False, True, True) == "┤"
    assert line_char(True, True, False, True) == "┬"
    assert line_char(True, True, True, False) == "┴"
    assert line_char(True, True, False, False) == "─"
    assert line_char(False, False, True, True) == "│"


def test_three_panes_draw_tmuxs_borders() -> None:
    tree = three_panes(20, 7)
    scene = scene_of(layout_of(tree))
    assert [(r.pane, r.x, r.y, r.width, r.height) for r in scene.panes] == [
        (0, 0, 0, 10, 7),
        (1, 11, 0, 9, 3),
        (2, 11, 4, 9, 3),
    ]
    assert scene.active == 2
    # What tmux 3.3a draws for the same splits of a 20x7 window (the pane border meets the window
    # edge without a join; the T where the right pane is split).
    assert drawn(scene) == [
        "..........│.........",
        "..........│.........",
        "..........│.........",
        "..........├─────────",
        "..........│.........",
        "..........│.........",
        "..........│.........",
    ]
    assert scene.pane_at(12, 5) == 2 and scene.pane_at(10, 5) is None and scene.on_border(10, 5)
    # The active pane's border is lit: its top border and the vertical border beside it.
    lit = {(x, y) for (x, y), cell in scene.cells.items() if cell.active and x < 20 and y < 7}
    assert (15, 3) in lit and (10, 5) in lit and (10, 0) not in lit


def test_four_way_join_and_window_edges_when_the_view_is_larger() -> None:
    tree = Tree(0, 11, 5)
    tree.split(0, Axis.TOP_BOTTOM, 1)
    tree.split(0, Axis.LEFT_RIGHT, 2)
    tree.split(1, Axis.LEFT_RIGHT, 3)
    scene = scene_of(layout_of(tree))
    assert drawn(scene)[2] == "─────┼─────"
    # A larger client shows the window's edge: borders meeting it join it, and the corner closes it.
    assert [scene.edge_cell(y) for y in range(5)] == ["│", "│", "┤", "│", "│"]
    assert scene.edge_row() == "─────┴─────┘"


def test_two_panes_light_half_the_border_as_tmux_does() -> None:
    tree = Tree(0, 20, 6)
    tree.split(0, Axis.LEFT_RIGHT, 1)
    tree.select(0)
    scene = scene_of(layout_of(tree))
    lit = [y for y in range(6) if scene.cells[(10, y)].active]
    assert lit == [0, 1, 2, 3]  # tmux 3.3a's pane-border-indicators=colour: the active pane's half


def test_zoomed_window_draws_only_its_pane_and_is_marked() -> None:
    tree = three_panes(20, 7)
    tree.toggle_zoom(1)
    scene = scene_of(layout_of(tree, [window(0, "*Z", active=1)]))
    assert [(r.pane, r.width, r.height) for r in scene.panes] == [(1, 20, 7)]
    assert scene.zoomed and drawn(scene) == ["." * 20] * 7


def test_status_list_is_tmuxs_window_status_format() -> None:
    windows = (window(1, "-", "vim"), window(0, "*", "bash"), window(2, "", "top"), window(3, "*Z", "htop"))
    assert [entry for entry, _ in window_list(windows)] == ["0:bash*", "1:vim-", "2:top ", "3:htop*Z"]


def test_a_window_list_too_long_is_cut_around_the_current_window_as_tmux_cuts_it() -> None:
    lists = {
        current: tuple(window(i, "*" if i == current else "", "bash") for i in range(20)) for current in (0, 9, 19)
    }
    tail, right = Text(" PREFIX "), Text("  1/2  1 client ")
    lines = {}
    for current in (0, 9, 19):
        lines[current] = status_line("work", lists[current], tail, right, 60).plain
        assert len(lines[current]) == 60 and lines[current].startswith("[work] ")
        assert f" {current}:bash*" in lines[current] or f"] {current}:bash*" in lines[current]
        assert lines[current].endswith(" PREFIX   1/2  1 client ")
    # Cut ends are marked, as tmux's list-left / list-right markers: the first window's list runs off
    # the right only, the last's off the left only, a middle one's off both.
    assert ">" in lines[0] and "<" not in lines[0]
    assert lines[19].startswith("[work] <") and ">" not in lines[19]
    assert lines[9].startswith("[work] <") and ">" in lines[9]
    # A list that fits is left whole.
    few = status_line("work", lists[0][:3], tail, right, 60).plain
    assert few.startswith("[work] 0:bash* 1:bash  2:bash   PREFIX ") and "<" not in few and ">" not in few


def test_current_window_is_the_one_flagged() -> None:
    tree = Tree(7, 20, 5)
    layout = layout_of(tree, [window(0, "-"), window(1, "*", active=7)])
    layout = p.Layout(
        session_id="s",
        cols=20,
        rows=5,
        windows=layout.windows,
        panes=[
            *[p.PaneInfo(id=3, window=0, left=0, top=0, width=20, height=5, active=True, visible=True)],
            p.PaneInfo(id=7, window=1, left=0, top=0, width=20, height=5, active=True, visible=True),
        ],
        borders=[],
    )
    scene = scene_of(layout)
    assert [r.pane for r in scene.panes] == [7] and scene.active == 7 and scene.order == (7,)


def test_display_panes_numbers_big_and_small() -> None:
    tree = three_panes(40, 13)
    scene = scene_of(layout_of(tree))
    cells = number_cells(scene)
    left = scene.panes[0]
    assert (left.width, left.height) == (20, 13)
    # Pane 0 has room for the 5x5 digit: drawn in its background colour around its centre
    # (cmd-display-panes.c: from x = width/2 - 3, y = height/2 - 2).
    zero = {(x, y) for (x, y), (_, bg) in cells.items() if bg and x < 20}
    assert min(zero) == (10 - 3, 6 - 2) and len(zero) == 16  # the digit 0's cells
    # And its size in its top right corner (it is taller than 6).
    assert "".join(cells[(x, 0)][0] for x in range(15, 20)) == "20x13"
    # Too small for the big digits: the number in text at the centre.
    small = single_pane(5, 3, 2)
    assert number_cells(small) == {(1, 1): ("0", False)}


class WindowApp(App[None]):
    """The widget alone; the commands it gives are kept."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[p.Message] = []

    def compose(self) -> ComposeResult:
        yield TerminalView()

    def on_terminal_view_command(self, message: TerminalView.Command) -> None:
        self.sent.append(message.message)


async def _window_app(scenario: object) -> None:
    app = WindowApp()
    async with app.run_test(size=(30, 8)) as pilot:
        await scenario(app.query_one(TerminalView), pilot)  # type: ignore[operator]


def frame(pane: int, cols: int, rows: int, lines: list[str], cursor: tuple[int, int] = (0, 0)) -> p.Frame:
    return p.Frame(
        session_id="s",
        seq=1,
        cols=cols,
        rows=rows,
        cursor=[cursor[0], cursor[1], 1, 0],
        modes=0,
        title=f"t{pane}",
        full=True,
        lines=[[y, text, [[len(text), 0]]] for y, text in enumerate(lines)],
        styles=[[-1, -1, 0]],
        pane=pane,
    )


def test_view_draws_each_pane_at_its_place_with_lit_borders() -> None:
    async def scenario(view: TerminalView, pilot: object) -> None:
        tree = three_panes(30, 8)
        view.apply(frame(0, 15, 8, ["left"]))  # before the Layout: the first pane seen fills the window
        assert view.text()[0] == "left"
        view.apply_layout(layout_of(tree))
        view.apply(frame(1, 14, 4, ["top right"]))
        view.apply(frame(2, 14, 3, ["bottom right", "second"], cursor=(3, 1)))
        assert view.text()[:7] == [
            "left           │top right",
            "               │",
            "               │",
            "               │",
            "               ├──────────────",
            "               │bottom right",
            "               │second",
        ]
        # Keys and the cursor belong to the active pane; its border is green, the others plain.
        assert view.title == "t2" and view.cursor[:2] == (3, 1)
        row4 = view.render_line(4)
        styles = {seg.text: seg.style for seg in row4 if seg.text.strip()}
        assert styles["├──────────────"] == ACTIVE_BORDER
        assert BORDER in {seg.style for seg in view.render_line(0)}
        # A changed row of one pane redraws in place, next to its neighbour.
        view.apply(
            p.Frame(
                session_id="s",
                seq=2,
                cols=14,
                rows=3,
                cursor=[0, 0, 1, 0],
                modes=0,
                title="t2",
                full=False,
                lines=[[1, "changed", [[7, 0]]]],
                styles=[[-1, -1, 0]],
                pane=2,
            )
        )
        assert view.text()[6] == "               │changed"
        assert "".join(s.text for s in view.render_line(6)).startswith("               │changed")
        # synchronize-panes: the active border turns red, as tmux's default style says.
        view.apply_layout(layout_of(tree, [window(0, "*", active=2, sync=True)]))
        assert any(seg.style == SYNCHRONIZED_BORDER for seg in view.render_line(4))

    asyncio.run(asyncio.wait_for(_window_app(scenario), 30))


def test_view_mouse_selects_a_pane_and_drags_a_border() -> None:
    async def scenario(view: TerminalView, pilot: object) -> None:
        sent = view.app.sent  # type: ignore[attr-defined]
        tree = three_panes(30, 8)
        view.apply_layout(layout_of(tree))
        for pane, (cols, rows) in ((0, (15, 8)), (1, (14, 4)), (2, (14, 3))):
            view.apply(frame(pane, cols, rows, [f"p{pane}"]))
        await pilot.click(TerminalView, offset=(3, 2))  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert sent == [p.SelectPane(target="%0")]
        sent.clear()
        await pilot.mouse_down(TerminalView, offset=(15, 6))  # type: ignore[attr-defined]
        await pilot.hover(TerminalView, offset=(12, 6))  # type: ignore[attr-defined]
        await pilot.mouse_up(TerminalView, offset=(12, 6))  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert sent and sent[0] == p.DragBorder(target="", x=15, y=6, to_x=sent[0].to_x, to_y=6)  # type: ignore[attr-defined]
        assert sent[-1].to_x == 12  # type: ignore[attr-defined]

    asyncio.run(asyncio.wait_for(_window_app(scenario), 30))


def test_choose_tree_lines_follow_tmuxs_tree() -> None:
    from scarab.tui.tree import tree_items

    info = p.SessionInfo(id="s", name="work", created_at=0, last_attached=0, cols=20, rows=7, state="running",
                         command=["sh"], cwd="/", attached=1)  # fmt: skip
    other = p.SessionInfo(id="o", name="logs", created_at=0, last_attached=0, cols=20, rows=7, state="running",
                          command=["sh"], cwd="/")  # fmt: skip
    tree = three_panes(20, 7)
    layout = layout_of(tree, [window(0, "*", "sh", active=2), window(1, "-", "vim")])
    layout = p.Layout(
        session_id="s",
        cols=20,
        rows=7,
        windows=layout.windows,
        panes=[*layout.panes, p.PaneInfo(id=9, window=1, left=0, top=0, width=20, height=7, active=True, visible=True)],
        borders=layout.borders,
    )
    lines = tree_items([(info, layout), (other, None)])
    assert [str(label) for _, label in lines] == [
        "- work: 2 windows (attached)",
        "├─> - 0: sh* (3 panes)",
        "│   ├─> 0: pane 10x7",
        "│   ├─> 1: pane 9x3",
        "│   └─> 2: pane 9x3*",
        "└─>   1: vim- (1 pane)",
        "+ logs",
    ]
    assert [item.target for item, _ in lines] == ["s", "@0", "%0", "%1", "%2", "@1", "o"]


def test_view_shows_pane_numbers_and_a_digit_selects() -> None:
    async def scenario(view: TerminalView, pilot: object) -> None:
        tree = three_panes(30, 8)
        view.apply_layout(layout_of(tree))
        for pane, (cols, rows) in ((0, (15, 8)), (1, (14, 4)), (2, (14, 3))):
            view.apply(frame(pane, cols, rows, [f"p{pane}"]))
        view.focus()
        view.show_numbers()
        # Pane 0 (15x8) has room for the big digit, in blue; the active pane 2 (14x3) gets its
        # number in text, in red.
        assert any(seg.style is not None and seg.style.bgcolor is not None for seg in view.render_line(3))
        row = "".join(seg.text for seg in view.render_line(6))
        assert row[16 + 7] == "2" and len(row) == 30
        await pilot.press("1")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert view.app.sent == [p.SelectPane(target="%1")]  # type: ignore[attr-defined]
        assert not view.numbers_until

    asyncio.run(asyncio.wait_for(_window_app(scenario), 30))


def test_a_layout_without_panes_leaves_the_one_pane_drawn() -> None:
    async def scenario(view: TerminalView, pilot: object) -> None:
        view.apply(frame(0, 30, 8, ["only pane"]))
        # What the daemon says of a host that has not described its windows yet.
        view.apply_layout(p.Layout(session_id="s", cols=30, rows=8, windows=[], panes=[], borders=[]))
        view.apply(frame(0, 30, 8, ["still drawn"]))
        assert view.text()[0] == "still drawn" and view.session_layout is None

    asyncio.run(asyncio.wait_for(_window_app(scenario), 30))
