"""email.spf: the domain publishes exactly one SPF record, and it does not let anyone send."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Confidence, Impact, Severity
from launchready.email.spf_facts import LOOKUP_LIMIT, RECOMMENDED_MAX_LENGTH, VOID_LIMIT, SenderVerdict, SpfNode
from launchready.email.spf_senders import sender_mechanisms as sender_mechanisms
from launchready.email.spf_syntax import SpfSyntaxError, parse_spf, parse_term

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC7208 = "https://www.rfc-editor.org/rfc/rfc7208"
_RFC7208_4_5 = "https://www.rfc-editor.org/rfc/rfc7208#section-4.5"
_RFC7208_5_1 = "https://www.rfc-editor.org/rfc/rfc7208#section-5.1"
_GMAIL_RULES = "https://support.google.com/a/answer/81126"
_RFC7208_3_4 = "https://www.rfc-editor.org/rfc/rfc7208#section-3.4"
_RFC7208_4_6_4 = "https://www.rfc-editor.org/rfc/rfc7208#section-4.6.4"
_RFC7208_5_2 = "https://www.rfc-editor.org/rfc/rfc7208#section-5.2"
_RFC7208_5_5 = "https://www.rfc-editor.org/rfc/rfc7208#section-5.5"
_RFC7208_6_1 = "https://www.rfc-editor.org/rfc/rfc7208#section-6.1"
_RFC7208_12 = "https://www.rfc-editor.org/rfc/rfc7208#section-12"

# RFC 7208 4.5: a record is an SPF record iff it starts with "v=spf1" followed by a space or its end.
_SPF_RECORD = re.compile(r"^v=spf1(?:\s|$)", re.IGNORECASE)
_ALL_TERM = re.compile(r"^([+?~-]?)all$", re.IGNORECASE)

META = CheckMeta(
    id="email.spf",
    title="SPF record says who may send mail as the domain",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the TXT records of the bare domain and looks for the SPF record (the one starting "
            "with v=spf1): there must be exactly one, and it must not end in +all, ?all or a bare all, "
            "which would authorise every server on the internet."
        ),
        why=(
            "Your sign-up verification links, password resets and receipts go out as your domain. Without "
            "SPF, Gmail, Outlook and Yahoo treat them as unauthenticated: they land in spam or are rejected, "
            "so new members never finish signing up. Two SPF records are a permanent error (as bad as none), "
            "and +all lets any spammer send mail that passes as yours."
        ),
        fix=(
            "Publish a single TXT record at the bare domain listing every service that sends your mail and "
            "ending in -all, e.g. `v=spf1 include:_spf.google.com include:spf.mtasv.net -all`. If the domain "
            "sends no mail at all, publish `v=spf1 -all`."
        ),
    ),
    findings=(
        FindingSpec(
            id="email.spf.missing",
            title="No SPF record: your emails may be junked or rejected",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation='Publish `<domain>. TXT "v=spf1 include:<your email provider> -all"`.',
            references=(_RFC7208, _GMAIL_RULES),
        ),
        FindingSpec(
            id="email.spf.multiple",
            title="More than one SPF record: SPF fails for every message",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Merge the SPF records into one TXT record and delete the others.",
            references=(_RFC7208_4_5,),
        ),
        FindingSpec(
            id="email.spf.permissive-all",
            title="SPF authorises every server to send as the domain",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="End the SPF record with -all (or ~all while you verify every sender is listed).",
            references=(_RFC7208_5_1, _RFC7208),
        ),
        FindingSpec(
            id="email.spf.syntax",
            title="The SPF record has a syntax error: SPF fails for every message",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Correct the record so every term is a valid mechanism or modifier (RFC 7208 section 12).",
            references=(_RFC7208_12,),
        ),
        FindingSpec(
            id="email.spf.too-many-lookups",
            title="SPF needs more than 10 DNS lookups: receivers return permerror",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Remove includes of services you no longer use, or replace includes with ip4:/ip6: ranges.",
            references=(_RFC7208_4_6_4,),
        ),
        FindingSpec(
            id="email.spf.void-lookups",
            title="SPF names point at nothing: more than 2 void lookups is a permerror",
            severity=Severity.MEDIUM,
            impact=Impact.EMAIL,
            remediation="Remove the a:/mx:/include: terms whose names no longer exist.",
            references=(_RFC7208_4_6_4,),
        ),
        FindingSpec(
            id="email.spf.broken-include",
            title="An SPF include or redirect is missing, looping or broken",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Fix or remove the include: / redirect= whose target has no single valid SPF record.",
            references=(_RFC7208_5_2, _RFC7208_6_1),
        ),
        FindingSpec(
            id="email.spf.ptr",
            title="SPF uses the ptr mechanism, which receivers may ignore",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Replace ptr with the ip4:/ip6: ranges or a: names of your mail servers.",
            references=(_RFC7208_5_5,),
        ),
        FindingSpec(
            id="email.spf.too-long",
            title="The SPF record is long enough to need TCP or be truncated",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Shorten the record: move ranges behind one include: of a sub-domain you control.",
            references=(_RFC7208_3_4,),
        ),
        FindingSpec(
            id="email.spf.softfail-all",
            title="SPF ends in ~all: unlisted senders are only marked suspicious",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            remediation="Once DMARC reports show every sender passing, change ~all to -all.",
            references=(_RFC7208_5_1,),
        ),
        FindingSpec(
            id="email.spf.sender-not-authorized",
            title="A sender you declared would fail SPF: its mail goes to spam",
            severity=Severity.BLOCKER,
            impact=Impact.EMAIL,
            remediation="Add the sender's include: or ip4:/ip6: to the SPF record.",
            references=(_RFC7208, _GMAIL_RULES),
        ),
        FindingSpec(
            id="email.spf.undeclared-include",
            title="SPF authorises a service not listed among your senders",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            confidence=Confidence.FIRM,
            remediation="Remove includes of services you no longer use, or list them in [email] senders.",
            references=(_RFC7208,),
        ),
    ),
    references=(_RFC7208, _GMAIL_RULES),
    probes=("dns",),
)


def spf_records(records: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(r.strip() for r in records if _SPF_RECORD.match(r.strip()))


def _txt(domain: str, record: str) -> str:
    return f'`{domain}. 300 IN TXT "{record}"`'


def _all_term(record: str) -> tuple[str, str] | None:
    """The first 'all' term and its qualifier ('+' when implicit); later terms never apply."""
    for term in record.split()[1:]:
        m = _ALL_TERM.match(term)
        if m:
            return term, m[1] or "+"
    return None


def _mechanisms(record: str) -> list[str]:
    """The record's terms except the version, 'all' and redirect= (which is replaced by -all)."""
    return [t for t in record.split()[1:] if not _ALL_TERM.match(t) and not t.lower().startswith("redirect=")]


