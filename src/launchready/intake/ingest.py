"""Write accepted events to the monitor store: groups, capped events, per-minute counts, alerts.

A batch of events is written in one transaction (the HTTP handlers group-commit: see
``routes.BatchWriter``). Groups are read once per batch and updated once per batch, so a burst
of one error costs one row update, not one per event.

Alerts go through ``record_flip`` in the same transaction, with ``subject_kind = "error"``,
``subject_name`` = the group title, ``old_state`` -> ``new_state`` one of ``none -> new``,
``resolved -> regression`` and ``unresolved -> spike``. ``reason`` is a JSON object (text):
``{"group_id", "project", "title", "count", "culprit", "stack_top", "release", "environment",
"deploy": {"id", "version", "environment", "at"} | null, "link", "rate_per_min" (spikes)}``.
Each kind of alert goes out at most once per group per ``alert_window_s``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Executable,
    Float,
    Integer,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from launchready.intake.checkins import CheckIn, apply_checkin
from launchready.intake.grouping import Grouping, group_event, message_of
from launchready.intake.scrub import Scrubber
from launchready.intake.settings import IntakeSettings
from launchready.monitor.store.errors_schema import (
    error_attachments,
    error_events,
    error_group_minutes,
    error_group_tags,
    error_groups,
    error_projects,
    error_sessions,
    error_transactions,
)
from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.schema import deploys

USERS_KEPT = 1000  # distinct user keys remembered per group; past it users_count is a lower bound
ENVIRONMENTS_KEPT = 50
STORED_EVENT_MAX_BYTES = 256 * 1024
_LEVELS = frozenset({"fatal", "error", "warning", "info", "debug"})
_PRUNE_EVERY = 20


@dataclass(frozen=True)
class PreparedEvent:
    project_id: int
    event_id: str
    received_at: float
    level: str
    environment: str | None
    release: str | None
    user_key: str | None
    message: str | None
    grouping: Grouping
    payload: dict[str, Any]
    source: str = "event"
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Transaction:
    project_id: int
    received_at: float
    name: str
    duration_ms: float
    status: str | None
    environment: str | None
    release: str | None


@dataclass(frozen=True)
class SessionCount:
    project_id: int
    minute: int
    release: str
    environment: str
    status: str
    count: int


@dataclass(frozen=True)
class Attachment:
    project_id: int
    event_id: str
    filename: str
    content_type: str | None
    size: int
    text: str | None
    received_at: float


@dataclass
class Work:
    """Everything one request (or one batch of log lines) asks the store to keep."""

    events: list[PreparedEvent] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    sessions: list[SessionCount] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    checkins: list[CheckIn] = field(default_factory=list)


@dataclass(frozen=True)
class GroupChange:
    """One event's effect on its group, handed to ``on_group_event`` after the commit."""

    group_id: int
    project_id: int
    event_id: str
    title: str
    alert: str | None  # new | regression | spike | None


def _text(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:limit] or None


def _user_key(event: dict[str, Any]) -> str | None:
    user = event.get("user")
    if not isinstance(user, dict):
        return None
    for name in ("id", "email", "username", "ip_address"):
        value = user.get(name)
        if value not in (None, ""):
            # Only a digest is kept on the group: counting users needs no personal data.
            return hashlib.sha1(f"{name}:{value}".encode(), usedforsecurity=False).hexdigest()[:16]
    return None


TAGS_PER_EVENT = 20


def _tags_of(event: dict[str, Any], environment: str | None, release: str | None) -> tuple[tuple[str, str], ...]:
    raw = event.get("tags")
    pairs: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = [(p[0], p[1]) for p in raw if isinstance(p, list | tuple) and len(p) == 2]
    tags: dict[str, str] = {}
    for key, value in pairs[:TAGS_PER_EVENT]:
        if isinstance(key, str) and key and isinstance(value, str | int | float | bool):
            tags[key[:32]] = str(value)[:200]
    if environment:
        tags["environment"] = environment
    if release:
        tags["release"] = release
    return tuple(tags.items())


