"""dns.registration: the judge over RDAP facts, and the RDAP probe against real loopback servers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from launchready.checks.dns.registration import META, judge
from launchready.config.sections.owners import Owner
from launchready.core.errors import CouldNotRun
from launchready.core.net import NetSettings
from launchready.core.rdap import RdapFacts
from launchready.core.severity import Severity
from launchready.lab.rdap import domain_object
from launchready.probes.dns import DnsProbe
from launchready.probes.http import HttpProbe
from launchready.probes.rdap import RdapProbe, bootstrap_server

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DOMAIN = "example.com"
OWNED = {"registrar": Owner(name="Ana Lima", role="CTO"), "dns": Owner(name="Ana Lima")}
LOCKED = ("client transfer prohibited", "client delete prohibited")


def facts(**changes: object) -> RdapFacts:
    base: dict[str, object] = {
        "domain": DOMAIN,
        "server": "https://rdap.example/",
        "url": f"https://rdap.example/domain/{DOMAIN}",
        "registrar": "Example Registrar, Inc.",
        "expires": NOW + timedelta(days=200),
        "statuses": LOCKED,
        "nameservers": ("ns1.cloudflare.com", "ns2.cloudflare.com"),
        "delegation_signed": False,
    }
    base.update(changes)
    return RdapFacts(**base)  # type: ignore[arg-type]


def ids(found: list[object]) -> list[str]:
    return [f.id for f in found]  # type: ignore[attr-defined]


# -- the judge -------------------------------------------------------------------------------


def test_a_renewed_locked_owned_domain_has_no_finding() -> None:
    assert judge(facts(), OWNED, NOW) == []


def test_expiry_within_30_days_is_high_and_within_14_a_blocker() -> None:
    [soon] = judge(facts(expires=NOW + timedelta(days=20)), OWNED, NOW)
    assert soon.id == "dns.registration.expires-soon"
    assert soon.severity is Severity.HIGH
    assert "2026-12-20" in soon.title and "20 days" in soon.title
    [urgent] = judge(facts(expires=NOW + timedelta(days=10)), OWNED, NOW)
    assert urgent.severity is Severity.BLOCKER
    [gone] = judge(facts(expires=NOW - timedelta(days=2)), OWNED, NOW)
    assert gone.severity is Severity.BLOCKER and "already expired" in gone.title
    assert judge(facts(expires=NOW + timedelta(days=30)), OWNED, NOW) == []
    [almost] = judge(facts(expires=NOW + timedelta(days=14, seconds=-1)), OWNED, NOW)
    assert almost.severity is Severity.BLOCKER and "(14 days)" in almost.title
    [edge] = judge(facts(expires=NOW + timedelta(days=14)), OWNED, NOW)
    assert edge.severity is Severity.HIGH


def test_no_transfer_lock_is_reported_and_a_registry_lock_counts() -> None:
    [unlocked] = judge(facts(statuses=("active",)), OWNED, NOW)
    assert unlocked.id == "dns.registration.no-transfer-lock"
    assert "status active" in unlocked.evidence[0]
    assert judge(facts(statuses=("server transfer prohibited",)), OWNED, NOW) == []
    # Some servers send the EPP code itself rather than RFC 8056's words.
    assert judge(facts(statuses=("clienttransferprohibited",)), OWNED, NOW) == []
    [transfer_only] = judge(facts(statuses=("pending transfer", "client update prohibited")), OWNED, NOW)
    assert transfer_only.id == "dns.registration.no-transfer-lock"
    # A server that lists no status at all says nothing about the lock: no claim either way.
    assert judge(facts(statuses=()), OWNED, NOW) == []


def test_registrar_and_dns_host_without_an_owner() -> None:
    found = judge(facts(), {}, NOW)
    assert ids(found) == ["dns.registration.registrar-unowned", "dns.registration.dns-host-unowned"]
    registrar, dns_host = found
    assert "Example Registrar, Inc." in (registrar.remediation or "")
    assert "cloudflare.com" in (dns_host.remediation or "")
    # The DNS provider may be named by its own name instead of the account kind.
    assert ids(judge(facts(), {"registrar": Owner(name="Ana"), "cloudflare": Owner(name="Ben")}, NOW)) == []


def test_report_rows_name_the_registration_and_its_holders() -> None:
    from launchready.checks.dns.registration import shown_facts

    assert shown_facts(facts(delegation_signed=True), OWNED) == [
        ("Registrar", "Example Registrar, Inc. (held by Ana Lima (CTO))"),
        ("Registration expires", "2027-06-18"),
        ("Registration status", "client transfer prohibited, client delete prohibited"),
        ("DNS host", "cloudflare.com (held by Ana Lima)"),
        ("DNSSEC delegation (RDAP)", "signed"),
    ]
    assert shown_facts(facts(error="down"), OWNED) == []


def test_a_failed_lookup_could_not_run() -> None:
    with pytest.raises(CouldNotRun, match="HTTP 404"):
        judge(facts(error="https://rdap.example/domain/example.com: HTTP 404"), OWNED, NOW)


def test_every_finding_is_declared() -> None:
    declared = {spec.id for spec in META.findings}
    assert declared == {
        "dns.registration.expires-soon",
        "dns.registration.no-transfer-lock",
        "dns.registration.registrar-unowned",
        "dns.registration.dns-host-unowned",
    }


# -- the bootstrap ---------------------------------------------------------------------------


def test_bootstrap_names_the_registry_of_each_shipped_tld() -> None:
    assert bootstrap_server("example.com") == "https://rdap.verisign.com/com/v1/"
    assert bootstrap_server("Shop.Example.CO.UK.") == "https://rdap.nominet.uk/uk/"
    assert bootstrap_server("marketlab.test") is None


def test_a_tld_outside_the_bootstrap_could_not_run_and_names_the_flag() -> None:
    async def main() -> RdapFacts:
        net = NetSettings(timeout=2.0)
        http = HttpProbe(net, DnsProbe(net))
        try:
            return await RdapProbe(net, http).lookup("marketlab.test")
        finally:
            await http.close()

    found = asyncio.run(main())
    assert found.error is not None and "--rdap-server" in found.error


# -- the probe against loopback RDAP servers -------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def rdap_server(handler: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/rdap/domain/{name}", handler)
    app.router.add_get("/moved/domain/{name}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield f"http://127.0.0.1:{port}/rdap/"
    finally:
        await runner.cleanup()


def lookup(handler: Handler, *, timeout: float = 5.0) -> RdapFacts:
    async def main() -> RdapFacts:
        async with rdap_server(handler) as base:
            net = NetSettings(timeout=timeout, rdap_server=base)
            http = HttpProbe(net, DnsProbe(net))
            try:
                return await RdapProbe(net, http).lookup(DOMAIN)
            finally:
                await http.close()

    return asyncio.run(main())


async def good(request: web.Request) -> web.StreamResponse:
    body = domain_object(request.match_info["name"], frozenset(), NOW, signed=True)
    return web.json_response(body, content_type="application/rdap+json")


def test_probe_reads_a_good_answer() -> None:
    found = lookup(good)
    assert found.error is None
    assert found.registrar == "Loopback Registrar, Inc."
    assert found.registrar_iana_id == "9999"
    assert found.expires == NOW + timedelta(days=400)
    assert found.has_status("clientTransferProhibited")
    assert found.delegation_signed is True
    assert found.nameservers == ("ns1.example.com", "ns2.example.com")
    assert found.url is not None and found.url.endswith("/rdap/domain/example.com")
    assert judge(found, OWNED, NOW) == []


def test_probe_turns_garbage_into_an_error() -> None:
    async def garbage(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html>registry maintenance</html>", content_type="text/html")

    async def wrong_json(request: web.Request) -> web.StreamResponse:
        return web.json_response(["not", "an", "object"])

    async def wrong_object(request: web.Request) -> web.StreamResponse:
        return web.json_response({"objectClassName": "entity", "events": "soon"})

    assert "not JSON" in (lookup(garbage).error or "")
    assert "not an RDAP object" in (lookup(wrong_json).error or "")
    assert "not an RDAP domain object (entity)" in (lookup(wrong_object).error or "")
    with pytest.raises(CouldNotRun):
        judge(lookup(garbage), OWNED, NOW)


def test_probe_turns_malformed_fields_into_empty_facts_not_a_crash() -> None:
    async def odd(request: web.Request) -> web.StreamResponse:
        body = {
            "objectClassName": "domain",
            "events": [{"eventAction": "expiration", "eventDate": "next tuesday"}, "junk"],
            "entities": [{"roles": ["registrar"], "vcardArray": "nope"}, 7],
            "status": ["active", 3],
            "secureDNS": {"delegationSigned": "yes"},
            "nameservers": [{"ldhName": 5}],
        }
        return web.json_response(body)

    found = lookup(odd)
    assert found.error is None
    assert (found.expires, found.registrar, found.delegation_signed, found.nameservers) == (None, None, None, ())
    assert found.statuses == ("active",)


def test_probe_times_out_as_an_error() -> None:
    async def stalled(request: web.Request) -> web.StreamResponse:
        await asyncio.Event().wait()  # never answers; the probe's timeout ends the exchange
        raise AssertionError("unreachable")

    found = lookup(stalled, timeout=0.5)
    assert found.error is not None and found.registrar is None
    with pytest.raises(CouldNotRun):
        judge(found, OWNED, NOW)


def test_probe_refuses_a_redirect_to_another_host_and_follows_one_on_the_same_host() -> None:
    async def elsewhere(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://localhost:{request.url.port}/rdap/domain/{request.match_info['name']}")

    found = lookup(elsewhere)
    assert found.error is not None and "redirected to another host" in found.error

    async def moved(request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/rdap/"):
            raise web.HTTPMovedPermanently(f"/moved/domain/{request.match_info['name']}")
        return await good(request)

    followed = lookup(moved)
    assert followed.error is None and followed.url is not None and "/moved/" in followed.url

    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.path)

    assert "redirects" in (lookup(loop).error or "")


def test_probe_reports_a_404_as_unknown_to_the_server() -> None:
    async def missing(request: web.Request) -> web.StreamResponse:
        return web.json_response({"errorCode": 404, "title": "Not Found"}, status=404)

    found = lookup(missing)
    assert found.error is not None and "HTTP 404" in found.error and DOMAIN in found.error


def test_probe_names_a_dead_server() -> None:
    from netutil import closed_port

    async def main() -> RdapFacts:
        net = NetSettings(timeout=2.0, rdap_server=f"http://127.0.0.1:{closed_port()}/")
        http = HttpProbe(net, DnsProbe(net))
        try:
            return await RdapProbe(net, http).lookup(DOMAIN)
        finally:
            await http.close()

    found = asyncio.run(main())
    assert found.error is not None
    assert json.dumps(found.error)  # a plain one-line string
    assert "\n" not in found.error


# -- the audit end to end: the lab's RDAP server, and one that is not there ------------------


def test_audit_reports_the_lab_registration_and_an_unreachable_rdap_server_as_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cliutil import run_cli
    from netutil import closed_port

    from launchready.lab.lab import Lab

    with Lab(faults=["registration-expiring"]) as lab:
        config = tmp_path / "launchready.toml"
        config.write_text(lab.config_toml(), encoding="utf-8")
        base = ["audit", "-c", str(config), "--only", "dns.registration", "--format", "json", "--no-history", "-q"]
        code, out, _ = run_cli([*base, *lab.cli_args()], capsys)
        report = json.loads(out)
        [finding] = report["findings"]
        assert (finding["id"], finding["severity"]) == ("dns.registration.expires-soon", "blocker")
        assert "(10 days)" in finding["title"]
        shown = {f["name"]: f["value"] for f in report["host_facts"] if f["check_id"] == "dns.registration"}
        assert shown["Registrar"] == "Loopback Registrar, Inc. (held by Ana Lima <ana@marketlab.test> (founder))"
        assert shown["DNS host"].startswith("marketlab.test (held by Ana Lima")
        assert shown["DNSSEC delegation (RDAP)"] == "signed"
        assert code != 0

        dead = [*lab.cli_args()[:-2], "--rdap-server", f"http://127.0.0.1:{closed_port()}/"]
        code, out, _ = run_cli([*base, *dead], capsys)
    report = json.loads(out)
    [result] = report["results"]
    assert (result["check_id"], result["status"]) == ("dns.registration", "error")
    assert "RDAP lookup of marketlab.test failed" in result["reason"]
    assert report["findings"] == [] and report["summary"]["checks"]["passed"] == 0


# -- --rdap-server and [net] rdap_server -------------------------------------------------------


def test_rdap_server_flag_is_a_base_url() -> None:
    from launchready.core.net import NetFlagError, build_net_settings

    net = build_net_settings(None, None, None, 5.0, environ={}, rdap_server="https://rdap.example.net/v1")
    assert net.rdap_server == "https://rdap.example.net/v1/"
    for bad in (
        "rdap.example.net",
        "https:///path",
        "https://rdap.example.net/?q=1",
        "https://rdap.example.net:99999/",
    ):
        with pytest.raises(NetFlagError, match="--rdap-server"):
            build_net_settings(None, None, None, 5.0, environ={}, rdap_server=bad)


def test_rdap_server_from_the_config_file_unless_the_flag_is_given(tmp_path: Path) -> None:
    from launchready.cli import common
    from launchready.config.loader import load_config

    path = tmp_path / "launchready.toml"
    path.write_text('[net]\nrdap_server = "https://rdap.example.org/"\n', encoding="utf-8")
    loaded = load_config(path)
    assert common.net_settings(None, None, None, 5.0, loaded).rdap_server == "https://rdap.example.org/"
    flagged = common.net_settings(None, None, None, 5.0, loaded, rdap_server="http://127.0.0.1:8080/")
    assert flagged.rdap_server == "http://127.0.0.1:8080/"
