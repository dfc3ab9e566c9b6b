"""What the intake can be tuned with, and defaults taken from Sentry's documented limits.

Sentry documents (docs.sentry.io, "Size Limits" and "Attachments"): events above 200 KB
compressed or 1 MB decompressed are rejected with 413; a request may be at most 20 MB
compressed; attachments at most 100 MB uncompressed per event. The decompressed envelope cap
here defaults lower than Sentry's attachment allowance because this service holds a request in
memory: an attachment above ``attachment_max_bytes`` is dropped (counted), never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

KB = 1024
MB = 1024 * KB


def _no_providers(subject_kind: str, subject_name: str) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class IntakeSettings:
    # Body limits (413 beyond): on the wire and after decompression.
    envelope_max_bytes: int = 20 * MB
    envelope_max_decompressed: int = 40 * MB
    store_max_bytes: int = 200 * KB
    store_max_decompressed: int = 1 * MB
    event_max_bytes: int = 1 * MB  # one event/transaction item, decompressed
    attachment_max_bytes: int = 1 * MB  # bigger attachments are dropped
    max_items: int = 100  # items per envelope (Sentry's cap on sessions per envelope)
    max_json_depth: int = 64  # deeper JSON is refused (400), not recursed into
    # Storage caps.
    events_kept_per_group: int = 100
    request_body_max_chars: int = 4 * KB
    string_max_chars: int = 8 * KB
    # Per public key: a token bucket of requests.
    rate_per_second: float = 50.0
    rate_burst: int = 200
    # Alerts. A spike is this many times the group's usual per-minute rate over the baseline,
    # with at least ``spike_min_events`` in the minute; each kind at most once per window.
    spike_factor: float = 5.0
    spike_min_events: int = 10
    spike_baseline_minutes: int = 60
    alert_window_s: float = 3600.0
    # Where an alert for (subject_kind, subject_name) goes: the routed provider names.
    alert_providers: Callable[[str, str], Sequence[str]] = _no_providers
    # Used to build links to a group in alerts and the API (no trailing slash).
    public_url: str = "http://127.0.0.1:8787"
