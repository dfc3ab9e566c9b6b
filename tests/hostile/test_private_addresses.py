"""Hostile redirects, links and DNS answers never steer a probe to private addresses.

A hostile server (a raw HTTP server on 127.0.0.1) and a hostile zone (a UDP DNS responder on
127.0.0.1) try to send the probes to cloud metadata (169.254.169.254), the LAN (10.x) and this
machine; every attempt stops with a reason and nothing is dialled there. The lab's way of
working (a --nameserver on loopback answering loopback, --connect-to routes) keeps working.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from launchready.checks.app.health import judge as judge_health
from launchready.checks.perf.pageload import describe
from launchready.checks.web import links
from launchready.config.model import Config
from launchready.core.dns import DnsAnswer
from launchready.core.net import (
    ConnectTo,
    Nameserver,
    NetSettings,
    build_net_settings,
    declared_hosts,
    non_public_scope,
)
from launchready.core.registry import load_registry
from launchready.engine.context import AuditContext, Probes, SiteMap
from launchready.perf.chromium import find_chromium, measure_page
from launchready.probes.crawl import CrawlLimits, crawl
from launchready.probes.dial import dial_plan, redirect_refusal
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpExchange, HttpProbe
from launchready.probes.tls import TlsProbe
from launchready.smoke.plan import execute, plan_smoke

from .rawserver import RawServer, page, redirect, response

SITE = "shop.test"

# Where a hostile Location may point: metadata, LAN, this machine, multicast, "any", v4-mapped v6.
PRIVATE_LOCATIONS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.1.2.3:8080/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://127.0.0.2:6379/",
    "http://[::1]:8080/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
]


def _run(make: Callable[[], Any]) -> Any:
    return asyncio.run(make())


@pytest.mark.parametrize("location", PRIVATE_LOCATIONS)
def test_health_redirect_to_a_private_address_is_not_followed(location: str) -> None:
    async def main() -> tuple[tuple[HttpExchange, ...], list[tuple[str, str, str]]]:
        async with RawServer({"/health": redirect(location)}) as server:
            net = NetSettings(connect_to=(ConnectTo(f"app.{SITE}", None, "127.0.0.1", server.port),), timeout=3)
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                chain = await http.follow(f"http://app.{SITE}/health", max_hops=5)
            finally:
                await http.close()
                await dns.close()
            return chain, server.requests

    chain, requests = _run(main)
    assert len(chain) == 1 and chain[0].redirect_stop == "private-address"
    assert requests == [("GET", f"app.{SITE}", "/health")]
    [finding] = judge_health("production", f"http://app.{SITE}/health", chain)
    assert finding.id == "app.health.down"
    assert any("private address, not followed" in line for line in finding.evidence)


def test_health_redirect_to_a_name_resolving_to_metadata_is_unreachable(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    nameserver, _ = udp_dns_responder({f"meta.{SITE}": "169.254.169.254", f"lan.{SITE}": "10.1.2.3"})

    async def main(target: str) -> tuple[HttpExchange, ...]:
        async with RawServer({"/health": redirect(f"http://{target}/latest/")}) as server:
            route = ConnectTo(f"app.{SITE}", None, "127.0.0.1", server.port)
            net = NetSettings(nameservers=(nameserver,), connect_to=(route,), timeout=3)
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                return await http.follow(f"http://app.{SITE}/health", max_hops=5)
            finally:
                await http.close()
                await dns.close()

    for target, scope in ((f"meta.{SITE}", "link-local"), (f"lan.{SITE}", "private")):
        chain = asyncio.run(main(target))
        last = chain[-1]
        assert last.status is None and last.error is not None
        assert f"{scope} address that no --connect-to or --nameserver flag names" in last.error
        [finding] = judge_health("production", f"http://app.{SITE}/health", chain)
        assert finding.id == "app.health.unreachable"


def test_crawler_does_not_dial_a_same_site_name_resolving_to_metadata(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    nameserver, _ = udp_dns_responder({f"meta.{SITE}": "169.254.169.254", f"local.{SITE}": "127.0.0.1"})

    async def main() -> tuple[Any, list[tuple[str, str, str]], int]:
        async with RawServer({}) as server:
            server.pages[f"{SITE}/"] = page(
                f"http://meta.{SITE}/latest/meta-data/", f"http://local.{SITE}:{server.port}/ok"
            )
            server.pages["/ok"] = page()
            net = NetSettings(
                nameservers=(nameserver,), connect_to=(ConnectTo(SITE, None, "127.0.0.1", server.port),), timeout=3
            )
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                result = await crawl(http, SITE, SITE, (f"http://{SITE}/",), CrawlLimits(rate=0))
            finally:
                await http.close()
                await dns.close()
            return result, server.requests, server.port

    result, requests, port = asyncio.run(main())
    meta = result.visit(f"http://meta.{SITE}/latest/meta-data/")
    assert meta is not None and meta.final.status is None
    assert "169.254.169.254 is a link-local address" in (meta.final.error or "")
    # The lab's pattern still works: a loopback --nameserver may answer loopback addresses.
    local = result.visit(f"http://local.{SITE}:{port}/ok")
    assert local is not None and local.final.status == 200
    assert ("GET", f"local.{SITE}", "/ok") in requests
    findings = links.judge(SITE, result)
    broken = next(f for f in findings if f.id == "web.links.broken")
    assert any("meta." in line and "link-local" in line for line in broken.evidence)


def test_tls_probe_refuses_a_name_resolving_to_the_lan(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    nameserver, _ = udp_dns_responder({f"db.{SITE}": "10.0.0.5"})

    async def main() -> tuple[str | None, str | None]:
        net = NetSettings(nameservers=(nameserver,), timeout=2)
        dns = DnsProbe(net)
        tls = TlsProbe(net, dns)
        try:
            facts = await tls.handshake(f"db.{SITE}", 5432)
            plan = await dial_plan(net, dns, f"db.{SITE}", 443)
        finally:
            await tls.close()
            await dns.close()
        return facts.error, plan.error

    tls_error, plan_error = asyncio.run(main())
    assert tls_error is not None and "10.0.0.5 is a private address" in tls_error
    assert plan_error is not None and "not dialled" in plan_error


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:169.254.169.254", "link-local"),
        ("10.1.2.3", "private"),
        ("fd00::1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "reserved"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("not-an-ip", None),
    ],
)
def test_address_scopes(address: str, scope: str | None) -> None:
    assert non_public_scope(address) == scope


def test_the_users_own_flags_declare_addresses() -> None:
    lab = NetSettings(
        nameservers=(Nameserver("127.0.0.1", 5353),), connect_to=(ConnectTo(None, 443, "10.9.9.9", 8443),)
    )
    assert lab.steering_refusal("127.0.0.1") is None  # the lab: loopback name server, loopback answers
    assert lab.steering_refusal("::1") is None
    assert lab.steering_refusal("10.9.9.9") is None  # named by --connect-to
    assert lab.steering_refusal("10.9.9.8") is not None
    assert lab.steering_refusal("169.254.169.254") is not None  # never by scope, only when named
    assert NetSettings().steering_refusal("127.0.0.1") is not None  # the system resolver declares nothing
    assert NetSettings(allow_private=True).steering_refusal("169.254.169.254") is None
    opted_in = build_net_settings(None, None, None, 5.0, environ={"LAUNCHREADY_ALLOW_PRIVATE": "1"})
    assert opted_in.allow_private and opted_in.steering_refusal("10.0.0.1") is None
    assert not build_net_settings(None, None, None, 5.0, environ={}).allow_private
    assert NetSettings().steering_refusal("8.8.8.8") is None
    # A redirect back to the host the user asked for is the user's choice; another private literal is not.
    assert redirect_refusal(NetSettings(), "127.0.0.1", "127.0.0.1") is None
    assert redirect_refusal(NetSettings(), "127.0.0.1", "10.0.0.1") is not None
    assert redirect_refusal(NetSettings(), "app.test", "inner.test") is None  # names are checked when dialled


def test_status_only_answers_do_not_confuse_the_redirect_policy() -> None:
    async def main() -> tuple[HttpExchange, ...]:
        async with RawServer({"/health": response(302, b"")}) as server:
            net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=3)
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                return await http.follow(f"http://app.{SITE}/health")
            finally:
                await http.close()
                await dns.close()

    chain = asyncio.run(main())
    assert len(chain) == 1 and chain[0].status == 302 and chain[0].redirect_stop is None


# -- redirects go only to declared hosts ---------------------------------------------------------


def _audit_context(config: Config, net: NetSettings, probes: Probes) -> AuditContext:
    site = SiteMap(SITE, (), DnsAnswer(SITE, "MX", "nodata"))
    return AuditContext(domain=SITE, config=config, net=net, probes=probes, site=site)


@pytest.mark.parametrize(
    "location",
    [
        "http://status.elsewhere.test/ok",  # a status page on another domain
        "https://login.idp.test/authorize?next=/health",  # an SSO login
        f"http://{SITE}.evil.test/ok",  # the audited name as a prefix of someone else's
        "http://93.184.216.34/ok",  # a public address literal
    ],
)
def test_app_health_does_not_follow_a_redirect_to_an_undeclared_host(location: str) -> None:
    async def main() -> tuple[list[Any], list[tuple[str, str, str]]]:
        async with RawServer({"/health": redirect(location), "/ok": response(200, b"ok")}) as server:
            # Every name dials the hostile server: only the policy keeps the probe from following.
            net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=3)
            config = Config.model_validate(
                {"domain": SITE, "environments": {"production": {"base_url": f"http://app.{SITE}"}}}
            )
            probes = Probes.open(net)
            try:
                ctx = _audit_context(config, net, probes)
                findings = list(await load_registry().get("app.health").run(ctx, "production"))
            finally:
                await probes.close()
            return findings, server.requests

    findings, requests = asyncio.run(main())
    assert requests == [("GET", f"app.{SITE}", "/health")]  # the Location was never requested
    [finding] = findings
    assert finding.id == "app.health.down"
    assert "a host the configuration does not declare" in finding.title
    assert any("not followed" in line and "is not a declared host" in line for line in finding.evidence), (
        finding.evidence
    )


def test_redirects_to_declared_hosts_are_followed() -> None:
    declared = (
        f"http://www.{SITE}/ok",  # a name under the audited domain
        "http://staging.host.test/ok",  # another environment's host
        "http://origin.routed.test/ok",  # a --connect-to name
    )

    async def main() -> list[tuple[HttpExchange, ...]]:
        pages = {f"/from{n}": redirect(url) for n, url in enumerate(declared)} | {"/ok": response(200, b"ok")}
        async with RawServer(pages) as server:
            routes = (
                ConnectTo("origin.routed.test", None, "127.0.0.1", server.port),
                ConnectTo(None, None, "127.0.0.1", server.port),
            )
            net = NetSettings(connect_to=routes, timeout=3)
            within = declared_hosts(net, SITE, [f"http://app.{SITE}", "http://www.staging.host.test"])
            dns = DnsProbe(net)
            http = HttpProbe(net, dns)
            try:
                return [await http.follow(f"http://app.{SITE}/from{n}", within=within) for n in range(len(declared))]
            finally:
                await http.close()
                await dns.close()

    for url, chain in zip(declared, asyncio.run(main()), strict=True):
        assert [ex.url for ex in chain] == [chain[0].url, url] and chain[-1].status == 200, chain


def test_declared_hosts_hold_the_domain_the_environments_and_connect_to_names() -> None:
    net = NetSettings(
        connect_to=(ConnectTo("Origin.Shop.Internal.", 443, "10.0.0.5", 443), ConnectTo(None, 80, "::1", 8080))
    )
    hosts = declared_hosts(net, SITE, ["https://www.myapp.example", "http://[::1]:8000", "not a url"])
    assert hosts.allows(SITE) and hosts.allows(f"a.b.{SITE}.") and hosts.allows(f"WWW.{SITE}")
    assert hosts.allows("myapp.example") and hosts.allows("api.myapp.example")
    assert hosts.allows("origin.shop.internal") and hosts.allows("[::1]") and hosts.allows("0::1")
    assert not hosts.allows("x.::1")
    assert not hosts.allows(f"{SITE}.evil.test") and not hosts.allows(f"evil{SITE}")
    assert not hosts.allows("example") and not hosts.allows("elsewhere.test")
    refusal = hosts.refusal("elsewhere.test")
    assert refusal is not None and refusal.startswith("elsewhere.test is not a declared host")
    assert f"here: {SITE} and names under it, myapp.example and names under it, ::1, origin.shop.internal)" in refusal
    assert declared_hosts(NetSettings(), None).refusal("x.test") is not None


def test_smoke_steps_follow_redirects_only_to_declared_hosts(tmp_path: Path) -> None:
    flows = tmp_path / "flows.yaml"
    steps = {
        "metadata": "/to-metadata",
        "sso": "/to-sso",
        "lookalike": "/to-lookalike",
        "in-site": "/to-www",
        "post-303": "/post",
    }
    flows.write_text(
        "flows:\n"
        + "".join(
            f"  {name}:\n    steps:\n      - request: {{method: {'POST' if name == 'post-303' else 'GET'}, "
            f"url: '{path}', follow_redirects: true{', body: x' if name == 'post-303' else ''}}}\n"
            "        expect: {status: 200}\n"
            for name, path in steps.items()
        )
    )
    pages = {
        "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-sso": redirect("https://login.idp.test/authorize"),
        "/to-lookalike": redirect(f"http://{SITE}.evil.test/ok"),
        "/to-www": redirect(f"http://www.{SITE}/ok"),
        "/post": redirect(f"http://app.{SITE}/ok", 303),
        "/ok": response(200, b"ok"),
    }

    async def main() -> tuple[Any, list[tuple[str, str, str]]]:
        async with RawServer(pages) as server:
            # Every name and address dials the hostile server: only the policy keeps a step from following.
            net = NetSettings(connect_to=(ConnectTo(None, None, "127.0.0.1", server.port),), timeout=3)
            config = Config.model_validate(
                {
                    "domain": SITE,
                    "environments": {"production": {"base_url": f"http://app.{SITE}"}},
                    "smoke": {"files": [str(flows)]},
                }
            )
            run = await execute(plan_smoke(config, "production", environ={}), net)
            return run, server.requests

    run, requests = asyncio.run(main())
    outcome = {flow.name: flow for flow in run.flows}
    for name in ("metadata", "sso", "lookalike"):
        assert not outcome[name].passed, name
        [step] = outcome[name].steps
        assert step.failure is not None and "302 redirect to" in step.failure and "not followed" in step.failure
    assert "link-local address" in (outcome["metadata"].steps[0].failure or "")
    assert "login.idp.test is not a declared host" in (outcome["sso"].steps[0].failure or "")
    assert f"{SITE}.evil.test is not a declared host" in (outcome["lookalike"].steps[0].failure or "")
    assert outcome["in-site"].passed and outcome["post-303"].passed
    hosts = {host for _, host, _ in requests}
    assert hosts == {f"app.{SITE}", f"www.{SITE}"}, requests  # nothing else was ever asked
    assert ("GET", f"app.{SITE}", "/ok") in requests  # the 303 turned the POST into a GET


# -- a page loaded in Chromium cannot send the browser to a private address ------------------------

CHROMIUM = find_chromium()


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_page_load_blocks_a_pages_requests_to_private_addresses(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    nameserver, _ = udp_dns_responder({f"meta.{SITE}": "169.254.169.254"})

    async def main() -> tuple[Any, list[tuple[str, str, str]], int]:
        async with RawServer({}) as server:
            own = f"http://127.0.0.1:{server.port}"
            server.pages["/"] = response(
                200,
                (
                    "<html><body><h1>Shop</h1>"
                    '<img src="http://169.254.169.254/latest/meta-data/iam.png">'
                    '<img src="http://10.1.2.3:8080/lan.png">'
                    f'<img src="http://meta.{SITE}/resolves-to-metadata.png">'
                    f'<img src="{own}/own.png">'
                    "</body></html>"
                ).encode(),
            )
            server.pages["/own.png"] = response(200, b"\x89PNG", ctype="image/png")
            assert CHROMIUM is not None
            net = NetSettings(nameservers=(nameserver,), timeout=5)
            load = await measure_page(f"{own}/", net, binary=CHROMIUM, timeout_s=60)
            return load, server.requests, server.port

    load, requests, port = asyncio.run(main())
    assert load.error is None, load.error
    blocked = "\n".join(load.blocked)
    assert "http://169.254.169.254/latest/meta-data/iam.png: 169.254.169.254 is a link-local address" in blocked
    assert "http://10.1.2.3:8080/lan.png: 10.1.2.3 is a private address" in blocked
    assert f"meta.{SITE} resolves to 169.254.169.254 is a link-local address" in blocked
    assert len(load.blocked) == 3
    assert sum(line.startswith("not fetched: ") for line in describe(load)) == 3  # shown in the evidence
    # The page's own host is the user's choice: its page and image were fetched.
    assert ("GET", "127.0.0.1", "/own.png") in requests
    assert {r.url for r in load.requests} >= {f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}/own.png"}


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")
def test_page_load_dials_the_runs_dns_answers_not_the_system_resolvers(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    """Lab names only the run's --nameserver knows: Chromium loads what the run's DNS and
    --connect-to say, and is refused what the run's DNS puts on a private address."""
    nameserver, _ = udp_dns_responder(
        {
            SITE: "127.0.0.1",
            f"assets.{SITE}": "127.0.0.1",  # loopback, like the lab's --nameserver: a lab name
            f"lan.{SITE}": "10.1.2.3",  # the LAN, named by no flag
            f"cdn.{SITE}": "10.9.9.9",  # the LAN too, but a --connect-to rule routes it
            f"meta.{SITE}": "169.254.169.254",
        }
    )

    async def main() -> tuple[Any, list[tuple[str, str, str]]]:
        async with RawServer({}) as server:
            port = server.port
            server.pages["/"] = response(
                200,
                (
                    "<html><body><h1>Shop</h1>"
                    f'<img src="http://assets.{SITE}:{port}/assets.png">'
                    f'<img src="http://lan.{SITE}:{port}/lan.png">'
                    f'<img src="http://cdn.{SITE}/cdn.png">'
                    # A WebSocket is never paused by the DevTools Fetch domain: the proxy refuses it.
                    f'<script>try {{ new WebSocket("ws://meta.{SITE}/socket"); }} catch (e) {{}}</script>'
                    "</body></html>"
                ).encode(),
            )
            for name in ("assets", "cdn"):
                server.pages[f"/{name}.png"] = response(200, b"\x89PNG", ctype="image/png")
            assert CHROMIUM is not None
            net = NetSettings(
                nameservers=(nameserver,), connect_to=(ConnectTo(f"cdn.{SITE}", 80, "127.0.0.1", port),), timeout=5
            )
            load = await measure_page(f"http://{SITE}:{port}/", net, binary=CHROMIUM, timeout_s=60)
            return load, server.requests

    load, requests = asyncio.run(main())
    assert load.error is None, load.error
    fetched = {(host, path) for _, host, path in requests}
    # The page itself and the names the run's DNS or a --connect-to rule put on this machine loaded,
    # though the system resolver has never heard of them.
    assert {(SITE, "/"), (f"assets.{SITE}", "/assets.png"), (f"cdn.{SITE}", "/cdn.png")} <= fetched, fetched
    # The name the run's DNS puts on the LAN was refused, and nothing reached the server for it.
    assert (f"lan.{SITE}", "/lan.png") not in fetched
    blocked = "\n".join(load.blocked)
    assert f"lan.{SITE} resolves to 10.1.2.3 is a private address" in blocked, blocked
    assert f"meta.{SITE}:80: meta.{SITE} resolves to 169.254.169.254 is a link-local address" in blocked, blocked
    assert not any(f"cdn.{SITE}" in line or f"assets.{SITE}" in line for line in load.blocked), blocked


