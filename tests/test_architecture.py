"""The arrows of docs/ARCHITECTURE.md, checked on the source with ``ast`` (nothing is imported).

Which imports count:

* forbidden arrows: every import, wherever it is written (module level, inside a
  function, under ``if TYPE_CHECKING:``): a type-only import is still a dependency a
  reader has to follow;
* cycles: module-level and function-level imports both count, since an import inside a
  function only hides the circle from the loader, not from the reader; imports under
  ``if TYPE_CHECKING:`` are exempt (they never run and only name types).

An edge goes to the module named: ``from tools.files import FILE_TOOLS`` is an arrow to
``tools.files``, ``from tools import default_registry`` one to ``tools`` (its
``__init__``), ``from evals.suites import _build`` one to ``evals.suites._build``.
Importing a submodule does run its package's ``__init__`` first; that implicit arrow is
left out, or every package that re-exports its modules would be a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "memory", "tools", "evals")
MAX_LINES = 600
# Task-family data: one long, flat list of task definitions (see evals/suites/_families.py).
DATA_FILES = {"evals/suites/_families.py"}


@dataclass(frozen=True)
class Import:
    """One import statement's target, where it is, and how it is guarded."""

    source: str  # the importing module, dotted
    target: str  # the imported module, dotted
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every Python file of the packages under ``root``."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if path.is_relative_to(root / "evals" / "results") or "site-packages" in path.parts:
                continue  # a run's outputs (a benchmark worker's Python), not the project
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(name: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    """Every import in the file (at any depth) whose target is a module of the project."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, type_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for stmt in child.body:
                    yield from visit_stmt(stmt, True)
                for stmt in child.orelse:
                    yield from visit_stmt(stmt, type_only)
            else:
                yield from visit_stmt(child, type_only)

    def visit_stmt(node: ast.AST, type_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno, type_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}" if base else alias.name
                yield Import(name, full if full in known else base, node.lineno, type_only)
        else:
            yield from visit(node, type_only)

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for imp in visit(tree, False):
        top = imp.target.split(".")[0]
        if top in PACKAGES and imp.target != name:
            yield imp


def all_imports(root: Path) -> list[Import]:
    """The project's imports between its own modules."""
    known = modules(root)
    return [imp for name, path in known.items() for imp in imports(name, path, known)]


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# (importer, imported, why): no module under the first may import one under the second.
FORBIDDEN = (
    ("memory", "agent", "memory is the bottom layer: the store must run without the agent"),
    ("memory", "tools", "memory is the bottom layer: tools use memory, not the reverse"),
    ("memory", "evals", "the benchmarks sit on top; the store must not need them"),
    ("tools", "agent", "tools are used by the agent; they get what they need via ToolContext"),
    ("tools", "evals", "the benchmarks sit on top; tools must not need them"),
)


def forbidden_arrows(found: list[Import]) -> list[str]:
    """Imports that go against the layers, each as 'file:line: a -> b (why)'."""
    bad = []
    for imp in found:
        for low, high, why in FORBIDDEN:
            if _under(imp.source, low) and _under(imp.target, high):
                bad.append(f"{imp.source}:{imp.line}: {imp.source} -> {imp.target} ({why})")
        if _under(imp.target, "agent.cli") and not _under(imp.source, "agent.cli"):
            bad.append(
                f"{imp.source}:{imp.line}: {imp.source} -> {imp.target} (the CLI is the top "
                "of the house: only the console entry, agent/__main__.py, may import it)"
            )
        # the agent library works without the benchmarks; only its CLI drives them
        if (
            _under(imp.source, "agent")
            and not _under(imp.source, "agent.cli")
            and _under(imp.target, "evals")
        ):
            bad.append(f"{imp.source}:{imp.line}: {imp.source} -> {imp.target} (evals use agent)")
    entry = {"agent.__main__"}
    return [b for b in bad if b.split(":")[0] not in entry]


def cycles(found: list[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module (TYPE_CHECKING imports left out)."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if not imp.type_only:
            graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return groups


def long_files(root: Path) -> list[str]:
    """Source files over MAX_LINES lines, except data files and the ones being split."""
    out = []
    for path in modules(root).values():
        rel = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and rel not in DATA_FILES:
            out.append(f"{rel}: {lines} lines")
    return out


# ------------------------------------------------------------------------- the project


def test_no_forbidden_arrow() -> None:
    assert forbidden_arrows(all_imports(ROOT)) == []


def test_no_import_cycle() -> None:
    found = all_imports(ROOT)
    groups = cycles(found)
    detail = sorted(
        {
            f"{i.source}:{i.line} -> {i.target}"
            for group in groups
            for i in found
            if i.source in group and i.target in group and not i.type_only
        }
    )
    assert groups == [], "\n".join(detail)


def test_no_source_file_over_the_limit() -> None:
    assert long_files(ROOT) == []


def test_the_walk_sees_the_whole_project() -> None:
    found = all_imports(ROOT)
    sources = {i.source for i in found}
    assert {"agent.graph", "memory.store", "tools.catalogue", "evals.suites._build"} <= sources
    assert any(i.type_only for i in found)  # TYPE_CHECKING imports are recognised


# ------------------------------------------------------------------------- the checker


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A small tree with one of each fault the tests above look for."""
    _write(
        tmp_path,
        {
            "agent/__init__.py": "",
            "agent/cli/__init__.py": "",
            "agent/__main__.py": "from agent.cli import main\n",
            "agent/a.py": "def f():\n    from agent import b\n",
            "agent/b.py": "from .a import f\n",  # relative imports count too
            "agent/c.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from agent.d import X\n",
            "agent/d.py": "from agent.c import Y\n",
            "memory/__init__.py": "",
            "memory/store.py": "def g():\n    import agent.a\n",
            "tools/__init__.py": "from . import x\n",
            "tools/x.py": "import agent\nfrom agent.cli import app\n",
            "evals/__init__.py": "x = 1\n" * (MAX_LINES + 1),
        },
    )
    return tmp_path


def test_checker_finds_planted_faults(planted: Path) -> None:
    found = all_imports(planted)
    bad = forbidden_arrows(found)
    assert any(b.startswith("memory.store:2: memory.store -> agent.a") for b in bad), bad
    assert any("tools.x:1: tools.x -> agent (" in b for b in bad), bad
    assert any("tools.x:2: tools.x -> agent.cli" in b for b in bad), bad
    assert not any(b.startswith("agent.__main__") for b in bad)  # the console entry may
    # a function-level import closes a circle; a TYPE_CHECKING one does not
    assert cycles(found) == [["agent.a", "agent.b"]]
    assert long_files(planted) == [f"evals/__init__.py: {MAX_LINES + 1} lines"]