def judge(
    domain: str,
    txt: DnsAnswer,
    *,
    senders: tuple[str, ...] = (),
    sends_mail: bool = True,
    tree: SpfNode | None = None,
    verdicts: tuple[SenderVerdict, ...] = (),
) -> list[Finding]:
    """Judge the apex TXT answer, its include ``tree`` and the declared senders' ``verdicts``.

    ``senders`` (config email.senders) make the suggested record exact.
    """
    if txt.failed:
        raise CouldNotRun(f"TXT query for {domain} failed ({txt.status}): {txt.error or 'no detail'}")
    if txt.status == "nxdomain":
        raise NotApplicable(f"{domain} does not exist in DNS (dns.apex reports it)")
    records = spf_records(txt.records)
    note = "if you are unsure every sender is listed, start with ~all and switch to -all after a week of DMARC reports"

    if not records:
        mechs = sender_mechanisms(senders)
        if mechs:
            record = "v=spf1 " + " ".join(mechs) + " -all"
            fix = f"Publish {_txt(domain, record)} ({note})."
        elif not sends_mail:
            fix = f"This domain sends no mail: publish {_txt(domain, 'v=spf1 -all')} so nobody can send as it."
        else:
            fix = (
                f"Publish {_txt(domain, 'v=spf1 include:<your email provider> -all')} with your provider's SPF "
                "domain (Google Workspace: _spf.google.com, Postmark: spf.mtasv.net, SendGrid: sendgrid.net, "
                "Amazon SES: amazonses.com, Mailgun: mailgun.org), one include per service that sends your mail; "
                f"list them in launchready.toml [email] senders for an exact record ({note})."
            )
        other = len(txt.records)
        evidence = [f"TXT {domain}: no record starts with v=spf1 ({other} other TXT record(s))"]
        return [META.finding("missing", target=domain, evidence=evidence, remediation=fix)]

    evidence = [f'TXT {domain}: "{r}"' for r in records]
    if len(records) > 1:
        terms: list[str] = []
        for record in records:
            for term in _mechanisms(record):
                if term not in terms:
                    terms.append(term)
        for mech in sender_mechanisms(senders):
            if mech not in terms:
                terms.append(mech)
        merged = " ".join(["v=spf1", *terms, "-all"])
        fix = (
            f"Replace the {len(records)} SPF records with one: {_txt(domain, merged)}, and delete the others. "
            "Receivers return a permanent error (RFC 7208 4.5) while more than one exists."
        )
        return [
            META.finding(
                "multiple",
                target=domain,
                evidence=[*evidence, f"{len(records)} records start with v=spf1: SPF evaluates to permerror"],
                remediation=fix,
            )
        ]

    record = records[0]
    try:
        parse_spf(record)
    except SpfSyntaxError as exc:
        return [
            META.finding(
                "syntax",
                target=domain,
                evidence=[*evidence, f"syntax error: {exc}"],
                remediation=f"Publish a corrected record, e.g. {_txt(domain, _rebuilt(record, senders))}; {exc}.",
            )
        ]
    findings: list[Finding] = []
    found = _all_term(record)
    if found is not None and found[1] in ("+", "?"):
        term, qualifier = found
        fixed = " ".join(["v=spf1", *_mechanisms(record), "-all"])
        if qualifier == "?":
            meaning = f"'{term}': every other server is 'neutral', which receivers treat like no SPF at all"
        else:
            same = "" if term.startswith("+") else " (the same as +all)"
            meaning = f"'{term}'{same}: every server on the internet passes SPF for this domain"
        findings.append(
            META.finding(
                "permissive-all",
                target=domain,
                evidence=[*evidence, meaning],
                remediation=f"Publish instead {_txt(domain, fixed)} ({note}).",
            )
        )
    elif found is not None and found[1] == "~":
        fixed = " ".join(["v=spf1", *_mechanisms(record), "-all"])
        findings.append(
            META.finding(
                "softfail-all",
                target=domain,
                evidence=[*evidence, f"'{found[0]}': mail from unlisted servers is accepted but marked suspicious"],
                remediation=(
                    f"~all is right while you confirm every sender; once DMARC aggregate reports show only your "
                    f"services, publish {_txt(domain, fixed)} so receivers reject forgeries outright."
                ),
            )
        )
    if len(record) > RECOMMENDED_MAX_LENGTH:
        findings.append(
            META.finding(
                "too-long",
                target=domain,
                evidence=[f"the SPF record is {len(record)} characters (over {RECOMMENDED_MAX_LENGTH})"],
                remediation=(
                    f"Move the ip4:/ip6: ranges into a record of their own, e.g. {_txt('_spf.' + domain, 'v=spf1 <ranges> -all')}, "
                    f"and reference it with include:_spf.{domain}."
                ),
            )
        )
    if tree is not None:
        findings.extend(_judge_tree(domain, record, tree, senders))
    findings.extend(_judge_senders(domain, record, verdicts, tree, senders))
    return findings


