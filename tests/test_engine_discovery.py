"""Discovery over real DNS packets: which hosts exist, wildcards, and a resolver that is dead."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from launchready.config.model import Config
from launchready.core.net import Nameserver, NetSettings
from launchready.engine.discovery import COMMON_SUBDOMAINS, discover
from launchready.probes.dns import DnsProbe


def run_discovery(nameserver: Nameserver, domain: str, config: Config = Config(), timeout: float = 2.0) -> Any:
    async def go() -> Any:
        probe = DnsProbe(NetSettings(nameservers=(nameserver,), timeout=timeout))
        try:
            return await discover(domain, config, probe)
        finally:
            await probe.close()

    return asyncio.run(go())


def test_finds_apex_www_and_common_names(udp_dns_responder: Callable[..., Any]) -> None:
    ns, _ = udp_dns_responder({"shop.test": "127.0.0.1", "www.shop.test": "127.0.0.1", "api.shop.test": "127.0.0.2"})
    site = run_discovery(ns, "Shop.Test.")
    assert site.web_hosts == ("shop.test", "www.shop.test", "api.shop.test")
    assert site.host("api.shop.test").found_by == "common-name"
    assert site.host("api.shop.test").addresses == ("127.0.0.2",)


def test_declared_subdomain_is_kept_even_when_it_does_not_resolve(udp_dns_responder: Callable[..., Any]) -> None:
    ns, _ = udp_dns_responder({"shop.test": "127.0.0.1"})
    site = run_discovery(ns, "shop.test", Config(subdomains=("members",)))
    members = site.host("members.shop.test")
    assert members is not None and members.found_by == "config" and not members.has_address
    assert site.web_hosts == ("shop.test",)


def test_wildcard_answers_do_not_invent_hosts(udp_dns_responder: Callable[..., Any]) -> None:
    ns, _ = udp_dns_responder({"wild.test": "127.0.0.1", "*.wild.test": "127.0.0.9", "app.wild.test": "127.0.0.3"})
    site = run_discovery(ns, "wild.test", Config(subdomains=("members",)))
    names = set(site.web_hosts)
    # app has its own address; www and declared names stay; guessed names matching the wildcard go.
    assert names == {"wild.test", "www.wild.test", "app.wild.test", "members.wild.test"}
    assert not names & {f"{label}.wild.test" for label in COMMON_SUBDOMAINS if label not in ("app", "members")}


def test_discovery_can_be_turned_off(udp_dns_responder: Callable[..., Any]) -> None:
    ns, responder = udp_dns_responder({"shop.test": "127.0.0.1", "api.shop.test": "127.0.0.2"})
    site = run_discovery(ns, "shop.test", Config.model_validate({"audit": {"discover": False}}))
    assert "api.shop.test" not in site.web_hosts
    assert not any(name.startswith("api.") for name, _ in responder.queries)


@pytest.fixture
def silent_udp() -> Iterator[Nameserver]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield Nameserver("127.0.0.1", sock.getsockname()[1])
    sock.close()


def test_dead_resolver_stops_after_the_apex(silent_udp: Nameserver) -> None:
    site = run_discovery(silent_udp, "shop.test", timeout=0.3)
    assert [h.name for h in site.hosts] == ["shop.test"]
    apex = site.hosts[0]
    assert apex.a.status == "timeout" and apex.aaaa.status == "timeout"
    assert not site.domain_missing


def test_only_the_most_preferred_mx_hosts_are_looked_up() -> None:
    from mailzone import ZoneServer

    from launchready.core.dns import MAX_MX_TARGETS

    count = MAX_MX_TARGETS * 3
    # Preferences run backwards: the last records listed are the most preferred.
    records: dict[str, list[tuple[str, object]]] = {
        "shop.test": [("A", "127.0.0.1"), *(("MX", (count - n, f"mx{n}.shop.test")) for n in range(count))]
    }
    zone = ZoneServer(records)
    try:
        site = run_discovery(zone.nameserver, "shop.test", Config.model_validate({"audit": {"discover": False}}))
        asked = zone.names_asked
    finally:
        zone.stop()
    looked_up = {h.name for h in site.hosts if h.found_by == "mx"}
    most_preferred = {f"mx{n}.shop.test" for n in range(count - MAX_MX_TARGETS, count)}
    assert looked_up == most_preferred
    assert {n for n in asked if n.startswith("mx")} == most_preferred  # the others were never asked
    assert site.mx_omitted == count - MAX_MX_TARGETS
    assert len(site.mx_hosts) == count  # the names themselves stay known (MTA-STS matching, owners)
    [note] = site.omitted_notes
    assert note.startswith(f"{count - MAX_MX_TARGETS} more MX host(s) not looked up")
