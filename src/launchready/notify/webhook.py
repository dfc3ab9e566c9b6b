"""A generic webhook: the message's JSON payload, signed with HMAC-SHA256 when a secret is set.

Headers: ``Content-Type: application/json``; ``X-Launchready-Event`` (what happened);
``Idempotency-Key`` (the same for every retry of one alert); with a secret,
``X-Launchready-Signature: sha256=<hex HMAC-SHA256 of the body>`` and the same value in
``X-Launchready-Signature-256`` (the header deploy notifications have always carried).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from launchready.notify.base import Delivery, Message, is_env_reference, resolve_secret
from launchready.notify.transport import Transport
from launchready.smoke.secrets import Masker
from launchready.smoke.signing import signature_header

SIGNATURE_HEADER = "X-Launchready-Signature"
LEGACY_SIGNATURE_HEADER = "X-Launchready-Signature-256"
_HTTP_URL = re.compile(r"^https?://[^/\s]+", re.I)


def check_http_url(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL, or None."""
    if _HTTP_URL.match(url):
        return None
    return f"expected an http(s) URL, got {url[:12]!r}…"


def described_url(raw: str | None, masker: Masker) -> str:
    """Where a URL points without what may be a credential: an ``${env:NAME}`` as written, else
    the host and the path minus its last two segments (where Slack and others keep the token)."""
    url = raw or ""
    if is_env_reference(url):
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    kept = [segment for segment in parts.path.split("/") if segment][:-2]
    return masker.text(f"{parts.scheme}://{host}{port}/" + "".join(f"{segment}/" for segment in kept) + "…")


def sign(secret: str, body: bytes) -> str:
    """The ``X-Launchready-Signature`` value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return signature_header("github", secret, body)[1]


class WebhookProvider:
    kind = "webhook"

    def __init__(
        self,
        name: str,
        *,
        url: str | None,
        secret: str | None,
        env: Mapping[str, str],
        transport: Transport,
        masker: Masker,
    ) -> None:
        self._name = name
        self._raw_url = url
        self._raw_secret = secret
        self._url, self._url_problem = resolve_secret(url, env, masker)
        self._secret, self._secret_problem = resolve_secret(secret, env, masker)
        self._transport = transport
        self._masker = masker

    @property
    def name(self) -> str:
        return self._name

    @property
    def target(self) -> str:
        return f"webhook {described_url(self._raw_url, self._masker)}"

    def validate(self) -> list[str]:
        problems: list[str] = []
        if self._raw_url is None:
            problems.append("url: expected the URL to POST to")
        elif self._url_problem:
            problems.append(f"url: {self._url_problem}")
        else:
            problem = check_http_url(self._url or "")
            if problem:
                problems.append(f"url: {problem}")
        if self._secret_problem:
            problems.append(f"secret: {self._secret_problem}")
        return problems

    async def send(self, message: Message) -> Delivery:
        problems = self.validate()
        if problems:
            return Delivery(self.target, False, problems[0], permanent=True)
        assert self._url is not None
        body = json.dumps(dict(message.payload)).encode()
        headers = {"Content-Type": "application/json", "X-Launchready-Event": message.event}
        if message.idempotency_key:
            headers["Idempotency-Key"] = message.idempotency_key
        if self._secret:
            signature = sign(self._secret, body)
            headers[SIGNATURE_HEADER] = signature
            headers[LEGACY_SIGNATURE_HEADER] = signature
        result = await self._transport.post(self._url, body, headers)
        if result.status is None:
            return Delivery(self.target, False, self._masker.text(result.error or "no response"))
        if not 200 <= result.status < 300:
            return Delivery(self.target, False, f"answered {result.status}", retry_after=result.retry_after)
        return Delivery(self.target, True)

    async def close(self) -> None:
        return None
