"""The package's layering, read from its source: no import cycles, and DESIGN.md's rules (the daemon
never imports textual, the TUI never imports pyte or the daemon, one module touches sqlite3 and one
touches ptys). Every import counts, also one inside a function: a lazy import hides a cycle, it
does not remove it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "scarab"


def module_imports() -> dict[str, set[str]]:
    """Each scarab module -> every module it imports (scarab's own and others, top-level names)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        # `from scarab import protocol` names a module; `from scarab.styles import Line` does not.
        graph[name] = {m for m in found if m in modules or not m.startswith("scarab")} - {name, "scarab"}
    return graph


def test_no_import_cycles() -> None:
    graph = module_imports()
    internal = {name: {m for m in deps if m in graph} for name, deps in graph.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        for dep in sorted(internal[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in sorted(internal):
        visit(name, [])


def test_design_rules_for_layers() -> None:
    graph = module_imports()

    def importers(prefix: str) -> set[str]:
        return {name for name, deps in graph.items() if any(d == prefix or d.startswith(prefix + ".") for d in deps)}

    assert not {n for n in importers("textual") if n.startswith("scarab.daemon")}
    assert not {n for n in importers("pyte") | importers("scarab.daemon") if n.startswith("scarab.tui")}
    assert importers("sqlite3") == {"scarab.daemon.store"}
    assert importers("ptyprocess") | importers("pty") == {"scarab.daemon.pty"}


def test_test_modules_share_helpers_not_each_other() -> None:
    # Shared pieces live in tests/helpers.py, tests/pilot.py, tests/realterm.py (or scarab.testkit):
    # a test module importing another runs the other's fixtures and ties their edits together.
    for path in sorted(PACKAGE.parent.joinpath("tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("tests.test_"), f"{path.name} imports {node.module}"
