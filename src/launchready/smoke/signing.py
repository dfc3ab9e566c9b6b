"""Webhook signatures the way payment and code hosts send them, so a flow can post a valid event.

- ``stripe``: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
- ``hmac``: ``<header>: <hex HMAC-SHA256 of the body>`` (Shopify-, Paddle-, many in-house receivers)
- ``github``: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``
"""

from __future__ import annotations

import hashlib
import hmac
import time

DEFAULT_HEADERS = {"stripe": "Stripe-Signature", "github": "X-Hub-Signature-256"}


def _hex(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signature_header(
    scheme: str, secret: str, body: bytes, *, header: str | None = None, now: float | None = None
) -> tuple[str, str]:
    """(header name, header value) signing ``body`` with ``secret`` under ``scheme``."""
    if scheme == "stripe":
        t = str(int(time.time() if now is None else now))
        return header or DEFAULT_HEADERS["stripe"], f"t={t},v1={_hex(secret, t.encode() + b'.' + body)}"
    if scheme == "github":
        return header or DEFAULT_HEADERS["github"], f"sha256={_hex(secret, body)}"
    if scheme == "hmac":
        if header is None:
            raise ValueError("the hmac scheme needs a header name")
        return header, _hex(secret, body)
    raise ValueError(f"unknown signature scheme {scheme!r}")
