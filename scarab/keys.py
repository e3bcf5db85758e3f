"""Keys layer (pure): one key model, decided and encoded as tmux 3.3a does, for the CLI and the TUI.

A `Key` is what tmux calls a key code: one character (control characters as themselves, so C-a is
"\\x01", as tmux stores it) or a named key (`Up`, `F3`, `Home`, `BSpace`...), with modifiers.
Three ways in, one way out:

* `parse_key_name`: a name as tmux's `send-keys` and `bind` spell it (`C-a`, `M-x`, `^A`, `S-F3`,
  `Enter`) or as Textual spells it (`ctrl+a`, `alt+x`, `shift+f3`, `enter`); `key_from_textual`
  reads a Textual key event;
* `decode`: the bytes a terminal sends when keys are typed (tmux's `tty-keys.c`: known sequences,
  Esc followed by a key is that key with Meta, a partial sequence waits for more or for the
  escape time);
* `encode`: the bytes a program under `TERM=tmux-256color` receives (tmux's `input-keys.c`; Home is
  `ESC [1~` and End `ESC [4~`, as `infocmp tmux-256color` declares in khome/kend).
"""

from __future__ import annotations

import unicodedata
from enum import IntFlag
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "Key",
    "Mod",
    "decode",
    "encode",
    "key_from_textual",
    "parse_key_name",
    "send_keys_bytes",
    "textual_key",
    "tmux_name",
]

ESC = "\x1b"


class Mod(IntFlag):
    NONE = 0
    SHIFT = 1
    META = 2
    CTRL = 4
    IMPLIED_META = 8
    """Meta carried by an xterm modifier parameter (`ESC [1;3A`), not by a leading Esc. tmux keeps
    the two apart: Esc then Up reaches the program as Esc then Up, M-Up as `ESC [1;3A`."""


class Key(NamedTuple):
    name: str
    """One character, or a named key from `NAMED`."""
    mods: Mod = Mod.NONE


# The named keys and their bytes without modifiers (tmux's input_key_defaults).
_PLAIN: dict[str, str] = {
    "F1": "\x1bOP", "F2": "\x1bOQ", "F3": "\x1bOR", "F4": "\x1bOS", "F5": "\x1b[15~", "F6": "\x1b[17~",
    "F7": "\x1b[18~", "F8": "\x1b[19~", "F9": "\x1b[20~", "F10": "\x1b[21~", "F11": "\x1b[23~",
    "F12": "\x1b[24~", "IC": "\x1b[2~", "DC": "\x1b[3~", "Home": "\x1b[1~", "End": "\x1b[4~",
    "NPage": "\x1b[6~", "PPage": "\x1b[5~", "BTab": "\x1b[Z",
    "Up": "\x1b[A", "Down": "\x1b[B", "Right": "\x1b[C", "Left": "\x1b[D",
}  # fmt: skip
# Cursor-key mode (DECCKM) turns the arrows into SS3 form.
_CURSOR: dict[str, str] = {"Up": "\x1bOA", "Down": "\x1bOB", "Right": "\x1bOC", "Left": "\x1bOD"}
# With modifiers: `_` is 1 + shift + 2 * meta + 4 * ctrl (xterm's convention).
_MODIFIED: dict[str, str] = {
    "F1": "\x1b[1;_P", "F2": "\x1b[1;_Q", "F3": "\x1b[1;_R", "F4": "\x1b[1;_S", "F5": "\x1b[15;_~",
    "F6": "\x1b[17;_~", "F7": "\x1b[18;_~", "F8": "\x1b[19;_~", "F9": "\x1b[20;_~", "F10": "\x1b[21;_~",
    "F11": "\x1b[23;_~", "F12": "\x1b[24;_~", "Up": "\x1b[1;_A", "Down": "\x1b[1;_B", "Right": "\x1b[1;_C",
    "Left": "\x1b[1;_D", "Home": "\x1b[1;_H", "End": "\x1b[1;_F", "PPage": "\x1b[5;_~", "NPage": "\x1b[6;_~",
    "IC": "\x1b[2;_~", "DC": "\x1b[3;_~",
}  # fmt: skip
NAMED = frozenset([*_PLAIN, "BSpace"])

