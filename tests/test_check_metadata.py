"""The built-in checks load, document themselves, and every finding they declare is exercised."""

from __future__ import annotations

import re
from pathlib import Path

from launchready.core.check import Scope
from launchready.core.registry import BUILTIN_CHECK_MODULES, load_registry
from launchready.lab.faults import FAULTS

TESTS = Path(__file__).parent

EXPECTED = {
    "dns.apex": Scope.DOMAIN,
    "dns.cname": Scope.DOMAIN,
    "dns.ns": Scope.DOMAIN,
    "dns.hosts": Scope.DOMAIN,
    "email.mta-sts": Scope.DOMAIN,
    "email.tls-rpt": Scope.DOMAIN,
    "email.dkim": Scope.DOMAIN,
    "email.mx": Scope.DOMAIN,
    "tls.certificate": Scope.WEB_HOST,
    "web.https-redirect": Scope.WEB_HOST,
    "web.hsts": Scope.WEB_HOST,
    "web.private-cache": Scope.WEB_HOST,
    "tls.protocols": Scope.WEB_HOST,
    "tls.key-strength": Scope.WEB_HOST,
    "tls.caa": Scope.WEB_HOST,
    "web.links": Scope.WEB_HOST,
    "web.mixed-content": Scope.WEB_HOST,
    "web.headers": Scope.WEB_HOST,
    "web.caching": Scope.WEB_HOST,
    "web.canonical-host": Scope.DOMAIN,
    "web.redirect-map": Scope.DOMAIN,
    "web.admin-surface": Scope.WEB_HOST,
    "web.edge": Scope.DOMAIN,
    "email.spf": Scope.DOMAIN,
    "email.dmarc": Scope.DOMAIN,
    "app.health": Scope.ENVIRONMENT,
    "perf.load": Scope.DOMAIN,
    "perf.growth": Scope.DOMAIN,
    "perf.pageload": Scope.ENVIRONMENT,
    "perf.cache": Scope.WEB_HOST,
    "repo.secrets": Scope.REPO,
    "repo.env-files": Scope.REPO,
    "repo.deploy-secrets": Scope.REPO,
    "env.contract": Scope.ENVIRONMENT,
    "app.smoke": Scope.ENVIRONMENT,
}


def test_all_builtin_checks_load_with_unique_ids() -> None:
    registry = load_registry()
    assert len(registry.checks) == len(BUILTIN_CHECK_MODULES)
    assert {c.id: c.meta.scope for c in registry.checks} == EXPECTED
    all_ids = [c.id for c in registry.checks] + [s.id for c in registry.checks for s in c.meta.findings]
    assert len(all_ids) == len(set(all_ids))


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
    for fault in FAULTS:
        assert set(fault.triggers) <= declared, (fault.name, set(fault.triggers) - declared)


def test_every_declared_finding_is_asserted_by_a_check_test() -> None:
    """A finding id nobody triggers is dead documentation: each one is expected, by its full id, in a
    unit test on facts or in the lab test (which covers every fault's triggers)."""
    test_text = "\n".join(p.read_text() for p in TESTS.glob("test_check_*.py") if p.name != Path(__file__).name)
    asserted = set(re.findall(r'"([a-z0-9-]+(?:\.[a-z0-9-]+){2,})"', test_text))
    for check in load_registry().checks:
        for spec in check.meta.findings:
            assert spec.id in asserted, f"{spec.id} is not asserted in any tests/test_check_*.py"
    assert {t for f in FAULTS for t in f.triggers} <= asserted
