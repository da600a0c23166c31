"""The package's architecture, as its imports show it: folders with one job each, imports one way.

The engine (``style_core/engine/``) is the math of one run: it imports no door (the commands, the
plug-in, batch, video, Ray, the API) and not the package face (``style_core/__init__``). No module
imports another that imports it back, even lazily or for type checking only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "style_core"
#: The plug-in runs in GIMP's own Python and imports only its own modules.
PLUGIN = PACKAGE / "gimp" / "plugin"
#: What the engine may use from the package's top: the wire and the inputs' types.
ENGINE_MAY_IMPORT = {"style_core._version", "style_core.errors", "style_core.events", "style_core.image"}
ENGINE_MAY_IMPORT |= {"style_core.settings"}
#: The most modules at the top of the package: the public surface and the wire.
TOP_MODULES = 14


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PACKAGE.rglob("*.py") if PLUGIN not in path.parents}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file (top level, in functions,
    under ``TYPE_CHECKING``); ``from X import y`` counts ``X.y`` when that is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {target for target in targets if target in known}
    return found - {name}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def test_no_module_imports_one_that_imports_it_back(graph):
    """No cycle of imports in the package (Tarjan's strongly connected components)."""
    # a package's __init__ re-exporting its own submodules is its face, not a loop of the design
    graph = {node: {t for t in targets if not t.startswith(node + ".")} for node, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_the_engine_imports_no_door_and_not_the_face(graph):
    outside = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("style_core.engine")
        for target in targets
        if not target.startswith("style_core.engine") and target not in ENGINE_MAY_IMPORT
    }
    assert outside == set()


def test_the_top_of_the_package_is_its_public_surface():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= TOP_MODULES, top


def test_no_fixture_ships_in_the_package():
    """Pictures painted by code, synthetic clips and the yardstick live in fixtures/."""
    names = {path.stem for path in PACKAGE.rglob("*.py")}
    assert not names & {"metrics", "synthetic", "yardstick", "clips", "pictures"}
    assert "swirl_painting" not in (PACKAGE / "examples.py").read_text()


def test_no_two_classes_share_a_name():
    """One name per idea: a class name means one thing across the package (the plug-in too)."""
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                seen.setdefault(node.name, []).append(str(path.relative_to(PACKAGE)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
