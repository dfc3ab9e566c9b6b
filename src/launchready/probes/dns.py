"""DNS probe: real queries through dnspython's async resolver, cached and de-duplicated per run."""

from __future__ import annotations

import asyncio
import ipaddress

import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver

from launchready.core.dns import DnsAnswer as DnsAnswer
from launchready.core.dns import DnsStatus as DnsStatus
from launchready.core.dns import ServerAnswer as ServerAnswer
from launchready.core.net import NetSettings, format_peer
from launchready.probes.flight import single_flight

# Asking a name server directly: two tries, so one lost UDP packet is not a dead server.
_DIRECT_TRIES = 2
_DIRECT_MAX_ADDRESSES = 4


class DnsProbe:
    """Resolves through the configured nameservers (or the system's), caching identical questions."""

    def __init__(self, net: NetSettings) -> None:
        self._net = net
        resolver = dns.asyncresolver.Resolver(configure=not net.nameservers)
        if net.nameservers:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.host, ns.port) for ns in net.nameservers]
        resolver.lifetime = net.timeout
        resolver.timeout = min(net.timeout, 3.0)
        # Fresh state per run: answers are cached in this probe, keyed by the full question.
        resolver.cache = None
        self._resolver = resolver
        self._pending: dict[tuple[str, str], asyncio.Task[DnsAnswer]] = {}
        self._direct: dict[tuple[str, str, str], asyncio.Task[tuple[ServerAnswer, ...]]] = {}

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

    async def query_server(self, server: str, name: str, rdtype: str) -> tuple[ServerAnswer, ...]:
        """Ask ``server`` itself (each of its addresses, on port 53) with recursion off.

        ``--connect-to SERVER:53:ADDR:PORT`` routes it (the lab's second name server); otherwise
        the server's addresses come from the run's DNS, as a resolver following the delegation would.
        """
        key = (server.lower().rstrip("."), name.lower().rstrip("."), rdtype.upper())
        return await single_flight(self._direct, key, lambda: self._query_server(*key))

    async def _query_server(self, server: str, name: str, rdtype: str) -> tuple[ServerAnswer, ...]:
        routed = self._net.route(server, 53)
        if routed is not None:
            endpoints = [routed]
        else:
            try:
                ipaddress.ip_address(server)
                endpoints = [(server, 53)]
            except ValueError:
                a, aaaa = await self.addresses(server)
                endpoints = [(addr, 53) for addr in a.records + aaaa.records]
                if not endpoints:
                    why = f"A {a.status}, AAAA {aaaa.status}"
                    return (ServerAnswer(server, "", name, rdtype, "error", error=f"{server} has no address ({why})"),)
        asked = endpoints[:_DIRECT_MAX_ADDRESSES]
        return tuple(await asyncio.gather(*(self._ask(server, addr, port, name, rdtype) for addr, port in asked)))

    async def _ask(self, server: str, address: str, port: int, name: str, rdtype: str) -> ServerAnswer:
        shown = format_peer(address, port)
        query = dns.message.make_query(name, rdtype)
        query.flags &= ~dns.flags.RD
        per_try = min(self._net.timeout / _DIRECT_TRIES, 2.0)
        error = ""
        for _ in range(_DIRECT_TRIES):
            try:
                response, _tcp = await dns.asyncquery.udp_with_fallback(query, address, timeout=per_try, port=port)
                break
            except dns.exception.Timeout:
                error = f"no answer within {per_try:g}s ({_DIRECT_TRIES} tries)"
            except (dns.exception.DNSException, OSError, ValueError) as exc:
                reason = (
                    "connection refused" if isinstance(exc, ConnectionRefusedError) else f"{type(exc).__name__}: {exc}"
                )
                return ServerAnswer(server, shown, name, rdtype, "error", error=reason)
        else:
            return ServerAnswer(server, shown, name, rdtype, "timeout", error=error)
        rcode = dns.rcode.to_text(response.rcode())
        authoritative = bool(response.flags & dns.flags.AA)
        wanted = dns.rdatatype.from_text(rdtype)
        records = tuple(sorted(r.to_text() for rrset in response.answer if rrset.rdtype == wanted for r in rrset))
        status: DnsStatus
        if rcode == "NXDOMAIN":
            status = "nxdomain"
        elif rcode == "SERVFAIL":
            status = "servfail"
        elif rcode != "NOERROR":
            status = "error"
        else:
            status = "ok" if records else "nodata"
        return ServerAnswer(server, shown, name, rdtype, status, records, authoritative, rcode)

    async def resolver_problem(self) -> str | None:
        """Why the run's resolver cannot be used at all, or None when it answers.

        A configured nameserver (``--nameserver``) counts as reachable when it answers anything,
        even REFUSED: it may be authoritative for one zone only. The system's resolver must answer
        the root's NS question, which every working recursive resolver can: a resolver that says
        NXDOMAIN to everything (a captive portal, a broken VPN) is as useless as none.
        """
        if self._net.nameservers:
            answers = await asyncio.gather(
                *(self._ask(".", ns.host, ns.port, ".", "NS") for ns in self._net.nameservers)
            )
            if any(a.rcode for a in answers):
                return None
            return "; ".join(f"{a.address}: {a.error or a.status}" for a in answers)
        root = await self._query(".", "NS")  # not through the cache: its key drops the trailing dot
        if root.status == "ok":
            return None
        return f"the system resolver answered the root NS question with {root.status}" + (
            f" ({root.error})" if root.error else ""
        )

    async def close(self) -> None:
        for task in (*self._pending.values(), *self._direct.values()):
            if not task.done():
                task.cancel()


async def resolver_problem(net: NetSettings) -> str | None:
    """Why the resolver ``net`` names cannot be used at all, or None when it answers."""
    probe = DnsProbe(net)
    try:
        return await probe.resolver_problem()
    finally:
        await probe.close()
