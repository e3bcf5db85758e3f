"""TUI key tables layer (pure data): which key runs which action, with what it does, as tmux's tables.

A `KeyTable` maps keys to named actions (the app's `action_*` methods, run through Textual's action
dispatch, arguments included: `select_pane('U')`). The help screen and the README's table are
generated from it, so the three cannot disagree. There are the `prefix` table (keys after the prefix
key, with tmux 3.3a's default keys for windows and panes; keys bound with tmux's `-r` repeat: within
the repeat time another of them needs no prefix) and copy mode's two tables, `copy-mode-vi` and
`copy-mode` (emacs), with tmux's keys and tmux's command names.
"""

from __future__ import annotations

from typing import NamedTuple

from scarab.keys import Key, Mod, parse_key_name, tmux_name

__all__ = ["Binding", "KeyTable", "copy_mode_table", "prefix_table"]


class Binding(NamedTuple):
    key: Key
    action: str
    """An action of the app (`detach_client` runs `action_detach_client`), with its arguments."""
    description: str
    repeat: bool = False
    """tmux's `bind -r`: repeats without the prefix within the repeat time."""


def _plain(key: Key) -> Key:
    # tmux matches M-Up whether Meta came as a leading Esc or in the sequence (KEYC_IMPLIED_META).
    return Key(key.name, key.mods & ~Mod.IMPLIED_META)


class KeyTable(NamedTuple):
    name: str
    bindings: tuple[Binding, ...]

    def lookup(self, key: Key) -> Binding | None:
        wanted = _plain(key)
        return next((b for b in self.bindings if _plain(b.key) == wanted), None)

    def repeatable(self) -> frozenset[Key]:
        """The keys bound with -r, as they can arrive."""
        keys = [b.key for b in self.bindings if b.repeat]
        return frozenset([*keys, *(_plain(k) for k in keys), *(Key(k.name, k.mods | Mod.IMPLIED_META) for k in keys)])

    def help_text(self) -> str:
        """One line per key, for the help screen."""
        width = max(len(tmux_name(b.key)) for b in self.bindings)
        return "\n".join(f"{tmux_name(b.key):<{width}}  {b.description}" for b in self.bindings)

    def markdown(self) -> str:
        """The table as the README shows it."""
        rows = [f"| `{tmux_name(b.key)}` | `{b.action}` | {b.description} |" for b in self.bindings]
        return "\n".join(["| key | action | what it does |", "|---|---|---|", *rows])


