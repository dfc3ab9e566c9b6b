"""Layers only point down: the import rules of ARCHITECTURE.md, read from the source with ``ast``.

core (with the pure parsing library email/) <- probes <- engine <- checks <- features <- cli.
A check that still drives a feature is listed in CHECKS_DRIVING_FEATURES, which may only shrink.

Every import counts for the layer rules, wherever it is written: at module level, inside a
function, or under ``if TYPE_CHECKING:``. The cycle rule follows the imports that run: module-level
and function-level ones; imports under ``TYPE_CHECKING`` never execute and are left out of it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "launchready"

# Record parsers with no I/O that import nothing of launchready outside themselves: they sit
# at the core level, so probes, checks and core/protocols.py (for result types) may use them.
PURE_LIBRARIES = frozenset({"email"})
# What runs above the checks; the engine and the checks' context must not depend on them.
FEATURES = frozenset(
    {
        "smoke",
        "perf",
        "deploy",
        "monitor",
        "intake",
        "notify",
        "secrets",
        "history",
        "report",
        "lab",
        "edge",
        "mailtest",
        "handover",
    }
)
# Checks that still drive a feature (the smoke runner, the load generator, the secret scanner)
# instead of reading its results through a Protocol: the debt, listed so it only shrinks. Any
# other check importing a feature fails; an entry no longer needed fails too. A check that drives
# a feature also catches the errors of what that feature drives (smoke flows read env files
# through secrets/; load and growth log in through a smoke flow).
CHECKS_DRIVING_FEATURES: dict[str, frozenset[str]] = {
    "launchready.checks.app.smoke": frozenset({"smoke", "secrets"}),
    "launchready.checks.env.contract": frozenset({"secrets"}),
    "launchready.checks.perf.growth": frozenset({"perf", "smoke", "secrets"}),
    "launchready.checks.perf.load": frozenset({"perf", "smoke", "secrets"}),
    "launchready.checks.perf.pageload": frozenset({"perf"}),
    "launchready.checks.repo.deploy_secrets": frozenset({"secrets"}),
    "launchready.checks.repo.secrets": frozenset({"secrets"}),
    "launchready.checks.web.edge": frozenset({"edge"}),
}
# Modules a check must never import: a check judges facts and does no I/O of its own.
CHECK_FORBIDDEN_MODULES = frozenset(
    {"subprocess", "socket", "aiohttp", "asyncio.subprocess", "urllib.request", "http.client"}
)


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted name imported (a module, or a module's attribute)
    line: int
    type_checking: bool  # under `if TYPE_CHECKING:`

    @property
    def where(self) -> str:
        return f"{self.importer}:{self.line} imports {self.target}"


def _module_name(path: Path, src: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(src).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(tree: ast.Module, module: str, is_package: bool) -> Iterator[Import]:
    def visit(node: ast.AST, type_checking: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                yield from visit(statement, True)
            for statement in node.orelse:
                yield from visit(statement, type_checking)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, type_checking)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                yield Import(module, f"{source}.{alias.name}", node.lineno, type_checking)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, type_checking)

    yield from visit(tree, False)


def _defines_check(tree: ast.Module) -> bool:
    """The module is a check: it assigns ``CHECK`` at module level."""
    return any(
        isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CHECK" for t in node.targets)
        for node in tree.body
    )


@dataclass(frozen=True)
class Tree:
    modules: frozenset[str]
    checks: frozenset[str]  # the modules that define a check
    imports: tuple[Import, ...]


def collect(root: Path = SRC / PACKAGE) -> Tree:
    modules: set[str] = set()
    checks: set[str] = set()
    imports: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        name, is_package = _module_name(path, root.parent)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules.add(name)
        if _defines_check(tree):
            checks.add(name)
        imports.extend(_imports_of(tree, name, is_package))
    return Tree(frozenset(modules), frozenset(checks), tuple(imports))


def resolve(target: str, modules: frozenset[str]) -> str:
    """The module a dotted import name refers to (``a.b.Name`` -> ``a.b``); the name itself when unknown."""
    name = target
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or target


def layer(module: str) -> str:
    """The top-level package under launchready ("" for launchready itself and its root modules)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] != "__main__") else ""