def _rebuilt(record: str, senders: tuple[str, ...]) -> str:
    """A record keeping the valid terms of ``record`` plus the declared senders, ending in -all."""
    terms: list[str] = []
    for term in _mechanisms(record):
        try:
            parse_term(term)
        except SpfSyntaxError:
            continue
        if term not in terms:
            terms.append(term)
    for mech in sender_mechanisms(senders):
        if mech not in terms:
            terms.append(mech)
    return " ".join(["v=spf1", *terms, "-all"])


def _judge_tree(domain: str, record: str, tree: SpfNode, senders: tuple[str, ...]) -> list[Finding]:
    findings: list[Finding] = []
    lines = tree.lines()
    total = tree.total_lookups
    if total > LOOKUP_LIMIT:
        heavy = sorted((c for c in tree.children), key=lambda c: c.total_lookups, reverse=True)
        worst = ", ".join(f"{c.via} ({c.total_lookups})" for c in heavy[:3]) or "the record's own terms"
        findings.append(
            META.finding(
                "too-many-lookups",
                target=domain,
                evidence=[f"{total} DNS-querying terms over the include tree (limit {LOOKUP_LIMIT}):", *lines],
                remediation=(
                    f"Bring the count to {LOOKUP_LIMIT} or fewer: the heaviest are {worst}. Remove includes of "
                    "services you no longer send through, replace a:/mx: with the ip4:/ip6: addresses they stand "
                    f"for, then publish one record, e.g. {_txt(domain, _rebuilt(record, senders))}. Receivers treat "
                    "a record over the limit as a permanent error: SPF fails for all your mail."
                ),
            )
        )
    void = tree.total_void
    if void > VOID_LIMIT:
        findings.append(
            META.finding(
                "void-lookups",
                target=domain,
                evidence=[f"{void} lookups return no records (limit {VOID_LIMIT}):", *lines],
                remediation="Remove the a:, mx:, exists: and include: terms whose names no longer exist in DNS.",
            )
        )
    broken = [n for n in tree.walk() if n.via and n.status != "ok"]
    if broken:
        evidence = [f"{n.via}: {n.status.upper()}" + (f" ({n.problem})" if n.problem else "") for n in broken]
        names = " ".join(n.via for n in broken)
        findings.append(
            META.finding(
                "broken-include",
                target=domain,
                evidence=[*evidence, *lines],
                remediation=(
                    f"Remove or correct {names}: an include: whose target has no single valid SPF record, or that "
                    "leads back to itself, makes receivers return permerror for every message. Use the include "
                    "domain your provider documents today."
                ),
            )
        )
    ptr_users = [n.domain for n in tree.walk() if n.uses_ptr]
    if ptr_users:
        findings.append(
            META.finding(
                "ptr",
                target=domain,
                evidence=[f"ptr used in the SPF record of {', '.join(ptr_users)}"],
                remediation=(
                    "RFC 7208 5.5 says ptr SHOULD NOT be used: it is slow and receivers may skip it. Replace it "
                    f"with the ip4:/ip6: ranges of your mail servers, e.g. {_txt(domain, 'v=spf1 ip4:<server> -all')}."
                ),
            )
        )
    return findings


