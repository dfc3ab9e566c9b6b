"""Heartbeat pings in healthchecks.io's shape.

``/ping/<uuid>[/start|/fail|/log|/<exit status>]`` and ``/ping/<ping_key>/<name>[/...]``, by
GET, HEAD or POST, optionally with ``?rid=`` to pair a start with its finish. What a ping does to
the heartbeat's row:

- ``last_ping_at`` is the last finish (success or failure); ``last_start_at`` the last ``/start``,
  so a run is in progress while ``last_start_at > last_ping_at`` (the scheduler's late/down rule
  reads both);
- a success stores the run's duration (from the start with the same ``rid``, else from the last
  start of a run not finished yet) on the ping and as ``last_duration_s``;
- a success on a heartbeat that is not up flips it to ``up``, a failure (``/fail`` or a non-zero
  exit status) flips it to ``down``; ``start`` and ``log`` never change state, and a paused
  heartbeat keeps its state. A flip is written with :func:`record_flip` in the ping's own
  transaction; it is routed to alert providers only when it enters or leaves ``down``, so the
  first ping of a new heartbeat (new -> up) and the end of a grace period (late -> up) alert nobody.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, insert, select, update

from launchready.core.masking import mask_credentials
from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.schema import heartbeats, pings

BODY_KEEP_BYTES = 10 * 1024


class Routing(Protocol):
    """The alert providers a flip is queued for: the alert router's ``providers_for``."""

    def __call__(
        self, subject_kind: str, subject_name: str, tags: Sequence[str], old_state: str, new_state: str
    ) -> Sequence[str]: ...


def no_routing(
    subject_kind: str, subject_name: str, tags: Sequence[str], old_state: str, new_state: str
) -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class PingAddress:
    """Which heartbeat a ping names and what it says, parsed from the path."""

    uuid: str | None
    name: str | None
    kind: str  # success | start | fail | log
    exit_status: int | None


def parse_ping_path(
    parts: Sequence[str], ping_key: str | None, key_matches: Callable[[str, str], bool]
) -> PingAddress | None:
    """The address in ``/ping/<parts...>``, or None when it names nothing (a 404)."""
    if not parts:
        return None
    uuid_text: str | None = None
    name: str | None = None
    try:
        uuid_text = str(uuid_module.UUID(parts[0]))
        rest = list(parts[1:])
    except ValueError:
        if ping_key is None or len(parts) < 2 or not key_matches(ping_key, parts[0]):
            return None
        name, rest = parts[1], list(parts[2:])
    if not rest:
        return PingAddress(uuid_text, name, "success", None)
    if len(rest) > 1:
        return None
    signal = rest[0]
    if signal in ("start", "fail", "log"):
        return PingAddress(uuid_text, name, signal, None)
    if signal.isdigit() and int(signal) <= 255:
        status = int(signal)
        return PingAddress(uuid_text, name, "success" if status == 0 else "fail", status)
    return None


def clean_body(raw: bytes) -> str | None:
    """The kept part of a ping body: its first 10 KB as text, credentials masked."""
    if not raw:
        return None
    return mask_credentials(raw[:BODY_KEEP_BYTES].decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class PingOutcome:
    heartbeat: str
    old_state: str
    new_state: str
    duration_s: float | None


def record_ping(
    conn: Connection,
    address: PingAddress,
    *,
    at: float,
    method: str,
    remote_addr: str | None,
    rid: str | None,
    body: str | None,
    routing: Routing,
    reported_duration_s: float | None = None,
) -> PingOutcome | None:
    """Store one ping and its effect on the heartbeat; None when no such heartbeat is configured.

    ``reported_duration_s`` is a run duration the sender measured itself (a Sentry cron check-in
    carries one); it wins over the start-to-finish time computed here.
    """
    query = select(heartbeats).where(heartbeats.c.configured.is_(True))
    if address.uuid is not None:
        query = query.where(heartbeats.c.uuid == address.uuid)
    else:
        query = query.where(heartbeats.c.name == address.name)
    row = conn.execute(query.with_for_update()).first()
    if row is None:
        return None
    finished = address.kind in ("success", "fail")
    duration_s: float | None = None
    if finished:
        started: float | None = None
        if rid:
            started = conn.execute(
                select(pings.c.at)
                .where(pings.c.heartbeat_name == row.name, pings.c.kind == "start", pings.c.rid == rid)
                .order_by(pings.c.at.desc())
                .limit(1)
            ).scalar_one_or_none()
        elif row.last_start_at is not None and (row.last_ping_at is None or row.last_start_at > row.last_ping_at):
            started = row.last_start_at
        if started is not None and started <= at:
            duration_s = at - started
        if reported_duration_s is not None and reported_duration_s >= 0:
            duration_s = reported_duration_s
    conn.execute(
        insert(pings).values(
            heartbeat_name=row.name,
            at=at,
            kind=address.kind,
            exit_status=address.exit_status,
            rid=rid,
            method=method,
            remote_addr=remote_addr,
            body=body,
            duration_s=duration_s,
        )
    )
    changes: dict[str, object] = {}
    if address.kind == "start":
        changes["last_start_at"] = at
    if finished:
        changes["last_ping_at"] = at
    if address.kind == "success" and duration_s is not None:
        changes["last_duration_s"] = duration_s
    new_state = row.state
    if row.state != "paused":
        if address.kind == "success":
            new_state = "up"
        elif address.kind == "fail":
            new_state = "down"
    if new_state != row.state:
        changes["state"] = new_state
        changes["state_since"] = at
        reason = _reason(address)
        alerted = "down" in (row.state, new_state)
        record_flip(
            conn,
            subject_kind="heartbeat",
            subject_name=row.name,
            old_state=row.state,
            new_state=new_state,
            at=at,
            reason=reason,
            # Heartbeats have no tags; routing by name still applies.
            providers=routing("heartbeat", row.name, (), row.state, new_state) if alerted else (),
        )
    if changes:
        conn.execute(update(heartbeats).where(heartbeats.c.name == row.name).values(**changes))
    return PingOutcome(row.name, row.state, new_state, duration_s)


def _reason(address: PingAddress) -> str:
    if address.exit_status is not None:
        return f"ping with exit status {address.exit_status}"
    return "success ping" if address.kind == "success" else "failure ping (/fail)"
