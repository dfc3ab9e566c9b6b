"""What the web app needs from ``[monitor]``; the serve command builds it from the config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WebSettings:
    slo: float = 0.995
    status_page: bool = False  # a public page with check names and states only
    metrics_public: bool = False  # /metrics without an API token
    ping_key: str | None = None  # enables /ping/<ping_key>/<name>
    session_ttl_s: float = 7 * 24 * 3600
    login_failure_limit: int = 5  # failed logins per address or user name per window
    login_failure_window_s: float = 15 * 60
    title: str = "launchready monitor"
