"""Stripe-style webhook signatures: ``Stripe-Signature: t=<unix>,v1=<hex hmac-sha256 of "t.body">``.

The lab app verifies them; tests and later flows sign with :func:`sign_webhook` (the lab's
stand-in for the payment provider).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

SIGNATURE_HEADER = "Stripe-Signature"
# How old a signed timestamp may be before it is treated as a replay (Stripe's default).
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class SignatureCheck:
    valid: bool
    reason: str


def _hmac_hex(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign_webhook(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``body``."""
    t = str(int(time.time()) if timestamp is None else timestamp)
    return f"t={t},v1={_hmac_hex(secret, t, body)}"


def verify_webhook(
    secret: str, body: bytes, header: str | None, *, now: float | None = None, tolerance: int = TOLERANCE_SECONDS
) -> SignatureCheck:
    if not header:
        return SignatureCheck(False, f"missing {SIGNATURE_HEADER} header")
    timestamp: str | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not (timestamp.isascii() and timestamp.isdigit()):
        return SignatureCheck(False, "no timestamp (t=) in the signature header")
    if not candidates:
        return SignatureCheck(False, "no v1 signature in the signature header")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        return SignatureCheck(False, "timestamp outside the tolerance window (possible replay)")
    expected = _hmac_hex(secret, timestamp, body)
    # A provider rotating secrets sends several v1 values; any one matching is enough.
    if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        return SignatureCheck(True, "ok")
    return SignatureCheck(False, "signature does not match the payload")
