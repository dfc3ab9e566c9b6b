"""Error-tracking DSNs and the test event, shared by `errors test`, the intake and the audit.

A DSN is ``http(s)://<public_key>@<host>[/<prefix>]/<project_id>``, the form every Sentry SDK
(and GlitchTip, and launchready's own intake) reads. ``build_test_envelope`` builds the one event
`launchready errors test` and the ``app.errors`` audit check send, and ``delivery_verdict``
decides from the answer whether it arrived: Sentry-compatible services answer an accepted
envelope with ``200 {"id": "<event id>"}``. Pure: no I/O here (the one sender is
``probes/errortracking.py``, used by the audit and, through ``intake/testevent.py``, the CLI).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from launchready.core.masking import mask_secret

# Variable names under which apps and platforms conventionally hold an error-tracking DSN.
DSN_VARIABLES: tuple[str, ...] = (
    "SENTRY_DSN",
    "NEXT_PUBLIC_SENTRY_DSN",
    "VITE_SENTRY_DSN",
    "REACT_APP_SENTRY_DSN",
    "PUBLIC_SENTRY_DSN",
    "NUXT_PUBLIC_SENTRY_DSN",
    "EXPO_PUBLIC_SENTRY_DSN",
    "GLITCHTIP_DSN",
    "BUGSINK_DSN",
    "ERROR_TRACKING_DSN",
    "ERRORS_DSN",
)
# Any other name ending in _DSN that is not a database's (DATABASE_DSN, PG_DSN...): a value of
# the Sentry form under it counts too.
_DSN_NAME = re.compile(r"(?:^|_)(?:SENTRY|GLITCHTIP|BUGSINK|ERRORS?|ERROR_TRACKING)_DSN$")
TEST_EVENT_TAG = "launchready.test"
TEST_EVENT_MESSAGE = "launchready test event: error reporting works"
AUTH_HEADER = "X-Sentry-Auth"
ENVELOPE_CONTENT_TYPE = "application/x-sentry-envelope"


class DsnError(ValueError):
    """A DSN that cannot be used; the message is one line and never holds the key in full."""


@dataclass(frozen=True)
class Dsn:
    scheme: str
    public_key: str
    host: str  # with the port, when there is one
    path_prefix: str  # "" or "/prefix" when the service sits under a path
    project_id: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.public_key}@{self.host}{self.path_prefix}/{self.project_id}"

    @property
    def envelope_url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path_prefix}/api/{self.project_id}/envelope/"

    @property
    def hostname(self) -> str:
        return (urlsplit(f"{self.scheme}://{self.host}").hostname or "").lower()

    @property
    def masked(self) -> str:
        """The DSN with its public key masked (it is not a secret to Sentry, but it lets anyone send events)."""
        return f"{self.scheme}://{mask_secret(self.public_key)}@{self.host}{self.path_prefix}/{self.project_id}"

    @property
    def auth_header(self) -> str:
        return f"Sentry sentry_version=7, sentry_client=launchready/1, sentry_key={self.public_key}"


def parse_dsn(text: str) -> Dsn:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https"):
        raise DsnError("the DSN does not start with http:// or https://")
    try:
        hostname = parts.hostname
    except ValueError:
        hostname = None
    if not parts.username or not hostname:
        raise DsnError("the DSN has no public key before '@' or no host")
    path = parts.path.rstrip("/")
    prefix, _, project = path.rpartition("/")
    if not project.isdigit():
        raise DsnError("the DSN does not end with a numeric project id")
    host = parts.netloc.rpartition("@")[2]
    return Dsn(parts.scheme, parts.username, host, prefix, int(project))


def is_dsn_variable(name: str) -> bool:
    upper = name.upper()
    return upper in DSN_VARIABLES or bool(_DSN_NAME.search(upper))


def looks_like_dsn(value: str) -> bool:
    try:
        parse_dsn(value)
    except DsnError:
        return False
    return True


def new_event_id() -> str:
    return uuid.uuid4().hex


def build_test_envelope(dsn: Dsn, event_id: str, now: datetime) -> bytes:
    """One error-level event, tagged ``launchready.test``, as an envelope the SDKs would send."""
    stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {
        "event_id": event_id,
        "timestamp": stamp,
        "level": "error",
        "platform": "python",
        "logger": "launchready",
        "message": TEST_EVENT_MESSAGE,
        "tags": {TEST_EVENT_TAG: "true"},
        "sdk": {"name": "launchready.errors-test", "version": "1"},
    }
    payload = json.dumps(event).encode()
    header = json.dumps({"event_id": event_id, "dsn": str(dsn), "sent_at": stamp}).encode()
    item = json.dumps({"type": "event", "length": len(payload), "content_type": "application/json"}).encode()
    return header + b"\n" + item + b"\n" + payload + b"\n"


@dataclass(frozen=True)
class DsnDelivery:
    """What became of one test event sent to a DSN (the DSN masked)."""

    dsn: str  # masked
    envelope_url: str
    event_id: str
    arrived: bool
    status: int | None  # None: no HTTP answer at all
    detail: str  # "accepted", or why not (one line, no secret)
    error_kind: str | None = None  # dns, refused, timeout, tls... when nothing answered


def delivery_verdict(event_id: str, status: int | None, body: bytes, refusal: str | None = None) -> tuple[bool, str]:
    """Whether the answer says the event was accepted, and in words why not.

    ``refusal``: the service's ``X-Sentry-Error`` header, when it sent one.
    """
    if status is None:
        return False, "no answer"
    if status != 200:
        reason = f": {refusal}" if refusal else ""
        return False, f"refused with HTTP {status}{reason}"
    try:
        answered = json.loads(body).get("id")
    except (ValueError, AttributeError, RecursionError):
        answered = None
    if answered in (event_id, str(uuid.UUID(event_id))):
        return True, "accepted"
    return False, "HTTP 200 without the event id in the answer (not a Sentry-compatible intake?)"
