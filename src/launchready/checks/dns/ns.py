"""dns.ns: every name server of the zone answers, authoritatively, with the same zone version."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.dns import DnsAnswer, ServerAnswer
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.severity import Impact, Severity

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC1034_4_1 = "https://www.rfc-editor.org/rfc/rfc1034#section-4.1"
_RFC1035_3_3_13 = "https://www.rfc-editor.org/rfc/rfc1035#section-3.3.13"
_RFC1996 = "https://www.rfc-editor.org/rfc/rfc1996"
_RFC2182 = "https://www.rfc-editor.org/rfc/rfc2182"
_RFC8499_LAME = "https://www.rfc-editor.org/rfc/rfc8499#section-7"

META = CheckMeta(
    id="dns.ns",
    title="Every name server answers with the same zone",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Reads the domain's NS records, then asks each name server directly (recursion off, on port 53 "
            "of each of its addresses) for the zone's SOA record: each must answer, answer authoritatively "
            "(the AA flag), and serve the same SOA serial, i.e. the same version of the zone."
        ),
        why=(
            "Resolvers pick a name server at random. One that is down makes a share of lookups slow or fail "
            "(and the day the other fails the product disappears); one serving an older serial hands out old "
            "records, so a DNS change made for the launch is visible to some visitors and not to others."
        ),
        fix=(
            "Make every server listed in NS serve the zone: fix or remove a dead one at the registrar and in "
            "the zone, and repair zone transfers (NOTIFY, AXFR/IXFR) so secondaries catch up. "
            "`dig +norec SOA DOMAIN @NAMESERVER` must show the same serial on every server."
        ),
    ),
    findings=(
        FindingSpec(
            id="dns.ns.not-answering",
            title="A name server of the domain does not answer",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation="Bring the name server back or remove it from the NS records (zone and registrar).",
            references=(_RFC2182, _RFC1034_4_1),
        ),
        FindingSpec(
            id="dns.ns.lame",
            title="A name server answers but does not serve the zone (lame delegation)",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation="Add the zone to that server at your DNS provider, or remove the server from the NS records.",
            references=(_RFC8499_LAME, _RFC1034_4_1),
        ),
        FindingSpec(
            id="dns.ns.serial-mismatch",
            title="Name servers serve different versions of the zone (SOA serials differ)",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation="Repair zone transfers from the primary (NOTIFY, AXFR/IXFR) so every server serves the newest serial.",
            references=(_RFC1996, _RFC1035_3_3_13),
        ),
        FindingSpec(
            id="dns.ns.single",
            title="The domain has only one name server",
            severity=Severity.LOW,
            impact=Impact.AVAILABILITY,
            remediation="Publish at least two NS records on separate networks (your DNS provider lists them).",
            references=(_RFC2182, _RFC1034_4_1),
        ),
    ),
    references=(_RFC2182, _RFC1034_4_1, _RFC1996),
    probes=("dns",),
)


def ns_names(answer: DnsAnswer) -> tuple[str, ...]:
    return tuple(sorted(set(answer.names)))


def soa_serial(answer: ServerAnswer) -> int | None:
    """The serial of the first SOA record, or None."""
    return answer.soa.serial if answer.soa is not None else None


def _shown(a: ServerAnswer) -> str:
    where = f"{a.server} ({a.address})" if a.address else a.server
    if a.error:
        return f"{where}: {a.error}"
    flags = "authoritative" if a.authoritative else "NOT authoritative"
    serial = soa_serial(a)
    return f"{where}: {a.rcode}, {flags}" + (f", SOA serial {serial}" if serial is not None else ", no SOA")


def judge(domain: str, ns: DnsAnswer, servers: tuple[tuple[str, tuple[ServerAnswer, ...]], ...]) -> list[Finding]:
    """Judge the NS answer (through the resolver) and each server's own SOA answer(s)."""
    if ns.failed:
        raise CouldNotRun(f"NS query for {domain} failed ({ns.status}): {ns.error or 'no detail'}")
    names = ns_names(ns)
    if not names:
        raise CouldNotRun(f"NS query for {domain}: {ns.status.upper()}, no name servers to ask")
    findings: list[Finding] = []
    ns_line = f"NS {domain}: {', '.join(names)}"
    if len(names) == 1:
        findings.append(
            META.finding(
                "single",
                target=domain,
                evidence=[ns_line],
                remediation=(
                    f"Publish a second name server: `{domain}. 3600 IN NS <second server from your DNS provider>.` in the "
                    "zone and the same list at the registrar (RFC 2182: at least two, on separate networks)."
                ),
            )
        )
    serials: dict[int, list[str]] = {}
    dead: list[str] = []
    for name, answers in servers:
        evidence = [ns_line, *(_shown(a) for a in answers)]
        silent = [a for a in answers if not a.answered]
        if answers and len(silent) == len(answers):
            dead.append(name)
            findings.append(
                META.finding(
                    "not-answering",
                    target=name,
                    evidence=evidence,
                    remediation=(
                        f"Bring {name} back (check it at your DNS provider: `dig +norec SOA {domain} @{name}` must answer), "
                        f"or if you no longer use it delete `{domain}. NS {name}.` from the zone and from the registrar's "
                        "name server list, so resolvers stop waiting on it."
                    ),
                )
            )
            continue
        lame = [a for a in answers if a.answered and (not a.authoritative or a.status != "ok" or soa_serial(a) is None)]
        if lame:
            findings.append(
                META.finding(
                    "lame",
                    target=name,
                    evidence=evidence,
                    remediation=(
                        f"Add the zone {domain} to {name} at your DNS provider (or delete `{domain}. NS {name}.` from the "
                        f"zone and the registrar): it answers {lame[0].rcode} without authority, so resolvers that ask it fail."
                    ),
                )
            )
            continue
        for a in answers:
            serial = soa_serial(a)
            if serial is not None and name not in serials.setdefault(serial, []):
                serials[serial].append(name)
    if len(serials) > 1:
        newest = max(serials)
        behind = sorted({n for s, ns_list in serials.items() if s != newest for n in ns_list})
        findings.append(
            META.finding(
                "serial-mismatch",
                target=domain,
                evidence=[ns_line, *(f"SOA serial {s}: {', '.join(sorted(n))}" for s, n in sorted(serials.items()))],
                remediation=(
                    f"{', '.join(behind)} still serve(s) an older zone than serial {newest}. At the primary, send NOTIFY "
                    f"and check that zone transfers (AXFR/IXFR) to {', '.join(behind)} succeed (allow-transfer / also-notify "
                    f"list the secondary, TSIG key matches); afterwards `dig +norec SOA {domain} @<each server>` must show "
                    f"serial {newest} everywhere."
                ),
            )
        )
    if dead and len(dead) == len(servers):
        findings = [
            f.model_copy(update={"severity": Severity.BLOCKER}) if f.id == "dns.ns.not-answering" else f
            for f in findings
        ]
    return findings


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    ns = await ctx.dns.query(target, "NS")
    names = ns_names(ns) if ns.ok else ()
    answers = await asyncio.gather(*(ctx.dns.query_server(n, target, "SOA") for n in names))
    return judge(target, ns, tuple(zip(names, answers, strict=True)))


CHECK = Check(meta=META, run=run)
