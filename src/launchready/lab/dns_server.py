"""The lab's authoritative DNS server: the real wire protocol over UDP and TCP on one port.

The lab stands in for the whole DNS, so a name outside every lab zone is answered NXDOMAIN
(authoritatively) instead of being refused or recursed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

# The EDNS payload the lab advertises: the DNS-flag-day size that avoids IP fragmentation.
OUR_EDNS_PAYLOAD = 1232
_PLAIN_UDP_LIMIT = 512
_MAX_CNAME_CHAIN = 8
_TCP_IDLE_SECONDS = 10.0
_PORT_ATTEMPTS = 20


def _rrset(name: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(name, rdataset.ttl, list(rdataset))


class DnsAuthority:
    """Answers queries from a fixed set of zones (pure: message in, message out)."""

    def __init__(self, zones: Iterable[dns.zone.Zone], parent_ds: Iterable[dns.rrset.RRset] = ()) -> None:
        # Longest origin first, so a child zone wins over its parent.
        self._zones = sorted(zones, key=lambda z: len(z.origin), reverse=True)  # type: ignore[arg-type]
        # DS records live on the parent side of a delegation (RFC 4035 3.1.4.1). The lab serves no
        # parent zone, so what a registrar would publish there is kept here, by child apex.
        self._parent_ds = {rrset.name: rrset for rrset in parent_ds}

    def _zone_for(self, name: dns.name.Name) -> dns.zone.Zone | None:
        for zone in self._zones:
            if name.is_subdomain(zone.origin):  # type: ignore[arg-type]
                return zone
        return None

    @staticmethod
    def _is_empty_non_terminal(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
        # e.g. _domainkey.example when only sel._domainkey.example has records: NODATA, not NXDOMAIN.
        return any(owner != name and owner.is_subdomain(name) for owner in zone.nodes)

    @staticmethod
    def _negative_soa(zone: dns.zone.Zone) -> dns.rrset.RRset:
        origin = zone.origin
        assert origin is not None
        soa = zone.find_rdataset(origin, dns.rdatatype.SOA)
        # RFC 2308: the negative-caching TTL is the smaller of the SOA TTL and its MINIMUM field.
        ttl = min(soa.ttl, soa[0].minimum)
        return dns.rrset.from_rdata_list(origin, ttl, list(soa))

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query, our_payload=OUR_EDNS_PAYLOAD)
        if query.edns > 0:
            response.set_rcode(dns.rcode.BADVERS)
            return response
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        if question.rdclass != dns.rdataclass.IN or question.rdtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        response.flags |= dns.flags.AA
        dnssec_ok = bool(query.ednsflags & dns.flags.DO)
        if dnssec_ok:
            response.ednsflags |= dns.flags.DO  # RFC 3225: the DO bit is copied into the response
        if question.rdtype == dns.rdatatype.DS and self._is_zone_apex(question.name):
            self._answer_parent_ds(response, question.name, dnssec_ok=dnssec_ok)
        else:
            self._resolve(response, question.name, question.rdtype, dnssec_ok=dnssec_ok)
        return response

    def _is_zone_apex(self, name: dns.name.Name) -> bool:
        return any(zone.origin == name for zone in self._zones)

    def _answer_parent_ds(self, response: dns.message.Message, apex: dns.name.Name, *, dnssec_ok: bool) -> None:
        """DS at a zone's apex is the parent's data: what the registrar published, or NODATA."""
        ds = self._parent_ds.get(apex)
        if ds is not None:
            response.answer.append(ds)
            return
        zone = self._zone_for(apex)
        assert zone is not None
        self._add_negative(response, zone, dnssec_ok=dnssec_ok)

    def _add_negative(self, response: dns.message.Message, zone: dns.zone.Zone, *, dnssec_ok: bool) -> None:
        soa = self._negative_soa(zone)
        response.authority.append(soa)
        if dnssec_ok:
            self._add_signature(response.authority, zone, soa.name, dns.rdatatype.SOA)

    @staticmethod
    def _add_signature(
        section: list[dns.rrset.RRset], zone: dns.zone.Zone, name: dns.name.Name, covered: dns.rdatatype.RdataType
    ) -> None:
        """Append the RRSIGs covering ``name``/``covered`` when the zone is signed (DO set)."""
        node = zone.get_node(name)
        sigs = None if node is None else node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.RRSIG, covered)
        if sigs is not None:
            section.append(_rrset(name, sigs))

    def _resolve(
        self,
        response: dns.message.Message,
        qname: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        *,
        dnssec_ok: bool = False,
    ) -> None:
        name = qname
        visited: set[dns.name.Name] = set()
        for _ in range(_MAX_CNAME_CHAIN):
            visited.add(name)
            zone = self._zone_for(name)
            if zone is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return
            node = zone.get_node(name)
            if node is None:
                if not self._is_empty_non_terminal(zone, name):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                self._add_negative(response, zone, dnssec_ok=dnssec_ok)
                return
            if rdtype == dns.rdatatype.ANY:
                response.answer.extend(_rrset(name, rds) for rds in node.rdatasets)
                return
            found = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if found is not None:
                response.answer.append(_rrset(name, found))
                if dnssec_ok:
                    self._add_signature(response.answer, zone, name, rdtype)
                return
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                self._add_negative(response, zone, dnssec_ok=dnssec_ok)  # NODATA
                return
            response.answer.append(_rrset(name, cname))
            if dnssec_ok:
                self._add_signature(response.answer, zone, name, dns.rdatatype.CNAME)
            name = cname[0].target
            if name in visited:
                response.set_rcode(dns.rcode.SERVFAIL)
                return
        # Chain longer than any resolver follows: what is in the answer so far is all we give.

    def handle_wire(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """The wire reply to one wire query, or None when there is nothing to answer."""
        try:
            query = dns.message.from_wire(wire)
        except dns.message.ShortHeader:
            return None
        except Exception:  # noqa: BLE001 - garbage from the network must not stop the server
            return _bare_reply(wire, dns.rcode.FORMERR, tcp=tcp)
        if query.flags & dns.flags.QR:
            return None  # a response, not a query: answering it could start a loop
        try:
            return self._render(query, self.answer(query), tcp=tcp)
        except Exception:  # noqa: BLE001 - a lab bug shows up as SERVFAIL, not a client timeout
            return _bare_reply(wire, dns.rcode.SERVFAIL, tcp=tcp)

    @staticmethod
    def _render(query: dns.message.Message, response: dns.message.Message, *, tcp: bool) -> bytes:
        if tcp:
            return response.to_wire(max_size=65535, prepend_length=True)
        limit = max(_PLAIN_UDP_LIMIT, query.payload) if query.edns >= 0 else _PLAIN_UDP_LIMIT
        # Too big for this UDP exchange: send what fits with TC set so the client retries over TCP.
        return response.to_wire(max_size=limit, prefer_truncation=True)


def _bare_reply(wire: bytes, rcode: dns.rcode.Rcode, *, tcp: bool) -> bytes:
    """A reply carrying only the query's id and an error code."""
    reply = dns.message.Message(id=int.from_bytes(wire[:2], "big"))
    reply.flags = dns.flags.QR
    reply.set_rcode(rcode)
    return reply.to_wire(prepend_length=tcp)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, authority: DnsAuthority) -> None:
        self._authority = authority
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector transport is a DatagramTransport in all but its class hierarchy.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self._authority.handle_wire(data, tcp=False)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)


