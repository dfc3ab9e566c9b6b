"""email.mta-sts and email.tls-rpt: the record parsers, the policy file and the judges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from launchready.checks.email.mta_sts import judge, policy_url
from launchready.checks.email.tls_rpt import judge as judge_tlsrpt
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Severity
from launchready.email.mta_sts import StsPolicy, StsRecord, TlsRptRecord, mx_matches
from launchready.probes.dns import DnsAnswer, DnsStatus
from launchready.probes.http import HttpExchange

DOMAIN = "shop.test"
MX = ("mail.shop.test",)
GOOD = "version: STSv1\r\nmode: enforce\r\nmx: mail.shop.test\r\nmax_age: 604800\r\n"


def sts_txt(*records: str, status: DnsStatus = "ok") -> DnsAnswer:
    return DnsAnswer(f"_mta-sts.{DOMAIN}", "TXT", status, tuple(records))


def page(body: str, status: int = 200, **kw: object) -> HttpExchange:
    return HttpExchange(policy_url(DOMAIN), "GET", status=status, body=body.encode(), **kw)  # type: ignore[arg-type]


def test_valid_record_and_enforced_policy_pass() -> None:
    assert judge(DOMAIN, sts_txt("v=STSv1; id=20240601"), MX, page(GOOD)) == []
    wildcard = GOOD.replace("mx: mail.shop.test", "mx: *.shop.test")
    assert judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, page(wildcard)) == []


def test_no_record_is_missing_info_with_the_record_and_policy_to_publish() -> None:
    [f] = judge(DOMAIN, sts_txt(status="nxdomain"), MX, None)
    assert f.id == "email.mta-sts.missing" and f.severity is Severity.INFO
    assert f'`_mta-sts.{DOMAIN}. 300 IN TXT "v=STSv1; id=' in f.remediation
    assert "`mx: mail.shop.test`" in f.remediation and policy_url(DOMAIN) in f.remediation


@pytest.mark.parametrize(
    "records", [("v=STSv1",), ("v=STSv1; id=not-alnum!",), ("v=STSv1; id=1", "v=STSv1; id=2"), ("v=stsv1; id=1",)]
)
def test_bad_records_are_invalid(records: tuple[str, ...]) -> None:
    [f] = judge(DOMAIN, sts_txt(*records), MX, page(GOOD))
    assert f.id == "email.mta-sts.record-invalid" and f.severity is Severity.LOW


def test_policy_unreachable_or_redirected() -> None:
    [f] = judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, page("", status=404))
    assert f.id == "email.mta-sts.policy-unreachable" and f.target == policy_url(DOMAIN)
    moved = page("", status=301, headers=(("location", "https://www.shop.test/"),))
    [g] = judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, moved)
    assert g.id == "email.mta-sts.policy-unreachable" and any("do not follow redirects" in e for e in g.evidence)
    tls = HttpExchange(policy_url(DOMAIN), "GET", error="TLS certificate not trusted", error_kind="tls")
    [h] = judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, tls)
    assert h.id == "email.mta-sts.policy-unreachable"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("mode: enforce\nmx: mail.shop.test\nmax_age: 1", "version"),
        ("version: STSv1\nmode: strict\nmx: mail.shop.test\nmax_age: 1", "mode: strict"),
        ("version: STSv1\nmode: enforce\nmax_age: 86400", "no mx"),
        ("version: STSv1\nmode: enforce\nmx: mail.shop.test\nmax_age: 99999999999", "max_age"),
        ("version: STSv1\nmode: enforce\nmx: mail.shop.test", "max_age: is missing"),
    ],
)
def test_malformed_policies(body: str, problem: str) -> None:
    [f] = judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, page(body))
    assert f.id == "email.mta-sts.policy-invalid" and any(problem in e for e in f.evidence)


def test_testing_mode_and_mx_mismatch() -> None:
    body = GOOD.replace("enforce", "testing").replace("mail.shop.test", "mx.old.test")
    found = {f.id: f for f in judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, page(body))}
    assert set(found) == {"email.mta-sts.mx-mismatch", "email.mta-sts.testing-mode"}
    assert found["email.mta-sts.mx-mismatch"].severity is Severity.LOW
    assert found["email.mta-sts.testing-mode"].severity is Severity.INFO
    assert "`mx: mail.shop.test`" in found["email.mta-sts.mx-mismatch"].remediation
    # Enforced with the wrong MX: compliant senders refuse delivery, so it ranks higher.
    [enforced] = judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, page(GOOD.replace("mail.shop.test", "mx.old.test")))
    assert enforced.id == "email.mta-sts.mx-mismatch" and enforced.severity is Severity.MEDIUM


def test_short_max_age() -> None:
    [f] = judge(DOMAIN, sts_txt("v=STSv1; id=1"), MX, page(GOOD.replace("604800", "3600")))
    assert f.id == "email.mta-sts.short-max-age"


def test_dns_failure_could_not_run() -> None:
    with pytest.raises(CouldNotRun):
        judge(DOMAIN, sts_txt(status="timeout"), MX, None)
    with pytest.raises(CouldNotRun):
        judge_tlsrpt(DOMAIN, DnsAnswer(f"_smtp._tls.{DOMAIN}", "TXT", "servfail"))


def test_mx_patterns_match_one_leftmost_label() -> None:
    assert mx_matches("*.shop.test", "mail.shop.test")
    assert not mx_matches("*.shop.test", "a.b.shop.test") and not mx_matches("*.shop.test", "shop.test")
    assert mx_matches("Mail.Shop.Test.", "mail.shop.test")


def tlsrpt(*records: str, status: DnsStatus = "ok") -> DnsAnswer:
    return DnsAnswer(f"_smtp._tls.{DOMAIN}", "TXT", status, tuple(records))


def test_tls_rpt() -> None:
    assert judge_tlsrpt(DOMAIN, tlsrpt("v=TLSRPTv1; rua=mailto:tls@shop.test,https://r.example/tls")) == []
    [missing] = judge_tlsrpt(DOMAIN, tlsrpt(status="nxdomain"))
    assert missing.id == "email.tls-rpt.missing" and missing.severity is Severity.INFO
    assert f'`_smtp._tls.{DOMAIN}. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@{DOMAIN}"`' in missing.remediation
    for bad in (
        ("v=TLSRPTv1",),
        ("v=TLSRPTv1; rua=ftp://x",),
        ("v=TLSRPTv1; rua=mailto:a@b", "v=TLSRPTv1; rua=mailto:c@d"),
    ):
        [f] = judge_tlsrpt(DOMAIN, tlsrpt(*bad))
        assert f.id == "email.tls-rpt.invalid" and f.severity is Severity.LOW


@given(st.text(max_size=300))
def test_parsers_never_raise(text: str) -> None:
    for record in (StsRecord.parse(text), TlsRptRecord.parse(text)):
        assert record.problem is None or isinstance(record.problem, str)
    policy = StsPolicy.parse(text)
    assert policy.problem is None or isinstance(policy.problem, str)
    policy.unmatched(("mail.shop.test",))
