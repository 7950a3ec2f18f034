"""No import cycle between kappanb's packages, and `kappanb.core` at the bottom (issue 19).

The modules are parsed with `ast`, never imported. Each package directly under
``kappanb/`` (``registry``, ``runs``, ...) is one node of the graph, and so is each
top-level module (``workbench``, ``settings``, ``cli``, ...). A node A depends on B when
a module of A imports a module of B *at module level*: a statement that runs when the
module is imported, including one in a module-level ``if``/``try``/``with`` or a class
body. Two kinds of import do not count: one inside a function (it runs when the function
is called, after every module has loaded) and one under ``if TYPE_CHECKING:`` (it never
runs; it only gives mypy a name for an annotation).

A cycle between packages means neither can be read, tested or replaced without the
other; the test names the cycle and the modules that make each of its edges.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kappanb"

ALLOWED_EDGES: dict[tuple[str, str], str] = {}
"""Edges a cycle may use for now, each with why; empty since issue 19 removed the last."""


@dataclass(frozen=True)
class Edge:
    """One module-level import from a module of ``source`` into package ``target``."""

    source: str
    target: str
    module: str  # the importing module, e.g. kappanb/registry/locks.py
    imported: str  # what it imports, e.g. kappanb.jobs.names


def node_of(parts: tuple[str, ...], root: Path) -> str:
    """The graph node of ``kappanb.<parts...>``: the package or top-level module it is in.

    ``kappanb`` alone (its ``__init__``) is the node ``kappanb``; a name that is not a
    module (``from kappanb import Workbench``) belongs to the root package too.
    """
    if not parts:
        return root.name
    first = parts[0]
    if (root / first).is_dir() or (root / f"{first}.py").is_file():
        return first
    return root.name


def _module_level(statements: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported."""
    for statement in statements:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            yield statement
        elif isinstance(statement, ast.If):
            if not _is_type_checking(statement.test):
                yield from _module_level(statement.body)
            yield from _module_level(statement.orelse)
        elif isinstance(statement, ast.Try | ast.TryStar):
            yield from _module_level(statement.body)
            for handler in statement.handlers:
                yield from _module_level(handler.body)
            yield from _module_level(statement.orelse)
            yield from _module_level(statement.finalbody)
        elif isinstance(statement, ast.With):
            yield from _module_level(statement.body)
        elif isinstance(statement, ast.For | ast.While):
            yield from _module_level(statement.body)
            yield from _module_level(statement.orelse)
        elif isinstance(statement, ast.ClassDef):
            yield from _module_level(statement.body)
        # FunctionDef / AsyncFunctionDef: their imports run only when called.


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(statement: ast.Import | ast.ImportFrom, module: tuple[str, ...]) -> list[str]:
    """Dotted names of the modules (or, for ``from X import name``, the names in X) imported."""
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    if statement.level:  # relative: resolved against the importing module's package
        base = module[: len(module) - statement.level]
        prefix = ".".join(base + ((statement.module,) if statement.module else ()))
    else:
        prefix = statement.module or ""
    return [f"{prefix}.{alias.name}" for alias in statement.names]


def import_edges(root: Path) -> list[Edge]:
    """Every module-level import from one node of package ``root`` into another."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root.parent).with_suffix("")
        module = relative.parts if relative.name != "__init__" else relative.parts[:-1]
        # a package's __init__ resolves relative imports against itself
        package = module if relative.name == "__init__" else module[:-1]
        source = node_of(module[1:], root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for statement in _module_level(tree.body):
            for name in _imported_names(statement, (*package, "_")):
                parts = tuple(name.split("."))
                if parts[0] != root.name:
                    continue
                target = node_of(parts[1:], root)
                if target != source:
                    edges.append(Edge(source, target, str(relative) + ".py", name))
    return edges


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as its nodes, first node repeated at the end, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for following in sorted(graph.get(node, ())):
            if following in on_path:
                return [*path[path.index(following) :], following]
            if following not in done:
                cycle = visit(following)
                if cycle:
                    return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def cycle_problem(edges: list[Edge], allowed: Collection[tuple[str, str]] = ()) -> str | None:
    """A message naming a cycle among ``edges`` (less the ``allowed`` ones), or None."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if (edge.source, edge.target) not in allowed:
            graph.setdefault(edge.source, set()).add(edge.target)
    cycle = find_cycle(graph)
    if cycle is None:
        return None
    steps = []
    for source, target in itertools.pairwise(cycle):
        by = sorted(
            {
                f"{e.module} imports {e.imported}"
                for e in edges
                if (e.source, e.target) == (source, target)
            }
        )
        steps.append(f"  {source} -> {target}: " + "; ".join(by))
    return "import cycle " + " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_no_import_cycle_between_kappanb_packages() -> None:
    problem = cycle_problem(import_edges(PACKAGE), set(ALLOWED_EDGES))
    assert problem is None, problem


