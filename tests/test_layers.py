"""The package's import graph: no circles, and no import from a lower layer to a higher one.

Layers, lowest first (docs/DESIGN.md): the leaves and chemistry; the file formats; the data
sources; the
physics (quantum chemistry, the networks and the parametrised force field with its engines);
training and evaluation; figures, the paper, the command line and the workflow's helpers. A
module may import its own layer or lower ones; lazy imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "virialff"
LAYERS: dict[str, int] = {
    "version": 0, "units": 0, "errors": 0, "config_keys": 0, "config": 0, "chem": 0,
    "formats": 1,
    "data": 2,
    "qc": 3, "model": 3, "ase": 3, "openmm": 3,
    "train": 4, "evaluate": 4,
    "plots": 5, "paper": 5, "cli": 5, "workflow": 5, "__init__": 5,
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def import_graph() -> dict[str, set[str]]:
    """Module → the virialff modules it imports (at the top or inside functions)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        name = _module(path).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            graph[name].update(n for n in names if n.split(".")[0] == "virialff")
    return graph


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_in_a_circle():
    assert _cycles(import_graph()) == []


def test_no_package_imports_itself_in_a_circle():
    packages: dict[str, set[str]] = defaultdict(set)
    for module, imported in import_graph().items():
        packages[_part(module)].update(_part(i) for i in imported if _part(i) != _part(module))
    assert _cycles(packages) == []


def test_imports_run_from_higher_layers_to_lower_ones_only():
    upward = []
    for module, imported in import_graph().items():
        for other in imported:
            if LAYERS[_part(other)] > LAYERS[_part(module)]:
                upward.append(f"{module} → {other}")
    assert upward == []


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(_module(p).removesuffix(".__init__")) for p in PACKAGE.rglob("*.py")}
    assert parts <= set(LAYERS), parts - set(LAYERS)
