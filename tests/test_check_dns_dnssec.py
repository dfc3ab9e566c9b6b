"""dns.dnssec: the probe against real signed zones served on loopback, and the judge on what it saw.

Each case builds a small zone, signs it (or breaks its signing) with dnspython, serves it from the
lab's DNS authority on an ephemeral loopback port, observes it with the DNSSEC probe, and judges
the observation: the facts are real wire answers, never hand-made records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dns.dnssec
import dns.name
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest
from dns.dnssectypes import DSDigest

from launchready.checks.dns.dnssec import judge
from launchready.core.errors import CouldNotRun
from launchready.core.finding import Finding
from launchready.core.net import Nameserver, NetSettings
from launchready.core.severity import Impact, Severity
from launchready.lab.dns_server import DnsAuthority, DnsServer
from launchready.lab.dnssec import SigningKey, generate_signing_key, sign_lab_zone
from launchready.lab.zonedata import SilentAuthority
from launchready.probes.dnssec import DnssecFacts, DnssecProbe, Lookup

DOMAIN = "signed.test"
ORIGIN = dns.name.from_text(DOMAIN)
NOW = datetime.now(UTC)


def plain_zone() -> dns.zone.Zone:
    text = (
        "@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300\n"
        "@ 300 IN NS ns1\n"
        "@ 300 IN A 127.0.0.1\n"
        "ns1 300 IN A 127.0.0.1\n"
    )
    return dns.zone.from_text(text, origin=ORIGIN, relativize=False)


def signed_zone(key: SigningKey, *, inception: datetime, expiration: datetime) -> dns.zone.Zone:
    zone = plain_zone()
    dns.dnssec.sign_zone(zone, keys=[(key.private, key.dnskey)], inception=inception, expiration=expiration)
    return zone


def ds_of(key: SigningKey) -> dns.rrset.RRset:
    return dns.rrset.from_rdata(ORIGIN, 3600, dns.dnssec.make_ds(ORIGIN, key.dnskey, DSDigest.SHA256))


def ds_text(key: SigningKey) -> str:
    return dns.dnssec.make_ds(ORIGIN, key.dnskey, DSDigest.SHA256).to_text()


def observe(
    zone: dns.zone.Zone,
    parent_ds: Iterable[dns.rrset.RRset] = (),
    *,
    silent: tuple[tuple[str, str | None], ...] = (),
    timeout: float = 3.0,
) -> DnssecFacts:
    async def main() -> DnssecFacts:
        authority = SilentAuthority([zone], silent) if silent else DnsAuthority([zone], parent_ds)
        server = DnsServer(authority)
        port = await server.start()
        probe = DnssecProbe(NetSettings(nameservers=(Nameserver("127.0.0.1", port),), timeout=timeout))
        try:
            return await probe.observe(DOMAIN)
        finally:
            await probe.close()
            await server.stop()

    return asyncio.run(main())


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return generate_signing_key()


def test_signed_zone_with_matching_ds_validates_and_passes(key: SigningKey) -> None:
    zone = plain_zone()
    sign_lab_zone(zone, key, frozenset(), now=NOW)
    facts = observe(zone, [ds_of(key)])
    [ds] = facts.ds
    assert ds.matches_dnskey and ds.text == ds_text(key)
    [dnskey] = facts.dnskeys
    assert dnskey.secure_entry_point and dnskey.algorithm == "ECDSAP256SHA256"
    assert dnskey.ds_sha256 == ds_text(key)
    assert {s.covers for s in facts.signatures} == {"DNSKEY", "SOA"}
    assert all(s.inception < facts.observed_at < s.expiration for s in facts.signatures)
    assert [(v.rrset, v.ok) for v in facts.validations] == [("DNSKEY", True), ("SOA", True)]
    assert judge(facts) == []


def test_unsigned_zone_is_missing_low_with_the_steps() -> None:
    [finding] = judge(observe(plain_zone()))
    assert finding.id == "dns.dnssec.missing"
    assert finding.severity is Severity.LOW and finding.impact is Impact.TRUST
    assert f"DS {DOMAIN}: none at the parent" in finding.evidence
    assert f"DNSKEY {DOMAIN}: none" in finding.evidence
    assert "publish the DS record it shows at your registrar" in finding.remediation


def test_keys_without_ds_name_the_exact_ds_to_publish(key: SigningKey) -> None:
    zone = plain_zone()
    sign_lab_zone(zone, key, frozenset(), now=NOW)
    [finding] = judge(observe(zone))
    assert finding.id == "dns.dnssec.missing" and finding.severity is Severity.LOW
    assert f"`{DOMAIN}. 3600 IN DS {ds_text(key)}`" in finding.remediation
    assert f"DNSKEY {DOMAIN}: key {key_tag(key)} (ECDSAP256SHA256)" in finding.evidence


def key_tag(key: SigningKey) -> int:
    return dns.dnssec.key_id(key.dnskey)


def test_ds_for_a_retired_key_is_a_blocker_naming_the_right_ds(key: SigningKey) -> None:
    retired = generate_signing_key()
    zone = plain_zone()
    sign_lab_zone(zone, key, frozenset(), now=NOW)
    [finding] = judge(observe(zone, [ds_of(retired)]))
    assert finding.id == "dns.dnssec.ds-mismatch"
    assert finding.severity is Severity.BLOCKER and finding.impact is Impact.AVAILABILITY
    assert f"DS {DOMAIN}: {ds_text(retired)} (matches no DNSKEY)" in finding.evidence
    assert f"replace the DS with `{DOMAIN}. 3600 IN DS {ds_text(key)}`" in finding.remediation


def test_ds_over_an_unsigned_zone_says_remove_the_ds(key: SigningKey) -> None:
    [finding] = judge(observe(plain_zone(), [ds_of(key)]))
    assert finding.id == "dns.dnssec.ds-mismatch"
    assert "remove the DS at the registrar" in finding.remediation


def test_expired_signatures_are_a_blocker_with_their_window(key: SigningKey) -> None:
    zone = signed_zone(key, inception=NOW - timedelta(days=30), expiration=NOW - timedelta(days=2))
    facts = observe(zone, [ds_of(key)])
    assert all(not v.ok for v in facts.validations)
    [finding] = judge(facts)
    assert finding.id == "dns.dnssec.signature-expired" and finding.severity is Severity.BLOCKER
    expired_on = (NOW - timedelta(days=2)).strftime("%Y-%m-%d")
    assert any(e.startswith(f"RRSIG SOA (key {key_tag(key)}): valid ") and expired_on in e for e in finding.evidence)


def test_signatures_not_yet_valid_do_not_validate(key: SigningKey) -> None:
    zone = signed_zone(key, inception=NOW + timedelta(days=1), expiration=NOW + timedelta(days=15))
    [finding] = judge(observe(zone, [ds_of(key)]))
    assert finding.id == "dns.dnssec.signature-invalid" and finding.severity is Severity.BLOCKER
    assert any(e.endswith("(not valid yet)") for e in finding.evidence)


def test_signatures_by_an_unpublished_key_do_not_validate(key: SigningKey) -> None:
    # The zone publishes (and the parent points at) key B, but its RRsets are signed by key A:
    # what a half-finished key roll at a provider looks like.
    other = generate_signing_key()
    zone = signed_zone(key, inception=NOW - timedelta(hours=1), expiration=NOW + timedelta(days=14))
    node = zone.find_node(ORIGIN)
    node.replace_rdataset(dns.rdataset.from_rdata(300, other.dnskey))
    facts = observe(zone, [ds_of(other)])
    assert [d.matches_dnskey for d in facts.ds] == [True]
    [finding] = judge(facts)
    assert finding.id == "dns.dnssec.signature-invalid"
    assert any(e.startswith("SOA: ") for e in finding.evidence)


def test_unanswered_ds_question_is_could_not_run() -> None:
    facts = observe(plain_zone(), silent=((DOMAIN, "DS"),), timeout=0.5)
    assert facts.lookup("DS").status == "timeout"
    with pytest.raises(CouldNotRun, match="DS query for signed.test failed"):
        judge(facts)


def test_judge_uses_the_observation_time_not_the_clock(key: SigningKey) -> None:
    zone = plain_zone()
    sign_lab_zone(zone, key, frozenset(), now=NOW)
    facts = observe(zone, [ds_of(key)])
    later = replace(facts, observed_at=facts.observed_at + timedelta(days=20))
    findings: list[Finding] = judge(later)
    assert [f.id for f in findings] == ["dns.dnssec.signature-expired"]


def test_unanswered_soa_of_a_signed_zone_is_could_not_run_not_invalid(key: SigningKey) -> None:
    zone = plain_zone()
    sign_lab_zone(zone, key, frozenset(), now=NOW)
    facts = observe(zone, [ds_of(key)])
    timed_out = Lookup("SOA", "timeout", "no answer within 3s")
    lost = replace(facts, lookups=(facts.lookup("DS"), facts.lookup("DNSKEY"), timed_out), validations=())
    with pytest.raises(CouldNotRun, match="SOA query for signed.test failed"):
        judge(lost)
