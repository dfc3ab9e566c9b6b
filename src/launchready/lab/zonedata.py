"""Serve arbitrary test zone data (name -> records) from one real DNS server on loopback.

The RFC 7208 test suite and the hostile-record tests describe DNS as a map of owner names to
records across many domains. ``root_zone`` puts them all in one zone rooted at ".", which the
lab's ``DnsAuthority`` answers from; ``SilentAuthority`` never answers the (name, type) pairs
marked as timing out, so a timeout is a real client-side timeout, not a synthetic error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.zone

from launchready.lab.dns_server import DnsAuthority

RecordValue = str | bytes | int | list[object] | tuple[object, ...]


def _rdata(rdtype: str, value: object) -> dns.rdata.Rdata:
    kind = dns.rdatatype.from_text(rdtype)
    if rdtype in ("TXT", "SPF"):
        parts = value if isinstance(value, (list, tuple)) else [value]
        strings = [p if isinstance(p, bytes) else str(p).encode("utf-8") for p in parts]
        # A character-string holds at most 255 octets: longer text is split, as publishers do.
        chunks = [s[i : i + 255] for s in strings for i in range(0, max(len(s), 1), 255)] or [b""]
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, kind, chunks)
    if rdtype == "MX":
        assert isinstance(value, (list, tuple))
        pref, host = value
        return dns.rdata.from_text(dns.rdataclass.IN, kind, f"{pref} {_absolute(str(host))}")
    if rdtype in ("CNAME", "PTR", "NS"):
        return dns.rdata.from_text(dns.rdataclass.IN, kind, _absolute(str(value)))
    return dns.rdata.from_text(dns.rdataclass.IN, kind, str(value))


def _absolute(name: str) -> str:
    return name if name.endswith(".") else name + "."


def root_zone(records: Mapping[str, Iterable[tuple[str, object]]]) -> dns.zone.Zone:
    """One zone at "." holding every (name -> [(type, value), ...]); answers NXDOMAIN elsewhere."""
    root = dns.name.root
    zone = dns.zone.Zone(root, relativize=False)
    soa = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.SOA, "ns.test. hostmaster.test. 1 3600 600 86400 60")
    zone.find_rdataset(root, dns.rdatatype.SOA, create=True).add(soa, 60)
    ns = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.NS, "ns.test.")
    zone.find_rdataset(root, dns.rdatatype.NS, create=True).add(ns, 60)
    for owner_text, rrs in records.items():
        owner = dns.name.from_text(_absolute(owner_text))
        for rdtype, value in rrs:
            rdata = _rdata(rdtype, value)
            zone.find_rdataset(owner, rdata.rdtype, create=True).add(rdata, 60)
    return zone


class SilentAuthority(DnsAuthority):
    """A DnsAuthority that never answers the listed (name, type) pairs (type None: every type)."""

    def __init__(self, zones: Iterable[dns.zone.Zone], silent: Iterable[tuple[str, str | None]] = ()) -> None:
        super().__init__(zones)
        self._silent = {(name.lower().rstrip("."), rdtype) for name, rdtype in silent}

    def handle_wire(self, wire: bytes, *, tcp: bool) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
            question = query.question[0]
        except Exception:  # noqa: BLE001 - the base class answers garbage with FORMERR
            return super().handle_wire(wire, tcp=tcp)
        name = question.name.to_text().lower().rstrip(".")
        rdtype = dns.rdatatype.to_text(question.rdtype)
        if (name, None) in self._silent or (name, rdtype) in self._silent:
            return None
        return super().handle_wire(wire, tcp=tcp)