_ARROWS = (
    ("Up", "U", "above", "up"),
    ("Down", "D", "below", "down"),
    ("Left", "L", "to the left", "left"),
    ("Right", "R", "to the right", "right"),
)
_PREFIX = (
    # sessions
    Binding(Key("d"), "detach_client", "detach (the session keeps running)"),
    Binding(Key("s"), "choose_session", "session picker: live preview, typing filters"),
    Binding(Key("w"), "choose_tree", "sessions > windows > panes, with preview"),
    Binding(Key("$"), "rename_session", "rename this session"),
    Binding(Key("C"), "new_session", "new session"),
    Binding(Key("("), "previous_session", "previous session (by name)"),
    Binding(Key(")"), "next_session", "next session (by name)"),
    Binding(Key("L"), "last_session", "last session"),
    # windows
    Binding(Key("c"), "new_window", "new window"),
    Binding(Key("n"), "select_window_step(1)", "next window"),
    Binding(Key("p"), "select_window_step(-1)", "previous window"),
    Binding(Key("l"), "last_window", "last (previously current) window"),
    *(Binding(Key(str(i)), f"select_window({i})", f"window {i}") for i in range(10)),
    Binding(Key("'"), "prompt_window_index", "prompt for a window index to select"),
    Binding(Key(","), "rename_window", "rename this window"),
    Binding(Key("&"), "kill_window", "kill this window (asks first)"),
    # panes
    Binding(Key("%"), "split_window(True)", "split the pane left/right"),
    Binding(Key('"'), "split_window(False)", "split the pane top/bottom"),
    *(Binding(Key(name), f"select_pane('{d}')", f"select the pane {where}", True) for name, d, where, _ in _ARROWS),
    Binding(Key("o"), "next_pane", "next pane"),
    Binding(Key(";"), "last_pane", "last (previously active) pane"),
    Binding(Key("q"), "display_panes", "show pane numbers (type one to select it)"),
    Binding(Key("z"), "zoom_pane", "zoom the pane (toggle)"),
    Binding(Key("x"), "kill_pane", "kill the pane (asks first)"),
    Binding(Key("!"), "break_pane", "break the pane out into a new window"),
    Binding(Key("{"), "swap_pane(-1)", "swap the pane with the previous one"),
    Binding(Key("}"), "swap_pane(1)", "swap the pane with the next one"),
    Binding(Key(" "), "next_layout", "next preset layout"),
    *(
        Binding(Key(str(i), Mod.META), f"select_layout('{name}')", f"{name} layout")
        for i, name in enumerate(("even-horizontal", "even-vertical", "main-horizontal", "main-vertical", "tiled"), 1)
    ),
    *(
        Binding(Key(name, Mod.CTRL), f"resize_pane('{d}', 1)", f"resize the pane {way} by 1", True)
        for name, d, _, way in _ARROWS
    ),
    *(
        Binding(Key(name, Mod.META | Mod.IMPLIED_META), f"resize_pane('{d}', 5)", f"resize the pane {way} by 5", True)
        for name, d, _, way in _ARROWS
    ),
    # copy mode and buffers
    Binding(Key("["), "copy_mode", "copy mode: move, search, select, copy"),
    Binding(Key("PPage"), "copy_mode_page_up", "copy mode, one page up"),
    Binding(Key("]"), "paste_buffer", "paste the most recent buffer"),
    Binding(Key("="), "choose_buffer", "choose a buffer to paste, with preview"),
    Binding(Key("#"), "list_buffers", "list the paste buffers"),
    Binding(Key("/"), "grep_sessions", "search every session, jump to a match"),
    Binding(Key("e"), "edit_scrollback", "the scrollback in $VISUAL / $EDITOR"),
    # the client
    Binding(Key("t"), "toggle_status", "toggle the status bar"),
    Binding(Key("?"), "list_keys", "this list of keys"),
)


def prefix_table(prefix: Key) -> KeyTable:
    """The keys after the prefix key; the prefix again sends it to the program, as tmux's send-prefix."""
    return KeyTable("prefix", (*_PREFIX, Binding(prefix, "send_prefix", "send the prefix key to the program")))


def _keys(names: str, action: str, description: str) -> tuple[Binding, ...]:
    """One binding per key named (tmux's spelling, separated by spaces)."""
    out = []
    for name in names.split():
        key = parse_key_name(name)
        assert key is not None, name
        out.append(Binding(key, action, description))
    return tuple(out)


_COPY_COMMON = (
    *_keys("Left", "cursor_left", "cursor left"),
    *_keys("Right", "cursor_right", "cursor right"),
    *_keys("Up", "cursor_up", "cursor up"),
    *_keys("Down", "cursor_down", "cursor down"),
    *_keys("PPage", "page_up", "page up"),
    *_keys("NPage", "page_down", "page down"),
    *_keys("Home", "start_of_line", "start of line"),
    *_keys("End", "end_of_line", "end of line"),
)

