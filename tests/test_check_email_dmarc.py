"""email.dmarc: record parsing and judging on TXT answers, then the check against the lab's DNS."""

from __future__ import annotations

import pytest

from launchready.checks.email.dmarc import DmarcRecord, judge
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Impact, Severity
from launchready.probes.dns import DnsAnswer, DnsStatus

DOMAIN = "shop.test"


def txt(*records: str, status: DnsStatus = "ok") -> DnsAnswer:
    return DnsAnswer(f"_dmarc.{DOMAIN}", "TXT", status, tuple(records))


@pytest.mark.parametrize(
    "record",
    [
        "v=DMARC1; p=none; rua=mailto:dmarc@shop.test",
        "v=DMARC1;p=reject",
        "v = DMARC1 ; p = Quarantine ; pct=100;",
        "v=DMARC1; p=none; rua=mailto:d@shop.test; unknown=tag",
    ],
)
def test_a_valid_record_passes(record: str) -> None:
    assert judge(DOMAIN, txt(record)) == []


@pytest.mark.parametrize("status", ["nxdomain", "nodata"])
def test_no_record_is_missing_with_the_exact_record_and_ramp(status: DnsStatus) -> None:
    [f] = judge(DOMAIN, txt(status=status))
    assert f.id == "email.dmarc.missing"
    assert f.severity is Severity.HIGH and f.impact is Impact.EMAIL
    assert f.target == DOMAIN
    assert f'`_dmarc.{DOMAIN}. 300 IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"`' in f.remediation
    assert "p=quarantine" in f.remediation and "p=reject" in f.remediation


def test_unrelated_txt_records_are_still_missing() -> None:
    [f] = judge(DOMAIN, txt("some-verification=abc"))
    assert f.id == "email.dmarc.missing"


def test_two_records_are_multiple() -> None:
    [f] = judge(DOMAIN, txt("v=DMARC1; p=none; rua=mailto:a@shop.test", "v=DMARC1; p=reject"))
    assert f.id == "email.dmarc.multiple"
    # The suggestion keeps the strongest policy and the existing report address.
    assert '"v=DMARC1; p=reject; rua=mailto:a@shop.test"' in f.remediation


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ("v=DMARC1; rua=mailto:x@shop.test", "no p= tag"),
        ("v=DMARC1; p=block", "p=block is not one of"),
        ("p=none; v=DMARC1", None),  # not DMARC at all (first tag is not v): missing
        ("v=dmarc1; p=none", "must be exactly v=DMARC1"),
        ("v=DMARC2; p=none", "must be exactly v=DMARC1"),
    ],
)
def test_invalid_records_say_why(record: str, problem: str | None) -> None:
    [f] = judge(DOMAIN, txt(record))
    if problem is None:
        assert f.id == "email.dmarc.missing"
        return
    assert f.id == "email.dmarc.invalid"
    assert any(e.startswith("problem: ") and problem in e for e in f.evidence)
    assert f"_dmarc.{DOMAIN}. 300 IN TXT" in f.remediation


def test_invalid_fix_keeps_the_report_address() -> None:
    [f] = judge(DOMAIN, txt("v=DMARC1; rua=mailto:reports@shop.test"))
    assert '"v=DMARC1; p=none; rua=mailto:reports@shop.test"' in f.remediation


def test_parse_tags() -> None:
    record = DmarcRecord.parse("v=DMARC1; P=Reject; rua=mailto:a@b.test")
    assert record.is_dmarc and record.policy == "reject" and record.tag("rua") == "mailto:a@b.test"


@pytest.mark.parametrize("status", ["timeout", "servfail", "error"])
def test_dns_failure_is_could_not_run(status: DnsStatus) -> None:
    with pytest.raises(CouldNotRun, match=f"_dmarc.{DOMAIN}"):
        judge(DOMAIN, txt(status=status))


def test_p_none_without_rua_is_flagged() -> None:
    [f] = judge(DOMAIN, txt("v=DMARC1; p=none"))
    assert f.id == "email.dmarc.none-no-rua"
    assert f'"v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"' in f.remediation


def test_partial_pct_is_flagged() -> None:
    [f] = judge(DOMAIN, txt("v=DMARC1; p=quarantine; pct=25; rua=mailto:d@shop.test"))
    assert f.id == "email.dmarc.partial-pct"


def test_external_reports_need_the_receivers_authorization() -> None:
    record = "v=DMARC1; p=reject; rua=mailto:d@reports.example"
    auth = DnsAnswer(f"{DOMAIN}._report._dmarc.reports.example", "TXT", "nxdomain")
    [f] = judge(DOMAIN, txt(record), report_auth={"reports.example": auth})
    assert f.id == "email.dmarc.report-unauthorized"
    assert f'`{DOMAIN}._report._dmarc.reports.example. 300 IN TXT "v=DMARC1"`' in f.remediation
    ok = DnsAnswer(auth.name, "TXT", "ok", ("v=DMARC1",))
    assert judge(DOMAIN, txt(record), report_auth={"reports.example": ok}) == []


def test_organizational_domain_policy_covers_a_subdomain() -> None:
    sub = f"mail.{DOMAIN}"
    org = DnsAnswer(f"_dmarc.{DOMAIN}", "TXT", "ok", ("v=DMARC1; p=reject; rua=mailto:d@shop.test",))
    assert judge(sub, DnsAnswer(f"_dmarc.{sub}", "TXT", "nxdomain"), org_txt=org) == []


