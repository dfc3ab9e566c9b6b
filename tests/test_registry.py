"""The registry finds check modules (and their lab faults) and rejects bad metadata at load time."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CheckDefinitionError
from launchready.core.registry import builtin_check_modules, load_lab_faults, load_registry
from launchready.core.severity import Impact, Severity

DOC = CheckDoc(what="what this test check looks at", why="why this test check matters", fix="how to fix the test thing")


async def _run(ctx: Any, target: str) -> list[Any]:
    return []


def _meta(check_id: str, finding_id: str | None = None) -> CheckMeta:
    return CheckMeta(
        id=check_id,
        title="a test check",
        scope=Scope.DOMAIN,
        doc=DOC,
        findings=(
            FindingSpec(
                id=finding_id or f"{check_id}.bad",
                title="something bad",
                severity=Severity.LOW,
                impact=Impact.TRUST,
                remediation="fix the bad thing",
            ),
        ),
        references=("https://www.rfc-editor.org/rfc/rfc1034",),
    )


@pytest.fixture
def fake_modules() -> Iterator[dict[str, ModuleType]]:
    made: dict[str, ModuleType] = {}
    yield made
    for name in made:
        sys.modules.pop(name, None)


def _module(store: dict[str, ModuleType], name: str, **attrs: Any) -> str:
    module = ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    sys.modules[name] = store[name] = module
    return name


def test_loads_explicit_modules_in_order(fake_modules: dict[str, ModuleType]) -> None:
    a = _module(fake_modules, "lr_test_a", CHECK=Check(_meta("t.a"), _run))
    b = _module(fake_modules, "lr_test_b", CHECK=Check(_meta("t.b"), _run))
    registry = load_registry((b, a))
    assert [c.id for c in registry.checks] == ["t.b", "t.a"]
    assert registry.select(only=("t.a",)).checks[0].id == "t.a"
    assert [c.id for c in registry.select(skip=("t",)).checks] == []
    meta, spec = registry.find_spec("t.a.bad")
    assert meta.id == "t.a" and spec is not None and spec.severity is Severity.LOW


def test_missing_check_object_is_rejected(fake_modules: dict[str, ModuleType]) -> None:
    name = _module(fake_modules, "lr_test_nocheck")
    with pytest.raises(CheckDefinitionError, match="lr_test_nocheck: no module-level CHECK"):
        load_registry((name,))


def test_duplicate_ids_are_rejected(fake_modules: dict[str, ModuleType]) -> None:
    a = _module(fake_modules, "lr_test_dup1", CHECK=Check(_meta("t.same"), _run))
    b = _module(fake_modules, "lr_test_dup2", CHECK=Check(_meta("t.same"), _run))
    with pytest.raises(CheckDefinitionError, match="already used"):
        load_registry((a, b))


def test_invalid_metadata_is_rejected_when_loading(fake_modules: dict[str, ModuleType]) -> None:
    # model_construct skips validation, as a hand-edited or generated check might.
    bad = CheckMeta.model_construct(**{**_meta("t.bad").__dict__, "references": ("http://insecure.example",)})
    name = _module(fake_modules, "lr_test_bad", CHECK=Check(bad, _run))
    with pytest.raises(CheckDefinitionError, match="lr_test_bad: invalid metadata"):
        load_registry((name,))


def test_metadata_validation_rules() -> None:
    with pytest.raises(ValueError, match="must start with the check id"):
        _meta("t.one", "t.other.bad")
    with pytest.raises(ValueError):
        _meta("NotDotted")
    with pytest.raises(KeyError, match="undeclared"):
        _meta("t.one").finding("nope", target="x")


def test_unimportable_module_is_a_definition_error() -> None:
    with pytest.raises(CheckDefinitionError, match="cannot import"):
        load_registry(("launchready.checks.does_not_exist",))


# -- discovery: check modules and lab faults found by walking a package ------------------------


def _write_package(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


_CHECK_SOURCE = """
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.severity import Impact, Severity

async def run(ctx, target):
    return []

