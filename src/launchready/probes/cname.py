"""CNAME chains followed hop by hop, so a dangling or looping alias is seen as such.

A stub resolver's answer for a CNAME whose target does not exist is just NXDOMAIN: the alias
itself is lost. Following CNAME queries one hop at a time keeps the chain, tells a loop from a
long chain, and ends on the answer for the final target's addresses.
"""

from __future__ import annotations

import asyncio

from launchready.core.dns import MAX_CNAME_HOPS as MAX_HOPS
from launchready.core.dns import ChainEnd, DnsAnswer
from launchready.core.dns import CnameChain as CnameChain
from launchready.core.protocols import DnsLookup


async def follow_cname(dns: DnsLookup, name: str) -> CnameChain:
    chain = [name.lower().rstrip(".")]
    for _ in range(MAX_HOPS):
        answer = await dns.query(chain[-1], "CNAME")
        if answer.failed:
            return CnameChain(name, tuple(chain), "dns-error", f"CNAME {chain[-1]}: {answer.status}")
        if not answer.ok:
            break
        target = answer.names[0] if answer.names else ""
        if target in chain:
            return CnameChain(name, (*chain, target), "loop", " -> ".join((*chain, target)))
        chain.append(target)
    else:
        return CnameChain(name, tuple(chain), "too-long", f"more than {MAX_HOPS} CNAME hops")
    if len(chain) == 1:
        return CnameChain(name, tuple(chain), "not-alias")
    a, aaaa = await dns.addresses(chain[-1])
    return CnameChain(name, tuple(chain), _end(a, aaaa), f"A {a.status}, AAAA {aaaa.status}")


def _end(a: DnsAnswer, aaaa: DnsAnswer) -> ChainEnd:
    if a.ok or aaaa.ok:
        return "resolves"
    if a.status == "nxdomain" or aaaa.status == "nxdomain":
        return "nxdomain"
    if a.status == "nodata" and aaaa.status == "nodata":
        return "no-address"
    return "dns-error"


async def follow_all(dns: DnsLookup, names: tuple[str, ...]) -> tuple[CnameChain, ...]:
    return tuple(await asyncio.gather(*(follow_cname(dns, n) for n in names)))


class CnameProbe:
    """CNAME chains over the run's DNS (its cache answers repeated hops)."""

    def __init__(self, dns: DnsLookup) -> None:
        self._dns = dns

    async def follow_all(self, names: tuple[str, ...]) -> tuple[CnameChain, ...]:
        return await follow_all(self._dns, names)
