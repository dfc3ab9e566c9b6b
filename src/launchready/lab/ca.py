"""The lab's certificate authority: issues the leaf certificates the lab's HTTPS servers serve.

Leaves carry what browsers and Python's ``ssl`` require of a server certificate (SAN DNS names,
serverAuth EKU, CA:FALSE, digitalSignature, AKI/SKI), so a client that trusts only the CA
certificate (``--ca-bundle``) verifies them. The fault switches need broken ones too: expired,
for another name, self-signed, weak key, SHA-1 signature.

RSA-1024 leaves are issued fine, but OpenSSL 3 at its default security level (what Python's
``ssl`` uses) refuses to load one into a server context ("ee key too small"); a server that must
serve one needs ``ctx.set_ciphers("DEFAULT:@SECLEVEL=0")`` before ``load_cert_chain``.
SHA-1 signatures: recent cryptography releases (50.x is installed) refuse to create them
('Hash algorithm "sha1" not supported for signatures'); ``issue(signature_hash="sha1")`` then
raises ``SignatureHashUnsupported`` rather than silently issuing a SHA-256 certificate.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyKind = Literal["ec", "rsa2048", "rsa1024"]
SignatureHash = Literal["sha256", "sha1"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_DEFAULT_LIFETIME = timedelta(days=90)
_BACKDATE = timedelta(days=1)
_CA_LIFETIME = timedelta(days=3650)


def _new_key(kind: KeyKind) -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "rsa1024":
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    raise ValueError(f"unknown key kind {kind!r} (expected 'ec', 'rsa2048' or 'rsa1024')")


def _hash(name: SignatureHash) -> hashes.HashAlgorithm:
    if name == "sha256":
        return hashes.SHA256()
    if name == "sha1":
        return hashes.SHA1()
    raise ValueError(f"unknown signature hash {name!r} (expected 'sha256' or 'sha1')")


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san_entry(name: str) -> x509.GeneralName:
    # An IP literal belongs in an iPAddress SAN: clients never match it against a DNS entry.
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


class SignatureHashUnsupported(RuntimeError):
    """The installed cryptography refuses to sign with the requested hash (SHA-1 in new versions)."""


def _sign(builder: x509.CertificateBuilder, key: PrivateKey, hash_name: SignatureHash) -> x509.Certificate:
    try:
        # The stubs leave SHA-1 out; asking for it anyway is how its refusal gets reported.
        return builder.sign(key, _hash(hash_name))  # type: ignore[arg-type]
    except (UnsupportedAlgorithm, ValueError) as exc:
        if hash_name == "sha1":
            raise SignatureHashUnsupported(
                f"this cryptography/OpenSSL build refuses SHA-1 certificate signatures ({exc}); "
                "the lab cannot issue a SHA-1 certificate here"
            ) from exc
        raise


@dataclass(frozen=True)
class IssuedCert:
    """A leaf certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.crt`` and ``<stem>.key`` (owner-only) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path = directory / f"{stem}.crt"
        key_path = directory / f"{stem}.key"
        cert_path.write_bytes(self.cert_pem)
        # Created owner-only from the start: the key is never world-readable, even briefly.
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


class LabCA:
    """A throw-away root CA that lives only as long as the lab (the key never touches disk)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._cert = certificate

    @classmethod
    def create(cls, common_name: str = "launchready lab CA") -> LabCA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "launchready lab"),
            ]
        )
        now = datetime.now(UTC)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + _CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        )
        return cls(key, builder.sign(key, hashes.SHA256()))

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate: the file ``--ca-bundle`` points at."""
        return self._cert.public_bytes(serialization.Encoding.PEM)

    @property
    def certificate(self) -> x509.Certificate:
        return self._cert

    def write_bundle(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.cert_pem)
        return path

    def issue(
        self,
        names: Sequence[str],
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key: KeyKind = "ec",
        self_signed: bool = False,
        signature_hash: SignatureHash = "sha256",
    ) -> IssuedCert:
        """A server certificate for ``names`` (CN = the first), signed by this CA unless ``self_signed``.

        Validity defaults to yesterday .. +90 days; when only ``not_after`` is given and it lies in
        the past (an expired certificate), ``not_before`` defaults to 90 days before it.
        """
        if not names:
            raise ValueError("a certificate needs at least one name")
        now = datetime.now(UTC)
        if not_after is None:
            start = now if not_before is None or not_before < now else not_before
            not_after = start + _DEFAULT_LIFETIME
        if not_before is None:
            not_before = min(now - _BACKDATE, not_after - _DEFAULT_LIFETIME)
        if not_before >= not_after:
            raise ValueError(f"not_before {not_before} is not before not_after {not_after}")

        leaf_key = _new_key(key)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
        ski = x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key())
        if self_signed:
            issuer_name, signer, aki = (
                subject,
                leaf_key,
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
            )
        else:
            issuer_name, signer, aki = (
                self._cert.subject,
                self._key,
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
            )
        # RSA keys do key exchange in TLS 1.2 RSA suites, so they also get keyEncipherment.
        is_rsa = isinstance(leaf_key, rsa.RSAPrivateKey)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=is_rsa,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([_san_entry(n) for n in names]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(aki, critical=False)
        )
        cert = _sign(builder, signer, signature_hash)
        return IssuedCert(cert.public_bytes(serialization.Encoding.PEM), _key_pem(leaf_key))
