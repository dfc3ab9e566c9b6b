"""email.mx: judging MX answers and their targets."""

from __future__ import annotations

import pytest

from launchready.checks.email.mx import MxTarget, judge, parse_mx
from launchready.core.dns import MAX_MX_TARGETS
from launchready.core.errors import CouldNotRun
from launchready.probes.dns import DnsAnswer, DnsStatus

DOMAIN = "shop.test"


def mx(*records: str, status: DnsStatus = "ok") -> DnsAnswer:
    return DnsAnswer(DOMAIN, "MX", status, records)


def addr(name: str, status: DnsStatus = "ok") -> tuple[DnsAnswer, DnsAnswer]:
    return (DnsAnswer(name, "A", status, ("192.0.2.1",) if status == "ok" else ()), DnsAnswer(name, "AAAA", "nodata"))


def target(host: str, pref: int = 10, *, status: DnsStatus = "ok", cname: str | None = None) -> MxTarget:
    a, aaaa = addr(host, status)
    c = DnsAnswer(host, "CNAME", "ok", (cname + ".",)) if cname else DnsAnswer(host, "CNAME", "nodata")
    return MxTarget(pref, host, a, aaaa, c)


def test_valid_mx_passes() -> None:
    assert judge(DOMAIN, mx("10 mx.shop.test."), (target("mx.shop.test"),), receives_mail=True, sends_mail=True) == []


def test_null_mx_passes() -> None:
    assert judge(DOMAIN, mx("0 ."), (MxTarget(0, "."),), receives_mail=False, sends_mail=True) == []
    assert parse_mx(("0 .",)) == [(0, ".")]


def test_missing_mx() -> None:
    [f] = judge(DOMAIN, mx(status="nodata"), (), receives_mail=True, sends_mail=True)
    assert f.id == "email.mx.missing"
    assert f"`{DOMAIN}. 300 IN MX 0 .`" in f.remediation


def test_send_only_domain_is_told_to_publish_null_mx() -> None:
    [f] = judge(DOMAIN, mx(status="nodata"), (), receives_mail=False, sends_mail=True)
    assert f.id == "email.mx.null-mx-advised"
    assert f"`{DOMAIN}. 300 IN MX 0 .`" in f.remediation


def test_cname_target() -> None:
    [f] = judge(
        DOMAIN,
        mx("10 smtp.shop.test."),
        (target("smtp.shop.test", cname="mail.shop.test"),),
        receives_mail=True,
        sends_mail=True,
    )
    assert f.id == "email.mx.cname-target"
    assert f"`{DOMAIN}. 300 IN MX 10 mail.shop.test.`" in f.remediation


def test_ip_literal_target() -> None:
    [f] = judge(DOMAIN, mx("10 192.0.2.7."), (MxTarget(10, "192.0.2.7"),), receives_mail=True, sends_mail=True)
    assert f.id == "email.mx.ip-literal"


def test_target_without_address() -> None:
    [f] = judge(
        DOMAIN,
        mx("10 gone.shop.test."),
        (target("gone.shop.test", status="nxdomain"),),
        receives_mail=True,
        sends_mail=True,
    )
    assert f.id == "email.mx.no-address"


def test_dns_failure_could_not_run() -> None:
    with pytest.raises(CouldNotRun):
        judge(DOMAIN, mx(status="servfail"), (), receives_mail=True, sends_mail=True)


def test_more_mx_records_than_are_looked_up_is_reported_not_passed() -> None:
    records = tuple(f"{n % 7} mx{n}.shop.test." for n in range(MAX_MX_TARGETS + 30))
    answer = mx(*records)
    preferred, not_checked = answer.preferred_mx()
    assert not_checked == 30 and len(preferred) == MAX_MX_TARGETS
    # The most preferred come first: every preference-0 record before any preference-1 record.
    assert [m.preference for m in preferred] == sorted(m.preference for m in preferred)
    assert preferred[0].preference == 0
    targets = tuple(target(m.exchange, m.preference) for m in preferred)
    [f] = judge(DOMAIN, answer, targets, receives_mail=True, sends_mail=True, not_checked=not_checked)
    assert f.id == "email.mx.too-many"
    assert f"{MAX_MX_TARGETS + 30} MX records for {DOMAIN}" in f.evidence
    assert "not looked up or checked: 30" in f.evidence


def test_a_few_mx_records_are_all_looked_up() -> None:
    answer = mx("20 b.shop.test.", "10 a.shop.test.", "10 a.shop.test.")
    preferred, not_checked = answer.preferred_mx()
    assert not_checked == 0
    assert [(m.preference, m.exchange) for m in preferred] == [(10, "a.shop.test"), (20, "b.shop.test")]
