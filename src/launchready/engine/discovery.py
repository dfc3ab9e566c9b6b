"""Zero-config discovery: which names under the domain exist, found through real DNS queries.

The apex and www are always asked; then the config's subdomains and a built-in list of the
names products commonly use; then the MX hosts (the MAX_MX_TARGETS most preferred; the
rest are counted, not looked up). A wildcard record would make every guessed
name "exist", so a random label is asked first and guessed names that only match the wildcard
are dropped (names the user declared are kept regardless).
"""

from __future__ import annotations

import asyncio
import secrets

from launchready.config.model import Config
from launchready.core.dns import DnsAnswer
from launchready.core.names import COMMON_DKIM_SELECTORS, COMMON_SUBDOMAINS
from launchready.core.protocols import DnsLookup
from launchready.engine.context import HostInfo, SiteMap

__all__ = ["COMMON_DKIM_SELECTORS", "COMMON_SUBDOMAINS", "discover", "discover_dkim_selectors", "spf_terms"]


# Discovery asks many names at once; more in flight than this only queues at the resolver.
_DISCOVERY_CONCURRENCY = 16


def _candidates(domain: str, config: Config) -> list[tuple[str, str]]:
    """(name, found_by) in the order hosts are reported: apex, www, declared, common."""
    out: list[tuple[str, str]] = [(domain, "apex"), (f"www.{domain}", "www")]
    for label in config.subdomains:
        name = label if label.endswith("." + domain) else f"{label}.{domain}"
        out.append((name, "config"))
    if config.audit.discover:
        out.extend((f"{label}.{domain}", "common-name") for label in COMMON_SUBDOMAINS)
    seen: set[str] = set()
    unique: list[tuple[str, str]] = []
    for name, how in out:
        if name not in seen:
            seen.add(name)
            unique.append((name, how))
    return unique


def _exists(a: DnsAnswer, aaaa: DnsAnswer) -> bool:
    """A name exists for our purposes when it has an address or a CNAME (even a dangling one)."""
    return a.ok or aaaa.ok or len(a.chain) > 1 or len(aaaa.chain) > 1


async def discover(domain: str, config: Config, dns: DnsLookup) -> SiteMap:
    domain = domain.lower().rstrip(".")
    limit = asyncio.Semaphore(_DISCOVERY_CONCURRENCY)

    async def lookup(name: str) -> tuple[DnsAnswer, DnsAnswer]:
        async with limit:
            return await dns.addresses(name)

    apex_a, apex_aaaa = await lookup(domain)
    if not (apex_a.answered or apex_aaaa.answered):
        # The DNS does not answer for the apex (timeout, SERVFAIL): fifty more questions would
        # each wait out the same timeout. The apex's answer is the finding.
        return SiteMap(
            domain=domain, hosts=(HostInfo(domain, apex_a, apex_aaaa, "apex"),), mx=await dns.query(domain, "MX")
        )

    wildcard_probe = f"lr-{secrets.token_hex(6)}.{domain}"
    candidates = _candidates(domain, config)
    mx_task = asyncio.ensure_future(dns.query(domain, "MX"))
    wildcard_task = asyncio.ensure_future(lookup(wildcard_probe))
    answers = await asyncio.gather(*(lookup(name) for name, _ in candidates))
    wild_a, wild_aaaa = await wildcard_task
    wildcard = (wild_a.records, wild_aaaa.records) if _exists(wild_a, wild_aaaa) else None

    hosts: list[HostInfo] = []
    for (name, how), (a, aaaa) in zip(candidates, answers, strict=True):
        if how in ("apex", "config"):
            # Always reported: the apex check needs the apex's answer even when it is NXDOMAIN,
            # and a declared name that does not resolve is itself worth showing.
            hosts.append(HostInfo(name, a, aaaa, how))
            continue
        if not _exists(a, aaaa):
            continue
        if wildcard is not None and how != "www" and (a.records, aaaa.records) == wildcard:
            continue
        hosts.append(HostInfo(name, a, aaaa, how))

    mx = await mx_task
    known = {h.name for h in hosts}
    # A thousand MX records must not cost a thousand lookups here and in every check that reads
    # the site map: the most preferred are looked up, the rest counted (SiteMap.omitted_notes).
    preferred, mx_omitted = mx.preferred_mx()
    mx_names = list(dict.fromkeys(m.exchange for m in preferred if not m.is_null and m.exchange not in known))
    mx_answers = await asyncio.gather(*(lookup(n) for n in mx_names))
    hosts.extend(HostInfo(n, a, aaaa, "mx") for n, (a, aaaa) in zip(mx_names, mx_answers, strict=True))
    return SiteMap(domain=domain, hosts=tuple(hosts), mx=mx, mx_omitted=mx_omitted)


async def discover_dkim_selectors(domain: str, dns: DnsLookup, declared: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Selectors (declared first, then common ones) with a DKIM key record at SEL._domainkey."""
    candidates = list(dict.fromkeys((*declared, *COMMON_DKIM_SELECTORS)))
    answers = await asyncio.gather(*(dns.txt(f"{sel}._domainkey.{domain}") for sel in candidates))
    return tuple(
        sel
        for sel, answer in zip(candidates, answers, strict=True)
        if answer.ok and any("p=" in r or r.startswith("v=DKIM1") for r in answer.records)
    )


async def spf_terms(domain: str, dns: DnsLookup) -> tuple[str, ...]:
    """The sender-naming mechanisms (include:, ip4:, ip6:, a, mx) of the apex SPF record, if one."""
    answer = await dns.txt(domain)
    records = [r for r in answer.records if r.lower().startswith("v=spf1")]
    if len(records) != 1:
        return ()
    terms = records[0].split()[1:]
    return tuple(
        t for t in terms if t.lower().lstrip("+-~?").split(":")[0].split("/")[0] in ("include", "ip4", "ip6", "a", "mx")
    )
