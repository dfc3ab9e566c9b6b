"""dns.registration: the domain stays registered, cannot be transferred away, and someone named holds it.

Read from the registry's RDAP answer (RFC 9083): the expiry date, the EPP status codes and the
registrar; the DNS host is the operator of the name servers the registry delegates to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from launchready.config.sections.owners import Owner
from launchready.core.check import Check, CheckDoc, CheckMeta, FindingSpec, Scope
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.rdap import RdapFacts
from launchready.core.severity import Impact, Severity
from launchready.email.psl import organizational_domain

if TYPE_CHECKING:
    from launchready.engine.context import AuditContext

_RFC9083 = "https://www.rfc-editor.org/rfc/rfc9083"
_RFC8056 = "https://www.rfc-editor.org/rfc/rfc8056"
_ICANN_EPP = "https://www.icann.org/resources/pages/epp-status-codes-2014-06-16-en"
_ICANN_EXPIRY = "https://www.icann.org/resources/pages/registrant-expiration-2017-06-20-en"
_ICANN_HIJACK = "https://www.icann.org/en/system/files/files/sac-040-en.pdf"

# Renewal reminders go to the registrant's address; below these many days the domain is at risk.
EXPIRY_WARNING_DAYS = 30
EXPIRY_BLOCKER_DAYS = 14
# Either lock stops a transfer: the registrar's (client) or the registry's (server, a "registry lock").
TRANSFER_LOCKS = ("clientTransferProhibited", "serverTransferProhibited")
REGISTRAR_KEYS = ("registrar",)
DNS_HOST_KEYS = ("dns", "dns-host")

META = CheckMeta(
    id="dns.registration",
    title="Registration: the domain is renewed, transfer-locked and held by someone named",
    scope=Scope.DOMAIN,
    doc=CheckDoc(
        what=(
            "Looks the domain up over RDAP, the registries' replacement for WHOIS, at the server IANA's "
            "bootstrap file names for its TLD (or --rdap-server). It reads the expiry date, the status codes "
            "(clientTransferProhibited and the like), the registrar, the name servers and whether the "
            "delegation is DNSSEC-signed, and compares the registrar and the DNS host with the [owners] "
            "table of launchready.toml."
        ),
        why=(
            "An expired domain takes the site, the email and every login link down at once, and a domain "
            "past its grace period can be bought by anyone. The usual cause is not money but ownership: "
            "the renewal reminders go to a freelancer or an old employee. Without the transfer lock a "
            "phished registrar login is enough to move the domain to another registrar. And when nobody "
            "knows who holds the registrar or the DNS account, an outage waits for that person."
        ),
        fix=(
            "Turn on auto-renew at the registrar and renew now if the expiry is near; turn on the transfer "
            "lock (often called 'registrar lock' or 'domain lock'); write who holds the registrar and DNS "
            'accounts in launchready.toml, e.g. `[owners]` `registrar = { name = "Ana Lima", role = "CTO" }` '
            'and `dns = "Ana Lima"`, and make sure the registrar\'s contact address is one the team reads.'
        ),
    ),
    findings=(
        FindingSpec(
            id="dns.registration.expires-soon",
            title="The domain registration expires within 30 days (a blocker within 14)",
            severity=Severity.HIGH,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Renew the domain at the registrar now and turn on auto-renew with a payment method that "
                "will still be valid; check the registrar's contact address reaches the team."
            ),
            references=(_ICANN_EXPIRY, _RFC9083),
        ),
        FindingSpec(
            id="dns.registration.no-transfer-lock",
            title="The domain has no transfer lock (clientTransferProhibited)",
            severity=Severity.MEDIUM,
            impact=Impact.TRUST,
            remediation=(
                "Turn on the transfer lock ('registrar lock', 'domain lock') in the registrar's dashboard; "
                "the RDAP status must then show 'client transfer prohibited'."
            ),
            references=(_ICANN_EPP, _RFC8056, _ICANN_HIJACK),
        ),
        FindingSpec(
            id="dns.registration.registrar-unowned",
            title="Nobody is named as holding the registrar account",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation=(
                "Name who holds the registrar account in launchready.toml: "
                '`[owners]` `registrar = { name = "...", role = "..." }`.'
            ),
            references=(_ICANN_EXPIRY,),
        ),
        FindingSpec(
            id="dns.registration.dns-host-unowned",
            title="Nobody is named as holding the DNS hosting account",
            severity=Severity.MEDIUM,
            impact=Impact.AVAILABILITY,
            remediation=(
                'Name who holds the DNS account in launchready.toml: `[owners]` `dns = { name = "...", role = "..." }`.'
            ),
            references=(_RFC9083,),
        ),
    ),
    references=(_RFC9083, _ICANN_EPP, _ICANN_EXPIRY),
    probes=("rdap",),
)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def dns_host(nameservers: tuple[str, ...]) -> str | None:
    """Who runs the name servers: the registrable domain of the first one (ns1.cloudflare.com -> cloudflare.com)."""
    for ns in nameservers:
        return organizational_domain(ns)
    return None


def _named(owners: Mapping[str, str | Owner], keys: tuple[str, ...], provider: str | None) -> str | Owner | None:
    """The owner entry for an account kind, or for the provider by name (``cloudflare`` for cloudflare.com)."""
    for key in keys:
        if key in owners:
            return owners[key]
    if provider:
        for key in (provider, provider.split(".")[0]):
            if key in owners:
                return owners[key]
    return None


def judge(facts: RdapFacts, owners: Mapping[str, str | Owner], now: datetime) -> list[Finding]:
    """Judge one RDAP answer against the owners table, at ``now`` (pure)."""
    domain = facts.domain
    if facts.error is not None:
        raise CouldNotRun(f"RDAP lookup of {domain} failed: {facts.error}")
    source = f"RDAP {facts.url}"
    findings: list[Finding] = []
    if facts.expires is not None:
        left = facts.expires - now
        if left < timedelta(days=EXPIRY_WARNING_DAYS):
            severity = Severity.BLOCKER if left < timedelta(days=EXPIRY_BLOCKER_DAYS) else Severity.HIGH
            # Days counted up: an expiry 9 days and 23 hours away reads "10 days".
            days = math.ceil(left.total_seconds() / 86400)
            when = f"{days} day{'s' if days != 1 else ''}" if left.total_seconds() > 0 else "already expired"
            findings.append(
                META.finding(
                    "expires-soon",
                    target=domain,
                    severity=severity,
                    title=f"The domain registration expires on {_day(facts.expires)} ({when})",
                    evidence=(f"{source}: expiration {facts.expires.isoformat()}", f"observed {now.isoformat()}"),
                )
            )
    if facts.statuses and not any(facts.has_status(lock) for lock in TRANSFER_LOCKS):
        findings.append(
            META.finding(
                "no-transfer-lock",
                target=domain,
                evidence=(f"{source}: status {', '.join(facts.statuses)}",),
            )
        )
    registrar = facts.registrar
    if registrar is not None and _named(owners, REGISTRAR_KEYS, None) is None:
        findings.append(
            META.finding(
                "registrar-unowned",
                target=domain,
                evidence=(f"{source}: registrar {registrar}", "launchready.toml [owners]: no 'registrar' entry"),
                remediation=(
                    f"Name who holds the {registrar} account in launchready.toml: "
                    '`[owners]` `registrar = { name = "...", role = "..." }`.'
                ),
            )
        )
    host = dns_host(facts.nameservers)
    if host is not None and _named(owners, DNS_HOST_KEYS, host) is None:
        findings.append(
            META.finding(
                "dns-host-unowned",
                target=domain,
                evidence=(
                    f"{source}: name servers {', '.join(facts.nameservers)} ({host})",
                    "launchready.toml [owners]: no 'dns' entry",
                ),
                remediation=(
                    f"Name who holds the DNS account at {host} in launchready.toml: "
                    '`[owners]` `dns = { name = "...", role = "..." }`.'
                ),
            )
        )
    return findings


def shown_facts(facts: RdapFacts, owners: Mapping[str, str | Owner]) -> list[tuple[str, str]]:
    """(name, value) rows the report shows for the registration: measurements, not risks."""
    if facts.error is not None:
        return []
    rows: list[tuple[str, str]] = []
    if facts.registrar:
        holder = _named(owners, REGISTRAR_KEYS, None)
        rows.append(("Registrar", facts.registrar + (f" (held by {holder})" if holder else "")))
    if facts.expires:
        rows.append(("Registration expires", _day(facts.expires)))
    if facts.statuses:
        rows.append(("Registration status", ", ".join(facts.statuses)))
    host = dns_host(facts.nameservers)
    if host:
        holder = _named(owners, DNS_HOST_KEYS, host)
        rows.append(("DNS host", host + (f" (held by {holder})" if holder else "")))
    if facts.delegation_signed is not None:
        rows.append(("DNSSEC delegation (RDAP)", "signed" if facts.delegation_signed else "unsigned"))
    return rows


async def run(ctx: AuditContext, target: str) -> list[Finding]:
    facts = await ctx.probes.rdap.lookup(target)
    for name, value in shown_facts(facts, ctx.config.owners):
        ctx.facts.add(target, name, value, check_id=META.id, detail=(f"RDAP {facts.url}",))
    return judge(facts, ctx.config.owners, ctx.now)


CHECK = Check(meta=META, run=run)
