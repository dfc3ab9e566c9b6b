"""tls.certificate: the judging logic on handshake facts, then the check against the lab."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from launchready.checks.tls.certificate import judge
from launchready.core.errors import CouldNotRun
from launchready.core.severity import Severity
from launchready.probes.tls import CertificateFacts, TlsFacts

HOST = "app.shop.test"
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def leaf(days_left: float = 60, names: tuple[str, ...] = (HOST,), self_signed: bool = False) -> CertificateFacts:
    return CertificateFacts(
        subject=f"CN={names[0] if names else 'x'}",
        common_name=names[0] if names else None,
        san_dns=names,
        issuer="CN=Test CA" if not self_signed else f"CN={names[0]}",
        issuer_common_name="Test CA",
        not_before=NOW - timedelta(days=30),
        not_after=NOW + timedelta(days=days_left),
        key_type="EC",
        key_bits=256,
        signature_hash="sha256",
        serial="1f",
        sha256_fingerprint="00" * 32,
        self_signed=self_signed,
    )


def facts(
    cert: CertificateFacts | None, *, verified: bool = True, verify_error: str | None = None, matches: bool = True
) -> TlsFacts:
    return TlsFacts(
        host=HOST,
        port=443,
        connected=True,
        peer="192.0.2.1:443",
        protocol="TLSv1.3",
        verified=verified,
        verify_error=verify_error,
        hostname_matches=matches,
        leaf=cert,
    )


def ids(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.id for f in findings)


def test_a_good_certificate_passes() -> None:
    assert judge(HOST, facts(leaf()), NOW) == []


def test_expired_is_a_blocker_with_the_renewal_command() -> None:
    findings = judge(HOST, facts(leaf(days_left=-3), verified=False, verify_error="certificate has expired"), NOW)
    assert ids(findings) == ["tls.certificate.expired"]
    [f] = findings
    assert f.severity is Severity.BLOCKER
    assert "expired 3 day(s) ago" in f.evidence
    assert f"certbot renew --cert-name {HOST}" in f.remediation
    assert any(e.startswith("names (SAN): app.shop.test") for e in f.evidence)


@pytest.mark.parametrize(("days", "severity"), [(10, Severity.HIGH), (13.9, Severity.HIGH), (20, Severity.MEDIUM)])
def test_expires_soon_severity_depends_on_days_left(days: float, severity: Severity) -> None:
    [f] = judge(HOST, facts(leaf(days_left=days)), NOW)
    assert f.id == "tls.certificate.expires-soon"
    assert f.severity is severity
    assert f"days left: {int(days)}" in f.evidence
    assert f.title == f"The certificate expires in {int(days)} day(s)"


def test_thirty_days_or_more_is_fine() -> None:
    assert judge(HOST, facts(leaf(days_left=30.5)), NOW) == []


def test_hostname_mismatch_names_the_host_in_the_fix() -> None:
    cert = leaf(names=("other.test",))
    findings = judge(
        HOST,
        facts(
            cert,
            verified=False,
            verify_error=f"Hostname mismatch, certificate is not valid for '{HOST}'.",
            matches=False,
        ),
        NOW,
    )
    assert ids(findings) == ["tls.certificate.hostname-mismatch"]
    assert f"certbot --nginx -d {HOST}" in findings[0].remediation
    assert "names (SAN): other.test" in findings[0].evidence


def test_self_signed_is_untrusted_with_issuer_and_error_as_evidence() -> None:
    cert = leaf(self_signed=True)
    findings = judge(HOST, facts(cert, verified=False, verify_error="self-signed certificate"), NOW)
    assert ids(findings) == ["tls.certificate.untrusted"]
    [f] = findings
    assert f.severity is Severity.BLOCKER
    assert "verification error: self-signed certificate" in f.evidence
    assert f"issuer: CN={HOST} (self-signed)" in f.evidence
    assert "fullchain.pem" in f.remediation


def test_untrusted_chain_and_expiry_are_both_reported() -> None:
    cert = leaf(days_left=-1)
    findings = judge(HOST, facts(cert, verified=False, verify_error="unable to get local issuer certificate"), NOW)
    assert ids(findings) == ["tls.certificate.expired", "tls.certificate.untrusted"]


def test_unexplained_verification_failure_is_never_silent() -> None:
    # Dates and names are fine, yet the probe could not verify: it must not read as a pass.
    findings = judge(HOST, facts(leaf(), verified=False, verify_error=None), NOW)
    assert ids(findings) == ["tls.certificate.untrusted"]


def test_not_yet_valid_is_untrusted() -> None:
    cert = replace(leaf(), not_before=NOW + timedelta(days=2))
    findings = judge(HOST, facts(cert, verified=False, verify_error="certificate is not yet valid"), NOW)
    assert ids(findings) == ["tls.certificate.untrusted"]


@pytest.mark.parametrize("kind", ["refused", "timeout", "reset", "handshake"])
def test_nothing_answering_tls_is_unreachable(kind: str) -> None:
    down = TlsFacts(HOST, 443, connected=False, error=f"it was {kind}", error_kind=kind)  # type: ignore[arg-type]
    [f] = judge(HOST, down, NOW)
    assert f.id == "tls.certificate.unreachable"
    assert f.severity is Severity.HIGH
    assert f"error: it was {kind}" in f.evidence


@pytest.mark.parametrize("kind", ["dns", "other"])
def test_local_failures_are_could_not_run(kind: str) -> None:
    down = TlsFacts(host=HOST, port=443, connected=False, error="boom", error_kind=kind)  # type: ignore[arg-type]
    with pytest.raises(CouldNotRun, match="boom"):
        judge(HOST, down, NOW)


def test_no_certificate_observed_is_could_not_run() -> None:
    with pytest.raises(CouldNotRun):
        judge(HOST, facts(None), NOW)