def _bounded_payload(event: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(event, ensure_ascii=False)) <= STORED_EVENT_MAX_BYTES:
        return event
    slim = dict(event)
    for name in ("extra", "contexts", "modules", "debug_meta", "spans"):
        slim.pop(name, None)
    crumbs = slim.get("breadcrumbs")
    if isinstance(crumbs, dict) and isinstance(crumbs.get("values"), list):
        slim["breadcrumbs"] = {"values": crumbs["values"][-20:]}
    exception = slim.get("exception")
    if isinstance(exception, dict) and isinstance(exception.get("values"), list):
        values: list[Any] = []
        for value in exception["values"]:
            if isinstance(value, dict) and isinstance(value.get("stacktrace"), dict):
                frames = value["stacktrace"].get("frames")
                if isinstance(frames, list):
                    frames = [{k: v for k, v in f.items() if k != "vars"} for f in frames if isinstance(f, dict)]
                    value = {**value, "stacktrace": {"frames": frames[-50:]}}
            values.append(value)
        slim["exception"] = {"values": values}
    if len(json.dumps(slim, ensure_ascii=False)) <= STORED_EVENT_MAX_BYTES:
        slim["_trimmed"] = True
        return slim
    keep = ("event_id", "level", "message", "logentry", "platform", "release", "environment", "tags", "user")
    essential = {k: slim[k] for k in keep if k in slim}
    essential["_trimmed"] = True
    return essential


def prepare_event(
    raw: dict[str, Any], project_id: int, received_at: float, scrubber: Scrubber, raw_size: int | None = None
) -> PreparedEvent:
    """Scrub, group and bound one event as the SDK sent it (``raw_size``: its JSON's size, when known)."""
    event = scrubber.scrub_event(raw)
    event_id = event.get("event_id")
    if not (isinstance(event_id, str) and len(event_id.replace("-", "")) == 32):
        event_id = uuid.uuid4().hex
    event_id = event_id.replace("-", "").lower()[:32]
    level = event.get("level")
    level = level if isinstance(level, str) and level in _LEVELS else "error"
    message, _ = message_of(event)
    grouping = group_event(event)
    environment, release = _text(event.get("environment"), 100), _text(event.get("release"))
    return PreparedEvent(
        project_id=project_id,
        event_id=event_id,
        received_at=received_at,
        level=level,
        environment=environment,
        release=release,
        tags=_tags_of(event, environment, release),
        user_key=_user_key(event),
        message=_text(message or grouping.title, 2000),  # an exception's own "Type: value" when it has no message
        grouping=grouping,
        # Scrubbing never lengthens an event by much, so one that arrived small needs no measuring.
        payload=event if raw_size is not None and raw_size * 2 <= STORED_EVENT_MAX_BYTES else _bounded_payload(event),
    )


def prepare_log_event(
    message: str,
    level: str,
    grouping: Grouping,
    project_id: int,
    received_at: float,
    *,
    logger: str | None = None,
    environment: str | None = None,
    release: str | None = None,
) -> PreparedEvent:
    """An error-level log line (already scrubbed) as an event of its template's group."""
    payload: dict[str, Any] = {"message": message, "level": level, "logger": logger, "platform": "log"}
    return PreparedEvent(
        project_id=project_id,
        event_id=uuid.uuid4().hex,
        received_at=received_at,
        level=level if level in _LEVELS else "error",
        environment=_text(environment, 100),
        release=_text(release),
        user_key=None,
        message=message[:2000],
        grouping=grouping,
        payload=payload,
        source="log",
    )


@dataclass
class _GroupState:
    id: int
    project_id: int
    title: str
    culprit: str | None
    status: str
    resolved_in_release: str | None
    first_seen: float
    last_seen: float
    count: int
    users: list[str]
    users_count: int
    environments: list[str]
    first_release: str | None
    last_release: str | None
    stack_top: str | None
    first_deploy_id: int | None
    last_alert_at: dict[str, float]
    resolved_at: float | None
    is_new: bool = False
    touched: bool = False
    status_changed: bool = False
    lists_changed: bool = False  # users, environments or last_alert_at differ from the stored row
    count_at_load: int = 0
    known_users: set[str] = field(default_factory=set)  # ``users`` as a set, for membership tests


