"""Completion layer: bash and zsh completion scripts, generated from the CLI's own parser. Pure.

The verbs and each verb's flags come from argparse (a new verb or flag completes without editing
this file); targets are asked live, when completing: session names from `scarab ls -F`, and once
a target has a `:`, that session's windows (`work:1`, `work:editor`) from `scarab list-windows -F`
(each one request, no daemon's worth of work). Flags that take a file or directory complete paths.
"""

from __future__ import annotations

import argparse
import shlex

__all__ = ["script"]

# Flags whose value is a target (completed with live names) and those whose value is a path.
TARGET_FLAGS = ("-t", "-s")
PATH_FLAGS = ("-c", "-o", "-L", "--cwd")
SESSIONS = "scarab ls -F '#{session_name}' 2>/dev/null"
# A session's windows, by index and by name, one per line.
WINDOWS = (
    "scarab list-windows -t \"${cur%%:*}\" -F $'#{session_name}:#{window_index}\\n#{session_name}:#{window_name}'"
    " 2>/dev/null"
)


def _verbs(parser: argparse.ArgumentParser) -> dict[str, tuple[str, list[str], bool]]:
    """verb -> (help, its flags, whether it takes a positional target)."""
    verbs: dict[str, tuple[str, list[str], bool]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                flags = [opt for a in sub._actions for opt in a.option_strings if opt != "-h"]
                targets = "-t" in flags  # its positional words are a target (and keys, names...)
                verbs[name] = (helps.get(name, ""), sorted(flags), targets)
    return verbs


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    return _bash(parser) if shell == "bash" else _zsh(parser)


def _bash(parser: argparse.ArgumentParser) -> str:
    verbs = _verbs(parser)
    cases = "\n".join(
        f"        {name}) flags={shlex.quote(' '.join(flags))};;" for name, (_, flags, _) in verbs.items()
    )
    targeted = "|".join(name for name, (_, _, t) in verbs.items() if t) or "__none__"
    return f"""# scarab completion for bash: source <(scarab completion bash), e.g. in ~/.bashrc
_scarab_targets() {{
    local cur="$1" IFS=$'\\n'
    if [[ "$cur" == *:* ]]; then
        COMPREPLY=($(compgen -W "$({WINDOWS})" -- "$cur"))
        # bash replaces only what follows the last ':' (one of its COMP_WORDBREAKS).
        if [[ "$COMP_WORDBREAKS" == *:* ]]; then
            local typed="${{cur%"${{cur##*:}}"}}"
            COMPREPLY=("${{COMPREPLY[@]#"$typed"}}")
        fi
    else
        COMPREPLY=($(compgen -W "$({SESSIONS})" -- "$cur"))
    fi
}}
_scarab() {{
    # The words as typed: bash's COMP_WORDS would split a target (`work:1`) at its colon.
    local line="${{COMP_LINE:0:COMP_POINT}}" words cur prev flags=""
    read -ra words <<< "$line"
    if [[ ${{#words[@]}} -eq 0 || "$line" == *[[:space:]] ]]; then
        words+=("")
    fi
    cur="${{words[${{#words[@]}}-1]}}"
    if [ ${{#words[@]}} -le 2 ]; then
        COMPREPLY=($(compgen -W {shlex.quote(" ".join(verbs))} -- "$cur"))
        return
    fi
    prev="${{words[${{#words[@]}}-2]}}"
    case "$prev" in
        {"|".join(TARGET_FLAGS)})
            _scarab_targets "$cur"
            return;;
        {"|".join(PATH_FLAGS)})
            COMPREPLY=($(compgen -f -- "$cur"))
            return;;
    esac
    case "${{words[1]}}" in
{cases}
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    else
        case "${{words[1]}}" in
            {targeted})
                _scarab_targets "$cur";;
            completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur"));;
        esac
    fi
}}
complete -F _scarab scarab
"""


def _zsh(parser: argparse.ArgumentParser) -> str:
    verbs = _verbs(parser)
    described = "\n".join(
        f"        {shlex.quote(name + ':' + help.replace(':', ' '))}" for name, (help, _, _) in verbs.items()
    )
    cases = "\n".join(f"        {name}) flags=({' '.join(flags)});;" for name, (_, flags, _) in verbs.items())
    targeted = "|".join(name for name, (_, _, t) in verbs.items() if t) or "__none__"
    return f"""#compdef scarab
# scarab completion for zsh: source <(scarab completion zsh), e.g. in ~/.zshrc after compinit
_scarab_targets() {{
    local cur="$PREFIX"
    local -a targets
    if [[ "$cur" == *:* ]]; then
        targets=(${{(f)"$({WINDOWS})"}})
    else
        targets=(${{(f)"$({SESSIONS})"}})
    fi
    compadd -a targets
}}
_scarab() {{
    local -a verbs flags
    verbs=(
{described}
    )
    if (( CURRENT == 2 )); then
        _describe 'scarab command' verbs
        return
    fi
    case "$words[CURRENT-1]" in
        {"|".join(TARGET_FLAGS)})
            _scarab_targets
            return;;
        {"|".join(PATH_FLAGS)})
            _files
            return;;
    esac
    case "$words[2]" in
{cases}
    esac
    if [[ "$PREFIX" == -* ]]; then
        compadd -a flags
    else
        case "$words[2]" in
            {targeted})
                _scarab_targets;;
            completion) compadd bash zsh;;
        esac
    fi
}}
compdef _scarab scarab
"""
