"""email.tls-rpt: a TLS-RPT record tells senders where to report TLS failures delivering to you."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun, NotApplicable
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity
from launchready.email.mta_sts import TlsRptRecord

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC8460 = "https://www.rfc-editor.org/rfc/rfc8460"
_RFC8460_3 = "https://www.rfc-editor.org/rfc/rfc8460#section-3"
_GOOGLE_TLS_RPT = "https://support.google.com/a/answer/9276511"

META = CheckMeta(
    id="email.tls-rpt",
    title="TLS-RPT tells senders where to report TLS problems with your mail servers",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the TXT record at _smtp._tls.DOMAIN: exactly one record starting with v=TLSRPTv1 whose rua= "
            "lists mailto: or https: addresses where sending servers deliver their daily TLS reports (RFC 8460)."
        ),
        why=(
            "When a sender cannot set up TLS to your MX (an expired certificate on the mail server, a wrong "
            "MTA-STS policy) the mail is delayed or refused, and nobody tells you. With TLS-RPT, Gmail, Outlook "
            "and others send a daily report, so a broken mail server certificate is noticed before members complain."
        ),
        fix=(
            'Publish `_smtp._tls.DOMAIN. TXT "v=TLSRPTv1; rua=mailto:tls-reports@DOMAIN"` (a mailbox that exists, '
            "or the address a report service gives you); it costs nothing and changes no delivery."
        ),
    ),
    findings=(
        FindingSpec(
            id="email.tls-rpt.missing",
            title="No TLS-RPT record: TLS failures delivering to you go unreported",
            severity=Severity.INFO,
            impact=Impact.EMAIL,
            remediation='Publish `_smtp._tls.<domain>. TXT "v=TLSRPTv1; rua=mailto:tls-reports@<domain>"`.',
            references=(_RFC8460, _GOOGLE_TLS_RPT),
        ),
        FindingSpec(
            id="email.tls-rpt.invalid",
            title="The TLS-RPT record is malformed: no reports are sent",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation='Publish exactly one record `"v=TLSRPTv1; rua=mailto:<address>"` at _smtp._tls.',
            references=(_RFC8460_3,),
        ),
    ),
    references=(_RFC8460, _GOOGLE_TLS_RPT),
    probes=("dns",),
)

_LOOKS_LIKE_TLSRPT = re.compile(r"^\s*v\s*=\s*tlsrpt", re.IGNORECASE)


def _record(domain: str) -> str:
    return f'`_smtp._tls.{domain}. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@{domain}"`'


def judge(domain: str, txt: DnsAnswer) -> list[Finding]:
    name = f"_smtp._tls.{domain}"
    if txt.failed:
        raise CouldNotRun(f"TXT query for {name} failed ({txt.status}): {txt.error or 'no detail'}")
    records = [TlsRptRecord.parse(r.strip()) for r in txt.records] if txt.ok else []
    candidates = [r for r in records if r.is_tlsrpt or _LOOKS_LIKE_TLSRPT.match(r.raw)]
    if not candidates:
        return [
            META.finding(
                "missing",
                target=domain,
                evidence=[
                    f"TXT {name}: " + (f"{len(records)} record(s), none v=TLSRPTv1" if records else txt.status.upper())
                ],
                remediation=f"Publish {_record(domain)} (the mailbox must exist, or use a TLS report service's address).",
            )
        ]
    problem = "more than one v=TLSRPTv1 record: senders use none" if len(candidates) > 1 else candidates[0].problem
    if problem is None:
        return []
    return [
        META.finding(
            "invalid",
            target=name,
            evidence=[*(f'TXT {name}: "{r.raw}"' for r in candidates), f"problem: {problem}"],
            remediation=f"Publish exactly one record, e.g. {_record(domain)}, and delete the others.",
        )
    ]


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    if not ctx.config.email.receives_mail or (ctx.site.mx.ok and not ctx.site.mx_hosts):
        raise NotApplicable("the domain receives no mail (null MX or [email] receives_mail = false)")
    return judge(target, await ctx.dns.txt(f"_smtp._tls.{target}"))


CHECK = Check(meta=META, run=run)
