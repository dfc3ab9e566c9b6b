"""The data scrubber: what never reaches the store, the UI, an alert or a log line.

Like Sentry's default server-side scrubber, and applied to every event before it is written:

* any value under a key whose name contains one of ``SENSITIVE_KEY_PARTS`` (case-insensitive,
  anywhere in the event: extra, contexts, frame variables, request data, headers given as a
  mapping or as ``[name, value]`` pairs, breadcrumb data, tags) becomes ``[Filtered]``;
* the request's cookies entirely, and the ``Authorization``, ``Cookie``, ``Set-Cookie`` and
  ``X-Api-Key``-style headers (their names contain the parts above);
* inside any string: credit-card numbers (13-19 digits, spaces or dashes allowed, Luhn-valid),
  ``Bearer``/``Basic`` credentials, passwords in URLs (``scheme://user:password@``),
  ``key=value`` / ``"key": "value"`` pairs whose key names a credential, and every value the
  secret scanner's rules (``launchready.secrets.rules``) recognise (provider keys, private keys,
  database URLs, high-entropy values assigned to secret-looking names);
* request bodies are cut to ``request_body_max_chars``, other strings to ``string_max_chars``,
  and nesting deeper than ``max_json_depth`` is replaced by ``[trimmed]``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from launchready.secrets.detector import Detector

FILTERED = "[Filtered]"
TRIMMED = "[trimmed]"

SENSITIVE_KEY_PARTS: tuple[str, ...] = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "private_key",
    "privatekey",
    "auth",  # authorization, x-auth-token, auth_header
    "credential",
    "token",
    "session",  # session ids, sessionid cookies
    "csrf",
    "xsrf",
    "cookie",
    "bearer",
    "signature",
    "card_number",
    "cardnumber",
    "cvv",
    "ssn",
    "dsn",
)

# Keys whose names contain a part above but that hold structure the intake needs, not data.
_STRUCTURAL_KEYS = frozenset({"sid", "session_id_kind", "author", "authors"})

_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]+@")
_SECRET_PAIR = re.compile(
    r"""(?i)(["']?[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"""
    r"""auth|credential|session|cookie|signature|dsn)[\w.-]*["']?\s*[:=]\s*["']?)([^"'\s,;}&]+)"""
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_sub(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return FILTERED if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def scrub_text(text: str) -> str:
    """Credentials inside free text replaced (cards, bearer tokens, URL passwords, key=value pairs)."""
    if any(c.isdigit() for c in text):
        text = _CARD.sub(_card_sub, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{FILTERED}@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {FILTERED}", text)
    return _SECRET_PAIR.sub(lambda m: m.group(1) + (m.group(2) if m.group(2) == FILTERED else FILTERED), text)


def is_sensitive_key(key: str) -> bool:
    lowered = key.lower()
    return lowered not in _STRUCTURAL_KEYS and any(part in lowered for part in SENSITIVE_KEY_PARTS)


class Scrubber:
    def __init__(
        self,
        *,
        max_depth: int = 64,
        string_max_chars: int = 8192,
        request_body_max_chars: int = 4096,
        detector: Detector | None = None,
    ) -> None:
        self._max_depth = max_depth
        self._string_max = string_max_chars
        self._body_max = request_body_max_chars
        self._detector = detector or Detector()

    def _value(self, value: Any, depth: int) -> Any:
        if isinstance(value, str):
            if len(value) > self._string_max:
                value = value[: self._string_max] + "…"
            return scrub_text(value)
        if depth >= self._max_depth and isinstance(value, dict | list):
            return TRIMMED
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if is_sensitive_key(key) and item not in (None, "", [], {}):
                    out[key] = FILTERED
                else:
                    out[key] = self._value(item, depth + 1)
            return out
        if isinstance(value, list):
            # Headers (and query strings) may come as [name, value] pairs.
            if value and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in value):
                return [[p[0], FILTERED if is_sensitive_key(p[0]) else self._value(p[1], depth + 2)] for p in value]
            return [self._value(item, depth + 1) for item in value]
        return value

    def _request(self, request: Any) -> Any:
        if not isinstance(request, dict):
            return request
        request = dict(request)
        if request.get("cookies"):
            request["cookies"] = FILTERED
        data = request.get("data")
        if data is not None:
            scrubbed = self._value(data, 1)
            text = scrubbed if isinstance(scrubbed, str) else json.dumps(scrubbed, ensure_ascii=False)
            if len(text) > self._body_max:
                request["data"] = text[: self._body_max] + "…"
            else:
                request["data"] = scrubbed
        return request

    def scrub_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """A scrubbed copy of ``event`` (the input is not changed)."""
        request = event.get("request")
        out = dict(self._value({k: v for k, v in event.items() if k != "request"}, 0))
        if request is not None:
            out["request"] = self._value(self._request(request), 1)
        return dict(self.scrub_known_secrets(out))

    def scrub_known_secrets(self, value: Any) -> Any:
        """Values the secret scanner finds anywhere in the (already structurally scrubbed) value, replaced."""
        text = json.dumps(value, ensure_ascii=False)
        secrets: set[str] = set()
        for match in self._detector.scan(text, "event"):
            secrets.add(match.secret)
            # The scan saw the JSON text: a secret with newlines or quotes is escaped there.
            try:
                raw = json.loads(f'"{match.secret}"')
            except ValueError:
                continue
            if isinstance(raw, str):
                secrets.add(raw)
        if not secrets:
            return value
        ordered = sorted(secrets, key=len, reverse=True)
        return _replace_everywhere(value, ordered)


def _replace_everywhere(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, FILTERED)
        return value
    if isinstance(value, dict):
        return {k: _replace_everywhere(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_everywhere(v, secrets) for v in value]
    return value
