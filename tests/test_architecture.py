"""The package's import structure, read from the source (ast), held to ARCHITECTURE.md.

A module imports only from parts on lower lines of the layer list (or from its own
part); no import circle exists between modules; no splitbench import hides inside
a function or behind ``TYPE_CHECKING`` (third-party solver packages may be imported
lazily, so that ``import splitbench`` needs none of them).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "splitbench"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("harness",),
    ("methods",),
    ("solvers", "families"),
    ("formulations", "zoo", "topology"),
    ("graphs", "solution"),
    ("milp", "evaluate", "evaluate_multi"),
    ("answer", "costs", "routes", "placement"),
    ("instance",),
    ("params", "registry", "tolerances", "status"),
    ("errors",),
)
"""Top line first, as in ARCHITECTURE.md ("Allowed imports")."""

SAME_LINE_ALLOWED = {
    ("answer", "placement"),  # a MethodResult carries a Placement
    ("costs", "routes"),  # the vectorised weights reuse the route costs
    ("evaluate_multi", "evaluate"),  # each request is judged by the single evaluator
}
"""Arrows between parts of one line, each with its reason."""

RANK = {part: len(LAYERS) - i for i, line in enumerate(LAYERS) for part in line}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part_of(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


def resolve(importer: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The splitbench modules an import statement loads."""
    targets: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
        return [n for n in names if n == "splitbench" or n.startswith("splitbench.")]
    base = node.module or ""
    if node.level:
        package = (
            importer if MODULES[importer].name == "__init__.py" else importer.rsplit(".", 1)[0]
        )
        for _ in range(node.level - 1):
            package = package.rsplit(".", 1)[0]
        base = f"{package}.{base}" if base else package
    if not (base == "splitbench" or base.startswith("splitbench.")):
        return []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        targets.append(sub if sub in MODULES else base)
    return targets


def imports_of(module: str) -> tuple[set[str], list[str]]:
    """(modules imported at module level, imports found inside functions or TYPE_CHECKING)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top: set[str] = set()
    hidden: list[str] = []

    def visit(node: ast.AST, hidden_scope: bool) -> None:
        for child in ast.iter_child_nodes(node):
            scope = hidden_scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                scope = True
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                scope = True
            if isinstance(child, ast.Import | ast.ImportFrom):
                found = resolve(module, child)
                if found and scope:
                    hidden.append(f"{module}:{child.lineno}: {ast.unparse(child)}")
                elif found:
                    top.update(found)
            visit(child, scope)

    visit(tree, False)
    return top, hidden


GRAPH = nx.DiGraph()
HIDDEN: list[str] = []
for _name in MODULES:
    _targets, _hidden = imports_of(_name)
    GRAPH.add_node(_name)
    GRAPH.add_edges_from((_name, t) for t in _targets if t != _name)
    HIDDEN.extend(_hidden)


def test_every_part_has_a_layer() -> None:
    parts = {part_of(m) for m in MODULES} - {""}
    assert parts <= set(RANK), sorted(parts - set(RANK))


def test_no_import_hidden_inside_a_function() -> None:
    assert HIDDEN == []


def test_no_import_circle() -> None:
    cycles = list(nx.simple_cycles(GRAPH))
    assert cycles == []


def test_imports_follow_the_layers() -> None:
    wrong = []
    for importer, imported in GRAPH.edges:
        if importer == "splitbench":  # the public surface may re-export anything
            continue
        a, b = part_of(importer), part_of(imported)
        if a == b or (a, b) in SAME_LINE_ALLOWED:
            continue
        if b == "" and a == "cli":  # the command line shows the package's version
            continue
        if b == "" or RANK[a] <= RANK[b]:
            wrong.append(f"{importer} -> {imported}")
    assert wrong == []


@pytest.mark.parametrize("part", ["answer", "evaluate", "instance", "placement", "status"])
def test_bottom_modules_import_no_solver(part: str) -> None:
    for module in MODULES:
        if part_of(module) == part:
            assert not {t for t in GRAPH.successors(module) if part_of(t) == "solvers"}


def test_import_splitbench_loads_no_solver_package() -> None:
    code = (
        "import sys, splitbench, splitbench.methods, splitbench.cli\n"
        "print(sorted(m for m in ('highspy', 'pyomo', 'pulp', 'pyscipopt', 'matplotlib')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "splitbench", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("splitbench ")