def test_the_page_load_proxy_dials_the_runs_answers_and_refuses_private_ones(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    """The SOCKS5 proxy Chromium connects through, spoken to byte by byte: a name goes where the
    run's DNS says, a private answer or literal is refused (code 2), BIND is not served (code 7)."""
    import struct

    from launchready.perf.browser_proxy import GuardedProxy

    nameserver, _ = udp_dns_responder({f"assets.{SITE}": "127.0.0.1", f"lan.{SITE}": "10.1.2.3"})

    async def socks(proxy_port: int, command: int, address: bytes, port: int) -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        try:
            writer.write(b"\x05\x01\x00")
            assert await reader.readexactly(2) == b"\x05\x00"
            writer.write(b"\x05" + bytes((command, 0)) + address + struct.pack("!H", port))
            reply = await reader.readexactly(10)
            if reply[1] != 0:
                return reply[1], b""
            writer.write(f"GET /a.png HTTP/1.1\r\nHost: assets.{SITE}\r\n\r\n".encode())
            return 0, await reader.readuntil(b"\r\n\r\n")
        finally:
            writer.close()

    def name(host: str) -> bytes:
        return b"\x03" + bytes((len(host),)) + host.encode()

    async def main() -> tuple[list[int], bytes, list[tuple[str, str, str]], list[tuple[str, int, str]]]:
        async with RawServer({"/a.png": response(200, b"png", ctype="image/png")}) as server:
            net = NetSettings(nameservers=(nameserver,), timeout=3)
            dns = DnsProbe(net)
            try:
                async with GuardedProxy(net, dns, SITE) as proxy:
                    loaded, head = await socks(proxy.port, 1, name(f"assets.{SITE}"), server.port)
                    codes = [
                        loaded,
                        (await socks(proxy.port, 1, name(f"lan.{SITE}"), server.port))[0],
                        (await socks(proxy.port, 1, b"\x01" + bytes((169, 254, 169, 254)), 80))[0],
                        (await socks(proxy.port, 2, name(f"assets.{SITE}"), server.port))[0],
                    ]
                    return codes, head, server.requests, proxy.refused
            finally:
                await dns.close()

    codes, head, requests, refused = asyncio.run(main())
    assert codes == [0, 2, 2, 7]
    assert head.startswith(b"HTTP/1.1 200") and ("GET", f"assets.{SITE}", "/a.png") in requests
    assert [(host, port) for host, port, _ in refused][1:] == [("169.254.169.254", 80)]
    assert refused[0][0] == f"lan.{SITE}" and "10.1.2.3 is a private address" in refused[0][2]


def test_closing_the_page_load_proxy_with_connections_open_prints_nothing(
    udp_dns_responder: Callable[[dict[str, str]], tuple[Nameserver, Any]],
) -> None:
    """The page load ends while Chromium still holds connections through the proxy: closing it
    ends them quietly (the demo once printed a CancelledError traceback per open connection)."""
    import struct

    from launchready.perf.browser_proxy import GuardedProxy

    nameserver, _ = udp_dns_responder({f"assets.{SITE}": "127.0.0.1"})
    loop_errors: list[dict[str, Any]] = []

    async def main() -> int:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: loop_errors.append(context))
        async with RawServer({"/a.png": response(200, b"png", ctype="image/png")}) as server:
            net = NetSettings(nameservers=(nameserver,), timeout=3)
            dns = DnsProbe(net)
            held: list[asyncio.StreamWriter] = []
            try:
                async with GuardedProxy(net, dns, SITE) as proxy:
                    for _ in range(3):
                        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
                        held.append(writer)
                        writer.write(b"\x05\x01\x00")
                        await reader.readexactly(2)
                        host = f"assets.{SITE}".encode()
                        writer.write(b"\x05\x01\x00\x03" + bytes((len(host),)) + host + struct.pack("!H", server.port))
                        assert (await reader.readexactly(10))[1] == 0
                    open_before_close = len(proxy._clients)
                # Let the loop run the start_server callbacks of the ended handlers.
                for _ in range(5):
                    await asyncio.sleep(0)
                return open_before_close
            finally:
                for writer in held:
                    writer.close()
                await dns.close()

    assert asyncio.run(main()) == 3
    assert loop_errors == []
