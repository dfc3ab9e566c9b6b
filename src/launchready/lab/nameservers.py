"""The lab's second name server (ns2): a secondary copy of the zones on its own loopback port.

ns1 is the lab's main DNS server (what ``--nameserver`` points at). ns2 serves the same zones,
except under ``ns-serial-mismatch`` (it missed the last zone transfer: an older SOA serial) and
``ns-down`` (it receives queries and never answers). ``--connect-to ns1.DOMAIN:53:...`` and
``ns2.DOMAIN:53:...`` route the NS check's direct queries to them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

import dns.zone

from launchready.lab.dns_server import DnsAuthority, DnsServer
from launchready.lab.faults import LAB_DOMAIN
from launchready.lab.records import Record, ZoneData

# The serial ns2 still serves under ns-serial-mismatch: the zone as it was a week earlier.
STALE_SERIAL = 2024052501


class SilentAuthority(DnsAuthority):
    """Reads every query and answers none (a name server that is down but still routed)."""

    def handle_wire(self, wire: bytes, *, tcp: bool) -> bytes | None:
        return None


def _stale(zone: ZoneData) -> ZoneData:
    records: list[Record] = []
    for r in zone.records:
        if r.name == "@" and r.rdtype == "SOA":
            mname, rname, _serial, *timers = r.value.split()
            r = Record(r.name, r.rdtype, " ".join([mname, rname, str(STALE_SERIAL), *timers]), r.ttl)
        records.append(r)
    return ZoneData(zone.origin, tuple(records))


def secondary_zones(
    zones: Iterable[ZoneData], faults: frozenset[str], domain: str = LAB_DOMAIN
) -> tuple[ZoneData, ...]:
    """What ns2 serves: the same zones, the lab domain's with an old serial under ns-serial-mismatch."""
    stale = "ns-serial-mismatch" in faults
    return tuple(_stale(z) if stale and z.origin == domain else z for z in zones)


def secondary_authority(
    zones: Iterable[ZoneData],
    faults: frozenset[str],
    build: Callable[[Iterable[ZoneData]], list[dns.zone.Zone]] | None = None,
) -> DnsAuthority:
    """ns2's authority; ``build`` turns zone data into served zones (the lab signs its own there).

    Like any server of the child zone, ns2 holds no DS record: that is the parent's data.
    """
    stale = secondary_zones(zones, faults)
    built: list[dns.zone.Zone] = build(stale) if build else [z.to_zone() for z in stale]
    return SilentAuthority(built) if "ns-down" in faults else DnsAuthority(built)


async def start_secondary(stack: contextlib.AsyncExitStack, authority: DnsAuthority, host: str) -> int:
    """Start ns2 on an ephemeral port of ``host`` (stopped with ``stack``); returns the port."""
    server = DnsServer(authority, host=host, port=0)
    port = await server.start()
    stack.push_async_callback(server.stop)
    return port
