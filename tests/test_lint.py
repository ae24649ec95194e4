"""ruff, mypy and the package's import rules are part of the suite, so the README's one test command checks them.

The import rules (issue 11): no import cycles anywhere in the package (imports point one way:
cli -> demos -> nn/optim/draw/testing -> fused -> engine -> primitives), no `setattr` to attach
methods, and no private (`_name`) names imported from another module.  They are read from the
source with `ast`, so an import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "micrograd"
# The micrograd lecture's Value protocol: attributes every learner types, not private helpers.
PROTOCOL = {"_prev", "_op", "_backward", "_children"}


def _tool(name: str) -> list[str]:
    if shutil.which(name) is None and not os.environ.get("CI"):
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [sys.executable, "-m", name]


def test_ruff_is_clean() -> None:
    done = subprocess.run([*_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean() -> None:
    done = subprocess.run(_tool("mypy"), cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- the package's import rules
def _modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, from its __init__.py)."""
    found = {}
    trees = [(root / PACKAGE, [PACKAGE])]
    for top, prefix in trees:
        for path in sorted(top.rglob("*.py")):
            parts = [*prefix, *path.relative_to(top).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(here: str, level: int, module: str | None) -> str:
    """The module a relative import ``from <level dots><module> import ...`` in package `here` names."""
    base = here.split(".")
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _dynamic(node: ast.Call, here: str, modules: dict[str, Path]) -> list[str]:
    """The modules ``importlib.import_module(...)`` or ``__import__(...)`` may load: a constant name (relative
    to the package given as the second argument if it starts with a dot), or every module under the
    constant prefix of an f-string (``f"micrograd.demos.{name}"``)."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if called not in ("import_module", "__import__") or not node.args:
        return []
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        target = arg.value
        if target.startswith("."):
            dots = len(target) - len(target.lstrip("."))
            target = _absolute(here, dots, target[dots:] or None)
        return [target]
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value)
        return [m for m in modules if m.startswith(prefix)]
    return []


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[int, str, str | None, str]]:
    """(line, module imported, name taken from it or None, local name bound) for every import, at any depth,
    including ``importlib.import_module`` (local name "").

    `from p import x` where p.x is a module of the package yields (p.x, None): it imports that module.
    """
    here = name if _is_package(path) else name.rpartition(".")[0]  # the package relative imports start from
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:  # `import a.b` binds a (to package a), `import a.b as m` binds m to a.b
                yield node.lineno, alias.name, None, alias.asname or alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(here, node.level, node.module) if node.level else node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:
                    yield node.lineno, submodule, None, alias.asname or alias.name
                else:
                    yield node.lineno, source, alias.name, alias.asname or alias.name
        elif isinstance(node, ast.Call):
            for target in _dynamic(node, here, modules):
                yield node.lineno, target, None, ""


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the package's modules it imports."""
    modules = _modules(root)
    return {name: {target for _, target, _, _ in _imports(name, path, modules)
                   if target in modules and target != name}
            for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """A shortest cycle through each module that is in one, found by strongly connected components (iterative
    Tarjan), each cycle once (rotations of a cycle are the same cycle)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    cycles: dict[frozenset[tuple[str, str]], list[str]] = {}
    for component in components:
        for member in component:
            cycle = _cycle_in(graph, set(component), member)
            cycles.setdefault(frozenset(zip(cycle, cycle[1:])), cycle)
    return list(cycles.values())


def _cycle_in(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """A path start -> ... -> start inside one strongly connected component (breadth first: a shortest one)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"{start} is in no cycle")  # unreachable for a strongly connected component


def test_no_import_cycles() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_setattr_in_the_package() -> None:
    """Methods are defined in class bodies, where a reader finds them, never attached with setattr."""
    found = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in _modules().values()
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr"]
    assert not found, "setattr( in " + ", ".join(found)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and name not in PROTOCOL


def _dotted(node: ast.expr) -> str | None:
    """`a.b.c` as "a.b.c" if it is a chain of names, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _private_imports(root: Path = ROOT) -> list[str]:
    """`from .x import _y`, `from micrograd.x import _y`, and `m._y` where m is a module of the package."""
    modules = _modules(root)
    found = []
    for name, path in modules.items():
        here = f"{path.relative_to(root)}"
        bound = {}  # local name -> what the import bound it to, when that is a module of the package
        for line, source, taken, local in _imports(name, path, modules):
            if taken is None:
                module = source if local != source.partition(".")[0] else source.partition(".")[0]
                if module in modules:
                    bound[local] = module
            elif source.partition(".")[0] == PACKAGE and _private(taken):
                found.append(f"{here}:{line}: from {source} import {taken}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Attribute) and _private(node.attr)):
                continue
            dotted = _dotted(node.value)
            if dotted is None or dotted.partition(".")[0] not in bound:
                continue
            head, _, rest = dotted.partition(".")
            module = ".".join(filter(None, (bound[head], rest)))
            if module in modules and module != name:
                found.append(f"{here}:{node.lineno}: {dotted}.{node.attr} ({module})")
    return found


def test_no_private_names_imported_across_modules() -> None:
    """A `_name` is a module's own business; what others need is public (the lecture's `_prev`, `_op`,
    `_backward`, `_children` are the Value protocol, not private)."""
    found = _private_imports()
    assert not found, "private names used across modules:\n" + "\n".join(found)


# ---------------------------------------------------------------- the rules above can fail
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_import_rules_find_what_they_look_for(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "from .engine import Value\n",
        "engine.py": "from . import nn\nfrom .primitives import _table, ADD\nclass Value: ...\n",
        "primitives.py": "ADD = 1\n_table = {}\n",
        "demos/__init__.py": "",
        "demos/apple.py": "import importlib\nm = importlib.import_module('..cli', __package__)\n",
        "tour.py": "import importlib\ndef run(name):\n    return importlib.import_module(f'micrograd.demos.{name}')\n",
        "nn/__init__.py": "from .module import Module\n",
        "nn/module.py": "def f():\n    from ..engine import Value\n    import micrograd.primitives as p\n"
                        "    return p._table, p.ADD, Value()._prev\n",
        "cli.py": "from micrograd import engine\nfrom micrograd.primitives import _table\nx = engine._secret\n"
                  "import micrograd.nn.module\ny = micrograd.nn.module._z, micrograd.engine.Value\n",
    })
    graph = _graph(root)
    assert graph["micrograd.engine"] == {"micrograd.nn", "micrograd.primitives"}
    assert graph["micrograd.nn.module"] == {"micrograd.engine", "micrograd.primitives"}
    assert graph["micrograd.cli"] == {"micrograd.engine", "micrograd.nn.module", "micrograd.primitives"}
    assert graph["micrograd.tour"] == {"micrograd.demos.apple"}
    assert graph["micrograd.demos.apple"] == {"micrograd.cli"}
    assert _cycles(graph) == [["micrograd.engine", "micrograd.nn", "micrograd.nn.module", "micrograd.engine"]]
    assert sorted(_private_imports(root)) == [
        "micrograd/cli.py:2: from micrograd.primitives import _table",
        "micrograd/cli.py:3: engine._secret (micrograd.engine)",
        "micrograd/cli.py:5: micrograd.nn.module._z (micrograd.nn.module)",
        "micrograd/engine.py:2: from micrograd.primitives import _table",
        "micrograd/nn/module.py:4: p._table (micrograd.primitives)",
    ]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


# the layers, lowest first: a module may import its own layer and the ones below, never one above
LAYERS = [
    ["micrograd.primitives", "micrograd.mathrules"],
    ["micrograd.engine"],
    ["micrograd.fused"],
    ["micrograd.files", "micrograd.interrupt", "micrograd.words", "micrograd.lecture", "micrograd.walkthrough",
     "micrograd.page",
     "micrograd.draw", "micrograd.notebook", "micrograd.math", "micrograd.func", "micrograd.optim",
     "micrograd.nn", "micrograd.testing"],
    ["micrograd.demos"],
    ["micrograd.cli"],
]


def _layer(module: str) -> int | None:
    for i, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return i
    return None


def test_imports_point_one_way_cli_demos_library_engine() -> None:
    """cli -> demos -> library (nn, optim, draw, testing, explain, math, func) -> fused -> engine -> primitives.
    The package's __init__ (the public face) may import the engine's layers; nothing imports upward."""
    graph = _graph()
    unplaced = sorted(m for m in graph if m != PACKAGE and m != f"{PACKAGE}.__main__" and _layer(m) is None)
    assert not unplaced, f"modules with no layer: {unplaced}"
    upward = [(m, t) for m, targets in graph.items() for t in targets
              if m not in (PACKAGE, f"{PACKAGE}.__main__") and t != PACKAGE
              and _layer(t) is not None and _layer(m) is not None and _layer(t) > _layer(m)]  # type: ignore[operator]
    assert not upward, f"imports pointing up the layers: {upward}"
