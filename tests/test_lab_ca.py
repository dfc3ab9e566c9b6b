"""The lab CA issues certificates Python's ssl accepts (and the broken ones the faults need)."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from launchready.lab.ca import IssuedCert, LabCA, SignatureHashUnsupported


def _handshake(cert: IssuedCert, tmp_path: Path, bundle: Path, server_hostname: str) -> str:
    """Serve ``cert`` on loopback once and handshake with a default-verifying client."""
    cert_file, key_file = cert.write(tmp_path, "leaf")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(bundle))
        with socket.create_connection(listener.getsockname()) as raw:
            with client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
                return str(tls.version())
    finally:
        thread.join()
        listener.close()


def test_leaf_is_trusted_by_default_verification(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    cert = lab_ca.issue(["shop.lab.test", "www.shop.lab.test"])
    assert _handshake(cert, tmp_path, lab_ca_bundle, "www.shop.lab.test").startswith("TLSv1")


def test_leaf_extensions(lab_ca: LabCA) -> None:
    leaf = lab_ca.issue(["a.lab.test", "b.lab.test"]).certificate
    assert leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "a.lab.test"
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["a.lab.test", "b.lab.test"]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = lab_ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    leaf.verify_directly_issued_by(lab_ca.certificate)


def test_default_validity_window(lab_ca: LabCA) -> None:
    leaf = lab_ca.issue(["a.lab.test"]).certificate
    now = datetime.now(UTC)
    assert leaf.not_valid_before_utc < now < leaf.not_valid_after_utc
    assert timedelta(days=89) < leaf.not_valid_after_utc - now <= timedelta(days=90)


def test_expired_leaf_fails_verification(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    expired = lab_ca.issue(["old.lab.test"], not_after=datetime.now(UTC) - timedelta(days=3))
    assert expired.certificate.not_valid_before_utc < expired.certificate.not_valid_after_utc
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _handshake(expired, tmp_path, lab_ca_bundle, "old.lab.test")


def test_self_signed_leaf_is_not_signed_by_the_ca(lab_ca: LabCA, lab_ca_bundle: Path, tmp_path: Path) -> None:
    cert = lab_ca.issue(["www.lab.test"], self_signed=True)
    leaf = cert.certificate
    assert leaf.issuer == leaf.subject
    leaf.verify_directly_issued_by(leaf)
    with pytest.raises(ssl.SSLCertVerificationError, match="self-signed|self signed"):
        _handshake(cert, tmp_path, lab_ca_bundle, "www.lab.test")


def test_rsa_keys(lab_ca: LabCA) -> None:
    for kind, bits in (("rsa2048", 2048), ("rsa1024", 1024)):
        key = lab_ca.issue(["rsa.lab.test"], key=kind).certificate.public_key()  # type: ignore[arg-type]
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == bits


def test_sha1_is_issued_or_refused_clearly(lab_ca: LabCA) -> None:
    try:
        leaf = lab_ca.issue(["old.lab.test"], signature_hash="sha1").certificate
    except SignatureHashUnsupported as exc:
        assert "SHA-1" in str(exc)
    else:
        assert leaf.signature_hash_algorithm is not None
        assert leaf.signature_hash_algorithm.name == "sha1"


def test_write_files(lab_ca: LabCA, tmp_path: Path) -> None:
    cert = lab_ca.issue(["a.lab.test"])
    cert_file, key_file = cert.write(tmp_path / "certs", "a")
    assert cert_file.read_bytes() == cert.cert_pem and key_file.read_bytes() == cert.key_pem
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert lab_ca.write_bundle(tmp_path / "ca.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_bad_arguments(lab_ca: LabCA) -> None:
    with pytest.raises(ValueError):
        lab_ca.issue([])
    now = datetime.now(UTC)
    with pytest.raises(ValueError):
        lab_ca.issue(["a.test"], not_before=now, not_after=now - timedelta(days=1))
