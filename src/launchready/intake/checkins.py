"""Cron check-ins (Sentry's ``check_in`` items) fed to the heartbeat of the same name, as a ping is.

``in_progress`` is a ``start`` ping, ``ok`` a success and ``error`` a failure; the heartbeat's
last ping, last start and run duration move as they do for ``/ping``, and a change of state
(``up``/``down``; ``new`` never alerts, ``paused`` does not move) is a flip through
``record_flip``. A check-in for a slug with no heartbeat of that name is dropped: heartbeats are
declared in the configuration, not created by whoever knows a DSN.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from launchready.intake.settings import IntakeSettings
from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.schema import heartbeats, pings


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
    """Record one check-in; False when no heartbeat has its slug or its status is unknown."""
    kind = _KIND.get(checkin.status)
    if kind is None:
        return False
    row = conn.execute(select(heartbeats).where(heartbeats.c.name == checkin.slug)).first()
    if row is None:
        return False
    now = checkin.received_at
    values: dict[str, object] = {}
    duration: float | None = None
    if kind == "start":
        values["last_start_at"] = now
    else:
        values["last_ping_at"] = now
        if checkin.duration_s is not None and checkin.duration_s >= 0:
            duration = checkin.duration_s
        elif row.last_start_at is not None and row.last_start_at <= now:
            duration = now - row.last_start_at
        if duration is not None and kind == "success":
            values["last_duration_s"] = duration
        new_state = "up" if kind == "success" else "down"
        if row.state != "paused" and row.state != new_state:
            values["state"] = new_state
            values["state_since"] = now
            if row.state != "new" or new_state == "down":
                record_flip(
                    conn,
                    subject_kind="heartbeat",
                    subject_name=row.name,
                    old_state=row.state,
                    new_state=new_state,
                    at=now,
                    reason="cron check-in reported an error" if kind == "fail" else "cron check-in ok",
                    providers=settings.alert_providers("heartbeat", row.name),
                )
    conn.execute(update(heartbeats).where(heartbeats.c.name == row.name).values(**values))
    conn.execute(
        insert(pings).values(
            heartbeat_name=row.name,
            at=now,
            kind=kind,
            exit_status=None,
            rid=(checkin.check_in_id or "")[:200] or None,
            method="POST",
            remote_addr=checkin.remote_addr,
            body=None,
            duration_s=duration,
        )
    )
    return True
