"""DNSSEC for the lab's zone: one signing key, the signatures, and the DS the parent publishes.

The lab stands in for the whole DNS, the parent zone included: the DS record a registrar would
publish at ``.test`` is served by the lab's authority for DS questions at the zone's apex
(:class:`launchready.lab.dns_server.DnsAuthority`). The zone is signed by default, so the clean
lab is a well-run signed domain; the faults break it the three ways that happen in practice:

- ``dnssec-unsigned``: never signed (no DNSKEY, no DS) — legal, only unprotected;
- ``dnssec-ds-mismatch``: the parent still holds the DS of a key the zone no longer publishes
  (a key roll or a provider move without updating the registrar): validating resolvers SERVFAIL;
- ``dnssec-rrsig-expired``: the signer stopped re-signing and the signatures ran out two days ago:
  validating resolvers SERVFAIL too.

One combined signing key (ECDSA P-256, algorithm 13: what most providers use; fast to generate)
signs every RRset, the DNSKEY RRset included. Negative answers carry no NSEC proof: the lab's
checks never need authenticated denial.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dns.dnssec
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec
from dns.dnssectypes import Algorithm, DSDigest
from dns.rdtypes.dnskeybase import Flag

from launchready.lab.faults import LAB_DOMAIN
from launchready.lab.zone import ZoneData

UNSIGNED = "dnssec-unsigned"
DS_MISMATCH = "dnssec-ds-mismatch"
RRSIG_EXPIRED = "dnssec-rrsig-expired"

DS_TTL = 3600
# Signatures valid for two weeks from an hour ago (clock skew), as signers typically make them.
_VALIDITY = timedelta(days=14)
_SKEW = timedelta(hours=1)
# Under dnssec-rrsig-expired: made 30 days ago, run out 2 days ago.
_EXPIRED_INCEPTION = timedelta(days=30)
_EXPIRED_AGO = timedelta(days=2)


@dataclass(frozen=True)
class SigningKey:
    private: ec.EllipticCurvePrivateKey
    dnskey: dns.rdtypes.ANY.DNSKEY.DNSKEY


def generate_signing_key() -> SigningKey:
    """A fresh combined signing key (SEP flag set: the key the parent's DS points at)."""
    private = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(
        private.public_key(),
        Algorithm.ECDSAP256SHA256,
        flags=Flag.ZONE | Flag.SEP,
    )
    return SigningKey(private, dnskey)


def sign_lab_zone(zone: dns.zone.Zone, key: SigningKey, faults: frozenset[str], now: datetime | None = None) -> None:
    """Sign ``zone`` in place (adds DNSKEY, RRSIG and NSEC), unless the zone is meant unsigned."""
    if UNSIGNED in faults:
        return
    now = now or datetime.now(UTC)
    if RRSIG_EXPIRED in faults:
        inception, expiration = now - _EXPIRED_INCEPTION, now - _EXPIRED_AGO
    else:
        inception, expiration = now - _SKEW, now + _VALIDITY
    dns.dnssec.sign_zone(zone, keys=[(key.private, key.dnskey)], inception=inception, expiration=expiration)


def parent_ds(origin: str, key: SigningKey, faults: frozenset[str]) -> tuple[dns.rrset.RRset, ...]:
    """The DS RRset the parent publishes for ``origin`` (none when the zone is unsigned)."""
    if UNSIGNED in faults:
        return ()
    name = dns.name.from_text(origin)
    # Under dnssec-ds-mismatch the parent still points at a retired key the zone no longer has.
    pointed_at = generate_signing_key().dnskey if DS_MISMATCH in faults else key.dnskey
    ds = dns.dnssec.make_ds(name, pointed_at, DSDigest.SHA256)
    return (dns.rrset.from_rdata(name, DS_TTL, ds),)


def build_zones(
    zone_data: Iterable[ZoneData], key: SigningKey, faults: frozenset[str], domain: str = LAB_DOMAIN
) -> list[dns.zone.Zone]:
    """The dnspython zones the lab serves, the lab domain's signed with ``key`` (the others unsigned)."""
    zones: list[dns.zone.Zone] = []
    for data in zone_data:
        zone = data.to_zone()
        if data.origin == domain:
            sign_lab_zone(zone, key, faults)
        zones.append(zone)
    return zones