# The statements every batch runs, built once: building a SQLAlchemy statement costs more than
# executing a cached one, and a batch is only a few events under a steady load.
_LOAD_GROUPS = (
    select(error_groups)
    .where(
        error_groups.c.project_id == bindparam("b_project"),
        error_groups.c.fingerprint.in_(bindparam("b_fingerprints", expanding=True)),
    )
    .order_by(error_groups.c.id)
    .with_for_update()
)
_INSERT_EVENTS = insert(error_events)
_UPDATE_GROUP_COUNTERS = (
    update(error_groups)
    .where(error_groups.c.id == bindparam("b_id"))
    .values(
        # The count is an increment and last_seen only moves forward, so another writer's events
        # (a `logs tail` process) are never overwritten.
        count=error_groups.c.count + bindparam("b_added", type_=Integer),
        last_seen=case(
            (
                error_groups.c.last_seen < bindparam("b_last_seen", type_=Float),
                bindparam("b_last_seen", type_=Float),
            ),
            else_=error_groups.c.last_seen,
        ),
        users_count=bindparam("b_users_count", type_=Integer),
        last_release=bindparam("b_last_release", type_=error_groups.c.last_release.type),
    )
)
_GROUP_LISTS = ("users", "environments", "last_alert_at")
_UPDATE_GROUP_LISTS = (
    update(error_groups)
    .where(error_groups.c.id == bindparam("b_id"))
    .values(**{name: bindparam(f"b_{name}", type_=error_groups.c[name].type) for name in _GROUP_LISTS})
)
_REOPEN_GROUPS = (
    update(error_groups)
    .where(error_groups.c.id == bindparam("b_id"))
    .values(status="unresolved", resolved_at=None, resolved_in_release=None)
)
_TAG_KEYS_IN_USE = (
    select(error_group_tags.c.group_id, error_group_tags.c.key, func.count().label("n"))
    .where(error_group_tags.c.group_id.in_(bindparam("b_groups", expanding=True)))
    .group_by(error_group_tags.c.group_id, error_group_tags.c.key)
)
_ADD_TAG_COUNT = (
    update(error_group_tags)
    .where(
        error_group_tags.c.group_id == bindparam("b_group"),
        error_group_tags.c.key == bindparam("b_key"),
        error_group_tags.c.value == bindparam("b_value"),
    )
    .values(count=error_group_tags.c.count + bindparam("b_n"))
)
_RECENT_MINUTES = select(
    error_group_minutes.c.group_id, error_group_minutes.c.minute, error_group_minutes.c.count
).where(
    error_group_minutes.c.group_id.in_(bindparam("b_groups", expanding=True)),
    error_group_minutes.c.minute >= bindparam("b_from"),
    error_group_minutes.c.minute <= bindparam("b_to"),
)
_COUNT_TABLES = {t.name: t for t in (error_group_minutes, error_group_tags, error_sessions)}


@cache
def _add_counts_statement(table_name: str, keys: tuple[str, ...], dialect_name: str) -> Executable:
    table = _COUNT_TABLES[table_name]
    dialect_insert = sqlite_insert if dialect_name == "sqlite" else postgresql_insert
    stmt = dialect_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys], set_={"count": table.c.count + stmt.excluded.count}
    )


def _load_groups(conn: Connection, keys: set[tuple[int, str]]) -> dict[tuple[int, str], _GroupState]:
    out: dict[tuple[int, str], _GroupState] = {}
    by_project: dict[int, list[str]] = {}
    for project_id, fingerprint in keys:
        by_project.setdefault(project_id, []).append(fingerprint)
    for project_id, fingerprints in by_project.items():
        # FOR UPDATE (PostgreSQL): a status change from the UI waits for this batch, and the
        # other way round, instead of one silently undoing the other.
        rows = conn.execute(_LOAD_GROUPS, {"b_project": project_id, "b_fingerprints": fingerprints}).all()
        for r in rows:
            users = list(r.users or [])
            out[(project_id, r.fingerprint)] = _GroupState(
                id=r.id,
                project_id=project_id,
                title=r.title,
                culprit=r.culprit,
                status=r.status,
                resolved_in_release=r.resolved_in_release,
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                count=int(r._mapping["count"]),
                users=users,
                known_users=set(users),
                users_count=r.users_count,
                environments=list(r.environments or []),
                first_release=r.first_release,
                last_release=r.last_release,
                stack_top=r.stack_top,
                first_deploy_id=r.first_deploy_id,
                last_alert_at=dict(r.last_alert_at or {}),
                resolved_at=r.resolved_at,
                count_at_load=int(r._mapping["count"]),
            )
    return out


