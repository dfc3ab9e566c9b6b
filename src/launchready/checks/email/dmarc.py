"""email.dmarc: the domain publishes one valid DMARC policy, so receivers trust and report its mail."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Impact, Severity
from launchready.email.alignment import AlignmentVerdict, judge_sender
from launchready.email.dmarc_record import POLICIES, DmarcRecord
from launchready.email.psl import organizational_domain
from launchready.email.spf_senders import sender_mechanisms

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC7489 = "https://www.rfc-editor.org/rfc/rfc7489"
_RFC7489_6_3 = "https://www.rfc-editor.org/rfc/rfc7489#section-6.3"
_RFC7489_6_6_3 = "https://www.rfc-editor.org/rfc/rfc7489#section-6.6.3"
_GMAIL_RULES = "https://support.google.com/a/answer/81126"
_YAHOO_RULES = "https://senders.yahooinc.com/best-practices/"
_RFC7489_7_1 = "https://www.rfc-editor.org/rfc/rfc7489#section-7.1"
_RFC7489_6_6_2 = "https://www.rfc-editor.org/rfc/rfc7489#section-6.6.2"
_RFC7489_3_1 = "https://www.rfc-editor.org/rfc/rfc7489#section-3.1"

__all__ = ["CHECK", "META", "DmarcRecord", "judge"]

# A record that was meant to be DMARC (so a typo is reported as invalid rather than missing).
_LOOKS_LIKE_DMARC = re.compile(r"^\s*v\s*=\s*dmarc", re.IGNORECASE)

_RAMP = (
    "Start with p=none and read the aggregate reports sent to the rua address for 2-4 weeks; once only "
    "your own services appear, move to `p=quarantine; pct=25`, then `p=quarantine`, then `p=reject`. "
    "The rua mailbox must exist (or use a DMARC report service's address)."
)

META = CheckMeta(
    id="email.dmarc",
    title="DMARC policy is published",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the TXT record at _dmarc.DOMAIN and checks that exactly one DMARC record exists, that it "
            "starts with v=DMARC1 and that it has one valid policy (p=none, quarantine or reject; a duplicated p= "
            "makes the record malformed). An invalid value of an optional tag (pct=101, adkim=x, a rua= that is not "
            "a URI) is ignored by receivers, who use that tag's default, so the policy still applies: it is reported "
            "on its own as a low finding (RFC 7489 6.3). Any URI scheme is valid in rua=/ruf=, but most receivers "
            "only send reports to mailto:. For each sender "
            "declared in [email] senders it asks whether that sender's mail can pass DMARC at all: an envelope "
            "(Return-Path) at the domain that SPF authorises, or a DKIM key of that provider published under the "
            "domain (provider table in data/email/senders.json, with its sources)."
        ),
        why=(
            "Since 2024 Gmail and Yahoo require bulk senders to publish DMARC, and they downgrade mail from "
            "domains without it: your verification and password-reset emails end up in spam. Without DMARC "
            "nobody tells you when someone phishes your members in your name, and nothing stops it."
        ),
        fix=(
            "Publish one TXT record at _dmarc.DOMAIN such as `v=DMARC1; p=none; rua=mailto:dmarc@DOMAIN`, "
            "watch the reports it brings in, then tighten the policy to quarantine and reject."
        ),
    ),
    findings=(
        FindingSpec(
            id="email.dmarc.missing",
            title="No DMARC record: mail may be junked and spoofing goes unreported",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation='Publish `_dmarc.<domain>. TXT "v=DMARC1; p=none; rua=mailto:dmarc@<domain>"`.',
            references=(_RFC7489, _GMAIL_RULES, _YAHOO_RULES),
        ),
        FindingSpec(
            id="email.dmarc.multiple",
            title="More than one DMARC record: receivers apply no policy",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Keep exactly one v=DMARC1 TXT record at _dmarc and delete the others.",
            references=(_RFC7489_6_6_3,),
        ),
        FindingSpec(
            id="email.dmarc.invalid",
            title="The DMARC record is malformed and ignored",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation='Replace it with `"v=DMARC1; p=none; rua=mailto:dmarc@<domain>"`.',
            references=(_RFC7489_6_3, _RFC7489_6_6_3),
        ),
        FindingSpec(
            id="email.dmarc.none-no-rua",
            title="DMARC p=none without rua: nobody is told about spoofing or failures",
            severity=Severity.MEDIUM,
            impact=Impact.EMAIL,
            remediation='Add a report address: `"v=DMARC1; p=none; rua=mailto:dmarc@<domain>"`.',
            references=(_RFC7489_6_3, _GMAIL_RULES),
        ),
        FindingSpec(
            id="email.dmarc.partial-pct",
            title="DMARC applies its policy to only part of the failing mail",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Raise pct to 100 (or remove pct=) once reports show your own mail passing.",
            references=(_RFC7489_6_3,),
        ),
        FindingSpec(
            id="email.dmarc.tag-fallback",
            title="A DMARC tag has an invalid value: receivers ignore it and use the tag's default",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Publish the record with the invalid value corrected or removed (the policy itself still applies).",
            references=(_RFC7489_6_3, _RFC7489_6_6_3),
        ),
        FindingSpec(
            id="email.dmarc.reports-not-mailto",
            title="DMARC reports go only to non-mailto: URIs, which most receivers never send to",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            remediation="Add a mailto: address to rua= (keep the https: one if your report service reads it).",
            references=(_RFC7489_6_3,),
        ),
        FindingSpec(
            id="email.dmarc.report-unauthorized",
            title="DMARC reports go to another domain that has not agreed to receive them",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation='Publish `<domain>._report._dmarc.<report domain>. TXT "v=DMARC1"` at the report domain.',
            references=(_RFC7489_7_1,),
        ),
        FindingSpec(
            id="email.dmarc.sender-cannot-align",
            title="A declared sender cannot pass DMARC: neither its SPF nor its DKIM domain is yours",
            severity=Severity.BLOCKER,
            impact=Impact.EMAIL,
            remediation="Set up the sender's DKIM for your domain (and its custom Return-Path) and publish the records it shows.",
            references=(_RFC7489_3_1, _GMAIL_RULES),
        ),
    ),
    references=(_RFC7489, _GMAIL_RULES),
    probes=("dns",),
)


def _record(domain: str, policy: str = "none", rua: str | None = None) -> str:
    rua = rua or f"mailto:dmarc@{domain}"
    return f'`_dmarc.{domain}. 300 IN TXT "v=DMARC1; p={policy}; rua={rua}"`'


def judge(
    domain: str,
    txt: DnsAnswer,
    *,
    org_txt: DnsAnswer | None = None,
    report_auth: dict[str, DnsAnswer] | None = None,
) -> list[Finding]:
    """Judge the TXT answer at ``_dmarc.<domain>``.

    ``org_txt`` is the answer at ``_dmarc.<organizational domain>`` when ``domain`` is below it
    (its policy applies when the domain has none, RFC 7489 6.6.3); ``report_auth`` maps each
    external report domain to the answer at ``<domain>._report._dmarc.<report domain>``.
    """
    name = f"_dmarc.{domain}"
    if txt.failed:
        raise CouldNotRun(f"TXT query for {name} failed ({txt.status}): {txt.error or 'no detail'}")
    if org_txt is not None and org_txt.ok and not any(DmarcRecord.parse(r).is_dmarc for r in txt.records):
        org_records = [DmarcRecord.parse(r.strip()) for r in org_txt.records]
        org_dmarc = [r for r in org_records if r.is_dmarc]
        if len(org_dmarc) == 1 and org_dmarc[0].problem is None:
            return []  # the organizational domain's policy (its sp=) covers this domain
    parsed = [DmarcRecord.parse(r.strip()) for r in txt.records]
    dmarc = [r for r in parsed if r.is_dmarc]
    attempts = [r for r in parsed if not r.is_dmarc and _LOOKS_LIKE_DMARC.match(r.raw)]

    if not dmarc and not attempts:
        seen = f"{len(txt.records)} TXT record(s), none starts with v=DMARC1" if txt.ok else txt.status.upper()
        evidence = [f"TXT {name}: {seen}"]
        return [
            META.finding(
                "missing",
                target=domain,
                evidence=evidence,
                remediation=f"Publish {_record(domain)}. {_RAMP}",
            )
        ]
    if len(dmarc) > 1:
        policies = [r.policy for r in dmarc if r.policy]
        strongest = max(policies, key=POLICIES.index) if policies else "none"
        rua = next((r.tag("rua") for r in dmarc if r.tag("rua")), None)
        return [
            META.finding(
                "multiple",
                target=domain,
                evidence=[
                    *(f'TXT {name}: "{r.raw}"' for r in dmarc),
                    f"{len(dmarc)} v=DMARC1 records: receivers ignore all of them",
                ],
                remediation=f"Keep exactly one record, e.g. {_record(domain, strongest, rua)}, and delete the rest.",
            )
        ]
    record = dmarc[0] if dmarc else attempts[0]
    problem = record.problem
    if problem is None:
        return _judge_fallbacks(domain, record) + _judge_policy(domain, record, report_auth or {})
    rua = record.tag("rua")
    return [
        META.finding(
            "invalid",
            target=domain,
            evidence=[f'TXT {name}: "{record.raw}"', f"problem: {problem}"],
            remediation=f"Replace it with {_record(domain, record.policy or 'none', rua)}. {_RAMP}",
        )
    ]


def _judge_fallbacks(domain: str, record: DmarcRecord) -> list[Finding]:
    """RFC 7489 6.3: invalid optional values are ignored (their default applies); the policy still holds."""
    fallbacks = record.fallbacks
    if not fallbacks:
        return []
    name = f"_dmarc.{domain}"
    return [
        META.finding(
            "tag-fallback",
            target=domain,
            evidence=[
                f'TXT {name}: "{record.raw}"',
                *(f.text() for f in fallbacks),
                f"p={record.policy} still applies (RFC 7489 6.3: invalid optional values fall back to their defaults)",
            ],
            remediation=(
                f'Publish `{name}. 300 IN TXT "{record.corrected()}"` (the invalid values removed, so their defaults '
                "apply as they do now), or correct them: pct is a whole number from 0 to 100, adkim/aspf are r or s, "
                "rua/ruf are URIs such as mailto:dmarc@DOMAIN with an optional size limit like !10m."
            ),
        )
    ]


def _judge_policy(domain: str, record: DmarcRecord, report_auth: dict[str, DnsAnswer]) -> list[Finding]:
    name = f"_dmarc.{domain}"
    evidence = [f'TXT {name}: "{record.raw}"']
    findings: list[Finding] = []
    rua = record.report_uris("rua")
    mailto = [u for u in rua if u.lower().startswith("mailto:")]
    if record.policy == "none" and not mailto:
        detail = (
            f"p=none and rua= has no mailto: address ({', '.join(rua)}): the URI is valid, but most receivers "
            "only send aggregate reports to mailto:, so failures are neither blocked nor reported to you"
            if rua
            else "p=none and no rua=: failures are neither blocked nor reported to you"
        )
        findings.append(
            META.finding(
                "none-no-rua",
                target=domain,
                evidence=[*evidence, detail],
                remediation=f"Publish {_record(domain)}. {_RAMP}",
            )
        )
    elif rua and not mailto:
        findings.append(
            META.finding(
                "reports-not-mailto",
                target=domain,
                evidence=[
                    *evidence,
                    f"rua={','.join(rua)}: a valid URI (RFC 7489 6.2 allows any scheme), but most receivers only "
                    "send aggregate reports to mailto: addresses, so few or no reports will arrive",
                ],
                remediation=(
                    f'Add a mailto: address: `_dmarc.{domain}. 300 IN TXT "v=DMARC1; p={record.policy}; '
                    f"rua=mailto:dmarc@{domain},{','.join(rua)}\"` (or your DMARC report service's mailto: address)."
                ),
            )
        )
    pct = record.pct
    if pct < 100 and record.policy != "none":
        findings.append(
            META.finding(
                "partial-pct",
                target=domain,
                evidence=[*evidence, f"pct={pct}: the policy applies to {pct}% of failing mail, the rest is delivered"],
                remediation=(
                    f"pct below 100 is a ramp step; once reports show only your own services, publish "
                    f"{_record(domain, record.policy or 'quarantine', record.tag('rua'))} (no pct= means 100)."
                ),
            )
        )
    org = organizational_domain(domain)
    unauthorized: list[str] = []
    for uri_tag in ("rua", "ruf"):
        for report_domain in record.report_domains(uri_tag):
            if organizational_domain(report_domain) == org:
                continue
            answer = report_auth.get(report_domain)
            if answer is None or answer.failed:
                continue  # not asked or not answered: no verdict
            if not any(r.strip().upper().startswith("V=DMARC1") for r in answer.records):
                unauthorized.append(report_domain)
    if unauthorized:
        records = " and ".join(
            f'`{domain}._report._dmarc.{d}. 300 IN TXT "v=DMARC1"`' for d in dict.fromkeys(unauthorized)
        )
        findings.append(
            META.finding(
                "report-unauthorized",
                target=domain,
                evidence=[
                    *evidence,
                    *(f"no TXT at {domain}._report._dmarc.{d}: receivers drop the reports" for d in unauthorized),
                ],
                remediation=(
                    f"Ask the report receiver to publish {records} (DMARC report services do this when you add the "
                    "domain), or send reports to an address at your own domain."
                ),
            )
        )
    return findings


def effective_record(txt: DnsAnswer, org_txt: DnsAnswer | None) -> DmarcRecord | None:
    """The one valid DMARC record that applies: the domain's own, else the organizational domain's."""
    for answer in (txt, org_txt):
        if answer is None or not answer.ok:
            continue
        valid = [r for r in (DmarcRecord.parse(x.strip()) for x in answer.records) if r.is_dmarc]
        if len(valid) == 1 and valid[0].problem is None:
            return valid[0]
        if valid:
            return None
    return None


def judge_alignment(domain: str, record: DmarcRecord | None, verdicts: tuple[AlignmentVerdict, ...]) -> list[Finding]:
    """One finding per declared sender whose mail cannot pass DMARC for ``domain``.

    A blocker when the policy quarantines or rejects failing mail; otherwise (p=none, no DMARC)
    medium: Gmail and Yahoo still require bulk senders' mail to align. Inconclusive verdicts
    (per-customer DKIM selectors nobody declared) are one step lower and tentative.
    """
    enforcing = record is not None and record.policy in ("quarantine", "reject") and (record.pct or 0) > 0
    policy = f'"{record.raw}"' if record is not None else "no DMARC record"
    findings: list[Finding] = []
    for v in verdicts:
        if v.can_align is not False:
            continue
        if enforcing:
            severity = Severity.BLOCKER if v.conclusive else Severity.HIGH
            outcome = f"p={record.policy if record else ''}: receivers {'reject' if record and record.policy == 'reject' else 'junk'} its mail"
        else:
            severity = Severity.MEDIUM if v.conclusive else Severity.LOW
            outcome = "Gmail and Yahoo require aligned mail from bulk senders, and DMARC reports will show it failing"
        findings.append(
            META.finding(
                "sender-cannot-align",
                target=f"{domain} sender:{v.sender}",
                severity=severity,
                confidence=Confidence.CERTAIN if v.conclusive else Confidence.TENTATIVE,
                evidence=[f"_dmarc.{domain}: {policy}", *v.evidence, outcome],
                remediation=v.fix
                or f"Make {v.sender} sign with a DKIM key published under {domain} (or send with an envelope at {domain} that SPF authorises).",
            )
        )
    return findings


def _external_report_domains(domain: str, txt: DnsAnswer) -> tuple[str, ...]:
    org = organizational_domain(domain)
    out: list[str] = []
    for raw in txt.records:
        record = DmarcRecord.parse(raw.strip())
        if not record.is_dmarc:
            continue
        for uri_tag in ("rua", "ruf"):
            out.extend(d for d in record.report_domains(uri_tag) if organizational_domain(d) != org)
    return tuple(dict.fromkeys(out))


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    if ctx.site.domain_missing:
        raise NotApplicable(f"{target} does not exist in DNS (dns.apex reports it)")
    txt = await ctx.dns.txt(f"_dmarc.{target}")
    org = organizational_domain(target)
    org_txt = await ctx.dns.txt(f"_dmarc.{org}") if org != target else None
    report_auth = {d: await ctx.dns.txt(f"{target}._report._dmarc.{d}") for d in _external_report_domains(target, txt)}
    findings = judge(target, txt, org_txt=org_txt, report_auth=report_auth)
    email = ctx.config.email
    if email.sends_mail and email.senders:
        senders = tuple((s, sender_mechanisms((s,))[0]) for s in email.senders)
        facts = await ctx.mail.sender_facts(target, senders, tuple(email.dkim_selectors))
        record = effective_record(txt, org_txt)
        aspf = record.alignment("aspf") if record else "r"
        adkim = record.alignment("adkim") if record else "r"
        verdicts = tuple(judge_sender(target, f, aspf=aspf, adkim=adkim) for f in facts)
        findings += judge_alignment(target, record, verdicts)
    return findings


CHECK = Check(meta=META, run=run)
