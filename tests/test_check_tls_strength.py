"""Judge functions of tls.protocols, tls.key-strength and tls.caa, on facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from launchready.checks.tls import caa, key_strength, protocols
from launchready.core.dns import DnsAnswer
from launchready.core.errors import CouldNotRun
from launchready.probes.tls import CertificateFacts, TlsFacts

HOST = "example.com"
LEAF = CertificateFacts(
    subject="CN=example.com",
    common_name="example.com",
    san_dns=("example.com",),
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


def facts(leaf: CertificateFacts | None = LEAF) -> TlsFacts:
    return TlsFacts(HOST, 443, connected=leaf is not None, leaf=leaf, verified=True, hostname_matches=True)


def test_protocols() -> None:
    assert protocols.judge(HOST, {"TLS 1.0": False, "TLS 1.1": False}) == []
    [finding] = protocols.judge(HOST, {"TLS 1.0": True, "TLS 1.1": None})
    assert finding.id == "tls.protocols.legacy-accepted"
    assert "TLS 1.1: not tested" in finding.evidence
    with pytest.raises(CouldNotRun):
        protocols.judge(HOST, {"TLS 1.0": None, "TLS 1.1": None})


def test_key_strength() -> None:
    assert key_strength.judge(HOST, facts()) == []
    weak = replace(LEAF, key_type="RSA", key_bits=1024, signature_hash="sha1")
    assert {f.id for f in key_strength.judge(HOST, facts(weak))} == {
        "tls.key-strength.weak-key",
        "tls.key-strength.weak-signature",
    }
    with pytest.raises(CouldNotRun):
        key_strength.judge(HOST, facts(None))


def caa_answer(*records: str) -> DnsAnswer:
    return DnsAnswer(HOST, "CAA", "ok", records)


def test_caa_permits_or_not() -> None:
    assert (
        caa.judge(
            HOST,
            LEAF,
            caa_answer(
                '0 issue "letsencrypt.org"',
            ),
        )
        == []
    )
    assert (
        caa.judge(
            HOST,
            LEAF,
            caa_answer(
                '0 iodef "mailto:x@example.com"',
            ),
        )
        == []
    )  # no restriction
    [finding] = caa.judge(
        HOST, LEAF, caa_answer('0 issue "digicert.com"', '0 issue "pki.goog; cansignhttpexchanges=yes"')
    )
    assert finding.id == "tls.caa.issuer-not-permitted"
    assert "that CA's CAA name(s): letsencrypt.org" in finding.evidence
    assert '`example.com. 3600 IN CAA 0 issue "letsencrypt.org"`' in finding.remediation
    # An issuer the table does not know is not judged.
    unknown = replace(LEAF, issuer="CN=Some Private CA")
    assert (
        caa.judge(
            HOST,
            unknown,
            caa_answer(
                '0 issue "digicert.com"',
            ),
        )
        == []
    )
    # Wildcard certificates follow issuewild when it is present.
    wild = replace(LEAF, san_dns=("*.example.com",))
    assert caa.judge(HOST, wild, caa_answer('0 issue "digicert.com"', '0 issuewild "letsencrypt.org"')) == []
