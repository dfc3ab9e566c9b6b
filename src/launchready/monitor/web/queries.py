"""Read queries behind the dashboard, the JSON API and /metrics.

They stay fast with years of rollups because every aggregate reads the coarsest table that
answers it: complete hours come from ``rollups_1h`` (at most 720 rows per check for 30 days) and
only the hour in progress from ``rollups_1m``. That split assumes an hour's 1-hour bucket is
written by the time the hour ends, and it never counts a minute twice: the 1-hour table is read
strictly before the current hour, the 1-minute table from it on. Every query filters on the
(check_name, bucket_start) primary key, so it is an index range read on SQLite and PostgreSQL.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Connection, Table, and_, case, cast, func, insert, select, true
from sqlalchemy.dialects import postgresql

from launchready.monitor.store.schema import (
    checks,
    deploys,
    heartbeats,
    pings,
    results,
    rollups_1h,
    rollups_1m,
    transitions,
)

HOUR = 3600
DAY = 24 * HOUR
UPTIME_WINDOWS: tuple[tuple[str, int], ...] = (("24h", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
BUDGET_WINDOW_S = 30 * DAY
LATENCY_WINDOW_S = DAY

Histogram = dict[float, int]


def parse_hist(raw: Any) -> Histogram:
    """A rollup's ``latency_hist`` ({"<upper bound ms>": count}, JSON text or already decoded)."""
    if raw is None:
        return {}
    decoded = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return {float(bound): int(count) for bound, count in decoded.items() if count}


def merge_into(total: Histogram, hist: Mapping[float, int]) -> None:
    for bound, count in hist.items():
        total[bound] = total.get(bound, 0) + count


