"""DNS probe: real queries through dnspython's async resolver, cached and de-duplicated per run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from launchready.engine.net import NetSettings
from launchready.probes.flight import single_flight

DnsStatus = Literal["ok", "nxdomain", "nodata", "timeout", "servfail", "error"]


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


class DnsProbe:
    """Resolves through the configured nameservers (or the system's), caching identical questions."""

    def __init__(self, net: NetSettings) -> None:
        self._net = net
        resolver = dns.asyncresolver.Resolver(configure=not net.nameservers)
        if net.nameservers:
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in net.nameservers
            ]
        resolver.lifetime = net.timeout
        resolver.timeout = min(net.timeout, 3.0)
        # Fresh state per run: answers are cached in this probe, keyed by the full question.
        resolver.cache = None
        self._resolver = resolver
        self._pending: dict[tuple[str, str], asyncio.Task[DnsAnswer]] = {}

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        key = (name.lower().rstrip("."), rdtype.upper())
        return await single_flight(self._pending, key, lambda: self._query(*key))

    async def _query(self, name: str, rdtype: str) -> DnsAnswer:
        try:
            answer = await self._resolver.resolve(name, rdtype, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN:
            return DnsAnswer(name, rdtype, "nxdomain")
        except dns.resolver.LifetimeTimeout as exc:
            return DnsAnswer(name, rdtype, "timeout", error=f"no answer within {self._net.timeout:g}s: {exc}")
        except dns.resolver.NoNameservers as exc:
            return DnsAnswer(name, rdtype, "servfail", error=str(exc))
        except dns.exception.DNSException as exc:
            return DnsAnswer(name, rdtype, "error", error=f"{type(exc).__name__}: {exc}")
        except OSError as exc:
            return DnsAnswer(name, rdtype, "error", error=f"{type(exc).__name__}: {exc}")
        targets = tuple(
            str(rr.target).rstrip(".").lower()
            for rrset in answer.response.answer
            if rrset.rdtype == dns.rdatatype.CNAME
            for rr in rrset
        )
        if answer.rrset is None:
            return DnsAnswer(name, rdtype, "nodata", chain=(name, *targets))
        if rdtype == "TXT":
            # RFC 7208 3.3 / RFC 6376 3.6.2.2: a TXT record's character-strings are concatenated.
            records = tuple(b"".join(r.strings).decode("utf-8", "replace") for r in answer.rrset)
        else:
            records = tuple(r.to_text() for r in answer.rrset)
        return DnsAnswer(
            name,
            rdtype,
            "ok",
            records=tuple(sorted(records)),
            ttl=answer.rrset.ttl,
            chain=(name, *targets),
        )

    async def addresses(self, name: str) -> tuple[DnsAnswer, DnsAnswer]:
        """A and AAAA answers for ``name``, asked concurrently."""
        a, aaaa = await asyncio.gather(self.query(name, "A"), self.query(name, "AAAA"))
        return a, aaaa

    async def txt(self, name: str) -> DnsAnswer:
        return await self.query(name, "TXT")

    async def close(self) -> None:
        for task in self._pending.values():
            if not task.done():
                task.cancel()
