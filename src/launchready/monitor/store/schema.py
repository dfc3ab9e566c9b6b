"""The monitor's tables (SQLAlchemy Core). Every other monitor package reads and writes these.

Times are UTC epoch seconds (floats) so SQLite and PostgreSQL compare them the same way and a
clock read is one number. Evidence and ping bodies are masked before they are written.

State flips and alerts follow the transactional-outbox pattern: a flip writes its ``transitions``
row and one ``outbox`` row per routed alert provider in the same transaction as the new state, and
the alert worker only ever reads the outbox. A crash between the two can therefore lose nothing.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

# One row per configured check (uptime target). ``state``: new | up | down | paused.
checks = Table(
    "checks",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("kind", String(20), nullable=False),  # http | tcp | dns | tls | smoke
    Column("target", Text, nullable=False),  # the URL / host:port / record, for display
    Column("interval_s", Float, nullable=False),
    Column("tags", JSON, nullable=False, default=list),
    Column("state", String(10), nullable=False, default="new"),
    Column("state_since", Float, nullable=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("consecutive_successes", Integer, nullable=False, default=0),
    Column("last_result_at", Float, nullable=True),
    Column("last_reason", Text, nullable=True),
    Column("configured", Boolean, nullable=False, default=True),  # False once removed from the config
)

# Raw results, kept 14 days. ``region`` is "local" for the monitor's own checks.
results = Table(
    "results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("check_name", String(200), nullable=False),
    Column("region", String(64), nullable=False, default="local"),
    Column("at", Float, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=True),
    Column("status_code", Integer, nullable=True),
    Column("reason", Text, nullable=True),  # why it failed (first failed condition), masked
    Column("evidence", Text, nullable=True),  # masked excerpt, bounded
    Index("ix_results_check_at", "check_name", "at"),
)


def _rollup(name: str) -> Table:
    # Latency histogram: counts per upper bound in ms (core/hist bounds), JSON {"bound": count}.
    return Table(
        name,
        metadata,
        Column("check_name", String(200), primary_key=True),
        Column("bucket_start", Integer, primary_key=True),  # epoch seconds, aligned to the bucket
        Column("count", Integer, nullable=False),
        Column("failures", Integer, nullable=False),
        Column("latency_sum_ms", Float, nullable=False, default=0.0),
        Column("latency_max_ms", Float, nullable=False, default=0.0),
        Column("latency_hist", JSON, nullable=False, default=dict),
        # Covers the dashboard's uptime sums (count and failures over a time range for each check)
        # so they are read from the index alone, without visiting a table row per bucket.
        Index(f"ix_{name}_counts", "check_name", "bucket_start", "count", "failures"),
    )


rollups_1m = _rollup("rollups_1m")  # kept 90 days
rollups_1h = _rollup("rollups_1h")  # kept 2 years

# Heartbeats (healthchecks.io shape). ``state``: new | up | late | down | paused.
heartbeats = Table(
    "heartbeats",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("period_s", Float, nullable=True),
    Column("grace_s", Float, nullable=False),
    Column("cron", String(200), nullable=True),
    Column("tz", String(64), nullable=True),
    Column("state", String(10), nullable=False, default="new"),
    Column("state_since", Float, nullable=True),
    Column("last_ping_at", Float, nullable=True),
    Column("last_start_at", Float, nullable=True),
    Column("last_duration_s", Float, nullable=True),
    Column("configured", Boolean, nullable=False, default=True),
)

# Every ping received. ``kind``: success | start | fail | log; ``exit_status`` for /<code>.
pings = Table(
    "pings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("heartbeat_name", String(200), nullable=False),
    Column("at", Float, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("exit_status", Integer, nullable=True),
    Column("rid", String(200), nullable=True),
    Column("method", String(8), nullable=False),
    Column("remote_addr", String(64), nullable=True),
    Column("body", Text, nullable=True),  # up to 10 KB, masked
    Column("duration_s", Float, nullable=True),  # start -> success/fail of the same run
    Index("ix_pings_heartbeat_at", "heartbeat_name", "at"),
)

# Every state flip, written in the same transaction as the new state. ``subject_kind``:
# check | heartbeat | slo | probe. ``idempotency_key`` travels with every delivery of the flip.
transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_kind", String(16), nullable=False),
    Column("subject_name", String(200), nullable=False),
    Column("old_state", String(16), nullable=False),
    Column("new_state", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("reason", Text, nullable=True),
    Column("idempotency_key", String(80), nullable=False, unique=True),
    Index("ix_transitions_subject_at", "subject_kind", "subject_name", "at"),
)

# One row per (flip, alert provider): the alert worker's queue. ``status``: pending | delivered
# | silenced (maintenance window) | dead (gave up after max attempts; still shown in the UI).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("transition_id", Integer, ForeignKey("transitions.id"), nullable=False),
    Column("provider", String(200), nullable=False),  # the [[monitor.alerts]] entry's name
    Column("status", String(10), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_until", Float, nullable=True),  # lease, so two workers never send one row at once
    Column("last_error", Text, nullable=True),
    Column("delivered_at", Float, nullable=True),
    UniqueConstraint("transition_id", "provider", name="uq_outbox_transition_provider"),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

# Deploy markers: from `launchready deploy` or POST /api/v1/deploys.
deploys = Table(
    "deploys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("environment", String(100), nullable=False),
    Column("version", String(200), nullable=False),
    Column("who", String(200), nullable=True),
    Column("source", String(20), nullable=False),  # deploy-command | api
    Column("note", Text, nullable=True),
    Index("ix_deploys_at", "at"),
)

# Dashboard users (argon2 hashes) and API tokens (SHA-256 of the token; the token is shown once).
users = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("user_name", String(100), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # client address or user name
    Column("at", Float, nullable=False),
    Index("ix_login_failures_key_at", "key", "at"),
)

# Small key/value facts the service keeps across restarts (schema notes, last prune, ...).
service_meta = Table(
    "service_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
