"""DNSSEC facts about one zone, as the DNSSEC probe observes them (never judged here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

_FAILED = ("timeout", "servfail", "error")


@dataclass(frozen=True)
class DsRecord:
    text: str  # presentation format: "key_tag algorithm digest_type digest"
    key_tag: int
    matches_dnskey: bool  # a published DNSKEY with this tag hashes to this digest


@dataclass(frozen=True)
class DnsKey:
    key_tag: int
    algorithm: str
    secure_entry_point: bool  # the SEP flag: the key a DS at the parent should point at
    # The DS (SHA-256) the parent would publish for this key, in presentation format.
    ds_sha256: str


@dataclass(frozen=True)
class Signature:
    """One RRSIG over the zone's DNSKEY or SOA RRset."""

    covers: str  # "DNSKEY" or "SOA"
    key_tag: int
    inception: datetime
    expiration: datetime


@dataclass(frozen=True)
class Validation:
    """dnspython's verdict on one RRset against the published DNSKEYs, at observation time."""

    rrset: str  # "DNSKEY" or "SOA"
    error: str | None  # None: at least one signature validated

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Lookup:
    rdtype: str
    status: str  # ok, nodata, nxdomain, timeout, servfail, error (as DnsAnswer.status)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.status in _FAILED


@dataclass(frozen=True)
class DnssecFacts:
    domain: str
    observed_at: datetime
    lookups: tuple[Lookup, ...]  # DS, DNSKEY, SOA
    ds: tuple[DsRecord, ...] = ()
    dnskeys: tuple[DnsKey, ...] = ()
    signatures: tuple[Signature, ...] = ()
    validations: tuple[Validation, ...] = ()

    def lookup(self, rdtype: str) -> Lookup:
        for item in self.lookups:
            if item.rdtype == rdtype:
                return item
        raise KeyError(rdtype)
