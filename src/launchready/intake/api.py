"""Reading groups for the CLI, the JSON API and the pages: rows as plain dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from launchready.monitor.store.errors_schema import (
    error_events,
    error_group_minutes,
    error_group_tags,
    error_groups,
    error_projects,
)
from launchready.monitor.store.schema import deploys

SORTS = {
    "last_seen": error_groups.c.last_seen,
    "count": error_groups.c.count,
    "users": error_groups.c.users_count,
    "first_seen": error_groups.c.first_seen,
}


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def group_summary(row: Any, project: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "project": project,
        "title": row.title,
        "culprit": row.culprit,
        "count": int(row._mapping["count"]),
        "users": row.users_count,
        "status": row.status,
        "level": row.level,
        "source": row.source,
        "first_seen": iso(row.first_seen),
        "last_seen": iso(row.last_seen),
        "environments": list(row.environments or []),
        "first_release": row.first_release,
        "last_release": row.last_release,
    }


def list_groups(
    conn: Connection,
    *,
    sort: str = "last_seen",
    status: str | None = None,
    query: str | None = None,
    tag: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Groups, newest first by ``sort``; ``query`` searches title and culprit, ``tag`` is ``key:value``."""
    column = SORTS.get(sort, error_groups.c.last_seen)
    stmt = (
        select(error_groups, error_projects.c.name.label("project_name"))
        .join(error_projects, error_projects.c.id == error_groups.c.project_id)
        .order_by(column.desc(), error_groups.c.id.desc())
        .limit(limit)
    )
    if status:
        stmt = stmt.where(error_groups.c.status == status)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(error_groups.c.title.ilike(like) | error_groups.c.culprit.ilike(like))
    if tag:
        key, _, value = tag.partition(":")
        tagged = select(error_group_tags.c.group_id).where(
            error_group_tags.c.key == key.strip(), error_group_tags.c.value == value.strip()
        )
        stmt = stmt.where(error_groups.c.id.in_(tagged))
    return [group_summary(r, r.project_name) for r in conn.execute(stmt)]


def group_detail(conn: Connection, group_id: int, *, events: int = 20, minutes: int = 24 * 60) -> dict[str, Any] | None:
    row = conn.execute(select(error_groups).where(error_groups.c.id == group_id)).first()
    if row is None:
        return None
    project = conn.execute(select(error_projects.c.name).where(error_projects.c.id == row.project_id)).scalar()
    detail = group_summary(row, project)
    recent = conn.execute(
        select(error_events).where(error_events.c.group_id == group_id).order_by(error_events.c.id.desc()).limit(events)
    ).all()
    sample = conn.execute(
        select(error_events.c.payload).where(error_events.c.event_id == row.sample_event_id).limit(1)
    ).scalar()
    detail["sample_event"] = sample if sample is not None else (recent[0].payload if recent else None)
    detail["recent_events"] = [
        {
            "event_id": e.event_id,
            "received_at": iso(e.received_at),
            "release": e.release,
            "environment": e.environment,
            "message": e.message,
        }
        for e in recent
    ]
    since = int(row.last_seen // 60) - minutes
    detail["per_minute"] = [
        {"minute": m.minute * 60, "count": int(m._mapping["count"])}
        for m in conn.execute(
            select(error_group_minutes)
            .where(error_group_minutes.c.group_id == group_id, error_group_minutes.c.minute >= since)
            .order_by(error_group_minutes.c.minute)
        )
    ]
    first_deploy = None
    if row.first_deploy_id is not None:
        d = conn.execute(select(deploys).where(deploys.c.id == row.first_deploy_id)).first()
        if d is not None:
            first_deploy = {"id": d.id, "version": d.version, "environment": d.environment, "at": iso(d.at)}
    detail["first_deploy"] = first_deploy
    detail["deploys"] = [
        {"id": d.id, "version": d.version, "environment": d.environment, "at": iso(d.at)}
        for d in conn.execute(select(deploys).where(deploys.c.at >= since * 60).order_by(deploys.c.at))
    ]
    tags: dict[str, list[dict[str, Any]]] = {}
    for t in conn.execute(
        select(error_group_tags)
        .where(error_group_tags.c.group_id == group_id)
        .order_by(error_group_tags.c.key, error_group_tags.c.count.desc())
    ):
        values = tags.setdefault(t.key, [])
        if len(values) < 10:
            values.append({"value": t.value, "count": int(t._mapping["count"])})
    detail["tags"] = tags
    detail["stack_top"] = row.stack_top
    detail["resolved_in_release"] = row.resolved_in_release
    return detail


def event_stored(conn: Connection, event_id: str) -> bool:
    return (
        conn.execute(select(error_events.c.id).where(error_events.c.event_id == event_id).limit(1)).first() is not None
    )
