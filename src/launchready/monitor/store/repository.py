"""What the scheduler writes: results with their rollups, check and heartbeat state, flips, deploys, pruning.

All functions take an open ``Connection`` inside the caller's transaction (``engine.begin()``),
so a caller decides what is atomic: the scheduler writes a batch of results, the counters they
moved and every state flip among them (with its outbox rows, :func:`record_flip`) in one
transaction. Times are UTC epoch seconds; evidence arrives masked.

Rollups (``rollups_1m``, ``rollups_1h``) are maintained incrementally as results are written:
count, failures, latency sum and max, and a latency histogram ``{"<upper bound ms>": count}``
over :data:`LATENCY_BOUNDS_MS` with ``"inf"`` for the rest, so percentiles over any range of
buckets are a sum of histograms.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update

from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.schema import checks, deploys, heartbeats, results, rollups_1h, rollups_1m

# Upper bounds (ms) of the latency histogram buckets, shared with the dashboard's percentiles.
LATENCY_BOUNDS_MS: tuple[float, ...] = (5, 10, 25, 50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10000, 30000)
INF_KEY = "inf"

MINUTE = 60
HOUR = 3600
DAY = 86400
# Retention: raw results 14 days, 1-minute rollups 90 days, 1-hour rollups 2 years.
RAW_RETENTION_S = 14 * DAY
MINUTE_RETENTION_S = 90 * DAY
HOUR_RETENTION_S = 2 * 365 * DAY


def bucket_key(latency_ms: float) -> str:
    for bound in LATENCY_BOUNDS_MS:
        if latency_ms <= bound:
            return f"{bound:g}"
    return INF_KEY


@dataclass(frozen=True)
class ResultRecord:
    check_name: str
    at: float
    ok: bool
    latency_ms: float | None
    status_code: int | None = None
    reason: str | None = None
    evidence: str | None = None
    region: str = "local"


@dataclass(frozen=True)
class CheckSpec:
    """What the store keeps of a configured check (for the dashboard) besides its state."""

    name: str
    kind: str
    target: str
    interval_s: float
    tags: tuple[str, ...] = ()
    paused: bool = False


@dataclass(frozen=True)
class CheckState:
    name: str
    state: str = "new"  # new | up | down | paused
    state_since: float | None = None
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_result_at: float | None = None
    last_reason: str | None = None


@dataclass(frozen=True)
class FlipRecord:
    """A state flip to write with :func:`record_flip` (``providers`` chosen by the alert routing)."""

    subject_kind: str
    subject_name: str
    old_state: str
    new_state: str
    at: float
    reason: str | None
    providers: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeartbeatRow:
    name: str
    uuid: str
    period_s: float | None
    grace_s: float
    cron: str | None
    tz: str | None
    state: str
    state_since: float | None
    last_ping_at: float | None
    last_start_at: float | None
    last_duration_s: float | None


@dataclass
class _Bucket:
    count: int = 0
    failures: int = 0
    latency_sum_ms: float = 0.0
    latency_max_ms: float = 0.0
    hist: dict[str, int] = field(default_factory=dict)

    def add(self, record: ResultRecord) -> None:
        self.count += 1
        if not record.ok:
            self.failures += 1
        if record.latency_ms is not None:
            self.latency_sum_ms += record.latency_ms
            self.latency_max_ms = max(self.latency_max_ms, record.latency_ms)
            key = bucket_key(record.latency_ms)
            self.hist[key] = self.hist.get(key, 0) + 1


# -- results and rollups ------------------------------------------------------------------------


def write_results(conn: Connection, records: Sequence[ResultRecord]) -> None:
    """Insert raw results and add them to their 1-minute and 1-hour rollups."""
    if not records:
        return
    conn.execute(
        insert(results),
        [
            {
                "check_name": r.check_name,
                "region": r.region,
                "at": r.at,
                "ok": r.ok,
                "latency_ms": r.latency_ms,
                "status_code": r.status_code,
                "reason": r.reason,
                "evidence": r.evidence,
            }
            for r in records
        ],
    )
    for table, size in ((rollups_1m, MINUTE), (rollups_1h, HOUR)):
        buckets: dict[tuple[str, int], _Bucket] = {}
        for record in records:
            start = int(record.at // size * size)
            buckets.setdefault((record.check_name, start), _Bucket()).add(record)
        _add_to_rollups(conn, table, buckets)


def _add_to_rollups(conn: Connection, table: Table, buckets: dict[tuple[str, int], _Bucket]) -> None:
    """Merge ``buckets`` into ``table`` with one read and at most two executemany writes.

    The scheduler is the only writer of a check's rollups, so no other transaction inserts the
    same key between the read and the insert; FOR UPDATE makes a concurrent writer on
    PostgreSQL wait on rows that exist (SQLite serialises writers anyway).
    """
    names = sorted({name for name, _ in buckets})
    starts = sorted({start for _, start in buckets})
    existing = {
        (row["check_name"], row["bucket_start"]): row
        for row in conn.execute(
            select(table).where(table.c.check_name.in_(names), table.c.bucket_start.in_(starts)).with_for_update()
        ).mappings()
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for (name, start), bucket in buckets.items():
        row = existing.get((name, start))
        if row is None:
            inserts.append(
                {
                    "check_name": name,
                    "bucket_start": start,
                    "count": bucket.count,
                    "failures": bucket.failures,
                    "latency_sum_ms": bucket.latency_sum_ms,
                    "latency_max_ms": bucket.latency_max_ms,
                    "latency_hist": bucket.hist,
                }
            )
            continue
        hist = dict(row["latency_hist"] or {})
        for key, count in bucket.hist.items():
            hist[key] = int(hist.get(key, 0)) + count
        updates.append(
            {
                "key_name": name,
                "key_start": start,
                "count": row["count"] + bucket.count,
                "failures": row["failures"] + bucket.failures,
                "latency_sum_ms": row["latency_sum_ms"] + bucket.latency_sum_ms,
                "latency_max_ms": max(row["latency_max_ms"], bucket.latency_max_ms),
                "latency_hist": hist,
            }
        )
    if inserts:
        conn.execute(insert(table), inserts)
    if updates:
        conn.execute(
            update(table)
            .where(table.c.check_name == bindparam("key_name"), table.c.bucket_start == bindparam("key_start"))
            .values(
                count=bindparam("count"),
                failures=bindparam("failures"),
                latency_sum_ms=bindparam("latency_sum_ms"),
                latency_max_ms=bindparam("latency_max_ms"),
                latency_hist=bindparam("latency_hist"),
            ),
            updates,
        )


@dataclass(frozen=True)
class PruneCounts:
    results: int
    rollups_1m: int
    rollups_1h: int


def prune(conn: Connection, now: float) -> PruneCounts:
    """Delete what is past retention: raw 14 days, 1-minute rollups 90 days, 1-hour rollups 2 years."""
    raw = conn.execute(delete(results).where(results.c.at < now - RAW_RETENTION_S)).rowcount
    minute = conn.execute(delete(rollups_1m).where(rollups_1m.c.bucket_start < now - MINUTE_RETENTION_S)).rowcount
    hour = conn.execute(delete(rollups_1h).where(rollups_1h.c.bucket_start < now - HOUR_RETENTION_S)).rowcount
    return PruneCounts(int(raw), int(minute), int(hour))


# -- checks -------------------------------------------------------------------------------------


def _check_state(row: Any) -> CheckState:
    return CheckState(
        name=row.name,
        state=row.state,
        state_since=row.state_since,
        consecutive_failures=row.consecutive_failures,
        consecutive_successes=row.consecutive_successes,
        last_result_at=row.last_result_at,
        last_reason=row.last_reason,
    )


def sync_checks(conn: Connection, specs: Iterable[CheckSpec], now: float) -> dict[str, CheckState]:
    """Make the ``checks`` table match the config; returns each configured check's stored state.

    A check that stays keeps its state across restarts (alert state survives a restart); one
    removed from the config is kept for its history with ``configured = false``. A paused check
    is stored as paused; one that is no longer paused resumes as ``new``.
    """
    specs = list(specs)
    existing = {row.name: row for row in conn.execute(select(checks))}
    states: dict[str, CheckState] = {}
    for spec in specs:
        values = {
            "kind": spec.kind,
            "target": spec.target,
            "interval_s": spec.interval_s,
            "tags": list(spec.tags),
            "configured": True,
        }
        row = existing.get(spec.name)
        if row is None:
            state = CheckState(spec.name, "paused" if spec.paused else "new", now)
            conn.execute(insert(checks).values(name=spec.name, state=state.state, state_since=now, **values))
        else:
            state = _check_state(row)
            if spec.paused and state.state != "paused":
                state = CheckState(spec.name, "paused", now)
            elif not spec.paused and state.state == "paused":
                state = CheckState(spec.name, "new", now)
            conn.execute(
                update(checks)
                .where(checks.c.name == spec.name)
                .values(
                    state=state.state,
                    state_since=state.state_since,
                    consecutive_failures=state.consecutive_failures,
                    consecutive_successes=state.consecutive_successes,
                    **values,
                )
            )
        states[spec.name] = state
    gone = [name for name in existing if name not in states]
    if gone:
        conn.execute(update(checks).where(checks.c.name.in_(gone)).values(configured=False))
    return states


def save_check_states(conn: Connection, states: Iterable[CheckState]) -> None:
    rows = [
        {
            "key_name": state.name,
            "state": state.state,
            "state_since": state.state_since,
            "consecutive_failures": state.consecutive_failures,
            "consecutive_successes": state.consecutive_successes,
            "last_result_at": state.last_result_at,
            "last_reason": state.last_reason,
        }
        for state in states
    ]
    if not rows:
        return
    conn.execute(
        update(checks)
        .where(checks.c.name == bindparam("key_name"))
        .values(
            state=bindparam("state"),
            state_since=bindparam("state_since"),
            consecutive_failures=bindparam("consecutive_failures"),
            consecutive_successes=bindparam("consecutive_successes"),
            last_result_at=bindparam("last_result_at"),
            last_reason=bindparam("last_reason"),
        ),
        rows,
    )


def write_flip(conn: Connection, flip: FlipRecord) -> int:
    """The transition and its outbox rows (call it in the transaction that writes the new state)."""
    return record_flip(
        conn,
        subject_kind=flip.subject_kind,
        subject_name=flip.subject_name,
        old_state=flip.old_state,
        new_state=flip.new_state,
        at=flip.at,
        reason=flip.reason,
        providers=flip.providers,
    )


# -- heartbeats ---------------------------------------------------------------------------------


def _heartbeat_row(row: Any) -> HeartbeatRow:
    return HeartbeatRow(
        name=row.name,
        uuid=row.uuid,
        period_s=row.period_s,
        grace_s=row.grace_s,
        cron=row.cron,
        tz=row.tz,
        state=row.state,
        state_since=row.state_since,
        last_ping_at=row.last_ping_at,
        last_start_at=row.last_start_at,
        last_duration_s=row.last_duration_s,
    )


@dataclass(frozen=True)
class HeartbeatSpec:
    name: str
    period_s: float | None
    grace_s: float
    cron: str | None
    tz: str | None
    uuid: str | None = None  # a fixed UUID from the config; else one is generated once and kept


def sync_heartbeats(conn: Connection, specs: Iterable[HeartbeatSpec], now: float) -> list[HeartbeatRow]:
    """Make ``heartbeats`` match the config; a new heartbeat gets a random UUID kept from then on."""
    specs = list(specs)
    existing = {row.name: row for row in conn.execute(select(heartbeats))}
    for spec in specs:
        values = {
            "period_s": spec.period_s,
            "grace_s": spec.grace_s,
            "cron": spec.cron,
            "tz": spec.tz,
            "configured": True,
        }
        row = existing.get(spec.name)
        if row is None:
            conn.execute(
                insert(heartbeats).values(
                    name=spec.name, uuid=spec.uuid or str(uuid_module.uuid4()), state="new", state_since=now, **values
                )
            )
        else:
            if spec.uuid is not None and spec.uuid != row.uuid:
                values["uuid"] = spec.uuid
            conn.execute(update(heartbeats).where(heartbeats.c.name == spec.name).values(**values))
    names = {spec.name for spec in specs}
    gone = [name for name in existing if name not in names]
    if gone:
        conn.execute(update(heartbeats).where(heartbeats.c.name.in_(gone)).values(configured=False))
    return load_heartbeats(conn, names=[spec.name for spec in specs])


def load_heartbeats(conn: Connection, *, names: Sequence[str] | None = None) -> list[HeartbeatRow]:
    """Configured heartbeats (in ``names`` order when given)."""
    query = select(heartbeats).where(heartbeats.c.configured.is_(True))
    rows = {row.name: _heartbeat_row(row) for row in conn.execute(query)}
    order = names if names is not None else sorted(rows)
    return [rows[name] for name in order if name in rows]


def flip_heartbeat(conn: Connection, row: HeartbeatRow, flip: FlipRecord) -> bool:
    """Move a heartbeat from ``row.state`` to ``flip.new_state`` and record the flip, unless it
    changed meanwhile (a ping arrived, the web flipped it): then nothing is written, False."""
    current = heartbeats.c
    same_ping = current.last_ping_at.is_(None) if row.last_ping_at is None else current.last_ping_at == row.last_ping_at
    changed = conn.execute(
        update(heartbeats)
        .where(current.name == row.name, current.state == row.state, same_ping)
        .values(state=flip.new_state, state_since=flip.at)
    ).rowcount
    if changed != 1:
        return False
    write_flip(conn, flip)
    return True


# -- deploy markers -----------------------------------------------------------------------------


def record_deploy(
    conn: Connection,
    *,
    at: float,
    environment: str,
    version: str,
    source: str,
    who: str | None = None,
    note: str | None = None,
) -> int:
    """A deploy marker (``source``: deploy-command | api); returns its id."""
    inserted = conn.execute(
        insert(deploys)
        .values(at=at, environment=environment, version=version, who=who, source=source, note=note)
        .returning(deploys.c.id)
    ).scalar_one()
    return int(inserted)
