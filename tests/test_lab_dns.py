"""The lab's authoritative DNS over real UDP and TCP on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import dns.dnssec
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

from launchready.lab.dns_server import DnsAuthority
from launchready.lab.lab import Lab
from launchready.lab.zone import Record, ZoneData

TIMEOUT = 3.0


@pytest.fixture(scope="module")
def faulty_lab() -> Iterator[Lab]:
    with Lab(["apex-no-address", "spf-missing", "dmarc-missing"]) as running:
        yield running


def udp(lab: Lab, name: str, rdtype: str, **kwargs: object) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, **kwargs)  # type: ignore[arg-type]
    return dns.query.udp(query, "127.0.0.1", port=lab.dns_port, timeout=TIMEOUT)


def tcp(lab: Lab, name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.query.tcp(query, "127.0.0.1", port=lab.dns_port, timeout=TIMEOUT)


def texts(response: dns.message.Message) -> list[str]:
    return [b"".join(rr.strings).decode() for rrset in response.answer for rr in rrset]


def test_a_over_udp_is_authoritative(lab: Lab) -> None:
    response = udp(lab, "app.marketlab.test", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert response.flags & dns.flags.AA
    assert [rr.address for rr in response.answer[0]] == ["127.0.0.1"]


def test_a_over_tcp(lab: Lab) -> None:
    response = tcp(lab, "marketlab.test", "A")
    assert [rr.address for rr in response.answer[0]] == ["127.0.0.1"]


def test_mx(lab: Lab) -> None:
    response = udp(lab, "marketlab.test", "MX")
    assert [(rr.preference, rr.exchange.to_text()) for rr in response.answer[0]] == [(10, "mail.marketlab.test.")]


def test_spf_dmarc_dkim_caa(lab: Lab) -> None:
    spf = [t for t in texts(tcp(lab, "marketlab.test", "TXT")) if t.startswith("v=spf1")]
    assert spf == ["v=spf1 ip4:127.0.0.1 -all"]
    assert texts(udp(lab, "_dmarc.marketlab.test", "TXT")) == ["v=DMARC1; p=reject; rua=mailto:dmarc@marketlab.test"]
    dkim = texts(udp(lab, "lab._domainkey.marketlab.test", "TXT"))
    assert dkim == [f"v=DKIM1; k=rsa; p={lab.dkim.public_key_b64}"]
    caa = udp(lab, "marketlab.test", "CAA")
    assert caa.answer[0][0].to_text() == '0 issue "launchready-lab.test"'


def test_nxdomain_carries_soa(lab: Lab) -> None:
    response = udp(lab, "nope.marketlab.test", "A")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert not response.answer
    assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_nodata_is_noerror_without_answer(lab: Lab) -> None:
    response = udp(lab, "www.marketlab.test", "AAAA")
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.answer
    assert response.authority[0].rdtype == dns.rdatatype.SOA


def test_empty_non_terminal_is_nodata(lab: Lab) -> None:
    response = udp(lab, "_domainkey.marketlab.test", "TXT")
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.answer


def test_names_outside_the_lab_are_nxdomain(lab: Lab) -> None:
    response = udp(lab, "example.com", "A")
    assert response.rcode() == dns.rcode.NXDOMAIN


def test_big_answer_truncates_over_udp_then_tcp_succeeds(lab: Lab) -> None:
    truncated = udp(lab, "marketlab.test", "TXT")  # no EDNS: 512-byte limit
    assert truncated.flags & dns.flags.TC
    response, used_tcp = dns.query.udp_with_fallback(
        dns.message.make_query("marketlab.test", "TXT"), "127.0.0.1", port=lab.dns_port, timeout=TIMEOUT
    )
    assert used_tcp
    assert not response.flags & dns.flags.TC
    assert "v=spf1 ip4:127.0.0.1 -all" in texts(response)


def test_edns_payload_lets_the_big_answer_fit_in_udp(lab: Lab) -> None:
    response = udp(lab, "marketlab.test", "TXT", use_edns=0, payload=1232)
    assert not response.flags & dns.flags.TC
    assert "v=spf1 ip4:127.0.0.1 -all" in texts(response)


def test_stub_resolver_pointed_at_the_lab(lab: Lab) -> None:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = lab.dns_port
    resolver.lifetime = TIMEOUT
    assert [r.to_text() for r in resolver.resolve("api.marketlab.test", "A")] == ["127.0.0.1"]
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("missing.marketlab.test", "A")


def test_garbage_gets_formerr_and_the_server_keeps_answering(lab: Lab) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.sendto(b"\x12\x34" + b"\x01\x00" + b"\x00\x01" + b"\xff" * 20, ("127.0.0.1", lab.dns_port))
        reply = dns.message.from_wire(sock.recv(512))
    assert reply.id == 0x1234
    assert reply.rcode() == dns.rcode.FORMERR
    assert udp(lab, "app.marketlab.test", "A").rcode() == dns.rcode.NOERROR


def test_faults_show_on_the_wire(faulty_lab: Lab) -> None:
    apex = udp(faulty_lab, "marketlab.test", "A")
    assert apex.rcode() == dns.rcode.NOERROR and not apex.answer  # NODATA: the name has other records
    assert udp(faulty_lab, "www.marketlab.test", "A").answer
    assert not [t for t in texts(tcp(faulty_lab, "marketlab.test", "TXT")) if t.startswith("v=spf1")]
    assert udp(faulty_lab, "_dmarc.marketlab.test", "TXT").rcode() == dns.rcode.NXDOMAIN


# -- the answering logic on its own, with records the lab zone does not have (yet) -----------


def authority_with_cnames() -> DnsAuthority:
    records = (
        Record("@", "SOA", "ns1.cn.test. hostmaster.cn.test. 1 3600 600 86400 60"),
        Record("@", "NS", "ns1.cn.test."),
        Record("ns1", "A", "127.0.0.1"),
        Record("target", "A", "127.0.0.2"),
        Record("alias", "CNAME", "target.cn.test."),
        Record("chain", "CNAME", "alias.cn.test."),
        Record("dangling", "CNAME", "nowhere.cn.test."),
        Record("outside", "CNAME", "cdn.elsewhere.test."),
        Record("loop1", "CNAME", "loop2.cn.test."),
        Record("loop2", "CNAME", "loop1.cn.test."),
    )
    return DnsAuthority([ZoneData("cn.test", records).to_zone()])


def ask(authority: DnsAuthority, name: str, rdtype: str) -> dns.message.Message:
    return authority.answer(dns.message.make_query(name, rdtype))


def answer_texts(response: dns.message.Message) -> list[str]:
    return [f"{rrset.name} {dns.rdatatype.to_text(rrset.rdtype)} {rr}" for rrset in response.answer for rr in rrset]


def test_cname_is_followed_within_the_lab() -> None:
    response = ask(authority_with_cnames(), "chain.cn.test", "A")
    assert response.rcode() == dns.rcode.NOERROR
    assert answer_texts(response) == [
        "chain.cn.test. CNAME alias.cn.test.",
        "alias.cn.test. CNAME target.cn.test.",
        "target.cn.test. A 127.0.0.2",
    ]


def test_cname_question_gets_the_cname_only() -> None:
    assert answer_texts(ask(authority_with_cnames(), "alias.cn.test", "CNAME")) == [
        "alias.cn.test. CNAME target.cn.test."
    ]


def test_dangling_and_outside_cnames_end_in_nxdomain() -> None:
    for name in ("dangling.cn.test", "outside.cn.test"):
        response = ask(authority_with_cnames(), name, "A")
        assert response.rcode() == dns.rcode.NXDOMAIN, name
        assert len(response.answer) == 1 and response.answer[0].rdtype == dns.rdatatype.CNAME


def test_cname_loop_is_servfail() -> None:
    assert ask(authority_with_cnames(), "loop1.cn.test", "A").rcode() == dns.rcode.SERVFAIL


def test_zone_transfer_other_class_and_opcodes_are_refused() -> None:
    authority = authority_with_cnames()
    assert ask(authority, "cn.test", "AXFR").rcode() == dns.rcode.REFUSED
    chaos = dns.message.make_query("version.bind", "TXT", rdclass=dns.rdataclass.CH)
    assert authority.answer(chaos).rcode() == dns.rcode.REFUSED
    notify = dns.message.make_query("cn.test", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    assert authority.answer(notify).rcode() == dns.rcode.NOTIMP


# -- DNSSEC: signatures only for DO queries, DS from the parent side -----------------------


def test_signatures_come_back_only_when_the_query_sets_do(lab: Lab) -> None:
    signed = udp(lab, "app.marketlab.test", "A", want_dnssec=True)
    assert signed.ednsflags & dns.flags.DO
    assert [rrset.rdtype for rrset in signed.answer] == [dns.rdatatype.A, dns.rdatatype.RRSIG]
    plain = udp(lab, "app.marketlab.test", "A")
    assert [rrset.rdtype for rrset in plain.answer] == [dns.rdatatype.A]
    # A negative answer carries the signed SOA when DO is set.
    nodata = udp(lab, "app.marketlab.test", "MX", want_dnssec=True)
    assert [rrset.rdtype for rrset in nodata.authority] == [dns.rdatatype.SOA, dns.rdatatype.RRSIG]


def test_ds_is_answered_from_the_parent_side_only(lab: Lab) -> None:
    [ds] = udp(lab, "marketlab.test", "DS").answer
    [dnskey] = [r for r in udp(lab, "marketlab.test", "DNSKEY").answer if r.rdtype == dns.rdatatype.DNSKEY]
    assert ds.rdtype == dns.rdatatype.DS
    assert [rr.key_tag for rr in ds] == [dns.dnssec.key_id(key) for key in dnskey]
    # ns2 serves the child zone only: like any real child server, it has no DS to give.
    query = dns.message.make_query("marketlab.test", "DS")
    from_ns2 = dns.query.udp(query, "127.0.0.1", port=lab.ns2_port, timeout=TIMEOUT)
    assert from_ns2.rcode() == dns.rcode.NOERROR and from_ns2.answer == []
