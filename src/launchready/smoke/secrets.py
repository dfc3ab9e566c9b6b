"""Masking for everything a smoke run prints: env secrets, credentials in URLs, cookies, tokens.

``${env:NAME}`` values are registered while templates render; every text that leaves the runner
(URLs, headers, body excerpts, captured values, failure messages) goes through :meth:`Masker.text`.
"""

from __future__ import annotations

from collections.abc import Iterable

from launchready.core.masking import mask_credentials, mask_secret

# Headers whose values are credentials whatever they contain.
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "set-cookie",
        "proxy-authorization",
        "x-api-key",
        "stripe-signature",
        "x-hub-signature-256",
    }
)
_MIN_SECRET = 4


class Masker:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        # Very short values would mask every occurrence of common letters; they are masked where
        # they appear as credentials by the patterns instead.
        if len(secret) >= _MIN_SECRET:
            self._secrets.add(secret)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        # Longest first, so a secret containing another is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, mask_secret(secret))
        return mask_credentials(value)

    def header(self, name: str, value: str) -> str:
        if name.lower() in SENSITIVE_HEADERS:
            return mask_secret(value)
        return self.text(value)

    def excerpt(self, body: bytes | str, limit: int = 300) -> str:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        text = self.text(" ".join(text.split()))  # mask before cutting: a cut secret is still found
        return text if len(text) <= limit else text[:limit] + "…"
