"""Results from several regions (and several nodes) judged in the store: region states, quorum, probes, slots.

Everything here runs inside the caller's transaction and keeps the state in the database rather
than in one process's memory, so any node (a `monitor serve` behind a load balancer, the node
that received a probe's batch, the node that ran a slot) can write a result and the verdict is
the same:

- :func:`ingest_results` writes raw results (and rollups), moves each region's own state machine,
  judges the quorum (``launchready.monitor.quorum``) and records the check's flip with
  :func:`record_flip`. The check's row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
  serialises writers) so two nodes judging one check take turns.
- :func:`probe_seen` / :func:`silent_probes`: a probe's last report, and the ``probe`` flips of a
  region that stopped reporting (conditional updates: two nodes never flip one probe twice).
- :func:`claim_slot`: the unique key (check, region, slot time) is the lease; exactly one node's
  insert wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, Insert, Table, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.monitor.quorum import QuorumPolicy, RegionView, check_window_s, is_notice, judge, transition
from launchready.monitor.scheduler.state import advance
from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.repository import CheckState, FlipRecord, ResultRecord, write_results
from launchready.monitor.store.schema import check_regions, checks, probes, slot_claims


class FlipRouting(Protocol):
    """The alert router's ``providers_for``: (kind, name, tags, old state, new state) -> providers."""

    def __call__(
        self, subject_kind: str, subject_name: str, tags: Sequence[str], old_state: str, new_state: str
    ) -> Sequence[str]: ...


@dataclass(frozen=True)
class RegionalCheck:
    """What judging a check across regions needs from its config."""

    name: str
    tags: tuple[str, ...]
    regions: tuple[str, ...]
    quorum: int
    window_s: float
    failures_before_down: int
    successes_before_up: int
    interval_s: float

    @property
    def policy(self) -> QuorumPolicy:
        return QuorumPolicy(self.regions, self.quorum, self.window_s)


def regional_check(check: MonitorCheck, server_region: str) -> RegionalCheck:
    regions = check.regions or (server_region,)
    return RegionalCheck(
        name=check.name,
        tags=check.tags,
        regions=regions,
        quorum=check.effective_quorum if check.regions else 1,
        window_s=check_window_s(check.interval, check.run_timeout),
        failures_before_down=check.failures_before_down,
        successes_before_up=check.successes_before_up,
        interval_s=check.interval,
    )


def regional_checks(config: MonitorConfig) -> dict[str, RegionalCheck]:
    return {c.name: regional_check(c, config.region) for c in config.checks if not c.paused}


def probe_regions(config: MonitorConfig) -> list[str]:
    """The regions probes must report for: every region a check lists, but the server's own."""
    seen: dict[str, None] = {}
    for check in config.checks:
        if check.paused:
            continue
        for region in check.regions:
            if region != config.region:
                seen[region] = None
    return list(seen)


def _insert_ignoring_duplicates(conn: Connection, table: Table, keys: Sequence[str]) -> Insert:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    return insert(table)


# -- results ------------------------------------------------------------------------------------


def _region_state(check_name: str, row: Any) -> CheckState:
    return CheckState(
        name=check_name,
        state=row.state,
        state_since=row.state_since,
        consecutive_failures=row.consecutive_failures,
        consecutive_successes=row.consecutive_successes,
        last_result_at=row.last_result_at,
        last_reason=row.last_reason,
    )


def _providers(routing: FlipRouting, spec: RegionalCheck, old: str, new: str, regional_notice: bool) -> tuple[str, ...]:
    if new == "regional":
        if old == "down":  # the outage shrank to fewer regions than the quorum: tell the pager
            return tuple(routing("check", spec.name, spec.tags, "down", "up"))
        if is_notice(old, new) and regional_notice:
            return tuple(routing("check", spec.name, spec.tags, "up", "down"))
        return ()
    if old == "regional" and new == "up":
        return tuple(routing("check", spec.name, spec.tags, "down", "up")) if regional_notice else ()
    if old == "new" and new == "up":
        return ()
    return tuple(routing("check", spec.name, spec.tags, old, new))