def violations(tree: Tree) -> list[str]:
    found: list[str] = []
    for imp in tree.imports:
        source = layer(imp.importer)
        if imp.target.split(".")[0] != PACKAGE:
            if source == "checks" and any(
                imp.target == m or imp.target.startswith(m + ".") for m in CHECK_FORBIDDEN_MODULES
            ):
                found.append(f"a check does I/O: {imp.where}")
            continue
        module = resolve(imp.target, tree.modules)
        target = layer(module)
        if source == "core" and target not in ("core", *PURE_LIBRARIES):
            found.append(f"core imports above it: {imp.where}")
        if source in PURE_LIBRARIES and target not in (source, "core"):
            found.append(f"a pure library imports above core: {imp.where}")
        # launchready itself holds only __version__ (the User-Agent).
        if source == "probes" and module != PACKAGE and target not in ("core", "probes", *PURE_LIBRARIES):
            found.append(f"a probe imports above core: {imp.where}")
        if source == "checks" and module in tree.checks and module != imp.importer:
            found.append(f"a check imports another check (move the shared code below both): {imp.where}")
        if (
            source == "checks"
            and target in FEATURES
            and target not in CHECKS_DRIVING_FEATURES.get(imp.importer, frozenset())
        ):
            found.append(f"a check imports a feature: {imp.where}")
        if source == "checks" and target == "probes":
            found.append(f"a check imports a concrete probe (use core/protocols.py): {imp.where}")
        if source == "engine" and (target in FEATURES or target == "cli"):
            found.append(f"the engine imports a feature or the CLI: {imp.where}")
        if target == "cli" and source != "cli" and imp.importer != f"{PACKAGE}.__main__":
            found.append(f"only the CLI imports the CLI: {imp.where}")
    return found


def cycles(tree: Tree) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), over imports that run."""
    graph: dict[str, set[str]] = {m: set() for m in tree.modules}
    for imp in tree.imports:
        if imp.type_checking or imp.target.split(".")[0] != PACKAGE:
            continue
        module = resolve(imp.target, tree.modules)
        if module in graph and module != imp.importer:
            graph[imp.importer].add(module)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_every_layer_points_down() -> None:
    assert violations(collect()) == []


def test_the_list_of_checks_driving_features_has_no_stale_entry() -> None:
    tree = collect()
    used = {
        (imp.importer, layer(resolve(imp.target, tree.modules)))
        for imp in tree.imports
        if imp.target.startswith(PACKAGE + ".")
    }
    stale = {(check, feature) for check, features in CHECKS_DRIVING_FEATURES.items() for feature in features} - used
    assert stale == set()


def test_no_import_cycles() -> None:
    assert cycles(collect()) == []


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / PACKAGE


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/a.py": "from launchready.engine.context import X\n"}, "core imports above it"),
        (
            {
                "core/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from launchready.engine import b\n"
            },
            "core imports above it",
        ),
        ({"probes/a.py": "from launchready.engine.discovery import NAMES\n"}, "a probe imports above core"),
        ({"checks/a.py": "def run():\n    import subprocess\n"}, "a check does I/O"),
        ({"checks/a.py": "from launchready.probes.dns import DnsProbe\n"}, "a check imports a concrete probe"),
        ({"engine/a.py": "from launchready.smoke import plan\n"}, "the engine imports a feature"),
        (
            {"checks/a.py": "CHECK = 1\n", "checks/b.py": "from launchready.checks.a import parse\nCHECK = 2\n"},
            "a check imports another check",
        ),
        ({"report/a.py": "from launchready.cli import main\n"}, "only the CLI imports the CLI"),
        ({"email/a.py": "from launchready.probes import dns\n"}, "a pure library imports above core"),
        ({"checks/web/a.py": "from launchready.smoke.plan import execute\n"}, "a check imports a feature"),
    ],
)
def test_a_violation_fails(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    found = violations(collect(_write(tmp_path, files)))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_a_cycle_fails_but_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "lab/a.py": "from launchready.lab.b import B\n",
            "lab/b.py": "def f():\n    from launchready.lab.c import C\n",
            "lab/c.py": "from launchready.lab.a import A\n",
            "lab/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from launchready.lab.a import A\n",
            "lab/e.py": "from launchready.lab.d import D\n",
        },
    )
    assert cycles(collect(root)) == [["launchready.lab.a", "launchready.lab.b", "launchready.lab.c"]]