CHECK = Check(
    CheckMeta(
        id="{check_id}",
        title="a test check",
        scope=Scope.DOMAIN,
        doc=CheckDoc(what="what this test check is", why="why this test check is", fix="how to fix the test thing"),
        findings=(
            FindingSpec(
                id="{check_id}.bad",
                title="something bad",
                severity=Severity.LOW,
                impact=Impact.TRUST,
                remediation="fix the bad thing",
            ),
        ),
        references=("https://www.rfc-editor.org/rfc/rfc1034",),
    ),
    run,
)
"""


@pytest.fixture
def fake_package(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    name = f"lr_fake_checks_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / name
    sys.path.insert(0, str(tmp_path))
    yield name, root
    sys.path.remove(str(tmp_path))
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


def test_check_modules_are_discovered_in_area_then_module_path_order(fake_package: tuple[str, Path]) -> None:
    name, root = fake_package
    _write_package(
        root,
        {
            "__init__.py": "",
            "zeta/__init__.py": "",
            "zeta/one.py": _CHECK_SOURCE.format(check_id="zeta.one"),
            "alpha/__init__.py": "",
            "alpha/two.py": _CHECK_SOURCE.format(check_id="alpha.two"),
            "alpha/parser.py": "def parse(text):\n    return text.split()\n",  # a helper: no CHECK
            "alpha/lab_faults.py": "raise RuntimeError('lab data is never imported by the check registry')\n",
        },
    )
    modules = builtin_check_modules(name)
    assert modules == (f"{name}.alpha.two", f"{name}.zeta.one")
    assert [c.id for c in load_registry(modules).checks] == ["alpha.two", "zeta.one"]
    # The package may order its areas; unlisted areas follow, by module path.
    (root / "__init__.py").write_text('AREA_ORDER = ("zeta",)\n')
    del sys.modules[name]
    assert builtin_check_modules(name) == (f"{name}.zeta.one", f"{name}.alpha.two")
    assert f"{name}.alpha.lab_faults" not in sys.modules


def test_metadata_without_check_is_refused_not_skipped(fake_package: tuple[str, Path]) -> None:
    name, root = fake_package
    source = _CHECK_SOURCE.format(check_id="alpha.two").replace("CHECK = Check(", "CHEK = Check(")
    source += "\nMETA = CHEK.meta\n"
    _write_package(root, {"__init__.py": "", "alpha/__init__.py": "", "alpha/two.py": source})
    with pytest.raises(CheckDefinitionError, match="alpha.two: defines CheckMeta but no module-level CHECK"):
        builtin_check_modules(name)


def test_lab_faults_are_collected_beside_their_checks(fake_package: tuple[str, Path]) -> None:
    name, root = fake_package
    _write_package(
        root,
        {
            "__init__.py": "",
            "alpha/__init__.py": "",
            "alpha/two.py": _CHECK_SOURCE.format(check_id="alpha.two"),
            "alpha/lab_faults.py": """
                from launchready.core.labfault import LabFault, each
                LAB_FAULTS = (LabFault("two-broken", "breaks two", each("alpha.two.bad", "{domain}")),)
            """,
        },
    )
    registry = load_registry(builtin_check_modules(name))
    [fault] = load_lab_faults(registry, name)
    assert fault.name == "two-broken" and fault.triggers == ("alpha.two.bad",)


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ('LAB_FAULTS = (LabFault("x", "x", each("alpha.two.nope", "t")),)', "which no check declares"),
        ('LAB_FAULTS = (LabFault("x", "x", each("beta.three.bad", "t")),)', "declared outside its folder"),
        ('LAB_FAULTS = (LabFault("x", "x", ()),)', "declares no finding"),
        (
            'LAB_FAULTS = (LabFault("x", "x", each("alpha.two.bad", "t")), LabFault("x", "y", each("alpha.two.bad", "t")))',
            "already declared",
        ),
        ('LAB_FAULTS = (LabFault("x", "x", each("alpha.two.bad", "t") + each("beta.three.bad", "t")),)', "one check"),
        ("FAULTS = ()", "no module-level LAB_FAULTS"),
    ],
)
def test_bad_lab_fault_declarations_are_refused(fake_package: tuple[str, Path], declaration: str, message: str) -> None:
    name, root = fake_package
    _write_package(
        root,
        {
            "__init__.py": "",
            "alpha/__init__.py": "",
            "alpha/two.py": _CHECK_SOURCE.format(check_id="alpha.two"),
            "beta/__init__.py": "",
            "beta/three.py": _CHECK_SOURCE.format(check_id="beta.three"),
            "alpha/lab_faults.py": "from launchready.core.labfault import LabFault, each\n" + declaration + "\n",
        },
    )
    registry = load_registry(builtin_check_modules(name))
    with pytest.raises(CheckDefinitionError, match=message):
        load_lab_faults(registry, name)
