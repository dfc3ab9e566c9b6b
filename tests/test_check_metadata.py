"""The built-in checks load, document themselves, and every finding they declare is exercised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from launchready.checks import AREA_ORDER
from launchready.core.errors import CheckDefinitionError
from launchready.core.registry import builtin_check_modules, load_lab_faults, load_registry
from launchready.lab.faults import faults

TESTS = Path(__file__).parent
CHECKS_DIR = TESTS.parent / "src" / "launchready" / "checks"


def test_every_check_module_in_the_package_is_registered_with_unique_ids() -> None:
    registry = load_registry()
    modules = builtin_check_modules()
    assert len(registry.checks) == len(modules) > 0
    # A check's id is its module path under launchready.checks (dns/apex.py -> dns.apex): where to
    # find a check is never a guess.
    assert [c.id for c in registry.checks] == [m.removeprefix("launchready.checks.").replace("_", "-") for m in modules]
    all_ids = [c.id for c in registry.checks] + [s.id for c in registry.checks for s in c.meta.findings]
    assert len(all_ids) == len(set(all_ids))


def test_discovery_is_deterministic_and_has_no_import_time_registration() -> None:
    modules = builtin_check_modules()
    assert modules == builtin_check_modules()
    # Area order from launchready.checks.AREA_ORDER, then module path; the measurements run last.
    ranks = [AREA_ORDER.index(m.split(".")[2]) for m in modules]
    assert ranks == sorted(ranks) and {m.split(".")[2] for m in modules} == set(AREA_ORDER)
    assert list(modules) == sorted(modules, key=lambda m: (AREA_ORDER.index(m.split(".")[2]), m))
    assert modules[0] == "launchready.checks.dns.apex" and modules[-1].startswith("launchready.checks.perf.")
    # Every .py file under checks/ is either a check (CHECK), a helper, or its area's lab faults.
    on_disk = {
        "launchready.checks." + ".".join(p.relative_to(CHECKS_DIR).with_suffix("").parts)
        for p in CHECKS_DIR.rglob("*.py")
        if p.name != "__init__.py"
    }
    assert set(builtin_check_modules()) <= on_disk


def test_every_check_has_a_lab_fault_in_its_own_folder() -> None:
    """Each check's folder declares at least one lab fault that makes it fire (its lab test)."""
    registry = load_registry()
    owners = {registry.find_spec(f.triggers[0])[0].id for f in faults()}
    assert {c.id for c in registry.checks} == owners
    assert len({f.name for f in faults()}) == len(faults())


def test_fault_declarations_are_validated_against_the_registry() -> None:
    """A fault naming a finding the registry does not declare is refused when the faults load."""
    only_dns = load_registry().select(only=("dns",))
    with pytest.raises(CheckDefinitionError, match="which no check declares"):
        load_lab_faults(only_dns)  # the other folders' faults name findings this registry lacks


def test_every_check_is_documented_with_references() -> None:
    for check in load_registry().checks:
        doc = check.meta.doc
        for part in (doc.what, doc.why, doc.fix):
            # Real prose, not a placeholder: a few sentences' worth, ending like a sentence.
            assert len(part) >= 80, (check.id, part)
            assert part.rstrip().endswith((".", ")", "`")), (check.id, part)
        assert check.meta.references
        assert check.meta.probes
        for spec in check.meta.findings:
            refs = spec.references or check.meta.references
            assert refs and all(r.startswith("https://") for r in refs), spec.id
            assert len(spec.remediation) >= 30, spec.id


def test_lab_fault_triggers_are_declared_finding_ids() -> None:
    declared = {s.id for c in load_registry().checks for s in c.meta.findings}
    for fault in faults():
        assert fault.triggers and set(fault.triggers) <= declared, (fault.name, set(fault.triggers) - declared)


def test_every_declared_finding_is_asserted_by_a_check_test() -> None:
    """A finding id nobody triggers is dead documentation: each one is expected, by its full id, in a
    unit test on facts, or is tripped by a lab fault (test_check_lab.py asserts every fault's
    declared findings, exactly)."""
    test_text = "\n".join(p.read_text() for p in TESTS.glob("test_check_*.py") if p.name != Path(__file__).name)
    asserted = set(re.findall(r'"([a-z0-9-]+(?:\.[a-z0-9-]+){2,})"', test_text))
    tripped_in_lab = {t for f in faults() for t in f.triggers}
    for check in load_registry().checks:
        for spec in check.meta.findings:
            assert spec.id in asserted | tripped_in_lab, f"{spec.id} is asserted by no check test and no lab fault"
