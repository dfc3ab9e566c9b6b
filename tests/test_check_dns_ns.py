"""dns.ns: judging each name server's own SOA answer, and asking a server directly."""

from __future__ import annotations

import asyncio

import pytest

from launchready.checks.dns.ns import judge, soa_serial
from launchready.core.errors import CouldNotRun
from launchready.core.net import ConnectTo
from launchready.core.severity import Impact, Severity
from launchready.lab.lab import Lab
from launchready.probes.dns import DnsAnswer, DnsProbe, ServerAnswer

DOMAIN = "shop.test"
NS1, NS2 = f"ns1.{DOMAIN}", f"ns2.{DOMAIN}"


def ns(*names: str) -> DnsAnswer:
    return DnsAnswer(DOMAIN, "NS", "ok", tuple(f"{n}." for n in names))


def soa(server: str, serial: int, *, aa: bool = True) -> ServerAnswer:
    record = f"{NS1}. hostmaster.{DOMAIN}. {serial} 3600 600 1209600 300"
    return ServerAnswer(server, "192.0.2.1:53", DOMAIN, "SOA", "ok", (record,), aa, "NOERROR")


def silent(server: str) -> ServerAnswer:
    return ServerAnswer(server, "192.0.2.2:53", DOMAIN, "SOA", "timeout", error="no answer within 2s (2 tries)")


def test_servers_agreeing_pass() -> None:
    assert judge(DOMAIN, ns(NS1, NS2), ((NS1, (soa(NS1, 7),)), (NS2, (soa(NS2, 7),)))) == []
    assert soa_serial(soa(NS1, 2024060101)) == 2024060101


def test_serial_mismatch_names_the_server_behind_and_the_newest_serial() -> None:
    [f] = judge(DOMAIN, ns(NS1, NS2), ((NS1, (soa(NS1, 9),)), (NS2, (soa(NS2, 7),))))
    assert f.id == "dns.ns.serial-mismatch" and f.severity is Severity.MEDIUM and f.target == DOMAIN
    assert f"{NS2} still serve(s) an older zone than serial 9" in f.remediation
    assert f"`dig +norec SOA {DOMAIN} @<each server>`" in f.remediation
    assert f"SOA serial 7: {NS2}" in f.evidence


def test_a_silent_server_is_not_answering_and_all_silent_is_a_blocker() -> None:
    [f] = judge(DOMAIN, ns(NS1, NS2), ((NS1, (soa(NS1, 7),)), (NS2, (silent(NS2),))))
    assert f.id == "dns.ns.not-answering" and f.target == NS2 and f.severity is Severity.HIGH
    assert f.impact is Impact.AVAILABILITY
    assert f"`{DOMAIN}. NS {NS2}.`" in f.remediation
    both = judge(DOMAIN, ns(NS1, NS2), ((NS1, (silent(NS1),)), (NS2, (silent(NS2),))))
    assert {g.severity for g in both} == {Severity.BLOCKER}


def test_lame_server_answers_without_authority() -> None:
    refused = ServerAnswer(NS2, "192.0.2.2:53", DOMAIN, "SOA", "error", (), False, "REFUSED")
    [f] = judge(DOMAIN, ns(NS1, NS2), ((NS1, (soa(NS1, 7),)), (NS2, (refused,))))
    assert f.id == "dns.ns.lame" and f.target == NS2 and "REFUSED" in f.remediation
    [g] = judge(DOMAIN, ns(NS1, NS2), ((NS1, (soa(NS1, 7),)), (NS2, (soa(NS2, 7, aa=False),))))
    assert g.id == "dns.ns.lame"


def test_single_name_server() -> None:
    [f] = judge(DOMAIN, ns(NS1), ((NS1, (soa(NS1, 7),)),))
    assert f.id == "dns.ns.single" and f.severity is Severity.LOW
    assert f"`{DOMAIN}. 3600 IN NS <second server" in f.remediation


@pytest.mark.parametrize("status", ["timeout", "servfail"])
def test_unanswered_ns_query_could_not_run(status: str) -> None:
    with pytest.raises(CouldNotRun):
        judge(DOMAIN, DnsAnswer(DOMAIN, "NS", status), ())  # type: ignore[arg-type]


def test_query_server_follows_routes_and_reports_a_server_without_address(lab: Lab) -> None:
    async def ask() -> tuple[tuple[ServerAnswer, ...], tuple[ServerAnswer, ...], tuple[ServerAnswer, ...]]:
        net = lab.net_settings(first=(ConnectTo("ns9.marketlab.test", 53, "127.0.0.1", lab.dns_port),))
        probe = DnsProbe(net)
        try:
            return await asyncio.gather(
                probe.query_server(f"ns2.{lab.domain}", lab.domain, "SOA"),
                probe.query_server("ns9.marketlab.test", "nothing-here.marketlab.test", "A"),
                probe.query_server("nameless.marketlab.test", lab.domain, "SOA"),
            )
        finally:
            await probe.close()

    ns2, ns9, nameless = asyncio.run(ask())
    [a] = ns2
    assert a.authoritative and a.rcode == "NOERROR" and a.address == f"127.0.0.1:{lab.ns2_port}"
    assert soa_serial(a) == 2024060101
    [b] = ns9
    assert b.status == "nxdomain" and b.authoritative
    [c] = nameless
    assert c.status == "error" and not c.answered and "has no address" in (c.error or "")
