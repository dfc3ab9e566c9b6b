"""SPF tree, senders and CNAME chains over a real DNS server serving hostile records.

Every case must end in findings (or "could not run"), never in a crash: a 4,000-character TXT
(answered truncated over UDP, so the resolver retries over TCP), include loops, binary garbage,
CNAME loops, SERVFAIL, and a name the server never answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from launchready.checks.dns.cname import judge as judge_cname
from launchready.checks.email.spf import judge as judge_spf
from launchready.checks.email.spf import sender_mechanisms
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.net import Nameserver, NetSettings
from launchready.lab.dns_server import DnsServer
from launchready.lab.zonedata import SilentAuthority, root_zone
from launchready.probes.cname import follow_all
from launchready.probes.dns import DnsProbe
from launchready.probes.spf import check_host, evaluate_sender, spf_tree

T = TypeVar("T")
D = "hostile.test"
LONG = "v=spf1 " + " ".join(f"ip4:198.51.{i // 250}.{i % 250}" for i in range(260)) + " -all"

ZONE: dict[str, list[tuple[str, object]]] = {
    f"long.{D}": [("TXT", LONG)],
    f"loop.{D}": [("TXT", f"v=spf1 include:loop2.{D} -all")],
    f"loop2.{D}": [("TXT", f"v=spf1 include:loop.{D} -all")],
    f"garbage.{D}": [("TXT", [b"v=spf1 \x00\xff\xfe ip4:1.2.3.4 -all"]), ("TXT", [bytes(range(256))])],
    f"heavy.{D}": [("TXT", "v=spf1 " + " ".join(f"include:i{n}.{D}" for n in range(6)) + " -all")],
    **{f"i{n}.{D}": [("TXT", f"v=spf1 a:h{n}.{D} mx:{D} ~all")] for n in range(6)},
    **{f"h{n}.{D}": [("A", "192.0.2.10")] for n in range(6)},
    D: [("MX", [10, f"mx.{D}"]), ("TXT", "v=spf1 ip4:192.0.2.1 include:esp.example -all")],
    f"mx.{D}": [("A", "192.0.2.1")],
    "esp.example": [("TXT", "v=spf1 ip4:203.0.113.0/24 -all")],
    f"void.{D}": [("TXT", f"v=spf1 a:gone1.{D} a:gone2.{D} mx:gone3.{D} ip4:192.0.2.1 -all")],
    f"ptr.{D}": [("TXT", "v=spf1 ptr -all")],
    f"syntax.{D}": [("TXT", "v=spf1 ip4:300.1.1.1 -all")],
    f"timeout.{D}": [("TXT", f"v=spf1 include:silent.{D} -all")],
    f"c1.{D}": [("CNAME", f"c2.{D}")],
    f"c2.{D}": [("CNAME", f"c1.{D}")],
    f"gone.{D}": [("CNAME", "app-1234.elasticbeanstalk.com")],
}
SILENT = [(f"silent.{D}", None), (f"nothing.{D}", None)]


def with_dns(body: Callable[[DnsProbe], Awaitable[T]], *, timeout: float = 1.0) -> T:
    async def main() -> T:
        server = DnsServer(SilentAuthority([root_zone(ZONE)], SILENT))
        port = await server.start()
        probe = DnsProbe(NetSettings(nameservers=(Nameserver("127.0.0.1", port),), timeout=timeout))
        try:
            return await body(probe)
        finally:
            await probe.close()
            await server.stop()

    return asyncio.run(main())


def spf_findings(domain: str, senders: tuple[str, ...] = ()) -> list[Finding]:
    async def body(dns: DnsProbe) -> list[Finding]:
        txt = await dns.txt(domain)
        tree = await spf_tree(dns, domain)
        verdicts = tuple([await evaluate_sender(dns, domain, s, sender_mechanisms((s,))[0], tree) for s in senders])
        return judge_spf(domain, txt, senders=senders, tree=tree, verdicts=verdicts)

    return with_dns(body)


def ids(findings: list[Finding]) -> set[str]:
    return {f.id for f in findings}


def test_4000_character_record_comes_over_tcp_and_is_too_long() -> None:
    found = spf_findings(f"long.{D}")
    assert len(LONG) > 3000
    assert "email.spf.too-long" in ids(found)


def test_include_loop_is_a_broken_include_and_permerror() -> None:
    found = spf_findings(f"loop.{D}")
    assert "email.spf.broken-include" in ids(found)
    result = with_dns(lambda dns: check_host(dns, "192.0.2.99", f"x@loop.{D}"))
    assert result.result == "permerror"


def test_binary_garbage_is_a_syntax_error() -> None:
    [f] = spf_findings(f"garbage.{D}")
    assert f.id == "email.spf.syntax"


def test_syntax_error_names_the_term() -> None:
    [f] = spf_findings(f"syntax.{D}")
    assert f.id == "email.spf.syntax"
    assert any("300.1.1.1" in e for e in f.evidence)


def test_lookup_count_over_the_include_tree() -> None:
    [f] = spf_findings(f"heavy.{D}")
    assert f.id == "email.spf.too-many-lookups"
    assert f.evidence[0].startswith("18 DNS-querying terms")
    assert any(line.startswith(f"  include:i0.{D} -> i0.{D} [2 lookup(s)]") for line in f.evidence)


def test_void_lookups_and_ptr() -> None:
    assert "email.spf.void-lookups" in ids(spf_findings(f"void.{D}"))
    [f] = spf_findings(f"ptr.{D}")
    assert f.id == "email.spf.ptr"


def test_declared_senders_are_evaluated() -> None:
    assert spf_findings(D, ("ip4:192.0.2.1", "include:esp.example", "mx")) == []
    found = spf_findings(D, ("ip4:198.51.100.7", "postmark"))
    [bad] = [f for f in found if f.id == "email.spf.sender-not-authorized"]
    assert "include:spf.mtasv.net" in bad.remediation and "ip4:198.51.100.7" in bad.remediation
    [extra] = [f for f in found if f.id == "email.spf.undeclared-include"]
    assert "esp.example" in extra.evidence[0]


def test_a_server_that_never_answers_is_a_broken_include_not_a_crash() -> None:
    found = spf_findings(f"timeout.{D}")
    [f] = [f for f in found if f.id == "email.spf.broken-include"]
    assert any("TEMPERROR" in e for e in f.evidence)
    result = with_dns(lambda dns: check_host(dns, "192.0.2.99", f"x@timeout.{D}"))
    assert result.result == "temperror"


def test_silent_apex_is_could_not_run() -> None:
    async def body(dns: DnsProbe) -> list[Finding]:
        return judge_spf(f"nothing.{D}", await dns.txt(f"nothing.{D}"))

    with pytest.raises(CouldNotRun):
        with_dns(body, timeout=0.5)


def test_cname_loop_servfail_and_dangling_alias() -> None:
    chains = with_dns(lambda dns: follow_all(dns, (f"c1.{D}", f"gone.{D}", f"mx.{D}")))
    found = judge_cname(D, chains)
    assert {(f.id, f.target) for f in found} == {
        ("dns.cname.loop", f"c1.{D}"),
        ("dns.cname.takeover-risk", f"gone.{D}"),
    }
    # The lab's server answers a CNAME loop with SERVFAIL when asked for an address.
    a = with_dns(lambda dns: dns.query(f"c1.{D}", "A"))
    assert a.status == "servfail"
