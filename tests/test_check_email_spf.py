"""email.spf: the judging logic on TXT answers, then the check against the lab's real DNS."""

from __future__ import annotations

import pytest

from launchready.checks.email.spf import judge, sender_mechanisms
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.severity import Impact, Severity
from launchready.probes.dns import DnsAnswer, DnsStatus

DOMAIN = "shop.test"


def txt(*records: str, status: DnsStatus = "ok") -> DnsAnswer:
    return DnsAnswer(DOMAIN, "TXT", status, tuple(records))


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 include:_spf.google.com -all",
        "V=SPF1 mx -ALL",
        "v=spf1 redirect=_spf.shop.test",
    ],
)
def test_a_strict_single_record_passes(record: str) -> None:
    assert judge(DOMAIN, txt("google-site-verification=abc", record)) == []


def test_missing_record_built_from_configured_senders() -> None:
    [f] = judge(DOMAIN, txt("google-site-verification=abc"), senders=("google", "postmark", "ip4:192.0.2.10"))
    assert f.id == "email.spf.missing"
    assert f.severity is Severity.HIGH and f.impact is Impact.EMAIL
    record = "v=spf1 include:_spf.google.com include:spf.mtasv.net ip4:192.0.2.10 -all"
    assert f'`{DOMAIN}. 300 IN TXT "{record}"`' in f.remediation
    assert "1 other TXT record" in f.evidence[0]


def test_missing_record_without_senders_names_common_providers() -> None:
    [f] = judge(DOMAIN, txt(status="nodata"))
    assert f.id == "email.spf.missing"
    assert '"v=spf1 include:<your email provider> -all"' in f.remediation
    assert "spf.mtasv.net" in f.remediation


def test_a_domain_that_sends_no_mail_gets_the_deny_all_record() -> None:
    [f] = judge(DOMAIN, txt(status="nodata"), sends_mail=False)
    assert f'`{DOMAIN}. 300 IN TXT "v=spf1 -all"`' in f.remediation


def test_sender_mechanisms_handle_names_raw_mechanisms_and_unknowns() -> None:
    assert sender_mechanisms(("SendGrid", "include:mail.example", "ip6:2001:db8::1", "acme", "sendgrid")) == (
        "include:sendgrid.net",
        "include:mail.example",
        "ip6:2001:db8::1",
        "include:<SPF domain of acme>",
    )


def test_two_records_are_multiple_and_the_fix_merges_them() -> None:
    [f] = judge(DOMAIN, txt("v=spf1 include:_spf.google.com ~all", "v=spf1 include:sendgrid.net -all"))
    assert f.id == "email.spf.multiple"
    assert '"v=spf1 include:_spf.google.com include:sendgrid.net -all"' in f.remediation
    assert sum(e.startswith(f"TXT {DOMAIN}:") for e in f.evidence) == 2


@pytest.mark.parametrize("term", ["+all", "?all", "all"])
def test_permissive_all_is_flagged_with_the_corrected_record(term: str) -> None:
    [f] = judge(DOMAIN, txt(f"v=spf1 ip4:192.0.2.1 {term}"))
    assert f.id == "email.spf.permissive-all"
    assert '"v=spf1 ip4:192.0.2.1 -all"' in f.remediation
    assert any(e.startswith(f"'{term}'") and ("every server" in e or "neutral" in e) for e in f.evidence)


def test_softfail_all_is_explained_as_info() -> None:
    [f] = judge(DOMAIN, txt("v=spf1 ip4:192.0.2.1 ~all"))
    assert f.id == "email.spf.softfail-all" and f.severity is Severity.INFO
    assert '"v=spf1 ip4:192.0.2.1 -all"' in f.remediation


def test_only_the_first_all_counts() -> None:
    assert judge(DOMAIN, txt("v=spf1 -all +all")) == []


def test_a_record_that_merely_contains_spf1_is_not_spf() -> None:
    [f] = judge(DOMAIN, txt("v=spf10 -all", "xv=spf1 -all"))
    assert f.id == "email.spf.missing"


@pytest.mark.parametrize("status", ["timeout", "servfail", "error"])
def test_dns_failure_is_could_not_run(status: DnsStatus) -> None:
    with pytest.raises(CouldNotRun):
        judge(DOMAIN, txt(status=status))


def test_a_domain_that_does_not_exist_is_not_applicable() -> None:
    with pytest.raises(NotApplicable):
        judge(DOMAIN, txt(status="nxdomain"))
