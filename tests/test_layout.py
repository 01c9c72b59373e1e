"""The package's shape (docs/ARCHITECTURE.md): no import cycle, absolute imports only, no long class without its
reason, and every package saying what it is for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "app" / "billy"
LONG_CLASS_LINES = 200


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """The billy modules `path` imports, at its top or inside a function: `from a.b import c` is a.b.c when that
    is a module, else a.b."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "billy":
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "billy"}
    return found & set(MODULES)


def test_no_module_imports_itself_back_through_others():
    graph = {name: _imports(path) - {name} for name, path in MODULES.items()}
    cycles = []

    def visit(name: str, trail: list[str], done: set[str]) -> None:
        for neighbour in sorted(graph[name]):
            if neighbour in trail:
                cycles.append([*trail[trail.index(neighbour) :], neighbour])
            elif neighbour not in done:
                visit(neighbour, [*trail, neighbour], done)
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name], done)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_are_absolute_and_classes_short_or_explained(name: str):
    tree = ast.parse(MODULES[name].read_text())
    assert ast.get_docstring(tree), f"{name} says in a docstring what it is for"
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.ImportFrom) and node.level), f"{name}:{node.lineno}: a relative import"
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno > LONG_CLASS_LINES:
            reason = ast.get_docstring(node) or ""
            assert "Long because" in reason, f"{name}.{node.name} is over {LONG_CLASS_LINES} lines: say why at its top"
