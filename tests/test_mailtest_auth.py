"""SPF, DKIM (RSA 1024/2048, Ed25519), DMARC alignment and the Authentication-Results line of one
received message, with real signatures verified against keys served by a real DNS server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import dkim  # type: ignore[import-untyped]
import pytest
from mailzone import SigningKey, ZoneServer, ed25519_key, message, rsa_key, sign

from launchready.core.net import NetSettings
from launchready.mailtest.content import ContentPolicy
from launchready.mailtest.judge import Judgement, judge_message
from launchready.probes.dns import DnsProbe

SHOP_IP = "192.0.2.10"
PROVIDER_IP = "198.51.100.7"


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {
        "r2048": rsa_key(2048),
        "r1024": rsa_key(1024),
        "ed": ed25519_key(),
        "published": rsa_key(2048),  # the key in DNS under "rotated"
        "staging": rsa_key(2048),  # signs, but is not the published one
    }


@pytest.fixture(scope="module")
def zone(keys: dict[str, SigningKey]) -> Iterator[ZoneServer]:
    records: dict[str, list[tuple[str, object]]] = {
        "shop.test": [("TXT", "v=spf1 ip4:192.0.2.10 -all")],
        "_dmarc.shop.test": [("TXT", "v=DMARC1; p=reject; rua=mailto:dmarc@shop.test")],
        "r2048._domainkey.shop.test": [("TXT", keys["r2048"].record)],
        "r1024._domainkey.shop.test": [("TXT", keys["r1024"].record)],
        "ed._domainkey.shop.test": [("TXT", keys["ed"].record)],
        "rotated._domainkey.shop.test": [("TXT", keys["published"].record)],
        "r2048._domainkey.mail.shop.test": [("TXT", keys["r2048"].record)],
        "strict.test": [("TXT", "v=spf1 -all")],
        "_dmarc.strict.test": [("TXT", "v=DMARC1; p=quarantine; adkim=s; aspf=s")],
        "r2048._domainkey.mail.strict.test": [("TXT", keys["r2048"].record)],
        "provider.test": [("TXT", "v=spf1 ip4:198.51.100.7 -all")],
        "pm._domainkey.provider.test": [("TXT", keys["r2048"].record)],
        "nodmarc.test": [("TXT", "v=spf1 ip4:192.0.2.10 -all")],
        "arc._domainkey.lists.test": [("TXT", keys["r2048"].record)],
        "r2048._domainkey.nodmarc.test": [("TXT", keys["r2048"].record)],
    }
    # A nameserver that never answers for this key: a timeout, to be told apart from "no key".
    server = ZoneServer(records, silent=[("slow._domainkey.shop.test", None)])
    yield server
    server.stop()


def judge(zone: ZoneServer, raw: bytes, *, client_ip: str | None = None, mail_from: str | None = None) -> Judgement:
    async def run() -> Judgement:
        probe = DnsProbe(NetSettings(nameservers=(zone.nameserver,), timeout=1.0))
        try:
            return await judge_message(
                probe, raw, ContentPolicy(("shop.test",)), name="m.eml", client_ip=client_ip, mail_from=mail_from
            )
        finally:
            await probe.close()

    return asyncio.run(run())


def ids(judgement: Judgement) -> set[str]:
    return {f.id for f in judgement.findings}


def test_rsa_2048_signature_and_spf_pass_and_align(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(), keys["r2048"], domain="shop.test", selector="r2048")
    result = judge(zone, raw, client_ip=SHOP_IP)
    assert result.auth.spf.result == "pass"
    assert result.auth.spf.domain == "shop.test"
    [sig] = result.auth.dkim
    assert (sig.result, sig.domain, sig.selector, sig.key_bits) == ("pass", "shop.test", "r2048", 2048)
    assert (result.auth.dmarc.result, result.auth.dmarc.policy) == ("pass", "reject")
    assert result.auth.dmarc.aligned_domain == "shop.test"
    assert not {i for i in ids(result) if i.split(".")[2].startswith(("spf", "dkim", "dmarc"))}
    header = result.auth.authentication_results()
    assert header.startswith("Authentication-Results: launchready;")
    assert "spf=pass" in header and "smtp.mailfrom=bounce@shop.test" in header
    assert "dkim=pass header.d=shop.test header.s=r2048" in header
    assert "dmarc=pass (p=reject) header.from=shop.test" in header


def test_ed25519_signature_verifies_per_rfc_8463(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(), keys["ed"], domain="shop.test", selector="ed")
    result = judge(zone, raw)
    [sig] = result.auth.dkim
    assert (sig.result, sig.algorithm, sig.key_bits) == ("pass", "ed25519-sha256", 256)
    assert result.auth.dmarc.result == "pass"
    assert result.auth.dmarc.aligned_by == "dkim"
    assert "email.message.dkim-weak-key" not in ids(result)


def test_both_rsa_and_ed25519_signatures_are_reported_one_entry_each(
    zone: ZoneServer, keys: dict[str, SigningKey]
) -> None:
    raw = sign(
        sign(message(), keys["r2048"], domain="shop.test", selector="r2048"),
        keys["ed"],
        domain="shop.test",
        selector="ed",
    )
    result = judge(zone, raw)
    assert [(s.selector, s.result) for s in result.auth.dkim] == [("ed", "pass"), ("r2048", "pass")]


def test_rsa_1024_key_passes_but_is_reported_weak(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(), keys["r1024"], domain="shop.test", selector="r1024")
    result = judge(zone, raw)
    [sig] = result.auth.dkim
    assert (sig.result, sig.key_bits) == ("pass", 1024)
    weak = next(f for f in result.findings if f.id == "email.message.dkim-weak-key")
    assert weak.evidence == ("d=shop.test s=r1024: 1024-bit RSA",)


def test_signature_by_a_staging_key_fails_and_dmarc_fails_with_the_published_policy(
    zone: ZoneServer, keys: dict[str, SigningKey]
) -> None:
    raw = sign(message(), keys["staging"], domain="shop.test", selector="rotated")
    result = judge(zone, raw)
    [sig] = result.auth.dkim
    assert sig.result == "fail"
    assert (result.auth.dmarc.result, result.auth.dmarc.policy) == ("fail", "reject")
    assert result.auth.dmarc.aligned_domain is None
    assert {"email.message.dkim-fail", "email.message.dmarc-fail"} <= ids(result)
    assert result.findings[0].id == "email.message.dmarc-fail"  # the blocker comes first
    assert "dkim=fail" in result.auth.authentication_results()


def test_body_changed_after_signing_fails(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(), keys["r2048"], domain="shop.test", selector="r2048")
    tampered = raw.replace(b"token=abc", b"token=xyz")
    [sig] = judge(zone, tampered).auth.dkim
    assert sig.result == "fail"


def test_provider_signature_and_envelope_do_not_align_with_from(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(return_path="bounces@provider.test"), keys["r2048"], domain="provider.test", selector="pm")
    result = judge(zone, raw, client_ip=PROVIDER_IP)
    assert result.auth.spf.result == "pass" and result.auth.spf.domain == "provider.test"
    assert [s.result for s in result.auth.dkim] == ["pass"]
    dmarc = result.auth.dmarc
    assert (dmarc.result, dmarc.aligned_domain) == ("fail", None)
    assert "not aligned with shop.test" in (dmarc.reason or "")


def test_relaxed_alignment_accepts_a_subdomain_signer(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(), keys["r2048"], domain="mail.shop.test", selector="r2048")
    dmarc = judge(zone, raw).auth.dmarc
    assert (dmarc.result, dmarc.aligned_domain, dmarc.adkim) == ("pass", "mail.shop.test", "r")


def test_strict_alignment_rejects_a_subdomain_signer(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(sender="hello@strict.test"), keys["r2048"], domain="mail.strict.test", selector="r2048")
    result = judge(zone, raw)
    assert [s.result for s in result.auth.dkim] == ["pass"]
    dmarc = result.auth.dmarc
    assert (dmarc.result, dmarc.policy, dmarc.adkim) == ("fail", "quarantine", "s")


def test_spf_fail_from_an_unlisted_address(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(), keys["r2048"], domain="shop.test", selector="r2048")
    result = judge(zone, raw, client_ip="203.0.113.99")
    assert result.auth.spf.result == "fail"
    assert "email.message.spf-fail" in ids(result)
    assert result.auth.dmarc.result == "pass"  # DKIM still aligns


def test_no_dmarc_record_is_none(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = sign(message(sender="hi@nodmarc.test"), keys["r2048"], domain="nodmarc.test", selector="r2048")
    result = judge(zone, raw)
    assert result.auth.dmarc.result == "none"
    assert "email.message.dmarc-none" in ids(result)


def test_unsigned_message_gets_dkim_none(zone: ZoneServer) -> None:
    result = judge(zone, message())
    assert result.auth.dkim == ()
    assert "dkim=none" in result.auth.authentication_results()
    assert {"email.message.dkim-none", "email.message.dmarc-fail"} <= ids(result)


def test_missing_key_is_permerror_and_dns_timeout_is_temperror(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    missing = judge(zone, sign(message(), keys["r2048"], domain="shop.test", selector="gone"))
    assert [s.result for s in missing.auth.dkim] == ["permerror"]
    slow = judge(zone, sign(message(), keys["r2048"], domain="shop.test", selector="slow"))
    assert [s.result for s in slow.auth.dkim] == ["temperror"]
    assert "email.message.dkim-error" in ids(slow)


def test_body_length_tag_and_unsigned_subject_and_to_are_findings(
    zone: ZoneServer, keys: dict[str, SigningKey]
) -> None:
    raw = sign(message(), keys["r2048"], domain="shop.test", selector="r2048", headers=("from",), length=True)
    result = judge(zone, raw)
    [sig] = result.auth.dkim
    assert sig.result == "pass" and sig.body_length is not None
    unsigned = next(f for f in result.findings if f.id == "email.message.dkim-headers-unsigned")
    assert "h= lacks subject, to" in unsigned.evidence[0]
    assert "email.message.dkim-body-length" in ids(result)


def arc_sealed(raw: bytes, key: SigningKey) -> bytes:
    """The message as a mailing list forwards it: its own Authentication-Results, then an ARC set."""
    raw = b"Authentication-Results: lists.test; dkim=pass header.d=shop.test\r\n" + raw
    return b"".join(dkim.arc_sign(raw, b"arc", b"lists.test", key.private, b"lists.test")) + raw


def test_arc_chain_of_a_forwarder_validates(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = arc_sealed(sign(message(), keys["r2048"], domain="shop.test", selector="r2048"), keys["r2048"])
    result = judge(zone, raw)
    assert result.auth.arc.result == "pass"
    assert "arc=pass" in result.auth.authentication_results()
    assert "email.message.arc-fail" not in ids(result)


def test_arc_chain_broken_after_sealing_fails(zone: ZoneServer, keys: dict[str, SigningKey]) -> None:
    raw = arc_sealed(sign(message(), keys["r2048"], domain="shop.test", selector="r2048"), keys["r2048"])
    result = judge(zone, raw.replace(b"Subject: Verify your email", b"Subject: Verify your account"))
    assert result.auth.arc.result == "fail"
    assert "email.message.arc-fail" in ids(result)