def ingest_results(
    conn: Connection,
    records: Sequence[ResultRecord],
    specs: Mapping[str, RegionalCheck],
    routing: FlipRouting,
    *,
    regional_notice: bool = True,
) -> tuple[list[FlipRecord], int]:
    """Write ``records`` and judge their checks; returns (the flips recorded, results ignored).

    A result for a check or region the config does not list is ignored (counted). Results are
    applied in time order; one older than its region's last result (a late replay) is stored for
    the history but moves no state. Each result is judged at its own time, so a replayed batch
    flips where it would have flipped live.
    """
    kept = [r for r in records if r.check_name in specs and r.region in specs[r.check_name].regions]
    ignored = len(records) - len(kept)
    write_results(conn, kept)
    by_check: dict[str, list[ResultRecord]] = {}
    for record in kept:
        by_check.setdefault(record.check_name, []).append(record)
    flips: list[FlipRecord] = []
    # Sorted: two nodes locking several checks take the locks in one order (no deadlock).
    for name in sorted(by_check):
        spec = specs[name]
        row = conn.execute(select(checks).where(checks.c.name == name).with_for_update()).first()
        if row is None:
            continue  # not synced yet; the raw results are kept
        views: dict[str, RegionView] = {}
        states: dict[str, CheckState] = {}
        stored = {r.region: r for r in conn.execute(select(check_regions).where(check_regions.c.check_name == name))}
        for region, region_row in stored.items():
            states[region] = _region_state(name, region_row)
            views[region] = RegionView(
                region,
                region_row.state,
                region_row.last_result_at,
                region_row.last_reason,
                region_row.last_evidence,
                region_row.last_latency_ms,
            )
        current, since, last_reason = row.state, row.state_since, row.last_reason
        last_at = row.last_result_at
        changed: set[str] = set()
        last_ok: dict[str, bool] = {}
        for record in sorted(by_check[name], key=lambda r: r.at):
            previous = states.get(record.region) or CheckState(name, "new", record.at)
            if previous.last_result_at is not None and record.at < previous.last_result_at:
                continue
            state, _ = advance(
                previous,
                ok=record.ok,
                at=record.at,
                reason=record.reason,
                failures_before_down=spec.failures_before_down,
                successes_before_up=spec.successes_before_up,
            )
            states[record.region] = state
            views[record.region] = RegionView(
                record.region,
                state.state,
                record.at,
                None if record.ok else record.reason,
                None if record.ok else record.evidence,
                record.latency_ms,
            )
            changed.add(record.region)
            last_ok[record.region] = record.ok
            last_at = max(last_at or record.at, record.at)
            verdict = judge(spec.policy, views, record.at)
            flip = transition(current, verdict)
            if flip is None:
                if current != "up" and verdict.state == current:
                    last_reason = verdict.reason()
                continue
            providers = _providers(routing, spec, flip.old_state, flip.new_state, regional_notice)
            record_flip_row = FlipRecord(
                "check", name, flip.old_state, flip.new_state, record.at, flip.reason, providers
            )
            record_flip(
                conn,
                subject_kind="check",
                subject_name=name,
                old_state=flip.old_state,
                new_state=flip.new_state,
                at=record.at,
                reason=flip.reason,
                providers=providers,
            )
            flips.append(record_flip_row)
            current, since, last_reason = flip.new_state, record.at, flip.reason
        for region in sorted(changed):
            state = states[region]
            view = views[region]
            values = {
                "state": state.state,
                "state_since": state.state_since,
                "consecutive_failures": state.consecutive_failures,
                "consecutive_successes": state.consecutive_successes,
                "last_result_at": state.last_result_at,
                "last_ok": last_ok[region],
                "last_latency_ms": view.latency_ms,
                "last_reason": view.reason,
                "last_evidence": view.evidence,
            }
            if region in stored:
                conn.execute(
                    update(check_regions)
                    .where(check_regions.c.check_name == name, check_regions.c.region == region)
                    .values(**values)
                )
            else:
                conn.execute(insert(check_regions).values(check_name=name, region=region, **values))
        conn.execute(
            update(checks)
            .where(checks.c.name == name)
            .values(state=current, state_since=since, last_result_at=last_at, last_reason=last_reason)
        )
    return flips, ignored


@dataclass(frozen=True)
class RegionRow:
    check_name: str
    region: str
    state: str
    last_result_at: float | None
    last_latency_ms: float | None
    last_reason: str | None


def region_rows(conn: Connection, check_name: str | None = None) -> list[RegionRow]:
    """Each region's state and last latency (one check, or every check), for the dashboard and API."""
    query = select(check_regions).order_by(check_regions.c.check_name, check_regions.c.region)
    if check_name is not None:
        query = query.where(check_regions.c.check_name == check_name)
    return [
        RegionRow(r.check_name, r.region, r.state, r.last_result_at, r.last_latency_ms, r.last_reason)
        for r in conn.execute(query)
    ]