# Modifier parameter -> modifiers, as tmux reads them from a terminal (9 is meta, from some terminals).
_PARAM_MODS: dict[int, Mod] = {
    2: Mod.SHIFT,
    3: Mod.META | Mod.IMPLIED_META,
    4: Mod.SHIFT | Mod.META | Mod.IMPLIED_META,
    5: Mod.CTRL,
    6: Mod.SHIFT | Mod.CTRL,
    7: Mod.META | Mod.IMPLIED_META | Mod.CTRL,
    8: Mod.SHIFT | Mod.META | Mod.IMPLIED_META | Mod.CTRL,
    9: Mod.META | Mod.IMPLIED_META,
}


# -- encoding: a key -> the bytes a program receives -------------------------------------------------


def _ctrl_char(char: str) -> str | None:
    """C-char as one control character, as tmux converts it (C-a -> ^A, C-@ -> NUL, C-? -> DEL)."""
    code = ord(char)
    if 97 <= code <= 122:
        return chr(code - 96)
    if 64 <= code <= 95:
        return chr(code - 64)
    if code == 32:
        return "\x00"
    if code == 63:
        return "\x7f"
    return None


def encode(key: Key, cursor_keys: bool = False) -> bytes | None:
    """The bytes a program receives for `key` (tmux's input_key; pane modes: cursor keys).

    b"" when tmux sends nothing for it (C-1, C-Enter); None when tmux has no sequence for it
    (S-a, S-Enter: `send-keys` then types the name as text)."""
    name, mods = key
    meta = bool(mods & Mod.META)
    if name == "BSpace":
        name = "\x7f"  # tmux's `backspace` option: ^?
    if len(name) == 1:
        if not mods & (Mod.CTRL | Mod.SHIFT):
            return ((ESC if meta else "") + name).encode()
        if mods & (Mod.SHIFT | Mod.META) or not mods & Mod.CTRL:
            return None
        # Only Ctrl left: tmux's table for keys with no control character of their own.
        special = {" ": "\x00", "2": "\x00", "|": "\x1c", "6": "\x1e", "-": "\x1f", "/": "\x1f", "?": "\x7f"}
        code = special.get(name)
        if code is None and ("A" <= name <= "_" or "a" <= name <= "~"):
            code = _ctrl_char(name)
        return code.encode() if code is not None else b""
    if name not in _PLAIN:
        return None
    prefix = ""
    if meta and not mods & Mod.IMPLIED_META:
        # Esc then the key (tmux looks the key up again without Meta).
        prefix, mods = ESC, mods & ~Mod.META
    param = 1 + bool(mods & Mod.SHIFT) + 2 * bool(mods & Mod.META) + 4 * bool(mods & Mod.CTRL)
    if param == 1:
        return (prefix + (_CURSOR.get(name, _PLAIN[name]) if cursor_keys else _PLAIN[name])).encode()
    template = _MODIFIED.get(name)
    if template is None:
        return None if mods & (Mod.SHIFT | Mod.META) else b""
    return (prefix + template.replace("_", str(param))).encode()


# -- names: tmux's and Textual's spellings ----------------------------------------------------------

# tmux's key-string table (case-insensitive), for the keys a terminal can send.
_TMUX_NAMES: dict[str, Key] = {
    **{f"f{n}": Key(f"F{n}") for n in range(1, 13)},
    "ic": Key("IC"), "insert": Key("IC"), "dc": Key("DC"), "delete": Key("DC"),
    "home": Key("Home"), "end": Key("End"),
    "npage": Key("NPage"), "pagedown": Key("NPage"), "pgdn": Key("NPage"),
    "ppage": Key("PPage"), "pageup": Key("PPage"), "pgup": Key("PPage"),
    "tab": Key("\t"), "btab": Key("BTab"), "space": Key(" "), "bspace": Key("BSpace"),
    "enter": Key("\r"), "escape": Key("\x1b"),
    "up": Key("Up"), "down": Key("Down"), "left": Key("Left"), "right": Key("Right"),
}  # fmt: skip
# tmux does not turn C-<these> into control characters.
_CTRL_KEEPS = frozenset("!#()+,-.0123456789:;<=>'\r\t\x7f`/")


