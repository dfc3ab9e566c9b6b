"""DNSSEC probe: the zone's DS (parent side), DNSKEY and signatures, and whether they validate.

Asks through the run's resolver (``--nameserver`` or the system's) with the DO bit, so the
signatures come back, and the CD bit, so a validating resolver hands over a broken zone's data
instead of SERVFAIL (the point is to see *why* it is broken). Measures, never judges: the DS
records and which of them match a published DNSKEY (``dns.dnssec.make_ds``), each RRSIG's
validity window over the DNSKEY and SOA RRsets, and dnspython's own verdict
(``dns.dnssec.validate``) at the moment of observation. The chain above the zone (the parent's
signature over the DS, up to the root) is the resolver's business and is not validated here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import dns.asyncresolver
import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.nameserver
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset
from dns.dnssectypes import DSDigest
from dns.rdtypes.dnskeybase import Flag

from launchready.core.dnssec import DnsKey, DnssecFacts, DsRecord, Lookup, Signature, Validation
from launchready.core.net import NetSettings
from launchready.probes.flight import single_flight

# The EDNS payload asked for: large enough for a signed DNSKEY RRset, small enough not to fragment.
_PAYLOAD = 1232


@dataclass(frozen=True)
class _Response:
    lookup: Lookup
    rrset: dns.rrset.RRset | None = None
    rrsigs: dns.rrset.RRset | None = None


class DnssecProbe:
    """Observes a zone's DNSSEC state through the run's resolver; one observation per domain and run."""

    def __init__(self, net: NetSettings) -> None:
        resolver = dns.asyncresolver.Resolver(configure=not net.nameservers)
        if net.nameservers:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in net.nameservers]
        resolver.lifetime = net.timeout
        resolver.timeout = min(net.timeout, 3.0)
        resolver.cache = None
        resolver.use_edns(0, dns.flags.DO, _PAYLOAD)
        # CD: a validating resolver must hand over a bogus zone's records rather than SERVFAIL.
        resolver.flags = dns.flags.RD | dns.flags.CD
        self._resolver = resolver
        self._timeout = net.timeout
        self._pending: dict[str, asyncio.Task[DnssecFacts]] = {}

    async def observe(self, domain: str) -> DnssecFacts:
        key = domain.lower().rstrip(".")
        return await single_flight(self._pending, key, lambda: self._observe(key))

    async def close(self) -> None:
        for task in self._pending.values():
            if not task.done():
                task.cancel()

    async def _ask(self, name: dns.name.Name, rdtype: str) -> _Response:
        try:
            answer = await self._resolver.resolve(name, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return _Response(Lookup(rdtype, "nxdomain"))
        except dns.resolver.LifetimeTimeout as exc:
            return _Response(Lookup(rdtype, "timeout", f"no answer within {self._timeout:g}s: {exc}"))
        except dns.resolver.NoNameservers as exc:
            return _Response(Lookup(rdtype, "servfail", str(exc)))
        except (dns.exception.DNSException, OSError) as exc:
            return _Response(Lookup(rdtype, "error", f"{type(exc).__name__}: {exc}"))
        if answer.rrset is None:
            return _Response(Lookup(rdtype, "nodata"))
        covered = dns.rdatatype.from_text(rdtype)
        rrsigs = answer.response.get_rrset(
            answer.response.answer, name, dns.rdataclass.IN, dns.rdatatype.RRSIG, covered
        )
        return _Response(Lookup(rdtype, "ok"), answer.rrset, rrsigs)

    async def _observe(self, domain: str) -> DnssecFacts:
        name = dns.name.from_text(domain)
        ds, dnskey, soa = await asyncio.gather(self._ask(name, "DS"), self._ask(name, "DNSKEY"), self._ask(name, "SOA"))
        observed_at = datetime.now(UTC)
        keys = dnskey.rrset
        return DnssecFacts(
            domain=domain,
            observed_at=observed_at,
            lookups=(ds.lookup, dnskey.lookup, soa.lookup),
            ds=_ds_records(name, ds.rrset, keys),
            dnskeys=_dnskeys(name, keys),
            signatures=_signatures(dnskey) + _signatures(soa),
            validations=tuple(_validate(name, r, keys, observed_at) for r in (dnskey, soa) if keys is not None),
        )


def _ds_records(name: dns.name.Name, ds: dns.rrset.RRset | None, keys: dns.rrset.RRset | None) -> tuple[DsRecord, ...]:
    if ds is None:
        return ()
    records: list[DsRecord] = []
    for rdata in ds:
        matches = False
        for key in keys or ():
            if dns.dnssec.key_id(key) != rdata.key_tag:
                continue
            try:
                matches = matches or dns.dnssec.make_ds(name, key, rdata.digest_type) == rdata
            except (dns.exception.UnsupportedAlgorithm, ValueError):
                continue  # a digest type dnspython cannot compute: not shown to match
        records.append(DsRecord(rdata.to_text(), rdata.key_tag, matches))
    return tuple(sorted(records, key=lambda r: r.text))


def _dnskeys(name: dns.name.Name, keys: dns.rrset.RRset | None) -> tuple[DnsKey, ...]:
    found: list[DnsKey] = []
    for key in keys or ():
        ds = dns.dnssec.make_ds(name, key, DSDigest.SHA256)
        found.append(
            DnsKey(
                key_tag=dns.dnssec.key_id(key),
                algorithm=dns.dnssec.algorithm_to_text(key.algorithm),
                secure_entry_point=bool(key.flags & Flag.SEP),
                ds_sha256=ds.to_text(),
            )
        )
    return tuple(sorted(found, key=lambda k: k.key_tag))


def _signatures(response: _Response) -> tuple[Signature, ...]:
    if response.rrsigs is None:
        return ()
    return tuple(
        Signature(
            covers=response.lookup.rdtype,
            key_tag=sig.key_tag,
            inception=datetime.fromtimestamp(sig.inception, UTC),
            expiration=datetime.fromtimestamp(sig.expiration, UTC),
        )
        for sig in response.rrsigs
    )


def _validate(name: dns.name.Name, response: _Response, keys: dns.rrset.RRset, observed_at: datetime) -> Validation:
    rdtype = response.lookup.rdtype
    if response.rrset is None:
        return Validation(rdtype, f"no {rdtype} RRset to validate ({response.lookup.status})")
    if response.rrsigs is None:
        return Validation(rdtype, f"the {rdtype} RRset carries no RRSIG")
    try:
        dns.dnssec.validate(response.rrset, response.rrsigs, {name: keys}, now=observed_at.timestamp())
    except dns.exception.ValidationFailure as exc:
        return Validation(rdtype, str(exc) or "no signature validated")
    return Validation(rdtype, None)