def test_organizational_domain_comes_from_the_bundled_public_suffix_list() -> None:
    from launchready.email.psl import organizational_domain

    assert organizational_domain("a.b.example.co.uk") == "example.co.uk"
    assert organizational_domain("shop.example.com") == "example.com"


# -- RFC 7489 6.3 / 6.6.3: invalid optional values fall back to their defaults -----------------------


@pytest.mark.parametrize(
    ("record", "tag", "default"),
    [
        ("v=DMARC1; p=reject; pct=101; rua=mailto:d@shop.test", "pct", "pct=100"),
        ("v=DMARC1; p=reject; pct=abc; rua=mailto:d@shop.test", "pct", "pct=100"),
        ("v=DMARC1; p=reject; pct=-5; rua=mailto:d@shop.test", "pct", "pct=100"),
        ("v=DMARC1; p=quarantine; adkim=x; rua=mailto:d@shop.test", "adkim", "adkim=r"),
        ("v=DMARC1; p=quarantine; aspf=relaxed; rua=mailto:d@shop.test", "aspf", "aspf=r"),
        ("v=DMARC1; p=reject; rua=mailto:d@shop.test!10x", "rua", "rua=(no aggregate reports)"),
        ("v=DMARC1; p=reject; rua=dmarc@shop.test", "rua", "rua=(no aggregate reports)"),
        ("v=DMARC1; p=reject; rua=mailto:a@shop.test,not a uri", "rua", "rua=mailto:a@shop.test"),
        ("v=DMARC1; p=reject; rua=mailto:d@shop.test; fo=2", "fo", "fo=0"),
        ("v=DMARC1; p=reject; rua=mailto:d@shop.test; ri=daily", "ri", "ri=86400"),
    ],
)
def test_invalid_optional_values_fall_back_and_the_policy_applies(record: str, tag: str, default: str) -> None:
    parsed = DmarcRecord.parse(record)
    assert parsed.problem is None  # the record is not malformed: the policy still applies
    findings = judge(DOMAIN, txt(record))
    assert [f.id for f in findings] == ["email.dmarc.tag-fallback"]
    [f] = findings
    assert f.severity is Severity.LOW and f.impact is Impact.EMAIL
    assert any(e.startswith(f"{tag}=") and default in e for e in f.evidence), f.evidence
    assert any(f"p={parsed.policy} still applies" in e for e in f.evidence)
    # The fix drops the ignored value, which is what receivers already do.
    assert f"{tag}={parsed.tag(tag)}" not in f.remediation


def test_pct_101_keeps_the_full_policy() -> None:
    record = DmarcRecord.parse("v=DMARC1; p=reject; pct=101")
    assert record.pct == 100 and record.policy == "reject"
    assert DmarcRecord.parse("v=DMARC1; p=reject; pct=25").pct == 25
    assert DmarcRecord.parse("v=DMARC1; p=reject; adkim=S; aspf=x").alignment("adkim") == "s"
    assert DmarcRecord.parse("v=DMARC1; p=reject; adkim=S; aspf=x").alignment("aspf") == "r"


@pytest.mark.parametrize(
    "rua",
    [
        "mailto:d@shop.test!10m",
        "mailto:d@shop.test!500",
        "mailto:a@shop.test, https://reports.shop.test/dmarc",
    ],
)
def test_any_valid_uri_is_allowed_in_rua(rua: str) -> None:
    assert judge(DOMAIN, txt(f"v=DMARC1; p=reject; rua={rua}")) == []


def test_p_none_with_only_an_https_rua_says_most_receivers_use_mailto() -> None:
    [f] = judge(DOMAIN, txt("v=DMARC1; p=none; rua=https://reports.shop.test/dmarc"))
    assert f.id == "email.dmarc.none-no-rua"
    assert any("most receivers only send aggregate reports to mailto:" in e for e in f.evidence)


def test_a_duplicated_p_is_malformed_not_first_wins() -> None:
    [f] = judge(DOMAIN, txt("v=DMARC1; p=reject; p=none; rua=mailto:d@shop.test"))
    assert f.id == "email.dmarc.invalid"
    assert any("p= appears 2 times" in e for e in f.evidence)


def test_alignment_stays_a_blocker_when_pct_is_out_of_range() -> None:
    from launchready.checks.email.dmarc import effective_record, judge_alignment
    from launchready.email.alignment import AlignmentVerdict

    record = effective_record(txt("v=DMARC1; p=reject; pct=101"), None)
    assert record is not None and record.policy == "reject"
    verdict = AlignmentVerdict(sender="postmark", can_align=False, conclusive=True, evidence=("no key",), fix="")
    [f] = judge_alignment(DOMAIN, record, (verdict,))
    assert f.severity is Severity.BLOCKER


def test_reports_only_to_https_are_valid_but_noted() -> None:
    [f] = judge(DOMAIN, txt("v=DMARC1; p=reject; rua=https://reports.shop.test/dmarc"))
    assert f.id == "email.dmarc.reports-not-mailto" and f.severity is Severity.INFO
    assert any("most receivers only send aggregate reports to mailto:" in e for e in f.evidence)
    assert f'rua=mailto:dmarc@{DOMAIN},https://reports.shop.test/dmarc"`' in f.remediation
