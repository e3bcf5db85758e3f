"""TUI key tables layer (pure data): which key runs which action, with what it does, as tmux's tables.

A `KeyTable` maps keys to named actions (the app's `action_*` methods, run through Textual's action
dispatch). The help screen and the README's table are generated from it, so the three cannot
disagree. Today there is the `prefix` table (keys after the prefix key); root and copy-mode tables
take the same shape.
"""

from __future__ import annotations

from typing import NamedTuple

from scarab.keys import Key, tmux_name

__all__ = ["Binding", "KeyTable", "prefix_table"]


class Binding(NamedTuple):
    key: Key
    action: str
    """The name of an action of the app (`detach_client` runs `action_detach_client`)."""
    description: str


class KeyTable(NamedTuple):
    name: str
    bindings: tuple[Binding, ...]

    def lookup(self, key: Key) -> Binding | None:
        return next((b for b in self.bindings if b.key == key), None)

    def help_text(self) -> str:
        """One line per key, for the help screen."""
        width = max(len(tmux_name(b.key)) for b in self.bindings)
        return "\n".join(f"{tmux_name(b.key):<{width}}  {b.description}" for b in self.bindings)

    def markdown(self) -> str:
        """The table as the README shows it."""
        rows = [f"| `{tmux_name(b.key)}` | `{b.action}` | {b.description} |" for b in self.bindings]
        return "\n".join(["| key | action | what it does |", "|---|---|---|", *rows])


_PREFIX = (
    Binding(Key("d"), "detach_client", "detach (the session keeps running)"),
    Binding(Key("s"), "choose_session", "session picker: live preview, typing filters"),
    Binding(Key("$"), "rename_session", "rename this session"),
    Binding(Key("c"), "new_session", "new session"),
    Binding(Key("("), "previous_session", "previous session"),
    Binding(Key(")"), "next_session", "next session"),
    Binding(Key("L"), "last_session", "last session"),
    Binding(Key("x"), "kill_session", "kill this session (asks first)"),
    Binding(Key("["), "scrollback", "scrollback view (PgUp/PgDn, wheel, g/G, q leaves)"),
    Binding(Key("t"), "toggle_status", "toggle the status bar"),
    Binding(Key("?"), "list_keys", "this list of keys"),
)


def prefix_table(prefix: Key) -> KeyTable:
    """The keys after the prefix key; the prefix again sends it to the program, as tmux's send-prefix."""
    return KeyTable("prefix", (*_PREFIX, Binding(prefix, "send_prefix", "send the prefix key to the program")))
