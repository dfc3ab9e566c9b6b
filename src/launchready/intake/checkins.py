"""Cron check-ins (Sentry's ``check_in`` items) fed to the heartbeat of the same name, as a ping is.

``in_progress`` is a ``start`` ping, ``ok`` a success and ``error`` a failure, written by the
same ping writer as ``/ping`` (last ping, last start, run duration, flips and their alerts). A check-in for a slug with no heartbeat of that name is dropped: heartbeats are
declared in the configuration, not created by whoever knows a DSN.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from launchready.intake.settings import IntakeSettings
from launchready.monitor.store.pings import PingAddress, record_ping


@dataclass(frozen=True)
class CheckIn:
    slug: str
    status: str  # in_progress | ok | error
    duration_s: float | None
    check_in_id: str | None
    received_at: float
    remote_addr: str | None


_KIND = {"in_progress": "start", "ok": "success", "error": "fail"}


def apply_checkin(conn: Connection, checkin: CheckIn, settings: IntakeSettings) -> bool:
    """Record one check-in through the ping writer; False when no heartbeat has its slug or its status is unknown."""
    kind = _KIND.get(checkin.status)
    if kind is None:
        return False
    outcome = record_ping(
        conn,
        PingAddress(uuid=None, name=checkin.slug, kind=kind, exit_status=None),
        at=checkin.received_at,
        method="POST",
        remote_addr=checkin.remote_addr,
        rid=(checkin.check_in_id or "")[:200] or None,
        body=None,
        routing=lambda subject_kind, name, _tags, _old, _new: settings.alert_providers(subject_kind, name),
        reported_duration_s=checkin.duration_s,
    )
    return outcome is not None