# -- probes -------------------------------------------------------------------------------------


def sync_probes(conn: Connection, regions: Sequence[str], now: float) -> None:
    """A row per expected region (new, silent since ``now``), so a probe that never comes alerts too."""
    if not regions:
        return
    statement = _insert_ignoring_duplicates(conn, probes, ["region"])
    conn.execute(
        statement,
        [
            {"region": region, "state": "new", "state_since": now, "results_received": 0, "results_dropped": 0}
            for region in regions
        ],
    )


def probe_seen(
    conn: Connection,
    region: str,
    *,
    now: float,
    token_name: str | None,
    clock_offset_s: float | None,
    received: int,
    dropped: int,
    routing: FlipRouting,
) -> FlipRecord | None:
    """Record that ``region``'s probe reported; a probe that was down flips up (its recovery)."""
    sync_probes(conn, [region], now)
    row = conn.execute(select(probes).where(probes.c.region == region).with_for_update()).one()
    values: dict[str, Any] = {
        "last_seen_at": now,
        "token_name": token_name,
        "results_received": row.results_received + received,
        "results_dropped": row.results_dropped + dropped,
    }
    if clock_offset_s is not None:
        values["clock_offset_s"] = clock_offset_s
    flip: FlipRecord | None = None
    if row.state != "up":
        values.update(state="up", state_since=now)
        providers = tuple(routing("probe", region, (), row.state, "up")) if row.state == "down" else ()
        reason = f"region {region} reports again" if row.state == "down" else None
        flip = FlipRecord("probe", region, row.state, "up", now, reason, providers)
        record_flip(
            conn,
            subject_kind="probe",
            subject_name=region,
            old_state=row.state,
            new_state="up",
            at=now,
            reason=reason,
            providers=providers,
        )
    conn.execute(update(probes).where(probes.c.region == region).values(**values))
    return flip


def silent_probes(
    conn: Connection, regions: Sequence[str], *, now: float, silence_s: float, routing: FlipRouting
) -> list[FlipRecord]:
    """Flip to down every expected region whose probe has been silent for ``silence_s``."""
    flips: list[FlipRecord] = []
    limit = now - silence_s
    query = select(probes).where(probes.c.region.in_(list(regions)), probes.c.state != "down").order_by(probes.c.region)
    for row in conn.execute(query):
        heard = row.last_seen_at if row.last_seen_at is not None else row.state_since
        if heard > limit:
            continue
        # Conditional: only the node whose update matched records the flip.
        changed = conn.execute(
            update(probes)
            .where(
                probes.c.region == row.region,
                probes.c.state == row.state,
                probes.c.last_seen_at.is_(None)
                if row.last_seen_at is None
                else probes.c.last_seen_at == row.last_seen_at,
            )
            .values(state="down", state_since=now)
        ).rowcount
        if changed != 1:
            continue
        if row.last_seen_at is None:
            reason = f"region {row.region} stopped reporting (never reported since {silence_s:g}s ago)"
        else:
            reason = f"region {row.region} stopped reporting (last report {now - row.last_seen_at:.0f}s ago)"
        providers = tuple(routing("probe", row.region, (), row.state, "down"))
        record_flip(
            conn,
            subject_kind="probe",
            subject_name=row.region,
            old_state=row.state,
            new_state="down",
            at=now,
            reason=reason,
            providers=providers,
        )
        flips.append(FlipRecord("probe", row.region, row.state, "down", now, reason, providers))
    return flips


# -- slots --------------------------------------------------------------------------------------


def claim_slot(conn: Connection, *, check_name: str, region: str, slot_at: float, node: str, now: float) -> bool:
    """True when this node won the slot (its insert of the unique key went in)."""
    statement = _insert_ignoring_duplicates(conn, slot_claims, ["check_name", "region", "slot_at"])
    # RETURNING rather than rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT.
    won = conn.execute(
        statement.values(check_name=check_name, region=region, slot_at=slot_at, node=node, claimed_at=now).returning(
            slot_claims.c.node
        )
    ).first()
    return won is not None


def prune_slot_claims(conn: Connection, before: float) -> int:
    return int(conn.execute(delete(slot_claims).where(slot_claims.c.claimed_at < before)).rowcount)
