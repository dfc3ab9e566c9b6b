"""The lab's HTTPS port: one certificate per host chosen by SNI, and the certificate faults."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from launchready.lab.lab import Lab

HOSTS = ("marketlab.test", "www.marketlab.test", "app.marketlab.test", "admin.marketlab.test", "api.marketlab.test")
CERT_FAULTS = ("cert-expired", "cert-expiring-soon", "cert-wrong-host", "cert-self-signed")


@pytest.fixture(scope="module")
def faulty_lab() -> Iterator[Lab]:
    with Lab(CERT_FAULTS) as running:
        yield running


def verified_handshake(lab: Lab, sni: str) -> x509.Certificate:
    context = ssl.create_default_context(cafile=str(lab.ca_bundle))
    with (
        socket.create_connection(("127.0.0.1", lab.https_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def unverified_certificate(lab: Lab, sni: str | None) -> x509.Certificate:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", lab.https_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def san(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def verify_error(lab: Lab, sni: str) -> ssl.SSLCertVerificationError:
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        verified_handshake(lab, sni)
    return caught.value


@pytest.mark.parametrize("host", HOSTS)
def test_each_host_has_its_own_trusted_certificate(lab: Lab, host: str) -> None:
    cert = verified_handshake(lab, host)
    assert san(cert) == [host]


def test_certificates_are_distinct(lab: Lab) -> None:
    serials = {verified_handshake(lab, host).serial_number for host in HOSTS}
    assert len(serials) == len(HOSTS)


def test_no_sni_gets_the_apex_certificate(lab: Lab) -> None:
    assert san(unverified_certificate(lab, None)) == ["marketlab.test"]


def test_clean_certificates_are_not_about_to_expire(lab: Lab) -> None:
    soon = datetime.now(UTC) + timedelta(days=30)
    for host in HOSTS:
        assert verified_handshake(lab, host).not_valid_after_utc > soon


def test_cert_expired_on_admin(faulty_lab: Lab) -> None:
    error = verify_error(faulty_lab, "admin.marketlab.test")
    assert "expired" in str(error)
    cert = unverified_certificate(faulty_lab, "admin.marketlab.test")
    age = datetime.now(UTC) - cert.not_valid_after_utc
    assert timedelta(days=2) < age < timedelta(days=4)


def test_cert_expiring_soon_on_app(faulty_lab: Lab) -> None:
    cert = verified_handshake(faulty_lab, "app.marketlab.test")  # still valid
    left = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=9) < left <= timedelta(days=10)


def test_cert_wrong_host_on_api(faulty_lab: Lab) -> None:
    error = verify_error(faulty_lab, "api.marketlab.test")
    assert "mismatch" in str(error).lower()
    assert san(unverified_certificate(faulty_lab, "api.marketlab.test")) == ["other.example.test"]


def test_cert_self_signed_on_www(faulty_lab: Lab) -> None:
    error = verify_error(faulty_lab, "www.marketlab.test")
    assert "self-signed" in str(error) or "self signed" in str(error)
    cert = unverified_certificate(faulty_lab, "www.marketlab.test")
    assert cert.issuer == cert.subject


def test_faults_leave_other_hosts_alone(faulty_lab: Lab) -> None:
    assert san(verified_handshake(faulty_lab, "marketlab.test")) == ["marketlab.test"]
