"""Zone data types shared by every lab zone builder: a record, a zone, TXT presentation.

They sit below ``zone.py`` and the fault-specific builders (``mail_zone``, ``takeover``,
``mta_sts``, ``hsts_lab``), so those builders never import ``zone.py`` back.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.zone

DEFAULT_TTL = 300


@dataclass(frozen=True)
class Record:
    """One resource record; ``name`` is relative to the zone origin (``@`` is the origin)."""

    name: str
    rdtype: str
    value: str  # presentation format, as in a zone file
    ttl: int = DEFAULT_TTL


@dataclass(frozen=True)
class ZoneData:
    origin: str  # without the trailing dot
    records: tuple[Record, ...]

    def values(self, name: str, rdtype: str) -> tuple[str, ...]:
        """The presentation values of ``name``/``rdtype`` (relative name, ``@`` for the apex)."""
        rdtype = rdtype.upper()
        return tuple(r.value for r in self.records if r.name == name and r.rdtype == rdtype)

    def txt_strings(self, name: str) -> tuple[str, ...]:
        """Each TXT record at ``name`` with its character-strings joined, unquoted."""
        owner = self.absolute(name)
        joined: list[str] = []
        for value in self.values(name, "TXT"):
            rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, value, origin=owner)
            joined.append(b"".join(rdata.strings).decode())  # type: ignore[attr-defined]
        return tuple(joined)

    def absolute(self, name: str) -> dns.name.Name:
        origin = dns.name.from_text(self.origin)
        return origin if name == "@" else dns.name.from_text(name, origin)

    def to_zone(self) -> dns.zone.Zone:
        """A dnspython zone with absolute names (what the DNS server answers from)."""
        origin = dns.name.from_text(self.origin)
        zone = dns.zone.Zone(origin, relativize=False)
        for record in self.records:
            owner = self.absolute(record.name)
            rdtype = dns.rdatatype.from_text(record.rdtype)
            rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, record.value, origin=origin, relativize=False)
            rdataset = zone.find_rdataset(owner, rdtype, create=True)
            rdataset.add(rdata, record.ttl)
        zone.check_origin()
        return zone


def txt_value(text: str) -> str:
    """A TXT value in presentation format, split into <=255-byte character-strings."""
    raw = text.encode()
    chunks = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
    quoted = []
    for chunk in chunks:
        escaped = chunk.decode().replace("\\", "\\\\").replace('"', '\\"')
        quoted.append(f'"{escaped}"')
    return " ".join(quoted)