def quantile_ms(hist: Mapping[float, int], q: float) -> float | None:
    """The upper bound of the bucket holding the q-quantile (an overestimate by at most one bucket)."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank = math.ceil(q * total)
    seen = 0
    for bound in sorted(hist):
        seen += hist[bound]
        if seen >= rank:
            return bound
    return max(hist)


@dataclass(frozen=True)
class Window:
    label: str
    count: int
    failures: int

    @property
    def uptime(self) -> float | None:
        return None if self.count == 0 else (self.count - self.failures) / self.count


@dataclass(frozen=True)
class CheckSummary:
    name: str
    kind: str
    target: str
    state: str
    state_since: float | None
    last_result_at: float | None
    last_reason: str | None
    tags: tuple[str, ...]
    windows: tuple[Window, ...]
    p50_ms: float | None
    p95_ms: float | None
    budget_left: float | None  # share of the SLO's error budget left over 30 days; < 0 when overspent

    def window(self, label: str) -> Window:
        return next(w for w in self.windows if w.label == label)


def _split_point(now: float) -> int:
    return int(now // HOUR) * HOUR


Sums = dict[str, list[int]]  # window label -> [count, failures]


def _hourly_sums(conn: Connection, names: Sequence[str], split: int, upper: int) -> dict[str, Sums]:
    """Per check and uptime window, the 1-hour buckets from the window's start (``split`` minus
    its length) up to ``upper``, in one covering-index read."""
    widest = max(seconds for _, seconds in UPTIME_WINDOWS)
    sums: dict[str, Sums] = {name: {label: [0, 0] for label, _ in UPTIME_WINDOWS} for name in names}
    columns: list[Any] = [rollups_1h.c.check_name]
    for _, seconds in UPTIME_WINDOWS:
        inside = rollups_1h.c.bucket_start >= split - seconds
        columns.append(func.sum(case((inside, rollups_1h.c.count), else_=0)))
        columns.append(func.sum(case((inside, rollups_1h.c.failures), else_=0)))
    hourly = (
        select(*columns)
        .where(
            rollups_1h.c.check_name.in_(names),
            rollups_1h.c.bucket_start >= split - widest,
            rollups_1h.c.bucket_start < upper,
        )
        .group_by(rollups_1h.c.check_name)
    )
    for row in conn.execute(hourly):
        for index, (label, _) in enumerate(UPTIME_WINDOWS):
            sums[row[0]][label][0] += int(row[1 + 2 * index] or 0)
            sums[row[0]][label][1] += int(row[2 + 2 * index] or 0)
    return sums


def _current_hour_sums(conn: Connection, names: Sequence[str], split: int, now: float) -> dict[str, tuple[int, int]]:
    current = (
        select(rollups_1m.c.check_name, func.sum(rollups_1m.c.count), func.sum(rollups_1m.c.failures))
        .where(rollups_1m.c.check_name.in_(names), rollups_1m.c.bucket_start >= split, rollups_1m.c.bucket_start <= now)
        .group_by(rollups_1m.c.check_name)
    )
    return {name: (int(count or 0), int(failures or 0)) for name, count, failures in conn.execute(current)}


def _hist_sums(conn: Connection, table: Table, *conditions: Any, in_database: bool = True) -> dict[str, Histogram]:
    """{check: merged latency histogram} over the rows of ``table`` matching ``conditions``.

    SQLite and PostgreSQL merge the JSON histograms themselves (``json_each`` /
    ``json_each_text``), returning one row per (check, bound) instead of one per bucket; other
    dialects merge in Python.
    """
    hists: dict[str, Histogram] = defaultdict(dict)
    function = {"sqlite": func.json_each, "postgresql": func.json_each_text}.get(conn.dialect.name)
    if function is None or not in_database:
        for name, raw in conn.execute(select(table.c.check_name, table.c.latency_hist).where(*conditions)):
            merge_into(hists[name], parse_hist(raw))
        return hists
    column: Any = table.c.latency_hist
    if conn.dialect.name == "postgresql":
        column = cast(column, postgresql.JSON)  # also right should the column become jsonb
    entries = function(column).table_valued("key", "value").alias("hist_entry")
    query = (
        select(table.c.check_name, entries.c.key, func.sum(cast(entries.c.value, BigInteger)))
        .select_from(table.join(entries, true()))
        .where(*conditions)
        .group_by(table.c.check_name, entries.c.key)
    )
    for name, bound, count in conn.execute(query):
        if count:
            hists[name][float(bound)] = hists[name].get(float(bound), 0) + int(count)
    return hists


def _hourly_hists(conn: Connection, names: Sequence[str], lower: int, upper: int) -> dict[str, Histogram]:
    return _hist_sums(
        conn,
        rollups_1h,
        rollups_1h.c.check_name.in_(names),
        rollups_1h.c.bucket_start >= lower,
        rollups_1h.c.bucket_start < upper,
    )


@dataclass(frozen=True)
class _Settled:
    split: int
    sums: Sums
    hist: Histogram


class SettledHoursCache:
    """Per check, the uptime sums and latency histogram of the 1-hour buckets that can no longer
    change (older than ``FRESH_HOURS`` before the current hour), computed once an hour.

    The overview would otherwise re-read 30 days of buckets for every check on every request;
    with this it reads the last ``FRESH_HOURS`` hours and the current hour's minutes. A 1-hour
    bucket written up to ``FRESH_HOURS - 1`` hours after its hour ends is still seen.
    """

    FRESH_HOURS = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Settled] = {}

    def get(self, conn: Connection, names: Sequence[str], split: int) -> dict[str, _Settled]:
        with self._lock:
            found = {n: e for n in names if (e := self._entries.get(n)) is not None and e.split == split}
        missing = [name for name in names if name not in found]
        if missing:
            computed = _settled(conn, missing, split, self.FRESH_HOURS)
            with self._lock:
                self._entries.update(computed)
            found.update(computed)
        return found


def _settled(conn: Connection, names: Sequence[str], split: int, fresh_hours: int) -> dict[str, _Settled]:
    upper = split - fresh_hours * HOUR
    sums = _hourly_sums(conn, names, split, upper)
    hists = _hourly_hists(conn, names, split - LATENCY_WINDOW_S, upper)
    return {name: _Settled(split, sums[name], hists.get(name, {})) for name in names}


def _aggregates(
    conn: Connection, names: Sequence[str], now: float, cache: SettledHoursCache | None
) -> tuple[dict[str, Sums], dict[str, Histogram]]:
    """Uptime sums per window and the last 24 h latency histogram of each check."""
    split = _split_point(now)
    fresh_hours = SettledHoursCache.FRESH_HOURS if cache is not None else 0
    settled = cache.get(conn, names, split) if cache is not None else _settled(conn, names, split, 0)
    sums = {name: {label: list(pair) for label, pair in settled[name].sums.items()} for name in names}
    hists: dict[str, Histogram] = {name: dict(settled[name].hist) for name in names}
    if fresh_hours:
        lower = split - fresh_hours * HOUR
        recent = (
            select(rollups_1h.c.check_name, func.sum(rollups_1h.c.count), func.sum(rollups_1h.c.failures))
            .where(
                rollups_1h.c.check_name.in_(names),
                rollups_1h.c.bucket_start >= lower,
                rollups_1h.c.bucket_start < split,
            )
            .group_by(rollups_1h.c.check_name)
        )
        for name, count, failures in conn.execute(recent):
            for pair in sums[name].values():  # every window is longer than the fresh hours
                pair[0] += int(count or 0)
                pair[1] += int(failures or 0)
        for name, hist in _hourly_hists(conn, names, lower, split).items():
            merge_into(hists[name], hist)
    for name, (count, failures) in _current_hour_sums(conn, names, split, now).items():
        for pair in sums[name].values():
            pair[0] += count
            pair[1] += failures
    current = _hist_sums(
        conn,
        rollups_1m,
        rollups_1m.c.check_name.in_(names),
        rollups_1m.c.bucket_start >= split,
        rollups_1m.c.bucket_start <= now,
    )
    for name, hist in current.items():
        merge_into(hists[name], hist)
    return sums, hists


def error_budget_left(count: int, failures: int, slo: float) -> float | None:
    allowed = (1.0 - slo) * count
    if count == 0 or allowed <= 0:
        return None
    return 1.0 - failures / allowed


def check_summaries(
    conn: Connection,
    now: float,
    slo: float,
    only: Sequence[str] | None = None,
    cache: SettledHoursCache | None = None,
) -> list[CheckSummary]:
    """Every configured check (or the ones named in ``only``) with its uptime, latency and budget."""
    query = select(checks).where(checks.c.configured.is_(True)).order_by(checks.c.name)
    if only is not None:
        query = select(checks).where(checks.c.name.in_(only)).order_by(checks.c.name)
    rows = conn.execute(query).all()
    names = [row.name for row in rows]
    if not names:
        return []
    sums, hists = _aggregates(conn, names, now, cache)
    summaries = []
    for row in rows:
        windows = tuple(Window(label, *sums[row.name][label]) for label, _ in UPTIME_WINDOWS)
        month = sums[row.name]["30d"]
        hist = hists.get(row.name, {})
        summaries.append(
            CheckSummary(
                name=row.name,
                kind=row.kind,
                target=row.target,
                state=row.state,
                state_since=row.state_since,
                last_result_at=row.last_result_at,
                last_reason=row.last_reason,
                tags=tuple(row.tags or ()),
                windows=windows,
                p50_ms=quantile_ms(hist, 0.50),
                p95_ms=quantile_ms(hist, 0.95),
                budget_left=error_budget_left(month[0], month[1], slo),
            )
        )
    return summaries


@dataclass(frozen=True)
class SeriesPoint:
    start: float
    count: int
    failures: int
    avg_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class Deploy:
    id: int
    at: float
    environment: str
    version: str
    who: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Incident:
    started: float
    ended: float | None  # None while still down
    reason: str | None
    last_deploy: Deploy | None


@dataclass(frozen=True)
class Failure:
    at: float
    region: str
    status_code: int | None
    latency_ms: float | None
    reason: str | None
    evidence: str | None


@dataclass(frozen=True)
class CheckDetail:
    summary: CheckSummary
    range_label: str
    range_start: float
    range_end: float
    series: tuple[SeriesPoint, ...]
    deploys: tuple[Deploy, ...]
    incidents: tuple[Incident, ...]
    failures: tuple[Failure, ...]


# Range label -> (seconds shown, table read for complete hours? (1h) else 1m, seconds per point).
RANGES: dict[str, tuple[int, bool, int]] = {
    "24h": (DAY, False, 10 * 60),
    "7d": (7 * DAY, True, HOUR),
    "30d": (30 * DAY, True, 6 * HOUR),
}


def _series(conn: Connection, name: str, now: float, seconds: int, hourly: bool, step: int) -> list[SeriesPoint]:
    start = now - seconds
    split = _split_point(now)
    parts: list[tuple[Table, Any]] = []
    if hourly:
        parts.append((rollups_1h, and_(rollups_1h.c.bucket_start >= start - HOUR, rollups_1h.c.bucket_start < split)))
        parts.append((rollups_1m, rollups_1m.c.bucket_start >= split))
    else:
        parts.append((rollups_1m, rollups_1m.c.bucket_start >= start))
    grouped: dict[int, list[Any]] = {}
    for table, condition in parts:
        query = select(
            table.c.bucket_start, table.c.count, table.c.failures, table.c.latency_sum_ms, table.c.latency_hist
        ).where(table.c.check_name == name, condition)
        for bucket_start, count, failures, latency_sum, raw in conn.execute(query):
            key = int(bucket_start // step) * step
            slot = grouped.setdefault(key, [0, 0, 0.0, {}])
            slot[0] += count
            slot[1] += failures
            slot[2] += latency_sum or 0.0
            merge_into(slot[3], parse_hist(raw))
    points = []
    for key in sorted(grouped):
        count, failures, latency_sum, hist = grouped[key]
        measured = sum(hist.values())
        points.append(
            SeriesPoint(
                start=float(key),
                count=count,
                failures=failures,
                avg_ms=latency_sum / measured if measured else None,
                p95_ms=quantile_ms(hist, 0.95),
            )
        )
    return points


def _deploy(row: Any) -> Deploy:
    return Deploy(
        id=row.id,
        at=row.at,
        environment=row.environment,
        version=row.version,
        who=row.who,
        source=row.source,
        note=row.note,
    )


def deploys_between(conn: Connection, start: float, end: float) -> list[Deploy]:
    query = select(deploys).where(deploys.c.at >= start, deploys.c.at <= end).order_by(deploys.c.at)
    return [_deploy(row) for row in conn.execute(query)]


def last_deploy_before(conn: Connection, at: float) -> Deploy | None:
    row = conn.execute(select(deploys).where(deploys.c.at <= at).order_by(deploys.c.at.desc()).limit(1)).first()
    return None if row is None else _deploy(row)


def incidents(conn: Connection, subject_kind: str, name: str, limit: int = 20) -> list[Incident]:
    """Down spans, newest first: from a flip to ``down`` to the next flip away from it."""
    rows = conn.execute(
        select(transitions.c.old_state, transitions.c.new_state, transitions.c.at, transitions.c.reason)
        .where(transitions.c.subject_kind == subject_kind, transitions.c.subject_name == name)
        .order_by(transitions.c.at.desc(), transitions.c.id.desc())
        .limit(limit * 4)
    ).all()
    spans: list[tuple[float, float | None, str | None]] = []
    ended: float | None = None
    for old_state, new_state, at, reason in rows:  # newest first
        if old_state == "down" and new_state != "down":
            ended = at
        elif new_state == "down" and old_state != "down":
            spans.append((at, ended, reason))
            ended = None
        if len(spans) >= limit:
            break
    if not spans:
        return []
    # One read of the deploys before the latest incident, newest first; an incident older than
    # all of them (only possible when the limit cut the list) looks its deploy up on its own.
    recent = conn.execute(
        select(deploys).where(deploys.c.at <= spans[0][0]).order_by(deploys.c.at.desc()).limit(500)
    ).all()
    ascending = [_deploy(row) for row in reversed(recent)]
    times = [deploy.at for deploy in ascending]
    found: list[Incident] = []
    for start, end, reason in spans:
        index = bisect.bisect_right(times, start)
        if index > 0:
            deploy: Deploy | None = ascending[index - 1]
        elif len(recent) == 500:
            deploy = last_deploy_before(conn, start)
        else:
            deploy = None
        found.append(Incident(start, end, reason, deploy))
    return found


def recent_failures(conn: Connection, name: str, limit: int = 20) -> list[Failure]:
    query = (
        select(
            results.c.at,
            results.c.region,
            results.c.status_code,
            results.c.latency_ms,
            results.c.reason,
            results.c.evidence,
        )
        .where(results.c.check_name == name, results.c.ok.is_(False))
        .order_by(results.c.at.desc())
        .limit(limit)
    )
    return [Failure(*row) for row in conn.execute(query)]


def check_detail(
    conn: Connection,
    name: str,
    now: float,
    slo: float,
    range_label: str,
    cache: SettledHoursCache | None = None,
) -> CheckDetail | None:
    found = check_summaries(conn, now, slo, only=[name], cache=cache)
    if not found:
        return None
    seconds, hourly, step = RANGES[range_label]
    return CheckDetail(
        summary=found[0],
        range_label=range_label,
        range_start=now - seconds,
        range_end=now,
        series=tuple(_series(conn, name, now, seconds, hourly, step)),
        deploys=tuple(deploys_between(conn, now - seconds, now)),
        incidents=tuple(incidents(conn, "check", name)),
        failures=tuple(recent_failures(conn, name)),
    )


@dataclass(frozen=True)
class HeartbeatSummary:
    name: str
    uuid: str
    state: str
    state_since: float | None
    schedule: str
    last_ping_at: float | None
    last_start_at: float | None
    last_duration_s: float | None
    recent_durations_s: tuple[float, ...] = field(default_factory=tuple)  # newest first


def _schedule(row: Any) -> str:
    if row.cron:
        return f"cron {row.cron} ({row.tz or 'UTC'})"
    period = f"every {_span(row.period_s)}" if row.period_s else "no schedule"
    return f"{period}, grace {_span(row.grace_s)}"


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", DAY), ("h", HOUR), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def heartbeat_summaries(
    conn: Connection, durations_per_heartbeat: int = 10, only: str | None = None
) -> list[HeartbeatSummary]:
    query = select(heartbeats).where(heartbeats.c.configured.is_(True)).order_by(heartbeats.c.name)
    if only is not None:
        query = query.where(heartbeats.c.name == only)
    rows = conn.execute(query).all()
    summaries = []
    for row in rows:
        durations = conn.execute(
            select(pings.c.duration_s)
            .where(pings.c.heartbeat_name == row.name, pings.c.kind == "success", pings.c.duration_s.is_not(None))
            .order_by(pings.c.at.desc())
            .limit(durations_per_heartbeat)
        ).scalars()
        summaries.append(
            HeartbeatSummary(
                name=row.name,
                uuid=row.uuid,
                state=row.state,
                state_since=row.state_since,
                schedule=_schedule(row),
                last_ping_at=row.last_ping_at,
                last_start_at=row.last_start_at,
                last_duration_s=row.last_duration_s,
                recent_durations_s=tuple(float(d) for d in durations),
            )
        )
    return summaries


@dataclass(frozen=True)
class Ping:
    at: float
    kind: str
    exit_status: int | None
    rid: str | None
    method: str
    remote_addr: str | None
    duration_s: float | None
    body: str | None


@dataclass(frozen=True)
class HeartbeatDetail:
    summary: HeartbeatSummary
    pings: tuple[Ping, ...]  # newest first
    incidents: tuple[Incident, ...]


def heartbeat_detail(conn: Connection, name: str, limit: int = 50) -> HeartbeatDetail | None:
    found = [hb for hb in heartbeat_summaries(conn, only=name) if hb.name == name]
    if not found:
        return None
    rows = conn.execute(
        select(
            pings.c.at,
            pings.c.kind,
            pings.c.exit_status,
            pings.c.rid,
            pings.c.method,
            pings.c.remote_addr,
            pings.c.duration_s,
            pings.c.body,
        )
        .where(pings.c.heartbeat_name == name)
        .order_by(pings.c.at.desc(), pings.c.id.desc())
        .limit(limit)
    ).all()
    return HeartbeatDetail(
        summary=found[0],
        pings=tuple(Ping(*row) for row in rows),
        incidents=tuple(incidents(conn, "heartbeat", name)),
    )


def public_states(conn: Connection) -> list[tuple[str, str]]:
    """(name, state) of every configured check: all the public status page may show."""
    query = select(checks.c.name, checks.c.state).where(checks.c.configured.is_(True)).order_by(checks.c.name)
    return [(name, state) for name, state in conn.execute(query)]


def insert_deploy(
    conn: Connection, *, at: float, environment: str, version: str, who: str | None, note: str | None, source: str
) -> int:
    return int(
        conn.execute(
            insert(deploys)
            .values(at=at, environment=environment, version=version, who=who, note=note, source=source)
            .returning(deploys.c.id)
        ).scalar_one()
    )


@dataclass(frozen=True)
class MetricsSnapshot:
    check_states: tuple[tuple[str, str], ...]
    heartbeat_last_pings: tuple[tuple[str, float], ...]


def metrics_snapshot(conn: Connection) -> MetricsSnapshot:
    states = conn.execute(
        select(checks.c.name, checks.c.state).where(checks.c.configured.is_(True)).order_by(checks.c.name)
    ).all()
    last_pings = conn.execute(
        select(heartbeats.c.name, heartbeats.c.last_ping_at)
        .where(heartbeats.c.configured.is_(True), heartbeats.c.last_ping_at.is_not(None))
        .order_by(heartbeats.c.name)
    ).all()
    return MetricsSnapshot(
        check_states=tuple((name, state) for name, state in states),
        heartbeat_last_pings=tuple((name, float(at)) for name, at in last_pings),
    )


@dataclass
class LatencyTotals:
    """Latency observations of one check, summed over 1-minute buckets (a Prometheus counter)."""

    hist: Histogram = field(default_factory=dict)
    sum_ms: float = 0.0


def add_minute_rollups(
    conn: Connection, totals: dict[str, LatencyTotals], start: int, end: int, names: Iterable[str] | None = None
) -> None:
    """Add every 1-minute bucket in [start, end) to ``totals``."""
    query = select(rollups_1m.c.check_name, rollups_1m.c.latency_sum_ms, rollups_1m.c.latency_hist).where(
        rollups_1m.c.bucket_start >= start, rollups_1m.c.bucket_start < end
    )
    if names is not None:
        query = query.where(rollups_1m.c.check_name.in_(list(names)))
    for name, latency_sum, raw in conn.execute(query):
        slot = totals.setdefault(name, LatencyTotals())
        merge_into(slot.hist, parse_hist(raw))
        slot.sum_ms += latency_sum or 0.0