def _judge_senders(
    domain: str, record: str, verdicts: tuple[SenderVerdict, ...], tree: SpfNode | None, senders: tuple[str, ...]
) -> list[Finding]:
    findings: list[Finding] = []
    failing = [v for v in verdicts if v.authorized is False]
    if failing:
        terms = list(_mechanisms(record))
        for v in failing:
            if v.mechanism not in terms:
                terms.append(v.mechanism)
        fixed = " ".join(["v=spf1", *terms, "-all"])
        findings.append(
            META.finding(
                "sender-not-authorized",
                target=domain,
                evidence=[f"declared sender {v.sender}: {v.detail}" for v in failing],
                remediation=f"Publish {_txt(domain, fixed)} so mail from {', '.join(v.sender for v in failing)} passes SPF.",
            )
        )
    if tree is not None and senders:
        declared = {m.partition(":")[2].lower() for m in sender_mechanisms(senders) if m.startswith("include:")}
        extra = [c.domain for c in tree.children if c.via.startswith("include:") and c.domain not in declared]
        if extra:
            findings.append(
                META.finding(
                    "undeclared-include",
                    target=domain,
                    evidence=[f"include:{name} is not among [email] senders" for name in extra],
                    remediation=(
                        f"If you still send through {', '.join(extra)}, add it to [email] senders in launchready.toml; "
                        f"otherwise remove it: publish {_txt(domain, ' '.join(['v=spf1', *(t for t in _mechanisms(record) if t.partition(':')[2].lower() not in extra), '-all']))}."
                    ),
                )
            )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    txt = await ctx.dns.txt(target)
    email = ctx.config.email
    records = spf_records(txt.records) if txt.ok else ()
    tree: SpfNode | None = None
    verdicts: tuple[SenderVerdict, ...] = ()
    if len(records) == 1:
        tree = await ctx.mail.spf_tree(target)
        verdicts = (
            tuple(
                [
                    await ctx.mail.evaluate_sender(target, sender, mech, tree)
                    for sender, mech in zip(
                        email.senders, (sender_mechanisms((s,))[0] for s in email.senders), strict=True
                    )
                ]
            )
            if tree.status == "ok"
            else ()
        )
    return judge(target, txt, senders=email.senders, sends_mail=email.sends_mail, tree=tree, verdicts=verdicts)


CHECK = Check(meta=META, run=run)
