"""Collect the DNS map of a domain: every record of the names that matter at launch, with TTLs."""

from __future__ import annotations

import asyncio

from launchready.core.dns import DnsAnswer
from launchready.core.dnsmap import DnsMap, DnsRecordRow
from launchready.core.names import COMMON_DKIM_SELECTORS
from launchready.core.protocols import DnsLookup

APEX_TYPES = ("SOA", "NS", "A", "AAAA", "CNAME", "MX", "TXT", "CAA", "DNSKEY")
HOST_TYPES = ("A", "AAAA", "CNAME")
# A hostile or careless zone (a thousand MX hosts, a thousand TXT records) must not make the map,
# and every report that prints it, megabytes long: the first ones are listed, the rest counted.
MAX_MAPPED_HOSTS = 100
MAX_RECORDS_PER_SET = 50


def _questions(
    domain: str, hosts: tuple[tuple[str, str], ...], selectors: tuple[str, ...]
) -> list[tuple[str, str, str]]:
    """(name, type, role) in the order the map lists them."""
    out = [(domain, t, "apex") for t in APEX_TYPES]
    for name, role in hosts:
        if name != domain:
            out.extend((name, t, role) for t in HOST_TYPES)
    out.append((f"_dmarc.{domain}", "TXT", "dmarc"))
    out.extend((f"{s}._domainkey.{domain}", "TXT", "dkim") for s in selectors)
    out.extend((f"{s}._domainkey.{domain}", "CNAME", "dkim") for s in selectors)
    out += [
        (f"_mta-sts.{domain}", "TXT", "mta-sts"),
        (f"mta-sts.{domain}", "CNAME", "mta-sts"),
        (f"mta-sts.{domain}", "A", "mta-sts"),
        (f"_smtp._tls.{domain}", "TXT", "tls-rpt"),
    ]
    return list(dict.fromkeys(out))


def _rows(answer: DnsAnswer, role: str) -> list[DnsRecordRow]:
    if not answer.ok:
        return []
    # A resolver follows CNAMEs: an A answer for an alias belongs to its target, shown under it.
    if len(answer.chain) > 1 and answer.rdtype != "CNAME":
        return []
    return [
        DnsRecordRow(name=answer.name, type=answer.rdtype, ttl=answer.ttl, value=v, role=role) for v in answer.records
    ]


async def collect_dns_map(
    dns: DnsLookup,
    domain: str,
    hosts: tuple[tuple[str, str], ...],
    *,
    dkim_selectors: tuple[str, ...] = (),
    not_asked: tuple[str, ...] = (),
) -> DnsMap:
    """``hosts`` are (name, role) pairs (discovered names and mail hosts); selectors are declared ones.

    Common DKIM selectors are asked too and listed when they exist. ``not_asked`` says what the
    caller's discovery left out (MX hosts beyond the most preferred); the map repeats it under
    ``omitted``.
    """
    selectors = tuple(dict.fromkeys((*dkim_selectors, *COMMON_DKIM_SELECTORS)))
    others = [h for h in dict.fromkeys(hosts) if h[0] != domain]
    omitted: list[str] = list(not_asked)
    if len(others) > MAX_MAPPED_HOSTS:
        omitted.append(f"{len(others) - MAX_MAPPED_HOSTS} more host(s) not mapped (first {MAX_MAPPED_HOSTS} listed)")
        others = others[:MAX_MAPPED_HOSTS]
    questions = _questions(domain, tuple(others), selectors)
    answers = await asyncio.gather(*(dns.query(n, t) for n, t, _ in questions))
    rows: list[DnsRecordRow] = []
    unanswered: list[str] = []
    for (name, rdtype, role), answer in zip(questions, answers, strict=True):
        if answer.failed:
            unanswered.append(f"{rdtype} {name}: {answer.status}")
        found = _rows(answer, role)
        if len(found) > MAX_RECORDS_PER_SET:
            omitted.append(f"{rdtype} {name}: {len(found) - MAX_RECORDS_PER_SET} more record(s) not listed")
            found = found[:MAX_RECORDS_PER_SET]
        rows.extend(found)
    parent = domain.split(".", 1)[1] if "." in domain else ""
    ds = await dns.query(domain, "DS") if parent else None
    dnskey = answers[APEX_TYPES.index("DNSKEY")]
    if dnskey.failed or (ds is not None and ds.failed):
        dnssec = "unknown"
    elif dnskey.ok and ds is not None and ds.ok:
        dnssec = "signed"
    elif dnskey.ok:
        dnssec = "keys-without-ds"
    else:
        dnssec = "unsigned"
    if ds is not None:
        rows.extend(_rows(ds, "apex"))
    return DnsMap(
        domain=domain, records=tuple(rows), unanswered=tuple(unanswered), dnssec=dnssec, omitted=tuple(omitted)
    )
