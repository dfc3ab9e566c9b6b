"""Send one test event to a DSN, the way the Sentry SDKs do, and say whether it arrived.

The envelope and the verdict are ``core/errortracking.py``'s, shared with the audit's
``app.errors`` check (which sends through the run's HTTP probe instead of urllib).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from launchready.core.errortracking import (
    AUTH_HEADER,
    ENVELOPE_CONTENT_TYPE,
    build_test_envelope,
    delivery_verdict,
    new_event_id,
)
from launchready.intake.auth import parse_dsn


@dataclass(frozen=True)
class TestEventResult:
    arrived: bool
    event_id: str
    status: int | None
    detail: str


def send_test_event(dsn: str, timeout: float = 10.0) -> TestEventResult:
    parsed = parse_dsn(dsn)
    event_id = new_event_id()
    request = urllib.request.Request(
        parsed.envelope_url,
        data=build_test_envelope(parsed, event_id, datetime.now(UTC)),
        method="POST",
        headers={"Content-Type": ENVELOPE_CONTENT_TYPE, AUTH_HEADER: parsed.auth_header},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the URL is the user's DSN)
            body = response.read(64 * 1024)
            status = response.status
    except urllib.error.HTTPError as exc:
        _, detail = delivery_verdict(event_id, exc.code, b"", exc.headers.get("X-Sentry-Error") or str(exc.reason))
        return TestEventResult(False, event_id, exc.code, detail)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return TestEventResult(False, event_id, None, f"could not reach {parsed.host}: {reason}")
    arrived, detail = delivery_verdict(event_id, status, body)
    return TestEventResult(arrived, event_id, status, detail)