class DnsServer:
    """Serves a :class:`DnsAuthority` on ``host:port`` over both UDP and TCP (port 0: ephemeral)."""

    def __init__(self, authority: DnsAuthority, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._authority = authority
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_clients: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the DNS server is not running")
        return self._port

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        attempts = _PORT_ATTEMPTS if self._requested_port == 0 else 1
        for attempt in range(attempts):
            udp, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self._authority), local_addr=(self._host, self._requested_port)
            )
            port = int(udp.get_extra_info("sockname")[1])
            try:
                # The ephemeral UDP port may already be taken on the TCP side: pick another pair.
                self._tcp = await asyncio.start_server(self._serve_tcp, self._host, port)
            except OSError:
                udp.close()
                if attempt + 1 == attempts:
                    raise
                continue
            self._udp, self._port = udp, port
            return port
        raise RuntimeError("unreachable")

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tcp_clients.add(task)
        try:
            while True:
                try:
                    length = int.from_bytes(await asyncio.wait_for(reader.readexactly(2), _TCP_IDLE_SECONDS), "big")
                    wire = await asyncio.wait_for(reader.readexactly(length), _TCP_IDLE_SECONDS)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                reply = self._authority.handle_wire(wire, tcp=True)
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
        except ConnectionError:
            return
        finally:
            self._tcp_clients.discard(task)
            writer.close()

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for task in list(self._tcp_clients):
                task.cancel()
            for task in list(self._tcp_clients):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._tcp.wait_closed()
            self._tcp = None
        self._port = None
