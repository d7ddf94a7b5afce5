"""The import graph of beacon_gql/, read from the source with `ast`: db/ is a leaf, and no
module imports, however indirectly, itself.

Every import that runs makes the graph: at module level or inside a function. An import
moved into a function to dodge a circle at import time still ties the two modules together,
so it counts. Imports under `if TYPE_CHECKING:` never run and are left out of the circle
check (they are how two modules name each other's types), but db/ may not make those upward
either: a leaf knows nothing of the rooms above it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "beacon_gql"


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    at_module_level: bool
    type_checking_only: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(
    node: ast.Import | ast.ImportFrom, source: str, package: str, known: set[str]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            # Relative to `package` (the module's own package, or itself for an __init__).
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        # `from package import module` imports the module; `from module import name` the module.
        names = [f"{base}.{alias.name}" for alias in node.names]
        names = [name if name in known else base for name in names]
    for name in names:
        # The nearest module of beacon_gql the name is, or is in.
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != source:
            yield name


class _Reader:
    def __init__(self, source: str, path: Path, known: set[str]) -> None:
        self.source = source
        self.package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        self.known = known
        self.found: list[Import] = []

    def visit(self, node: ast.AST, *, module_level: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(child, self.source, self.package, self.known):
                    self.found.append(
                        Import(self.source, target, child.lineno, module_level, type_checking)
                    )
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                self.visit(child, module_level=False, type_checking=type_checking)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.body:
                    self.visit(statement, module_level=module_level, type_checking=True)
                    if isinstance(statement, ast.Import | ast.ImportFrom):
                        for target in _targets(statement, self.source, self.package, self.known):
                            self.found.append(
                                Import(self.source, target, statement.lineno, module_level, True)
                            )
                for statement in child.orelse:
                    self.visit(statement, module_level=module_level, type_checking=type_checking)
            else:
                self.visit(child, module_level=module_level, type_checking=type_checking)


def imports() -> list[Import]:
    found = modules()
    result: list[Import] = []
    for source, path in found.items():
        reader = _Reader(source, path, set(found))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        reader.visit(tree, module_level=True, type_checking=False)
        result.extend(reader.found)
    return result


def room(module: str) -> str:
    """beacon_gql.db.queue -> db; a top-level module (config, services, errors) is its own."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_db_imports_nothing_above_it() -> None:
    upward = [
        f"{i.source} imports {i.target} (line {i.line})"
        for i in imports()
        if room(i.source) == "db" and room(i.target) != "db"
    ]
    assert upward == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in sorted(edges.get(node, ())):
            if following not in index:
                connect(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return groups


def test_no_circle_of_imports() -> None:
    edges: dict[str, set[str]] = {}
    for found in imports():
        if not found.type_checking_only:
            edges.setdefault(found.source, set()).add(found.target)
    assert cycles(edges) == []


def test_no_circle_between_rooms() -> None:
    """The rooms (db, events, jobs, ..., and the top-level modules) import one way too."""
    edges: dict[str, set[str]] = {}
    for found in imports():
        if not found.type_checking_only:
            source, target = room_or_module(found.source), room_or_module(found.target)
            if source != target:
                edges.setdefault(source, set()).add(target)
    assert cycles(edges) == []


def room_or_module(module: str) -> str:
    return room(module) or module


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_circle_finder_finds_circles(
    edges: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(edges) == expected


def test_the_import_reader_sees_this_repositorys_imports() -> None:
    found = {(i.source, i.target) for i in imports()}
    # One absolute, module-level import known to exist, and one of a package's __init__.
    assert ("beacon_gql.db.queue", "beacon_gql.db.transitions") in found
    assert ("beacon_gql.providers.simulator", "beacon_gql.providers.simulator.fleet") in found