def _parse_tmux(name: str) -> Key | None:
    """tmux's key_string_lookup_string: `C-a`, `^A`, `M-x`, `S-F3`, `C-M-Up`, `Enter`, `é`."""
    mods = Mod.NONE
    rest = name
    if rest.startswith("^") and len(rest) > 1:
        mods |= Mod.CTRL
        rest = rest[1:]
    while len(rest) > 1 and rest[1] == "-":
        flag = {"c": Mod.CTRL, "m": Mod.META, "s": Mod.SHIFT}.get(rest[0].lower())
        if flag is None:
            return None
        mods |= flag
        rest = rest[2:]
    if not rest:
        return None
    if len(rest) == 1:
        if ord(rest) < 32:
            return None
        char = rest
    else:
        found = _TMUX_NAMES.get(rest.lower())
        if found is None:
            return None
        char = found.name
        if char == "BSpace":
            return Key(char, mods)
        if len(char) > 1:
            # The table's named keys carry implied Meta: M-Up is ESC [1;3A.
            return Key(char, mods | (Mod.IMPLIED_META if mods & Mod.META else Mod.NONE))
    return _with_ctrl(char, mods)


# Textual's names for the named keys, and for the control characters it names itself.
_TEXTUAL_NAMED: dict[str, str] = {
    "F1": "f1", "F2": "f2", "F3": "f3", "F4": "f4", "F5": "f5", "F6": "f6", "F7": "f7", "F8": "f8",
    "F9": "f9", "F10": "f10", "F11": "f11", "F12": "f12", "IC": "insert", "DC": "delete", "Home": "home",
    "End": "end", "NPage": "pagedown", "PPage": "pageup", "BTab": "shift+tab", "Up": "up", "Down": "down",
    "Right": "right", "Left": "left", "BSpace": "backspace",
}  # fmt: skip
_FROM_TEXTUAL_NAMED = {v: k for k, v in _TEXTUAL_NAMED.items()}
_TEXTUAL_CHARS: dict[str, str] = {"\r": "enter", "\t": "tab", "\x1b": "escape", " ": "space"}
_FROM_TEXTUAL_CHARS = {v: k for k, v in _TEXTUAL_CHARS.items()}
_TEXTUAL_CONTROL: dict[str, str] = {
    "\x00": "@", "\x1c": "backslash", "\x1d": "right_square_bracket", "\x1e": "circumflex_accent",
    "\x1f": "underscore",
}  # fmt: skip
# Textual's friendly names for some characters (its KEY_NAME_REPLACEMENTS).
_REPLACED = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at", "hyphen_minus": "minus",
             "plus_sign": "plus", "low_line": "underscore"}  # fmt: skip
_UNREPLACED = {v: k for k, v in _REPLACED.items()}


def _char_name(char: str) -> str:
    """A character as Textual names it: itself when alphanumeric, else its Unicode name (`full_stop`)."""
    if char.isalnum():
        return char
    try:
        name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return char
    return _REPLACED.get(name, name)


_NAMED_CHARS = {_char_name(chr(c)): chr(c) for c in range(33, 127)}  # Textual names only ASCII this way


def _name_char(name: str) -> str | None:
    """The character a Textual character name stands for (`full_stop` -> `.`), or None."""
    if len(name) == 1:
        return name
    return _NAMED_CHARS.get(name)


def textual_key(key: Key) -> tuple[str, str | None]:
    """A key as a Textual key event's `key` and `character` (for Textual's own widgets and bindings)."""
    name, mods = key
    prefix = ("alt+" if mods & Mod.META else "") + ("ctrl+" if mods & Mod.CTRL else "")
    prefix += "shift+" if mods & Mod.SHIFT else ""
    if name in _TEXTUAL_NAMED:
        return prefix + _TEXTUAL_NAMED[name], "\x7f" if name == "BSpace" and not mods else None
    character = None if mods else name
    if name in _TEXTUAL_CHARS:
        return prefix + _TEXTUAL_CHARS[name], character
    if name in _TEXTUAL_CONTROL:
        return f"{prefix}ctrl+{_TEXTUAL_CONTROL[name]}", None
    if ord(name) < 32:
        return f"{prefix}ctrl+{chr(ord(name) + 96)}", None
    if name == "\x7f":
        return f"{prefix}ctrl+question_mark", None
    return prefix + _char_name(name), character


