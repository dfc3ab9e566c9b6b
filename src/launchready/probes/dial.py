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

    Addresses from DNS answers pass :meth:`NetSettings.steering_refusal`; --connect-to targets and
    IP literals the caller asks for are the user's own choice and are dialled as given.

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
    answered = a.records + aaaa.records
    # A DNS answer is the zone owner's word, not the user's: it may not steer a probe to
    # cloud metadata, the LAN or this machine (NetSettings.steering_refusal).
    refused = [why for addr in answered if (why := net.steering_refusal(addr)) is not None]
    endpoints = tuple((addr, port) for addr in answered if net.steering_refusal(addr) is None)
    if endpoints:
        return DialPlan(endpoints)
    if refused:
        return DialPlan((), f"{name} resolves to {refused[0]}")
    why = "; ".join(f"{ans.rdtype} {ans.status}" + (f" ({ans.error})" if ans.error else "") for ans in (a, aaaa))
    return DialPlan((), f"{name} has no address: {why}")


def redirect_refusal(net: NetSettings, start_host: str | None, target_host: str) -> str | None:
    """Why a redirect to ``target_host`` is not followed, or None to follow it.

    A Location is the server's word: an IP literal in it passes the same policy as a DNS answer
    (names are checked when dialled), unless it is the host the user asked for in the first place.
    """
    host = target_host.strip("[]").lower().rstrip(".")
    if not is_ip(host) or (start_host is not None and host == start_host.strip("[]").lower().rstrip(".")):
        return None
    return net.steering_refusal(host)
