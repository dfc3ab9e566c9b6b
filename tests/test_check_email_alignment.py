"""email.dmarc.sender-cannot-align: can each declared sender pass DMARC (aligned SPF or DKIM)?"""

from __future__ import annotations

import pytest

from launchready.checks.email.dmarc import effective_record, judge_alignment
from launchready.core.severity import Confidence, Severity
from launchready.email.alignment import DkimKeyFact, SenderFacts, aligned, judge_sender, provider_for, providers
from launchready.email.dmarc_record import DmarcRecord
from launchready.probes.dns import DnsAnswer

DOMAIN = "shop.test"
REJECT = DmarcRecord.parse("v=DMARC1; p=reject; rua=mailto:d@shop.test")
NONE = DmarcRecord.parse("v=DMARC1; p=none; rua=mailto:d@shop.test")


def sender(
    name: str,
    *,
    spf: bool | None = None,
    keys: tuple[DkimKeyFact, ...] = (),
    rp: tuple[tuple[str, str], ...] = (),
    declared: tuple[str, ...] = (),
) -> SenderFacts:
    return SenderFacts(name, provider_for(name), spf, "SPF detail", keys, rp, declared)


def test_provider_table_is_sourced_and_complete() -> None:
    assert {p.id for p in providers()} >= {"google", "microsoft", "postmark", "sendgrid", "amazonses", "mailgun"}
    for p in providers():
        assert p.sources and all(s.startswith("https://") for s in p.sources), p.id
        assert p.records and "{domain}" in " ".join(p.records), p.id
        assert p.envelope in ("own-domain", "provider")
        assert p.envelope == "own-domain" or p.default_envelope, p.id
    assert provider_for("ses") is provider_for("amazonses")
    assert provider_for("ip4:192.0.2.1") is None


def test_own_server_passing_spf_aligns_and_failing_is_left_to_email_spf() -> None:
    assert judge_sender(DOMAIN, sender("ip4:192.0.2.1", spf=True)).can_align is True
    assert judge_sender(DOMAIN, sender("ip4:192.0.2.1", spf=False)).can_align is None


def test_google_aligns_through_spf_or_its_dkim_key() -> None:
    assert judge_sender(DOMAIN, sender("google", spf=True)).can_align is True
    key = DkimKeyFact("google", True, None)
    assert judge_sender(DOMAIN, sender("google", spf=False, keys=(key,))).can_align is True
    v = judge_sender(DOMAIN, sender("google", spf=False))
    assert v.can_align is False and v.conclusive
    assert f"google._domainkey.{DOMAIN}. 300 IN TXT" in v.fix


def test_sendgrid_needs_its_cnamed_keys_or_return_path() -> None:
    other = DkimKeyFact("s1", True, "s1.domainkey.u1.wl1.mailjet.example")
    ours = DkimKeyFact("s1", True, "s1.domainkey.u1.wl1.sendgrid.net")
    v = judge_sender(DOMAIN, sender("sendgrid", keys=(other,)))
    assert v.can_align is False and v.conclusive  # s1 is asked by name, so this is known
    assert f"`s1._domainkey.{DOMAIN}. 300 IN CNAME s1.domainkey.u<id>.wl<id>.sendgrid.net.`" in v.fix
    assert judge_sender(DOMAIN, sender("sendgrid", keys=(ours,))).can_align is True


def test_postmark_return_path_aligns_relaxed_but_not_strict() -> None:
    rp = ((f"pm-bounces.{DOMAIN}", "pm.mtasv.net"),)
    assert judge_sender(DOMAIN, sender("postmark", rp=rp), aspf="r").can_align is True
    strict = judge_sender(DOMAIN, sender("postmark", rp=rp), aspf="s")
    assert strict.can_align is False and any("aspf=s" in e for e in strict.evidence)


def test_postmark_without_a_declared_selector_is_inconclusive_and_with_one_is_known() -> None:
    v = judge_sender(DOMAIN, sender("postmark", declared=("lab",)))
    assert v.can_align is False and not v.conclusive
    assert any("dkim_selectors" in e for e in v.evidence)
    known = judge_sender(DOMAIN, sender("postmark", declared=("20240601120000pm",)))
    assert known.can_align is False and known.conclusive
    key = DkimKeyFact("20240601120000pm", True, None)
    assert judge_sender(DOMAIN, sender("postmark", keys=(key,))).can_align is True


def test_alignment_modes() -> None:
    assert aligned("pm-bounces.shop.test", "shop.test", "r") and not aligned("pm-bounces.shop.test", "shop.test", "s")
    assert not aligned("pm.mtasv.net", "shop.test", "r")


@pytest.mark.parametrize(
    ("record", "conclusive", "severity"),
    [
        (REJECT, True, Severity.BLOCKER),
        (REJECT, False, Severity.HIGH),
        (NONE, True, Severity.MEDIUM),
        (None, False, Severity.LOW),
    ],
)
def test_severity_follows_the_policy_and_certainty(
    record: DmarcRecord | None, conclusive: bool, severity: Severity
) -> None:
    v = judge_sender(DOMAIN, sender("postmark", declared=("20240601120000pm",) if conclusive else ()))
    [f] = judge_alignment(DOMAIN, record, (v,))
    assert f.id == "email.dmarc.sender-cannot-align" and f.severity is severity
    assert f.target == f"{DOMAIN} sender:postmark"
    assert f.confidence is (Confidence.CERTAIN if conclusive else Confidence.TENTATIVE)
    assert f"`pm-bounces.{DOMAIN}. 300 IN CNAME pm.mtasv.net.`" in f.remediation


def test_aligned_senders_make_no_finding_and_the_org_policy_applies() -> None:
    assert judge_alignment(DOMAIN, REJECT, (judge_sender(DOMAIN, sender("google", spf=True)),)) == []
    own = DnsAnswer(f"_dmarc.{DOMAIN}", "TXT", "nxdomain")
    org = DnsAnswer("_dmarc.test", "TXT", "ok", ("v=DMARC1; p=quarantine",))
    record = effective_record(own, org)
    assert record is not None and record.policy == "quarantine"