_COPY_VI = (
    *_keys("h", "cursor_left", "cursor left"),
    *_keys("j", "cursor_down", "cursor down"),
    *_keys("k", "cursor_up", "cursor up"),
    *_keys("l", "cursor_right", "cursor right"),
    *_keys("w", "next_word", "next word"),
    *_keys("b", "previous_word", "previous word"),
    *_keys("e", "next_word_end", "end of word"),
    *_keys("W", "next_space", "next WORD (space separated)"),
    *_keys("B", "previous_space", "previous WORD"),
    *_keys("E", "next_space_end", "end of WORD"),
    *_keys("0", "start_of_line", "start of line"),
    *_keys("^", "back_to_indentation", "first non-blank of line"),
    *_keys("$", "end_of_line", "end of line"),
    *_keys("g", "history_top", "top of the history"),
    *_keys("G", "history_bottom", "bottom (the screen's last line)"),
    *_keys("H", "top_line", "top line in sight"),
    *_keys("M", "middle_line", "middle line in sight"),
    *_keys("L", "bottom_line", "bottom line in sight"),
    *_keys("C-u", "halfpage_up", "half a page up"),
    *_keys("C-d", "halfpage_down", "half a page down"),
    *_keys("C-b", "page_up", "page up"),
    *_keys("C-f", "page_down", "page down"),
    *_keys("/", "search_forward", "search down (a regular expression; Enter searches)"),
    *_keys("?", "search_backward", "search up"),
    *_keys("n", "search_again", "next match, the way of the last search (wraps)"),
    *_keys("N", "search_reverse", "next match the other way"),
    *_keys("*", "search_forward_word", "search down for the word under the cursor"),
    *_keys("#", "search_backward_word", "search up for the word under the cursor"),
    *_keys("Space v", "begin_selection", "begin selection"),
    *_keys("V", "select_line", "select lines"),
    *_keys("C-v", "rectangle_toggle", "rectangle selection on/off"),
    *_keys("o", "other_end", "cursor to the selection's other end"),
    *_keys("y Enter", "copy_selection_and_cancel", "copy the selection and leave"),
    *_keys("Escape", "clear_selection", "clear the selection (without one: leave)"),
    *_keys("q", "cancel", "leave copy mode"),
    *_COPY_COMMON,
)

_COPY_EMACS = (
    *_keys("C-b", "cursor_left", "cursor left"),
    *_keys("C-f", "cursor_right", "cursor right"),
    *_keys("C-p", "cursor_up", "cursor up"),
    *_keys("C-n", "cursor_down", "cursor down"),
    *_keys("M-f", "next_word_end", "end of word"),
    *_keys("M-b", "previous_word", "previous word"),
    *_keys("C-a", "start_of_line", "start of line"),
    *_keys("M-m", "back_to_indentation", "first non-blank of line"),
    *_keys("C-e", "end_of_line", "end of line"),
    *_keys("M-<", "history_top", "top of the history"),
    *_keys("M->", "history_bottom", "bottom (the screen's last line)"),
    *_keys("M-R", "top_line", "top line in sight"),
    *_keys("C-v", "page_down", "page down"),
    *_keys("M-v", "page_up", "page up"),
    *_keys("C-s", "search_forward_incremental", "search down as you type (Enter keeps, C-g goes back)"),
    *_keys("C-r", "search_backward_incremental", "search up as you type"),
    *_keys("n", "search_again", "next match, the way of the last search (wraps)"),
    *_keys("N", "search_reverse", "next match the other way"),
    *_keys("C-Space", "begin_selection", "begin selection"),
    *_keys("R", "rectangle_toggle", "rectangle selection on/off"),
    *_keys("M-w Enter", "copy_selection_and_cancel", "copy the selection and leave"),
    *_keys("C-g", "clear_selection", "clear the selection (without one: leave)"),
    *_keys("q Escape", "cancel", "leave copy mode"),
    *_COPY_COMMON,
)


def copy_mode_table(mode_keys: str) -> KeyTable:
    """Copy mode's keys: tmux's `copy-mode-vi` table for "vi", its `copy-mode` (emacs) table otherwise."""
    return KeyTable("copy-mode-vi", _COPY_VI) if mode_keys == "vi" else KeyTable("copy-mode", _COPY_EMACS)
