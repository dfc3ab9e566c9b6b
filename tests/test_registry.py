"""The registry loads an explicit list of check modules and rejects bad metadata at load time."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CheckDefinitionError
from launchready.core.registry import load_registry
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