def test_allowed_edges_still_exist() -> None:
    """An allowed edge that is gone is deleted from the list, so it cannot hide a new cycle."""
    present = {(e.source, e.target) for e in import_edges(PACKAGE)}
    stale = [
        f"{a} -> {b} ({why})" for (a, b), why in ALLOWED_EDGES.items() if (a, b) not in present
    ]
    assert not stale, f"delete from ALLOWED_EDGES: {', '.join(stale)}"


def test_core_imports_only_exceptions() -> None:
    """`kappanb.core` is the bottom: at any level (functions too), it imports no kappanb
    module but `kappanb.exceptions` and its own."""
    wrong = []
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for statement in ast.walk(tree):
            if isinstance(statement, ast.Import | ast.ImportFrom):
                for name in _imported_names(statement, ("kappanb", "core", path.stem)):
                    if name.startswith("kappanb.") and not name.startswith(
                        ("kappanb.exceptions", "kappanb.core")
                    ):
                        wrong.append(f"{path.name}: {name}")
    assert not wrong, wrong


# The detector on the cycles issue 19 found: it would have failed on each of them.

ISSUE_19_CYCLES = {
    "registry <-> jobs": {
        "registry/locks.py": "from kappanb.jobs.names import check_job_name\n",
        "registry/store.py": "from kappanb.jobs.schema import Column\n",
        "jobs/control.py": "from kappanb.registry.store import Registry\n",
    },
    "tables <-> jobs": {
        "tables/catalog.py": "from kappanb.jobs.names import literal, quote\n",
        "jobs/runs.py": "from kappanb.tables.catalog import drop_table\n",
    },
    "flink <-> jobs": {
        "flink/sql.py": "from kappanb.jobs.sqltext import statements\n",
        "jobs/runs.py": "from kappanb.flink.sql import FlinkSqlClient\n",
    },
    "workbench <-> commands": {
        "workbench.py": "from kappanb.commands.vocabulary import TAKES_VERSION\n",
        "commands/handlers.py": "from kappanb.workbench import Workbench\n",
    },
    "compare <-> display": {
        "compare/diff.py": "from kappanb.display.html import html_table\n",
        "display/diff_chart.py": "from kappanb.compare.diff import Diff\n",
    },
}


def _tree(root: Path, files: dict[str, str]) -> Path:
    package = root / "kappanb"
    for name, text in {"__init__.py": "", "exceptions.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        init = path.parent / "__init__.py"
        if not init.exists():
            init.write_text("")
        path.write_text(text)
    return package


@pytest.mark.parametrize("cycle", sorted(ISSUE_19_CYCLES))
def test_each_cycle_of_issue_19_is_found(cycle: str, tmp_path: Path) -> None:
    problem = cycle_problem(import_edges(_tree(tmp_path, ISSUE_19_CYCLES[cycle])))
    assert problem is not None
    first, second = cycle.split(" <-> ")
    assert problem.startswith("import cycle ")
    assert f"{first} -> {second}" in problem or f"{second} -> {first}" in problem
    for module, text in ISSUE_19_CYCLES[cycle].items():
        assert f"kappanb/{module} imports {text.split()[1]}" in problem


def test_the_allow_list_lets_the_workbench_commands_cycle_through_only() -> None:
    edges = [
        Edge("workbench", "commands", "kappanb/workbench.py", "kappanb.commands.vocabulary"),
        Edge("commands", "workbench", "kappanb/commands/handlers.py", "kappanb.workbench"),
    ]
    assert cycle_problem(edges, {("workbench", "commands")}) is None
    assert cycle_problem(edges, {("registry", "jobs")}) is not None


def test_a_longer_cycle_is_named_in_order() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "d": {"a", "c"}}) is None


def test_only_imports_that_run_at_import_time_count(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "compare/diff.py": (
                "from __future__ import annotations\n"
                "from typing import TYPE_CHECKING\n"
                "import kappanb.exceptions\n"
                "if TYPE_CHECKING:\n"
                "    from kappanb.display.charts import Chart\n"
                "def draw() -> None:\n"
                "    from kappanb.display.diff_view import diff_html\n"
                "class Diff:\n"
                "    from kappanb.tables import read\n"
                "try:\n"
                "    from kappanb import settings\n"
                "except ImportError:\n"
                "    pass\n"
            ),
            "compare/__init__.py": "from .diff import draw\nfrom ..registry import store\n",
            "display/charts.py": "",
            "display/diff_view.py": "",
            "tables/read.py": "",
            "registry/store.py": "",
            "settings.py": "",
        },
    )
    found = {(e.source, e.target, e.imported) for e in import_edges(root)}
    assert found == {
        ("compare", "exceptions", "kappanb.exceptions"),
        ("compare", "tables", "kappanb.tables.read"),
        ("compare", "settings", "kappanb.settings"),
        ("compare", "registry", "kappanb.registry.store"),
    }
