"""TLS facts: one handshake and the certificate it presented, as the TLS probe observed them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TlsErrorKind = Literal["timeout", "refused", "reset", "handshake", "dns", "other"]


@dataclass(frozen=True)
class CertificateFacts:
    subject: str  # RFC 4514 string
    common_name: str | None
    san_dns: tuple[str, ...]
    issuer: str
    issuer_common_name: str | None
    not_before: datetime  # timezone-aware UTC
    not_after: datetime  # timezone-aware UTC
    key_type: str  # "RSA", "EC", "Ed25519", ...
    key_bits: int
    signature_hash: str | None  # "sha256", "sha1", None for Ed25519
    serial: str  # hex
    sha256_fingerprint: str  # hex
    self_signed: bool
    san_ip: tuple[str, ...] = ()


@dataclass(frozen=True)
class TlsFacts:
    host: str
    port: int
    connected: bool  # a TLS handshake completed (with verification off if it failed on)
    peer: str | None = None
    protocol: str | None = None  # "TLSv1.3"
    cipher: str | None = None
    verified: bool = False  # chain valid against the trust store / --ca-bundle AND hostname matches
    verify_error: str | None = None  # e.g. "certificate has expired", "Hostname mismatch"
    hostname_matches: bool = False
    leaf: CertificateFacts | None = None
    chain_length: int | None = None
    error: str | None = None
    error_kind: TlsErrorKind | None = None
