"""Deploy markers written by `launchready deploy` into the monitor's store.

The dashboard draws them on every time series and names the last deploy before each incident.
Recording one must never fail a deploy: a store that cannot be opened or written is a warning
line, and the deploy goes on.
"""

from __future__ import annotations

import time
from pathlib import Path

from launchready.config.sections.monitor import MonitorConfig
from launchready.monitor.errors import MonitorError
from launchready.monitor.store.engine import open_store, shown, store_error, store_url
from launchready.monitor.store.repository import record_deploy


def record_deploy_marker(
    monitor: MonitorConfig,
    base_dir: Path,
    *,
    environment: str,
    version: str,
    who: str | None,
    note: str | None = None,
    at: float | None = None,
) -> str:
    """Record a marker (source ``deploy-command``); returns the line to show, success or not."""
    url = store_url(None, monitor.store, base_dir)
    try:
        engine = open_store(url)
    except MonitorError as exc:
        return f"launchready: warning: deploy marker not recorded in the monitor store: {exc}"
    try:
        try:
            with engine.begin() as conn:
                marker = record_deploy(
                    conn,
                    at=time.time() if at is None else at,
                    environment=environment[:100],
                    version=version[:200],
                    source="deploy-command",
                    who=who[:200] if who else None,
                    note=note,
                )
        except Exception as exc:  # noqa: BLE001 - any driver failure is one warning line
            reason = store_error(exc, "record the deploy marker")
            return f"launchready: warning: deploy marker not recorded in the monitor store: {reason}"
    finally:
        engine.dispose()
    return f"deploy marker #{marker} recorded in the monitor store {shown(url)}"
