"""The package's import graph: no circles, and no import from a lower layer to a higher one.

Layers, lowest first (docs/DESIGN.md): the leaves and chemistry; the file formats; the data
sources; the physics (quantum chemistry, the networks, and the force fields with fixed
parameters and their engines); training and evaluation; figures, the paper, the command line
and the workflow's helpers. A module may import its own layer or lower ones; lazy imports
inside functions count too. The force fields (``forcefield/``) run without torch: none of
their modules imports it, directly or through another virialff module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "virialff"
LAYERS: dict[str, int] = {
    "version": 0, "logs": 0, "units": 0, "errors": 0, "config_keys": 0, "config": 0, "chem": 0,
    "formats": 1,
    "data": 2,
    "qc": 3, "model": 3, "forcefield": 3,
    "train": 4, "evaluate": 4,
    "plots": 5, "paper": 5, "cli": 5, "workflow": 5, "__init__": 5,
}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


#: the package whose modules must not import torch (lazily neither).
TORCH_FREE = "virialff.forcefield"


def import_graph(everything: bool = False) -> dict[str, set[str]]:
    """Module → the virialff modules it imports (at the top or inside functions); with
    ``everything``, every imported module (third-party ones too)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        name = _module(path).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            names = _imported_names(node)
            graph[name].update(n for n in names if everything or n.split(".")[0] == "virialff")
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


def _imported_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return [node.module]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return []


def eager_imports() -> dict[str, set[str]]:
    """Module → every module it imports when it is imported (not inside functions)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        name = _module(path).removesuffix(".__init__")
        todo = list(ast.parse(path.read_text()).body)
        while todo:
            node = todo.pop()
            graph[name].update(_imported_names(node))
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                todo.extend(ast.iter_child_nodes(node))
    return graph


def _closure(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    """Every module reached from ``start`` along ``graph``, with the packages that hold them
    (importing ``virialff.a.b`` runs ``virialff/__init__.py`` and ``virialff/a/__init__.py``)."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for k in range(1, len(parts) + 1):
            name = ".".join(parts[:k])
            if name not in seen:
                seen.add(name)
                if name.startswith("virialff"):
                    todo.extend(graph.get(name, ()))
    return seen


def test_no_force_field_module_imports_torch():
    """No module of forcefield/ imports torch, at the top or inside a function, nor imports a
    virialff module that imports it when imported."""
    imports, eager = import_graph(everything=True), eager_imports()
    force_fields = [m for m in imports if m == TORCH_FREE or m.startswith(TORCH_FREE + ".")]
    assert len(force_fields) > 3
    offenders = {
        module: sorted(m for m in _closure(imports[module], eager) if m.split(".")[0] == "torch")
        for module in force_fields
    }
    assert {m: found for m, found in offenders.items() if found} == {}


def test_importing_the_force_fields_leaves_torch_unloaded():
    modules = sorted(_module(p).removesuffix(".__init__")
                     for p in (PACKAGE / "forcefield").rglob("*.py"))
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + (
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