def key_from_textual(key: str, character: str | None = None) -> Key | None:
    """A Textual key event (`ctrl+a`, `alt+b`, `shift+f3`, `full_stop`) as a key; None if it is none."""
    *modifiers, base = key.split("+") if key != "+" else ["+"]
    mods = Mod.NONE
    for modifier in modifiers:
        flag = {"shift": Mod.SHIFT, "alt": Mod.META, "meta": Mod.META, "ctrl": Mod.CTRL}.get(modifier)
        if flag is None:
            return None
        mods |= flag
    if base == "tab" and mods & Mod.SHIFT:
        return Key("BTab", mods & ~Mod.SHIFT)
    if base in _FROM_TEXTUAL_NAMED:
        named = _FROM_TEXTUAL_NAMED[base]
        return Key(named, mods | (Mod.IMPLIED_META if mods & Mod.META and named != "BSpace" else Mod.NONE))
    char = _FROM_TEXTUAL_CHARS.get(base)
    if char is None and character and len(character) == 1 and character.isprintable() and not mods & Mod.CTRL:
        char = character
        mods &= ~Mod.SHIFT  # the character already says it (A, not S-a)
    if char is None:
        char = _name_char(base)
        if char is None:
            return None
        if mods & Mod.SHIFT and char.isalpha():
            char, mods = char.upper(), mods & ~Mod.SHIFT
    return _with_ctrl(char, mods)


def _with_ctrl(char: str, mods: Mod) -> Key | None:
    """C-char as tmux stores it: a control character where there is one (C-a is ^A), else Ctrl stays."""
    if mods & Mod.CTRL and ord(char) <= 127 and char not in _CTRL_KEEPS and char not in "\t\r\x1b":
        converted = _ctrl_char(char)
        return Key(converted, mods & ~Mod.CTRL) if converted is not None else None
    return Key(char, mods)


def parse_key_name(name: str) -> Key | None:
    """A key name in tmux's spelling (`C-a`, `M-a`, `^A`, `F12`) or Textual's (`ctrl+a`); None if neither."""
    if not name or name.isspace():
        return None
    key = _parse_tmux(name)
    if key is not None:
        return key
    if "+" in name[1:] or name.lower() == name:
        return key_from_textual(name)
    return None


def tmux_name(key: Key) -> str:
    """A key in tmux's spelling (`C-b`, `M-a`, `C-M-a`, `S-F3`, `Enter`), for help and messages."""
    name, mods = key
    if len(name) == 1 and (ord(name) < 32 or name == "\x7f") and name not in "\r\t\x1b":
        mods |= Mod.CTRL
        name = "?" if name == "\x7f" else "Space" if name == "\x00" else chr(ord(name) + 96)
    else:
        name = {"\r": "Enter", "\t": "Tab", "\x1b": "Escape", " ": "Space"}.get(name, name)
    prefix = ("C-" if mods & Mod.CTRL else "") + ("M-" if mods & Mod.META else "") + ("S-" if mods & Mod.SHIFT else "")
    return prefix + name


def send_keys_bytes(keys: list[str], literal: bool = False) -> bytes:
    """Arguments of `scarab send` as bytes, as tmux's `send-keys`: key names become keys, other words
    (and keys tmux has no sequence for, like `S-a`) are typed as text."""
    if literal:
        return "".join(keys).encode()
    out = bytearray()
    for word in keys:
        key = _parse_tmux(word)
        data = encode(key) if key is not None else None
        out += data if data is not None else word.encode()
    return bytes(out)


# -- decoding: what a terminal sends -> keys ---------------------------------------------------------

