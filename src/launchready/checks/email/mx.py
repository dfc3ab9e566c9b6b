"""email.mx: mail for the domain has somewhere valid to go, or a null MX says it takes none."""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import MAX_MX_TARGETS, DnsAnswer
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC5321_5_1 = "https://www.rfc-editor.org/rfc/rfc5321#section-5.1"
_RFC7505 = "https://www.rfc-editor.org/rfc/rfc7505"
_RFC2181_10_3 = "https://www.rfc-editor.org/rfc/rfc2181#section-10.3"

META = CheckMeta(
    id="email.mx",
    title="Mail exchangers are valid host names with addresses",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the domain's MX records: there must be at least one, or a null MX (`0 .`, RFC 7505) when the "
            "domain receives no mail; each target must be a host name (not an IP address, not a CNAME) that "
            "has an A or AAAA record. Only the "
            f"{MAX_MX_TARGETS} most preferred targets are looked up; more than that is itself reported "
            "(with how many were not checked), never passed."
        ),
        why=(
            "Replies to your signup and receipt emails, bounce notices and members writing to support@ go to "
            "the MX hosts. A target that is a CNAME or has no address makes some senders refuse or delay "
            "delivery, and a domain without MX that sends mail looks like a spammer's throwaway domain to filters."
        ),
        fix=(
            "Publish MX records naming your mail provider's host names exactly as it documents them, e.g. "
            "`DOMAIN. 300 IN MX 1 smtp.google.com.`; a domain that receives no mail publishes `DOMAIN. 300 IN MX 0 .`."
        ),
    ),
    findings=(
        FindingSpec(
            id="email.mx.missing",
            title="No MX record: replies and bounces to your domain are lost",
            severity=Severity.MEDIUM,
            impact=Impact.EMAIL,
            remediation="Publish your mail provider's MX records, or a null MX (`0 .`) if the domain receives no mail.",
            references=(_RFC5321_5_1, _RFC7505),
        ),
        FindingSpec(
            id="email.mx.cname-target",
            title="An MX target is a CNAME, which mail servers may refuse",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Point the MX record at the canonical host name (the CNAME's target), not at the alias.",
            references=(_RFC2181_10_3, _RFC5321_5_1),
        ),
        FindingSpec(
            id="email.mx.ip-literal",
            title="An MX record names an IP address instead of a host name",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Give the mail server a host name with an A record and name that in the MX record.",
            references=(_RFC5321_5_1,),
        ),
        FindingSpec(
            id="email.mx.no-address",
            title="An MX target has no address: mail to it cannot be delivered",
            severity=Severity.HIGH,
            impact=Impact.EMAIL,
            remediation="Publish an A/AAAA record for the MX host, or point the MX at a host that has one.",
            references=(_RFC5321_5_1,),
        ),
        FindingSpec(
            id="email.mx.too-many",
            title="More MX records than any sender tries: the rest were not checked",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation=("Publish only the mail exchangers your provider documents (one to five); remove the rest."),
            references=(_RFC5321_5_1,),
        ),
        FindingSpec(
            id="email.mx.null-mx-advised",
            title="The domain receives no mail but says nothing: publish a null MX",
            severity=Severity.LOW,
            impact=Impact.EMAIL,
            remediation="Publish `<domain>. 300 IN MX 0 .` so senders bounce at once instead of retrying for days.",
            references=(_RFC7505,),
        ),
    ),
    references=(_RFC5321_5_1, _RFC7505, _RFC2181_10_3),
    probes=("dns",),
)


@dataclass(frozen=True)
class MxTarget:
    preference: int
    host: str  # lower-case, no trailing dot; "." for a null MX
    a: DnsAnswer | None = None
    aaaa: DnsAnswer | None = None
    cname: DnsAnswer | None = None


