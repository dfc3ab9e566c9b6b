"""The error intake's tables, on the monitor's one ``metadata`` (same store, same migrations).

A project is what a DSN names: the SDK authenticates with the project's public key. Events are
scrubbed before they are written and capped (each one's JSON, and how many are kept per group);
the group row carries the counters, so pruning old events never changes a group's count.
Log lines at error level become groups too (``source = "log"``), keyed by their template (the
masked first line of their cluster), so no separate template table is needed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from launchready.monitor.store.schema import metadata

# One per DSN. ``public_key`` is the DSN's user part (32 hex chars); it is a client identifier,
# not a secret (Sentry ships it to browsers), but it is still the key rate limits apply to.
error_projects = Table(
    "error_projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("public_key", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

# One row per distinct problem. ``status``: unresolved | resolved | ignored |
# resolved_next_release (``resolved_in_release`` names the release current when it was resolved:
# an event from any other release reopens it). ``fingerprint`` is the SHA-1 hex of the grouping
# components (``grouping_basis`` says which rule produced them).
error_groups = Table(
    "error_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("error_projects.id"), nullable=False),
    Column("fingerprint", String(40), nullable=False),
    Column("grouping_basis", String(20), nullable=False),  # fingerprint | stack | exception | message | log
    Column("source", String(10), nullable=False, default="event"),  # event | log
    Column("title", Text, nullable=False),
    Column("culprit", Text, nullable=True),
    Column("level", String(16), nullable=False, default="error"),
    Column("status", String(24), nullable=False, default="unresolved"),
    Column("resolved_at", Float, nullable=True),
    Column("resolved_in_release", String(200), nullable=True),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("count", Integer, nullable=False, default=0),
    Column("users", JSON, nullable=False, default=list),  # distinct user keys, capped (see USERS_KEPT)
    Column("users_count", Integer, nullable=False, default=0),
    Column("environments", JSON, nullable=False, default=list),
    Column("first_release", String(200), nullable=True),
    Column("last_release", String(200), nullable=True),
    Column("first_deploy_id", Integer, nullable=True),  # deploys.id of the last deploy before first_seen
    Column("sample_event_id", String(32), nullable=True),
    Column("stack_top", Text, nullable=True),  # "module in function" of the first event's top in-app frame
    Column("last_alert_at", JSON, nullable=False, default=dict),  # {"new"|"regression"|"spike": epoch}
    UniqueConstraint("project_id", "fingerprint", name="uq_error_groups_project_fingerprint"),
    Index("ix_error_groups_last_seen", "last_seen"),
)

# Scrubbed events; ``payload`` is the normalised, scrubbed JSON (bounded). Only the most recent
# events of a group are kept (the group's counters hold the totals).
error_events = Table(
    "error_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False),
    Column("group_id", Integer, ForeignKey("error_groups.id"), nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("level", String(16), nullable=False),
    Column("environment", String(100), nullable=True),
    Column("release", String(200), nullable=True),
    Column("message", Text, nullable=True),
    Column("payload", JSON, nullable=False),
    Index("ix_error_events_group_received", "group_id", "received_at"),
    Index("ix_error_events_event_id", "event_id"),
)

# Events per group per minute: the spike detector's "usual rate" and the events-over-time chart.
error_group_minutes = Table(
    "error_group_minutes",
    metadata,
    Column("group_id", Integer, ForeignKey("error_groups.id"), primary_key=True),
    Column("minute", Integer, primary_key=True),  # epoch seconds // 60
    Column("count", Integer, nullable=False),
)

# Tag values seen on a group's events (the SDK's tags plus environment and release), counted:
# the group page's tag breakdown and the "search by tag" filter.
error_group_tags = Table(
    "error_group_tags",
    metadata,
    Column("group_id", Integer, ForeignKey("error_groups.id"), primary_key=True),
    Column("key", String(32), primary_key=True),
    Column("value", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Index("ix_error_group_tags_key_value", "key", "value"),
)

# Transactions kept as latency samples (name, duration) for the dashboard; bounded by pruning.
error_transactions = Table(
    "error_transactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("name", String(200), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("status", String(40), nullable=True),
    Column("environment", String(100), nullable=True),
    Column("release", String(200), nullable=True),
    Index("ix_error_transactions_project_received", "project_id", "received_at"),
)

# Release-health sessions, counted per (project, release, environment, status) and minute.
error_sessions = Table(
    "error_sessions",
    metadata,
    Column("project_id", Integer, primary_key=True),
    Column("minute", Integer, primary_key=True),
    Column("release", String(200), primary_key=True),
    Column("environment", String(100), primary_key=True),
    Column("status", String(20), primary_key=True),  # ok | exited | errored | crashed | abnormal
    Column("count", Integer, nullable=False),
)

# Attachments, only up to the configured size (bigger ones are dropped and counted as such).
error_attachments = Table(
    "error_attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False),
    Column("project_id", Integer, nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=True),
    Column("size", Integer, nullable=False),
    Column("data", Text, nullable=True),  # UTF-8 text attachments only, scrubbed; binary ones keep size only
    Column("received_at", Float, nullable=False),
)