def _deploy_before(conn: Connection, at: float, environment: str | None) -> dict[str, Any] | None:
    query = select(deploys).where(deploys.c.at <= at).order_by(deploys.c.at.desc(), deploys.c.id.desc()).limit(1)
    row = None
    if environment:
        row = conn.execute(query.where(deploys.c.environment == environment)).first()
    if row is None:
        row = conn.execute(query).first()
    if row is None:
        return None
    return {"id": row.id, "version": row.version, "environment": row.environment, "at": row.at}


def _deploy_by_id(conn: Connection, deploy_id: int | None) -> dict[str, Any] | None:
    if deploy_id is None:
        return None
    row = conn.execute(select(deploys).where(deploys.c.id == deploy_id)).first()
    if row is None:
        return None
    return {"id": row.id, "version": row.version, "environment": row.environment, "at": row.at}


def _reopens(group: _GroupState, event: PreparedEvent) -> bool:
    if group.status == "resolved":
        return True
    if group.status == "resolved_next_release":
        # Still the release that was current when it was resolved: the fix has not shipped yet.
        return event.release is not None and event.release != group.resolved_in_release
    return False


class _AlertQueue:
    def __init__(self, conn: Connection, settings: IntakeSettings) -> None:
        self._conn = conn
        self._settings = settings
        self._projects: dict[int, str] | None = None  # read when the first alert of the batch needs it

    def _project_name(self, project_id: int) -> str:
        if self._projects is None:
            rows = self._conn.execute(select(error_projects.c.id, error_projects.c.name))
            self._projects = {r.id: r.name for r in rows}
        return self._projects.get(project_id, str(project_id))

    def allowed(self, group: _GroupState, kind: str, now: float) -> bool:
        last = group.last_alert_at.get(kind)
        return group.status != "ignored" and (last is None or now - last >= self._settings.alert_window_s)

    def send(
        self, group: _GroupState, kind: str, old_state: str, now: float, event: PreparedEvent, **extra: Any
    ) -> None:
        group.last_alert_at[kind] = now
        group.touched = True
        group.lists_changed = True
        reason = {
            "group_id": group.id,
            "project": self._project_name(group.project_id),
            "title": group.title,
            "count": group.count,
            "culprit": group.culprit,
            "stack_top": group.stack_top,
            "release": event.release,
            "environment": event.environment,
            "deploy": _deploy_by_id(self._conn, group.first_deploy_id),
            "link": f"{self._settings.public_url}/errors/{group.id}",
            **extra,
        }
        name = group.title[:200]
        record_flip(
            self._conn,
            subject_kind="error",
            subject_name=name,
            old_state=old_state,
            new_state=kind,
            at=now,
            reason=json.dumps(reason, ensure_ascii=False),
            providers=self._settings.alert_providers("error", name),
        )


def _insert_group(conn: Connection, event: PreparedEvent) -> _GroupState:
    g = event.grouping
    deploy = _deploy_before(conn, event.received_at, event.environment)
    deploy_id = int(deploy["id"]) if deploy else None
    values: dict[str, Any] = {
        "project_id": event.project_id,
        "fingerprint": g.fingerprint,
        "grouping_basis": g.basis,
        "source": event.source,
        "title": g.title,
        "culprit": g.culprit,
        "level": event.level,
        "status": "unresolved",
        "first_seen": event.received_at,
        "last_seen": event.received_at,
        "count": 0,
        "users": [],
        "users_count": 0,
        "environments": [],
        "first_release": event.release,
        "last_release": event.release,
        "first_deploy_id": deploy_id,
        "sample_event_id": event.event_id,
        "stack_top": g.stack_top,
        "last_alert_at": {},
    }
    group_id = conn.execute(insert(error_groups).values(**values).returning(error_groups.c.id)).scalar_one()
    return _GroupState(
        id=int(group_id),
        project_id=event.project_id,
        title=g.title,
        culprit=g.culprit,
        status="unresolved",
        resolved_in_release=None,
        first_seen=event.received_at,
        last_seen=event.received_at,
        count=0,
        users=[],
        users_count=0,
        environments=[],
        first_release=event.release,
        last_release=event.release,
        stack_top=g.stack_top,
        first_deploy_id=deploy_id,
        last_alert_at={},
        resolved_at=None,
        is_new=True,
    )


