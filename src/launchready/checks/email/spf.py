"""email.spf: the domain publishes exactly one SPF record, and it does not let anyone send."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.probes.dns import DnsAnswer

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC7208 = "https://www.rfc-editor.org/rfc/rfc7208"
_RFC7208_4_5 = "https://www.rfc-editor.org/rfc/rfc7208#section-4.5"
_RFC7208_5_1 = "https://www.rfc-editor.org/rfc/rfc7208#section-5.1"
_GMAIL_RULES = "https://support.google.com/a/answer/81126"

# The SPF include domain of the providers founders commonly send through (config email.senders).
PROVIDER_INCLUDES: dict[str, str] = {
    "google": "_spf.google.com",
    "gmail": "_spf.google.com",
    "workspace": "_spf.google.com",
    "microsoft": "spf.protection.outlook.com",
    "office365": "spf.protection.outlook.com",
    "outlook": "spf.protection.outlook.com",
    "postmark": "spf.mtasv.net",
    "sendgrid": "sendgrid.net",
    "amazonses": "amazonses.com",
    "ses": "amazonses.com",
    "mailgun": "mailgun.org",
    "mailchimp": "servers.mcsv.net",
    "mandrill": "spf.mandrillapp.com",
    "sparkpost": "sparkpostmail.com",
    "brevo": "spf.brevo.com",
    "sendinblue": "spf.sendinblue.com",
    "mailjet": "spf.mailjet.com",
    "zoho": "zoho.com",
    "fastmail": "spf.messagingengine.com",
    "protonmail": "_spf.protonmail.ch",
    "proton": "_spf.protonmail.ch",
}

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
    ),
    references=(_RFC7208, _GMAIL_RULES),
    probes=("dns",),
)


def sender_mechanisms(senders: tuple[str, ...]) -> tuple[str, ...]:
    """SPF mechanisms for the configured senders: provider names, include:X, ip4:X, ip6:X, a, mx."""
    out: list[str] = []
    for sender in senders:
        s = sender.strip()
        low = s.lower()
        if low.startswith(("include:", "ip4:", "ip6:", "a:", "mx:")) or low in ("a", "mx"):
            mech = s
        elif low in PROVIDER_INCLUDES:
            mech = f"include:{PROVIDER_INCLUDES[low]}"
        else:
            mech = f"include:<SPF domain of {s}>"
        if mech not in out:
            out.append(mech)
    return tuple(out)


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
) -> list[Finding]:
    """Judge the apex TXT answer; ``senders`` (config email.senders) make the suggested record exact."""
    if txt.status in ("timeout", "servfail", "error"):
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
    found = _all_term(record)
    if found is not None and found[1] in ("+", "?"):
        term, qualifier = found
        fixed = " ".join(["v=spf1", *_mechanisms(record), "-all"])
        if qualifier == "?":
            meaning = f"'{term}': every other server is 'neutral', which receivers treat like no SPF at all"
        else:
            same = "" if term.startswith("+") else " (the same as +all)"
            meaning = f"'{term}'{same}: every server on the internet passes SPF for this domain"
        return [
            META.finding(
                "permissive-all",
                target=domain,
                evidence=[*evidence, meaning],
                remediation=f"Publish instead {_txt(domain, fixed)} ({note}).",
            )
        ]
    return []


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    txt = await ctx.dns.txt(target)
    email = ctx.config.email
    return judge(target, txt, senders=email.senders, sends_mail=email.sends_mail)


CHECK = Check(meta=META, run=run)
