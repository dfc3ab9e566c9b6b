"""email.dkim: judging selector key records (lab cases are in test_check_lab.py)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from launchready.checks.email.dkim import SelectorFacts, judge
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Severity
from launchready.lab.mail_zone import WEAK_DKIM_KEY_B64
from launchready.probes.dns import DnsAnswer, DnsStatus

DOMAIN = "shop.test"


def rsa_b64(bits: int) -> str:
    if bits < 1024:
        # cryptography refuses to generate keys this small; a public key only needs a modulus.
        key = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | 0xF1).public_key()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def strong() -> str:
    return rsa_b64(2048)


def sel(selector: str, *records: str, declared: bool = True, status: DnsStatus = "ok") -> SelectorFacts:
    name = f"{selector}._domainkey.{DOMAIN}"
    return SelectorFacts(
        selector, declared, DnsAnswer(name, "TXT", status if records or status != "ok" else "nxdomain", records)
    )


def test_a_strong_declared_key_passes(strong: str) -> None:
    assert judge(DOMAIN, (sel("s1", f"v=DKIM1; k=rsa; p={strong}"),)) == []


def test_declared_selector_without_key_is_missing() -> None:
    [f] = judge(DOMAIN, (sel("s1"),))
    assert f.id == "email.dkim.selector-missing" and f.target == f"s1._domainkey.{DOMAIN}"
    assert f"`s1._domainkey.{DOMAIN}. 300 IN TXT" in f.remediation


def test_nothing_found_anywhere_is_none_found() -> None:
    [f] = judge(DOMAIN, (sel("google", declared=False), sel("s1", declared=False)))
    assert f.id == "email.dkim.none-found" and f.severity is Severity.MEDIUM


def test_revoked_key() -> None:
    [f] = judge(DOMAIN, (sel("s1", "v=DKIM1; k=rsa; p="),))
    assert f.id == "email.dkim.revoked" and f.severity is Severity.HIGH


def test_1024_bit_key_is_weak_medium_and_512_high() -> None:
    [f] = judge(DOMAIN, (sel("s1", f"v=DKIM1; k=rsa; p={WEAK_DKIM_KEY_B64}"),))
    assert f.id == "email.dkim.weak-key" and f.severity is Severity.MEDIUM
    assert any("1024 bits" in e for e in f.evidence)
    [g] = judge(DOMAIN, (sel("s1", f"v=DKIM1; p={rsa_b64(512)}"),))
    assert g.id == "email.dkim.weak-key" and g.severity is Severity.HIGH


@pytest.mark.parametrize(
    "record", ["v=DKIM1; p=!!notbase64", "v=DKIM1; k=rsa; p=aGVsbG8=", "v=DKIM2; p=abc", "k=rsa; v=DKIM1; p=abc"]
)
def test_malformed_records(record: str) -> None:
    [f] = judge(DOMAIN, (sel("s1", record),))
    assert f.id == "email.dkim.malformed"
    assert any(e.startswith("problem: ") for e in f.evidence)


def test_testing_flag(strong: str) -> None:
    [f] = judge(DOMAIN, (sel("s1", f"v=DKIM1; t=y; p={strong}"),))
    assert f.id == "email.dkim.testing" and f.severity is Severity.LOW


def test_ed25519_only_is_noted() -> None:
    raw = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    [f] = judge(DOMAIN, (sel("ed", f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"),))
    assert f.id == "email.dkim.ed25519-only" and f.severity is Severity.INFO


def test_dns_failure_on_a_declared_selector_could_not_run() -> None:
    with pytest.raises(CouldNotRun):
        judge(DOMAIN, (sel("s1", status="timeout"),))


def test_evidence_shortens_the_key(strong: str) -> None:
    [f] = judge(DOMAIN, (sel("s1", f"v=DKIM1; t=y; p={strong}"),))
    assert strong not in f.evidence[0] and "chars)" in f.evidence[0]


# -- RFC 6376 3.2 / 3.6.1, RFC 8301: tag-list rules ------------------------------------------------


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("v=DKIM1; k=rsa; p={key}; p={key}", "tag p= appears more than once"),
        ("v=DKIM1; k=rsa; k=rsa; p={key}", "tag k= appears more than once"),
        ("V=DKIM1; K=rsa; P={key}", "tag names are case-sensitive, so K=, P=, V= are unknown tags"),
        ("v=DKIM1; k=rsa; P={key}", "tag names are case-sensitive, so P= are unknown tags"),
        ("v=DKIM1; k=rsa; rsa; p={key}", "'rsa' is not a tag=value pair"),
        ("v=DKIM1; k=rsa; p={key}; garbage", "'garbage' is not a tag=value pair"),
    ],
)
def test_tag_list_errors_make_the_key_malformed(strong: str, template: str, problem: str) -> None:
    [f] = judge(DOMAIN, (sel("s1", template.format(key=strong)),))
    assert f.id == "email.dkim.malformed" and f.severity is Severity.HIGH
    assert any(e.startswith("problem: ") and problem in e for e in f.evidence), f.evidence
    assert f"`s1._domainkey.{DOMAIN}. 300 IN TXT" in f.remediation


@pytest.mark.parametrize("services", ["email", "*", "tlsrpt:email", "EMAIL", "*:tlsrpt"])
def test_service_types_that_include_email_are_mail_keys(strong: str, services: str) -> None:
    assert judge(DOMAIN, (sel("s1", f"v=DKIM1; k=rsa; s={services}; p={strong}"),)) == []


@pytest.mark.parametrize("services", ["tlsrpt", "tlsrpt:other", ""])
def test_a_key_for_another_service_is_not_a_mail_key(strong: str, services: str) -> None:
    [f] = judge(DOMAIN, (sel("s1", f"v=DKIM1; k=rsa; s={services}; p={strong}"),))
    assert f.id == "email.dkim.not-for-email" and f.severity is Severity.HIGH
    assert f.target == f"s1._domainkey.{DOMAIN}"
    assert "not email" in " ".join(f.evidence)
    assert '"v=DKIM1; k=rsa; p=<2048-bit public key from your provider>"' in f.remediation
    # An undeclared (common) selector is a leftover, not a broken signer: low.
    [g] = judge(DOMAIN, (sel("s1", f"v=DKIM1; k=rsa; s={services}; p={strong}", declared=False),))
    assert g.id == "email.dkim.not-for-email" and g.severity is Severity.LOW


@pytest.mark.parametrize("hashes", ["sha1", "SHA1", "sha1:md5"])
def test_sha1_only_keys_verify_nothing(strong: str, hashes: str) -> None:
    [f] = judge(DOMAIN, (sel("s1", f"v=DKIM1; k=rsa; h={hashes}; p={strong}"),))
    assert f.id == "email.dkim.sha1-only" and f.severity is Severity.HIGH
    assert "RFC 8301" in " ".join(f.evidence) and "h=sha256" in f.remediation


@pytest.mark.parametrize("hashes", ["sha256", "sha1:sha256", "sha256:future"])
def test_hash_lists_with_sha256_pass(strong: str, hashes: str) -> None:
    assert judge(DOMAIN, (sel("s1", f"v=DKIM1; k=rsa; h={hashes}; p={strong}"),)) == []


def test_trailing_semicolon_and_folding_whitespace_are_valid(strong: str) -> None:
    folded = f"v=DKIM1;\r\n\tk=rsa ;  p={strong[:40]} {strong[40:]} ;"
    assert judge(DOMAIN, (sel("s1", folded),)) == []


def test_only_mail_keys_with_a_usable_hash_count_as_usable(strong: str) -> None:
    from launchready.email.dkim_record import parse_dkim_key

    assert parse_dkim_key(f"v=DKIM1; k=rsa; p={strong}").usable
    assert not parse_dkim_key(f"v=DKIM1; k=rsa; s=tlsrpt; p={strong}").usable
    assert not parse_dkim_key(f"v=DKIM1; k=rsa; h=sha1; p={strong}").usable
    assert not parse_dkim_key("v=DKIM1; k=rsa; p=").usable
    assert not parse_dkim_key(f"v=DKIM1; K=rsa; P={strong}").usable