def _add_counts(conn: Connection, table: Table, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Insert the rows, or add their ``count`` to the rows already there: one statement for all
    (``INSERT ... ON CONFLICT DO UPDATE``, which SQLite and PostgreSQL both have)."""
    if not rows:
        return
    conn.execute(_add_counts_statement(table.name, keys, conn.dialect.name), rows)


def _write_minutes(conn: Connection, counts: dict[tuple[int, int], int]) -> None:
    rows = [{"group_id": g, "minute": m, "count": n} for (g, m), n in counts.items()]
    _add_counts(conn, error_group_minutes, ("group_id", "minute"), rows)


TAG_VALUES_KEPT = 50  # distinct values per group and key; a tag holding ids would otherwise grow without end


def _write_tags(conn: Connection, counts: dict[tuple[int, str, str], int]) -> None:
    if not counts:
        return
    distinct = {
        (r.group_id, r.key): int(r.n)
        for r in conn.execute(_TAG_KEYS_IN_USE, {"b_groups": sorted({g for g, _, _ in counts})})
    }
    in_batch: dict[tuple[int, str], int] = {}
    for g, k, _ in counts:
        in_batch[(g, k)] = in_batch.get((g, k), 0) + 1
    upserts, updates = [], []
    for (g, k, v), n in counts.items():
        if distinct.get((g, k), 0) + in_batch[(g, k)] <= TAG_VALUES_KEPT:
            upserts.append({"group_id": g, "key": k, "value": v, "count": n})
        else:  # the tag is full: only values it counts already go on counting
            updates.append({"b_group": g, "b_key": k, "b_value": v, "b_n": n})
    _add_counts(conn, error_group_tags, ("group_id", "key", "value"), upserts)
    if updates:
        conn.execute(_ADD_TAG_COUNT, updates)


def _spike_rates(
    conn: Connection, candidates: Sequence[tuple[_GroupState, int]], settings: IntakeSettings
) -> list[tuple[_GroupState, int, int, float]]:
    """(group, minute, events that minute, usual events per minute) for each (group, minute) whose group
    is old enough to have a usual rate; one query for the whole batch."""
    judged: list[tuple[_GroupState, int, int]] = []
    for group, minute in candidates:
        baseline_minutes = min(settings.spike_baseline_minutes, minute - int(group.first_seen // 60))
        if baseline_minutes >= 5:  # a group younger than five minutes has no usual rate yet ("new" covers it)
            judged.append((group, minute, baseline_minutes))
    if not judged:
        return []
    counts: dict[tuple[int, int], int] = {}
    for r in conn.execute(
        _RECENT_MINUTES,
        {
            "b_groups": sorted({g.id for g, _, _ in judged}),
            "b_from": min(m - b for _, m, b in judged),
            "b_to": max(m for _, m, _ in judged),
        },
    ):
        counts[(r.group_id, r.minute)] = int(r._mapping["count"])
    out = []
    for group, minute, baseline_minutes in judged:
        current = counts.get((group.id, minute), 0)
        before = sum(counts.get((group.id, m), 0) for m in range(minute - baseline_minutes, minute))
        out.append((group, minute, current, before / baseline_minutes))
    return out


def _write_events(conn: Connection, events: Sequence[PreparedEvent], settings: IntakeSettings) -> list[GroupChange]:
    if not events:
        return []
    alerts = _AlertQueue(conn, settings)
    groups = _load_groups(conn, {(e.project_id, e.grouping.fingerprint) for e in events})
    minutes: dict[tuple[int, int], int] = {}
    tag_counts: dict[tuple[int, str, str], int] = {}
    changes: list[GroupChange] = []
    event_rows: list[dict[str, Any]] = []
    for event in events:
        key = (event.project_id, event.grouping.fingerprint)
        group = groups.get(key)
        alert: str | None = None
        if group is None:
            group = groups[key] = _insert_group(conn, event)
        group.touched = True
        group.count += 1
        group.last_seen = max(group.last_seen, event.received_at)
        if event.release:
            group.last_release = event.release
        if event.environment and event.environment not in group.environments:
            if len(group.environments) < ENVIRONMENTS_KEPT:
                group.environments.append(event.environment)
                group.lists_changed = True
        if event.user_key and event.user_key not in group.known_users:
            group.users_count += 1
            if len(group.users) < USERS_KEPT:
                group.users.append(event.user_key)
                group.known_users.add(event.user_key)
                group.lists_changed = True
        minute = int(event.received_at // 60)
        minutes[(group.id, minute)] = minutes.get((group.id, minute), 0) + 1
        for tag in event.tags:
            tag_counts[(group.id, *tag)] = tag_counts.get((group.id, *tag), 0) + 1
        if group.is_new and group.count == 1:
            if alerts.allowed(group, "new", event.received_at):
                alerts.send(group, "new", "none", event.received_at, event)
                alert = "new"
        elif _reopens(group, event):
            group.status_changed = True
            group.status = "unresolved"
            group.resolved_at = None
            group.resolved_in_release = None
            if alerts.allowed(group, "regression", event.received_at):
                alerts.send(group, "regression", "resolved", event.received_at, event)
                alert = "regression"
        if _keeps_event(group.count, settings.events_kept_per_group, alert is not None):
            event_rows.append(
                {
                    "event_id": event.event_id,
                    "group_id": group.id,
                    "project_id": event.project_id,
                    "received_at": event.received_at,
                    "level": event.level,
                    "environment": event.environment,
                    "release": event.release,
                    "message": event.message,
                    "payload": event.payload,
                }
            )
        changes.append(GroupChange(group.id, event.project_id, event.event_id, group.title, alert))
    if event_rows:
        conn.execute(_INSERT_EVENTS, event_rows)
    _write_minutes(conn, minutes)
    _write_tags(conn, tag_counts)
    # Spikes: judged once per group and minute touched in this batch, on the stored counts.
    by_id = {g.id: g for g in groups.values()}
    candidates = [
        (by_id[group_id], minute)
        for group_id, minute in minutes
        if by_id[group_id].status != "ignored" and not by_id[group_id].is_new
    ]
    for group, minute, current, usual in _spike_rates(conn, candidates, settings):
        if current >= settings.spike_min_events and current > settings.spike_factor * usual:
            if alerts.allowed(group, "spike", minute * 60.0):
                last = next(e for e in reversed(events) if e.project_id == group.project_id)
                alerts.send(
                    group, "spike", "unresolved", minute * 60.0, last, rate_per_min=current, usual_per_min=usual
                )
                changes.append(GroupChange(group.id, group.project_id, last.event_id, group.title, "spike"))
    touched = [g for g in groups.values() if g.touched]
    if touched:
        # One statement for every group of the batch (executemany), not one round trip each. The
        # JSON lists (up to USERS_KEPT user keys) are written only for the groups whose lists this
        # batch changed, and the status only where this batch changed it, so a "resolve" clicked
        # meanwhile is not undone.
        conn.execute(
            _UPDATE_GROUP_COUNTERS,
            [
                {
                    "b_id": g.id,
                    "b_added": g.count - g.count_at_load,
                    "b_last_seen": g.last_seen,
                    "b_users_count": g.users_count,
                    "b_last_release": g.last_release,
                }
                for g in touched
            ],
        )
        listed = [g for g in touched if g.lists_changed]
        if listed:
            conn.execute(
                _UPDATE_GROUP_LISTS,
                [{"b_id": g.id, **{f"b_{name}": getattr(g, name) for name in _GROUP_LISTS}} for g in listed],
            )
        reopened = [g for g in touched if g.status_changed]
        if reopened:
            conn.execute(_REOPEN_GROUPS, [{"b_id": g.id} for g in reopened])
    for group in touched:
        if (
            group.count // _PRUNE_EVERY != group.count_at_load // _PRUNE_EVERY
            and group.count > settings.events_kept_per_group
        ):
            _prune_events(conn, group.id, settings.events_kept_per_group)
    return changes


def _keeps_event(count: int, keep: int, alerted: bool) -> bool:
    """Whether the ``count``-th event of a group is stored: every one up to ``keep``, then a thinning
    sample (every 2nd past 2x keep, every 10th past 10x, ...) so a flood of one error costs counters,
    not rows; an event that raised an alert is always kept, the alert links to it."""
    return alerted or count <= keep or count % max(1, count // keep) == 0


def _prune_events(conn: Connection, group_id: int, keep: int) -> None:
    cutoff = conn.execute(
        select(error_events.c.id)
        .where(error_events.c.group_id == group_id)
        .order_by(error_events.c.id.desc())
        .offset(keep)
        .limit(1)
    ).scalar()
    if cutoff is not None:
        conn.execute(delete(error_events).where(error_events.c.group_id == group_id, error_events.c.id <= cutoff))


def _write_sessions(conn: Connection, sessions: Sequence[SessionCount]) -> None:
    merged: dict[tuple[int, int, str, str, str], int] = {}
    for x in sessions:
        key = (x.project_id, x.minute, x.release, x.environment, x.status)
        merged[key] = merged.get(key, 0) + x.count
    rows = [
        {"project_id": p, "minute": m, "release": r, "environment": e, "status": st, "count": n}
        for (p, m, r, e, st), n in merged.items()
    ]
    _add_counts(conn, error_sessions, ("project_id", "minute", "release", "environment", "status"), rows)


def write_work(conn: Connection, work: Sequence[Work], settings: IntakeSettings) -> list[GroupChange]:
    """Everything in ``work``, in the caller's transaction. Returns each event's group change."""
    events = [e for w in work for e in w.events]
    changes = _write_events(conn, events, settings)
    transactions = [t for w in work for t in w.transactions]
    if transactions:
        conn.execute(
            insert(error_transactions),
            [
                {
                    "project_id": t.project_id,
                    "received_at": t.received_at,
                    "name": t.name,
                    "duration_ms": t.duration_ms,
                    "status": t.status,
                    "environment": t.environment,
                    "release": t.release,
                }
                for t in transactions
            ],
        )
    _write_sessions(conn, [s for w in work for s in w.sessions])
    attachments = [a for w in work for a in w.attachments]
    if attachments:
        conn.execute(
            insert(error_attachments),
            [
                {
                    "event_id": a.event_id,
                    "project_id": a.project_id,
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "data": a.text,
                    "received_at": a.received_at,
                }
                for a in attachments
            ],
        )
    for w in work:
        for checkin in w.checkins:
            apply_checkin(conn, checkin, settings)
    return changes


def _take_write_lock(conn: Connection) -> None:
    """Make the batch's reads and writes one atomic step against every other writer of the store.

    A batch reads each group's JSON lists (users, environments, alert times), adds to them and
    writes them back. PostgreSQL locks the rows it reads (``_LOAD_GROUPS`` is ``FOR UPDATE``, in
    id order so two batches never wait on each other in a circle). SQLite has no row locks and
    the driver would run the reads outside any transaction, so a second process (another
    `monitor serve`, `logs tail`) could write in between and one of the two lists would lose its
    entry: ``BEGIN IMMEDIATE`` takes the store's writer lock before the first read (waiting up to
    the busy timeout for the other writer's commit).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def write_work_retrying(engine: Engine, work: Sequence[Work], settings: IntakeSettings) -> list[GroupChange]:
    """``write_work`` in its own transaction; a race with another writer creating the same group is retried."""
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                _take_write_lock(conn)
                return write_work(conn, work, settings)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def set_group_status(conn: Connection, group_id: int, action: str, now: float) -> bool:
    """``resolve``, ``resolve_next_release``, ``ignore`` or ``unresolve`` a group; False if it does not exist."""
    row = conn.execute(select(error_groups.c.last_release).where(error_groups.c.id == group_id)).first()
    if row is None:
        return False
    values: dict[str, Any]
    if action == "resolve":
        values = {"status": "resolved", "resolved_at": now, "resolved_in_release": None}
    elif action == "resolve_next_release":
        values = {"status": "resolved_next_release", "resolved_at": now, "resolved_in_release": row.last_release}
    elif action == "ignore":
        values = {"status": "ignored", "resolved_at": None, "resolved_in_release": None}
    elif action == "unresolve":
        values = {"status": "unresolved", "resolved_at": None, "resolved_in_release": None}
    else:
        raise ValueError(f"unknown group action {action!r}")
    conn.execute(update(error_groups).where(error_groups.c.id == group_id).values(**values))
    return True


def group_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(error_groups)).scalar_one())
