"""tls.caa without any CAA record (RFC 8659): the records to publish for the live certificates' CAs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from launchready.checks.tls import caa
from launchready.core.severity import Impact, Severity
from launchready.probes.tls import CertificateFacts

DOMAIN = "example.com"
LEAF = CertificateFacts(
    subject="CN=example.com",
    common_name="example.com",
    san_dns=("example.com", "www.example.com"),
    issuer="CN=R11,O=Let's Encrypt,C=US",
    issuer_common_name="R11",
    not_before=datetime(2025, 1, 1, tzinfo=UTC),
    not_after=datetime(2025, 4, 1, tzinfo=UTC),
    key_type="EC",
    key_bits=256,
    signature_hash="sha256",
    serial="1",
    sha256_fingerprint="00",
    self_signed=False,
)


def test_no_caa_is_low_with_the_exact_records_for_the_live_issuer() -> None:
    [f] = caa.judge_missing(DOMAIN, (DOMAIN,), (LEAF, LEAF))
    assert f.id == "tls.caa.missing" and f.target == DOMAIN
    assert f.severity is Severity.LOW and f.impact is Impact.TRUST
    assert f'`{DOMAIN}. 3600 IN CAA 0 issue "letsencrypt.org"`' in f.remediation
    assert f'`{DOMAIN}. 3600 IN CAA 0 issuewild ";"`' in f.remediation  # no wildcard certificate is live
    assert f'`{DOMAIN}. 3600 IN CAA 0 iodef "mailto:security@{DOMAIN}"`' in f.remediation
    assert f.remediation.count("0 issue ") == 1  # the same CA twice is one record
    assert f"CAA {DOMAIN}: none" in f.evidence
    assert "live certificate issuer: CN=R11,O=Let's Encrypt,C=US (CAA name letsencrypt.org)" in f.evidence


def test_every_live_ca_is_named_and_wildcards_get_issuewild() -> None:
    google = replace(LEAF, issuer="CN=WR1,O=Google Trust Services,C=US", san_dns=("*.example.com",))
    [f] = caa.judge_missing(DOMAIN, (DOMAIN,), (LEAF, google))
    assert '0 issue "letsencrypt.org"' in f.remediation and '0 issue "pki.goog"' in f.remediation
    assert '0 issuewild "letsencrypt.org"' in f.remediation and '0 issuewild "pki.goog"' in f.remediation
    assert 'issuewild ";"' not in f.remediation


def test_an_issuer_outside_the_table_is_named_for_the_user_to_look_up() -> None:
    private = replace(LEAF, issuer="CN=Acme Internal CA,O=Acme")
    [f] = caa.judge_missing(DOMAIN, (f"app.{DOMAIN}", DOMAIN), (private,))
    assert '0 issue "<CAA name of CN=Acme Internal CA,O=Acme>"' in f.remediation
    assert any("not in the CA table" in e for e in f.evidence)
    assert f"CAA app.{DOMAIN}: none" in f.evidence and f"CAA {DOMAIN}: none" in f.evidence


def test_caa_is_looked_up_at_the_host_then_its_ancestors_up_to_the_registrable_domain() -> None:
    assert caa._caa_owners(f"www.{DOMAIN}", DOMAIN) == (f"www.{DOMAIN}", DOMAIN)
    assert caa._caa_owners(DOMAIN, DOMAIN) == (DOMAIN,)
    # A subdomain audited as the domain: its closest ancestor is the registrable domain.
    assert caa._caa_owners("a.app.example.co.uk", "example.co.uk") == (
        "a.app.example.co.uk",
        "app.example.co.uk",
        "example.co.uk",
    )
    # A host outside the registrable domain is asked only for itself.
    assert caa._caa_owners("shop.other.test", DOMAIN) == ("shop.other.test",)