def parse_mx(records: tuple[str, ...]) -> list[tuple[int, str]]:
    """(preference, exchange) pairs sorted by preference, from the typed MX records of the answer."""
    return sorted((m.preference, m.exchange) for m in DnsAnswer("", "MX", "ok", records).mx)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def judge(
    domain: str,
    mx: DnsAnswer,
    targets: tuple[MxTarget, ...],
    *,
    receives_mail: bool,
    sends_mail: bool,
    not_checked: int = 0,
) -> list[Finding]:
    """``targets`` are the MX records looked up; ``not_checked`` counts those that were not."""
    if mx.failed:
        raise CouldNotRun(f"MX query for {domain} failed ({mx.status})")
    mx_line = f"MX {domain}: " + (", ".join(mx.records) if mx.records else mx.status.upper())
    if not targets:
        if receives_mail:
            return [
                META.finding(
                    "missing",
                    target=domain,
                    evidence=[mx_line],
                    remediation=(
                        f"Publish your mail provider's MX records, e.g. Google Workspace `{domain}. 300 IN MX 1 smtp.google.com.`. "
                        f"If {domain} receives no mail at all, publish a null MX instead: `{domain}. 300 IN MX 0 .` "
                        "(and set [email] receives_mail = false in launchready.toml)."
                    ),
                )
            ]
        return [
            META.finding(
                "null-mx-advised",
                target=domain,
                evidence=[mx_line, "[email] receives_mail = false"],
                remediation=(
                    f"Publish `{domain}. 300 IN MX 0 .` (RFC 7505). It is safe for a domain that only sends: replies "
                    "to your no-reply address bounce at once instead of queueing for days, and SPF/DKIM/DMARC for "
                    "your outgoing mail are unaffected."
                    + ("" if sends_mail else f' Also publish `{domain}. 300 IN TXT "v=spf1 -all"`.')
                ),
            )
        ]
    if len(targets) == 1 and targets[0].host == "." and not not_checked:
        return []  # null MX: the domain says it takes no mail, which is valid
    findings: list[Finding] = []
    if not_checked:
        # The targets beyond the most preferred were never looked up: say so rather than pass them.
        findings.append(
            META.finding(
                "too-many",
                target=domain,
                evidence=[
                    f"{len(targets) + not_checked} MX records for {domain}",
                    f"looked up: the {len(targets)} most preferred "
                    f"({', '.join(f'{t.preference} {t.host}' for t in targets[:5])}"
                    f"{', ...' if len(targets) > 5 else ''})",
                    f"not looked up or checked: {not_checked}",
                ],
                remediation=(
                    f"Keep only your mail provider's documented MX hosts for {domain} and delete the other records: "
                    "senders try the most preferred few and give up, and an answer this long only fits DNS over "
                    "TCP, which some resolvers and firewalls do not allow."
                ),
            )
        )
    for t in targets:
        if t.host == ".":
            continue
        if _is_ip(t.host):
            findings.append(
                META.finding(
                    "ip-literal",
                    target=domain,
                    evidence=[mx_line, f"MX target {t.host} is an address"],
                    remediation=f"Publish `mail.{domain}. 300 IN A {t.host.strip('[]')}` and `{domain}. 300 IN MX {t.preference} mail.{domain}.` instead.",
                )
            )
            continue
        if t.cname is not None and t.cname.ok:
            canonical = t.cname.records[0].rstrip(".")
            findings.append(
                META.finding(
                    "cname-target",
                    target=domain,
                    evidence=[mx_line, f"{t.host} is a CNAME to {canonical}"],
                    remediation=f"Publish `{domain}. 300 IN MX {t.preference} {canonical}.` and remove the MX naming {t.host} (RFC 2181 10.3: an MX must not name an alias).",
                )
            )
            continue
        answers = [a for a in (t.a, t.aaaa) if a is not None]
        if answers and all(a.status in ("nxdomain", "nodata") for a in answers):
            findings.append(
                META.finding(
                    "no-address",
                    target=domain,
                    evidence=[mx_line, *(f"{a.rdtype} {t.host}: {a.status.upper()}" for a in answers)],
                    remediation=f"Publish `{t.host}. 300 IN A <mail server IP>`, or replace the MX with your provider's documented host names.",
                )
            )
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    mx = await ctx.dns.query(target, "MX")
    preferred, not_checked = mx.preferred_mx() if mx.ok else ((), 0)
    parsed = [(m.preference, m.exchange) for m in preferred]

    async def facts(pref: int, host: str) -> MxTarget:
        if host == "." or _is_ip(host):
            return MxTarget(pref, host)
        (a, aaaa), cname = await asyncio.gather(ctx.dns.addresses(host), ctx.dns.query(host, "CNAME"))
        return MxTarget(pref, host, a, aaaa, cname)

    targets = tuple(await asyncio.gather(*(facts(p, h) for p, h in parsed)))
    email = ctx.config.email
    return judge(
        target, mx, targets, receives_mail=email.receives_mail, sends_mail=email.sends_mail, not_checked=not_checked
    )


CHECK = Check(meta=META, run=run)
