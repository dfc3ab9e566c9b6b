"""DNS facts: the answer to one question, with its records typed so no judge re-parses text.

``DnsAnswer.records`` keeps each record as text (presentation format; a TXT record's
character-strings already joined, RFC 7208 3.3 / RFC 6376 3.6.2.2) for evidence. The typed
views (``mx``, ``caa``, ``soa``, ``names``) are read from that text here, once, so every check
gets the same MX preference and exchange, CAA flag/tag/value and SOA serial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DnsStatus = Literal["ok", "nxdomain", "nodata", "timeout", "servfail", "error"]

# The statuses where the DNS did not answer the question: a timeout, SERVFAIL or a transport error.
FAILED_STATUSES: frozenset[str] = frozenset({"timeout", "servfail", "error"})


def query_failed(status: str) -> bool:
    """The DNS gave no answer (timeout, SERVFAIL, error), as opposed to records, NXDOMAIN or NODATA."""
    return status in FAILED_STATUSES


# How many of a domain's mail exchangers are looked up (address, CNAME) and checked. Senders try
# MX hosts in preference order and give up long before twenty (Postfix dials at most 5 addresses,
# smtp_mx_address_limit), and mail providers publish 1 to 5 records (Google Workspace's legacy
# set is the largest common one). Twenty is four times the largest real set, while a hostile answer of a thousand
# MX records no longer costs a thousand lookups per check; the rest are counted and reported.
MAX_MX_TARGETS = 20


def mx_not_checked(omitted: int) -> str:
    """The line a check that covers only the looked-up MX hosts adds, so a pass never claims them all."""
    return f"{omitted} more MX host(s) not checked (only the {MAX_MX_TARGETS} most preferred)"


@dataclass(frozen=True)
class MxRecord:
    preference: int
    exchange: str  # lower-case, no trailing dot; "." for a null MX (RFC 7505)

    @property
    def is_null(self) -> bool:
        return self.exchange == "."


@dataclass(frozen=True)
class CaaRecord:
    flags: int
    tag: str  # lower-case: issue, issuewild, iodef, ...
    value: str  # unquoted

    @property
    def critical(self) -> bool:
        return bool(self.flags & 0x80)

    @property
    def issuer_domain(self) -> str:
        """For issue/issuewild: the CA's domain, parameters after ";" dropped, lower-case ("" forbids all)."""
        return self.value.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class SoaRecord:
    mname: str
    rname: str
    serial: int


def parse_mx(record: str) -> MxRecord | None:
    parts = record.split()
    if len(parts) != 2 or not (parts[0].isascii() and parts[0].isdigit()):
        return None
    exchange = parts[1].lower()
    return MxRecord(int(parts[0]), "." if exchange == "." else exchange.rstrip("."))


def parse_caa(record: str) -> CaaRecord | None:
    """A CAA record in presentation form: ``0 issue "ca.example; x=y"``."""
    parts = record.split(None, 2)
    if len(parts) != 3:
        return None
    flags = int(parts[0]) if parts[0].isascii() and parts[0].isdigit() else 0
    return CaaRecord(flags, parts[1].lower(), parts[2].strip().strip('"'))


def parse_soa(record: str) -> SoaRecord | None:
    parts = record.split()
    if len(parts) < 3 or not (parts[2].isascii() and parts[2].isdigit()):
        return None
    return SoaRecord(parts[0].rstrip(".").lower(), parts[1].rstrip(".").lower(), int(parts[2]))


def _names(records: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(r.strip().rstrip(".").lower() for r in records if r.strip() and r.strip() != ".")


@dataclass(frozen=True)
class DnsAnswer:
    """The observed answer to one (name, type) question."""

    name: str
    rdtype: str
    status: DnsStatus
    records: tuple[str, ...] = ()
    ttl: int | None = None
    # Owner names the resolver followed to reach the answer (CNAME chain), first is ``name``.
    chain: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def answered(self) -> bool:
        """The DNS answered authoritatively (records, no such name, or no such type)."""
        return self.status in ("ok", "nxdomain", "nodata")

    @property
    def failed(self) -> bool:
        """The question got no answer (timeout, SERVFAIL, error): nothing can be judged from it."""
        return query_failed(self.status)

    @property
    def mx(self) -> tuple[MxRecord, ...]:
        """MX records in the order of ``records`` (text that is not "PREF EXCHANGE" is left out)."""
        return tuple(m for m in map(parse_mx, self.records) if m is not None)

    @property
    def mx_hosts(self) -> tuple[str, ...]:
        """The mail exchangers' names, null MX left out."""
        return tuple(m.exchange for m in self.mx if not m.is_null)

    def preferred_mx(self, limit: int = MAX_MX_TARGETS) -> tuple[tuple[MxRecord, ...], int]:
        """The ``limit`` most preferred MX records (lowest preference first, then by name, repeats
        dropped) and how many more the answer holds: the ones worth a lookup each."""
        ordered = sorted(set(self.mx), key=lambda m: (m.preference, m.exchange))
        return tuple(ordered[:limit]), max(0, len(ordered) - limit)

    @property
    def caa(self) -> tuple[CaaRecord, ...]:
        return tuple(c for c in map(parse_caa, self.records) if c is not None)

    @property
    def soa(self) -> SoaRecord | None:
        return next((s for s in map(parse_soa, self.records) if s is not None), None)

    @property
    def names(self) -> tuple[str, ...]:
        """Target names of NS, CNAME or PTR records: lower-case, no trailing dot."""
        return _names(self.records)


@dataclass(frozen=True)
class ServerAnswer:
    """One server's own answer to one question, asked directly and without recursion (NS checks)."""

    server: str  # the name server asked, as named in the NS record (or an address)
    address: str  # "addr:port" dialled; "" when the server has no address
    name: str
    rdtype: str
    status: DnsStatus
    records: tuple[str, ...] = ()
    authoritative: bool = False  # the AA flag: the server holds the zone
    rcode: str = ""  # NOERROR, NXDOMAIN, REFUSED, ... ("" when nothing came back)
    error: str | None = None

    @property
    def answered(self) -> bool:
        return bool(self.rcode)

    @property
    def soa(self) -> SoaRecord | None:
        return next((s for s in map(parse_soa, self.records) if s is not None), None)


MAX_CNAME_HOPS = 8
ChainEnd = Literal["resolves", "nxdomain", "no-address", "loop", "too-long", "dns-error", "not-alias"]


@dataclass(frozen=True)
class CnameChain:
    """A CNAME chain followed hop by hop (probes/cname.py)."""

    name: str
    chain: tuple[str, ...]  # name, then each CNAME target in order
    end: ChainEnd
    detail: str = ""

    @property
    def target(self) -> str:
        return self.chain[-1]

    @property
    def is_alias(self) -> bool:
        return len(self.chain) > 1
