"""dns.apex: the judging logic on DNS facts, then the check against the lab's real DNS."""

from __future__ import annotations

import pytest

from launchready.checks.dns.apex import CHECK, judge
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Confidence, Severity
from launchready.probes.dns import DnsAnswer, DnsStatus

DOMAIN = "shop.test"


def answer(rdtype: str, status: DnsStatus, *records: str, error: str | None = None) -> DnsAnswer:
    return DnsAnswer(DOMAIN, rdtype, status, tuple(records), chain=(DOMAIN,), error=error)


def test_an_address_passes() -> None:
    assert judge(DOMAIN, answer("A", "ok", "192.0.2.1"), answer("AAAA", "nodata")) == []
    assert judge(DOMAIN, answer("A", "nodata"), answer("AAAA", "ok", "2001:db8::1")) == []
    # One family answering is enough even when the other timed out.
    assert judge(DOMAIN, answer("A", "ok", "192.0.2.1"), answer("AAAA", "timeout", error="slow")) == []


def test_nxdomain_is_a_blocker() -> None:
    [finding] = judge(DOMAIN, answer("A", "nxdomain"), answer("AAAA", "nxdomain"), resolver="127.0.0.1:53")
    assert finding.id == "dns.apex.nxdomain"
    assert finding.severity is Severity.BLOCKER
    assert finding.target == DOMAIN
    assert "A shop.test: NXDOMAIN" in finding.evidence
    assert "asked: 127.0.0.1:53" in finding.evidence
    assert "registered" in finding.remediation and f"dig NS {DOMAIN}" in finding.remediation


def test_no_address_names_the_exact_record() -> None:
    [finding] = judge(DOMAIN, answer("A", "nodata"), answer("AAAA", "nodata"))
    assert finding.id == "dns.apex.no-address"
    assert f"`{DOMAIN}. 300 IN A <your server IP>`" in finding.remediation
    assert "ALIAS" in finding.remediation and "flattening" in finding.remediation


def test_no_address_reuses_www_addresses_in_the_fix() -> None:
    [finding] = judge(
        DOMAIN, answer("A", "nodata"), answer("AAAA", "nodata"), www_addresses=("192.0.2.7", "2001:db8::7")
    )
    assert f"`{DOMAIN}. 300 IN A 192.0.2.7`" in finding.remediation
    assert f"`{DOMAIN}. 300 IN AAAA 2001:db8::7`" in finding.remediation


def test_nameservers_that_fail_are_unresolvable_with_which_failure() -> None:
    [finding] = judge(
        DOMAIN,
        answer("A", "timeout", error="no answer within 2s"),
        answer("AAAA", "servfail", error="All nameservers failed"),
    )
    assert finding.id == "dns.apex.unresolvable"
    assert finding.confidence is Confidence.FIRM
    assert any("TIMEOUT" in e and "no answer within 2s" in e for e in finding.evidence)
    assert any("SERVFAIL" in e for e in finding.evidence)


def test_half_an_answer_is_could_not_run_not_a_pass() -> None:
    with pytest.raises(CouldNotRun, match="AAAA"):
        judge(DOMAIN, answer("A", "nodata"), answer("AAAA", "timeout"))


def test_check_metadata_allows_running_on_a_missing_domain() -> None:
    # It is the check that reports the missing domain, so the runner must not skip it.
    assert CHECK.meta.needs_existing_domain is False
