"""Where a connection goes (--connect-to, else the run's DNS), for every probe.

Shared by the TLS and HTTP probes so both dial exactly the same endpoints for a host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from launchready.core.net import NetSettings
from launchready.core.protocols import DnsLookup


@dataclass(frozen=True)
class DialPlan:
    """The (address, port) pairs to try for a requested host:port, in order, or why there are none."""

    endpoints: tuple[tuple[str, int], ...]
    error: str | None = None


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


async def _system_addresses(name: str, port: int) -> tuple[tuple[str, int], ...]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except OSError:
        return ()
    seen: dict[tuple[str, int], None] = {}
    for family, _, _, _, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            seen[(str(sockaddr[0]), port)] = None
    return tuple(seen)


async def dial_plan(net: NetSettings, dns: DnsLookup, host: str, port: int) -> DialPlan:
    """Where a connection to ``host:port`` goes: --connect-to first, else the run's DNS (A, then AAAA).

    A --connect-to target that is a name (``localhost``) goes through the system resolver, as curl
    does: it names the operator's own infrastructure, which a lab --nameserver does not serve.
    """
    name = host.lower().rstrip(".")
    routed = net.route(name, port)
    if routed is not None:
        to_host, to_port = routed
        if is_ip(to_host):
            return DialPlan(((to_host, to_port),))
        found = await _system_addresses(to_host, to_port)
        if not found:
            return DialPlan((), f"--connect-to target {to_host} does not resolve")
        return DialPlan(found)
    if is_ip(name):
        return DialPlan(((name, port),))
    a, aaaa = await dns.addresses(name)
    endpoints = tuple((addr, port) for addr in a.records + aaaa.records)
    if endpoints:
        return DialPlan(endpoints)
    why = "; ".join(f"{ans.rdtype} {ans.status}" + (f" ({ans.error})" if ans.error else "") for ans in (a, aaaa))
    return DialPlan((), f"{name} has no address: {why}")