# Sequences terminals send for keys: tmux's raw keys, its xterm templates, and the terminfo key
# strings of the common terminals (xterm, tmux/screen, rxvt, the Linux console).
_RAW: dict[str, Key] = {
    "\x1bO[": Key("\x1b"),
    **{f"\x1b{i}{c}": Key(n) for n, c in zip(("Up", "Down", "Right", "Left"), "ABCD", strict=True) for i in "O["},
    **{f"\x1b\x1b{i}{c}": Key(n, Mod.META) for n, c in zip(("Up", "Down", "Right", "Left"), "ABCD", strict=True)
       for i in "O["},
    **{f"\x1b{i}{c}": Key(n) for n, c in (("Home", "H"), ("End", "F")) for i in "O["},
    **{f"\x1b\x1b{i}{c}": Key(n, Mod.META | Mod.IMPLIED_META) for n, c in (("Home", "H"), ("End", "F"))
       for i in "O["},
    **{f"\x1bO{c}": Key(n, Mod.CTRL) for n, c in zip(("Up", "Down", "Right", "Left"), "abcd", strict=True)},
    **{f"\x1b[{c}": Key(n, Mod.SHIFT) for n, c in zip(("Up", "Down", "Right", "Left"), "abcd", strict=True)},
    # rxvt: ^ is Ctrl, $ Shift, @ both.
    **{f"\x1b[{n}{suffix}": Key(name, mods)
       for name, n in (("F1", 11), ("F2", 12), ("F3", 13), ("F4", 14), ("F5", 15), ("F6", 17), ("F7", 18),
                       ("F8", 19), ("F9", 20), ("F10", 21), ("F11", 23), ("F12", 24), ("IC", 2), ("DC", 3),
                       ("Home", 7), ("End", 8), ("NPage", 6), ("PPage", 5))
       for suffix, mods in (("^", Mod.CTRL), ("$", Mod.SHIFT), ("@", Mod.CTRL | Mod.SHIFT))},
    # terminfo key strings
    **{seq: Key(name) for name, seq in _PLAIN.items()},
    "\x1b[11~": Key("F1"), "\x1b[12~": Key("F2"), "\x1b[13~": Key("F3"), "\x1b[14~": Key("F4"),
    "\x1b[[A": Key("F1"), "\x1b[[B": Key("F2"), "\x1b[[C": Key("F3"), "\x1b[[D": Key("F4"), "\x1b[[E": Key("F5"),
    "\x1b[7~": Key("Home"), "\x1b[8~": Key("End"),
}  # fmt: skip
_XTERM_TEMPLATES: dict[str, str] = {
    **_MODIFIED,
    "F1.": "\x1bO1;_P", "F2.": "\x1bO1;_Q", "F3.": "\x1bO1;_R", "F4.": "\x1bO1;_S",
    "F1..": "\x1bO_P", "F2..": "\x1bO_Q", "F3..": "\x1bO_R", "F4..": "\x1bO_S",
}  # fmt: skip


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, Key], frozenset[str]]:
    """Every known sequence -> its key, and every proper prefix of one (built on first use)."""
    table = dict(_RAW)
    for name, template in _XTERM_TEMPLATES.items():
        for param, mods in _PARAM_MODS.items():
            table[template.replace("_", str(param))] = Key(name.rstrip("."), mods)
    prefixes = frozenset(seq[:i] for seq in table for i in range(1, len(seq)))
    return table, prefixes


_CSI_PARTIAL_MAX = 64  # tmux gives up on an unterminated ESC [ 1;2;3... after this many bytes


def _known(buf: str, expired: bool) -> tuple[Key, int] | bool | None:
    """The known sequence at the start of `buf`: (key, size), True if `buf` may still become one, else None."""
    table, prefixes = _table()
    for size in range(1, len(buf) + 1):
        seq = buf[:size]
        if seq not in prefixes:
            key = table.get(seq)
            return (key, size) if key is not None else None
    if not expired:
        return True
    key = table.get(buf)
    return (key, len(buf)) if key is not None else None


def decode(buf: str, expired: bool = False) -> tuple[Key, int] | None:
    """The first key in `buf` and how many characters it took, as tmux decides it; None while `buf`
    may still become a longer key (wait for more input, or the escape time: then pass expired=True).

    Esc followed by a key that is not part of a known sequence is that key with Meta (`ESC b` is M-b,
    in one read or two); a lone Esc, or one still starting a sequence, waits for the escape time."""
    if not buf:
        return None
    if not expired and buf[0] == ESC:
        # An unterminated CSI (ESC [ digits ;) may still be a key, as tmux's extended-key check decides.
        tail = buf[2:]
        if len(buf) == 1 or (
            buf[1] == "[" and len(buf) < _CSI_PARTIAL_MAX and all(c.isdigit() or c == ";" for c in tail)
        ):
            return None
    found = _known(buf, expired)
    if found is True:
        return None
    if isinstance(found, tuple):
        key, size = found
        return (Key("BSpace", key.mods) if key.name == "\x7f" else key), size
    if buf[0] == ESC and len(buf) > 1:
        found = _known(buf[1:], expired)
        if found is True:
            return None
        if isinstance(found, tuple):
            key, size = found
            if key.mods & Mod.IMPLIED_META:
                # The sequence says Meta itself: the Esc before it is a key of its own.
                return Key(ESC), 1
            return Key(key.name, key.mods | Mod.META), size + 1
        return _char_key(buf[1], Mod.META), 2
    return _char_key(buf[0], Mod.NONE), 1


def _char_key(char: str, mods: Mod) -> Key:
    # The terminal's erase character (^? everywhere today) is Backspace, as tmux reads it from termios.
    return Key("BSpace", mods) if char == "\x7f" else Key(char, mods)
