"""Send one test event to a DSN, the way the Sentry SDKs do, and say whether it arrived."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from launchready.intake.auth import parse_dsn


@dataclass(frozen=True)
class TestEventResult:
    arrived: bool
    event_id: str
    status: int | None
    detail: str


def test_envelope(dsn: str, event_id: str) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {
        "event_id": event_id,
        "timestamp": now,
        "level": "error",
        "platform": "python",
        "logger": "launchready",
        "message": "launchready test event: error reporting works",
        "tags": {"launchready.test": "true"},
        "sdk": {"name": "launchready.errors-test", "version": "1"},
    }
    payload = json.dumps(event).encode()
    header = json.dumps({"event_id": event_id, "dsn": dsn, "sent_at": now}).encode()
    item = json.dumps({"type": "event", "length": len(payload), "content_type": "application/json"}).encode()
    return header + b"\n" + item + b"\n" + payload + b"\n"


def send_test_event(dsn: str, timeout: float = 10.0) -> TestEventResult:
    parsed = parse_dsn(dsn)
    event_id = uuid.uuid4().hex
    request = urllib.request.Request(
        parsed.envelope_url,
        data=test_envelope(str(parsed), event_id),
        method="POST",
        headers={
            "Content-Type": "application/x-sentry-envelope",
            "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_client=launchready/1, sentry_key={parsed.public_key}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the URL is the user's DSN)
            body = response.read(64 * 1024)
            status = response.status
    except urllib.error.HTTPError as exc:
        refusal = exc.headers.get("X-Sentry-Error") or exc.reason
        return TestEventResult(False, event_id, exc.code, f"refused with HTTP {exc.code}: {refusal}")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return TestEventResult(False, event_id, None, f"could not reach {parsed.host}: {reason}")
    try:
        answered = json.loads(body).get("id")
    except (ValueError, AttributeError):
        answered = None
    if status == 200 and answered in (event_id, str(uuid.UUID(event_id))):
        return TestEventResult(True, event_id, status, "accepted")
    return TestEventResult(False, event_id, status, f"HTTP {status} without the event id in the answer")
