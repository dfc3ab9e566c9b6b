"""Open the monitor store for the intake's commands: the monitor's own engine factory and migrations.

The intake's tables (``monitor/store/errors_schema.py``) are part of the monitor's schema and its
Alembic revisions, so ``errors list`` and ``logs tail`` see exactly the store `monitor serve` writes.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from launchready.intake.errors import IntakeError
from launchready.monitor.errors import MonitorError


def open_store(url: str | None, base_dir: Path) -> Engine:
    from launchready.monitor.store import engine as monitor_engine

    try:
        return monitor_engine.open_store(monitor_engine.store_url(url, None, base_dir))
    except MonitorError as exc:
        raise IntakeError(str(exc)) from None
