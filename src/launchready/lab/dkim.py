"""The lab's DKIM key pair: the public half is published in DNS, the private half stays in memory."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from launchready.lab.zone import DKIM_SELECTOR


@dataclass(frozen=True)
class DkimKey:
    selector: str
    public_key_b64: str  # base64 SubjectPublicKeyInfo, the DNS ``p=`` tag
    private_key_pem: bytes = field(repr=False)


def generate_dkim_key(selector: str = DKIM_SELECTOR) -> DkimKey:
    """A fresh 2048-bit RSA key (the smallest size receivers treat as strong)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DkimKey(selector, base64.b64encode(public_der).decode(), private_pem)
