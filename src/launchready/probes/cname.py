"""CNAME chains followed hop by hop, so a dangling or looping alias is seen as such.

A stub resolver's answer for a CNAME whose target does not exist is just NXDOMAIN: the alias
itself is lost. Following CNAME queries one hop at a time keeps the chain, tells a loop from a
long chain, and ends on the answer for the final target's addresses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from launchready.probes.dns import DnsAnswer, DnsProbe

MAX_HOPS = 8
ChainEnd = Literal["resolves", "nxdomain", "no-address", "loop", "too-long", "dns-error", "not-alias"]


@dataclass(frozen=True)
class CnameChain:
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


async def follow_cname(dns: DnsProbe, name: str) -> CnameChain:
    chain = [name.lower().rstrip(".")]
    for _ in range(MAX_HOPS):
        answer = await dns.query(chain[-1], "CNAME")
        if answer.status in ("timeout", "servfail", "error"):
            return CnameChain(name, tuple(chain), "dns-error", f"CNAME {chain[-1]}: {answer.status}")
        if not answer.ok:
            break
        target = answer.records[0].rstrip(".").lower()
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


async def follow_all(dns: DnsProbe, names: tuple[str, ...]) -> tuple[CnameChain, ...]:
    return tuple(await asyncio.gather(*(follow_cname(dns, n) for n in names)))
