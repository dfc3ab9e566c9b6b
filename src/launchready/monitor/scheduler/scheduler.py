"""The scheduler: every check on its interval, bounded concurrency, results and flips to the store.

- Timing is monotonic: each check runs at ``start + k * interval`` (plus a small per-run jitter)
  on ``Clock.monotonic``; the wall clock only stamps results. A wall clock jump therefore moves
  no run and, with :class:`LatenessTracker`, flips no heartbeat.
- Checks are spread over their interval at start (a stable offset per name), so a hundred checks
  with the same interval do not all fire in the same millisecond.
- One loop per check: a run never overlaps the previous run of the same check; a run that takes
  longer than the interval delays the next instead of piling up. At most ``concurrency`` runs
  are in flight overall.
- Results, the counters they move and the flips among them are written in one transaction per
  flush (every ``flush_interval``); each flip is written with :func:`record_flip` so its alerts
  are queued in the same transaction as the new state.
- A store that refuses writes (full disk, database down) raises :class:`MonitorStoreError`: the
  scheduler logs it once, keeps checking, keeps state in memory, keeps the unwritten flips (and
  a bounded backlog of results) and writes them when the store takes writes again. ``on_flip``
  hears every flip at once, whatever the store does, for a caller that can alert without it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy import Engine

from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.core.net import NetSettings
from launchready.monitor.checks.runner import CheckOutcome, CheckRunner, ProbeSet
from launchready.monitor.errors import MonitorStoreError
from launchready.monitor.scheduler.lateness import LatenessTracker
from launchready.monitor.scheduler.state import advance
from launchready.monitor.store.engine import store_error
from launchready.monitor.store.repository import (
    CheckSpec,
    CheckState,
    FlipRecord,
    HeartbeatRow,
    HeartbeatSpec,
    PruneCounts,
    ResultRecord,
    flip_heartbeat,
    load_heartbeats,
    prune,
    save_check_states,
    sync_checks,
    sync_heartbeats,
    write_flip,
    write_results,
)
from launchready.smoke.plan import SmokePlan

log = logging.getLogger("launchready.monitor")

_T = TypeVar("_T")

# Per-run jitter: at most this share of the interval, and never more than a second.
_JITTER_SHARE = 0.02
_JITTER_MAX_S = 1.0
# Results kept in memory while the store refuses writes (flips are always kept).
_BACKLOG_LIMIT = 100_000
# First runs are spread over the interval, or over this much when the interval is longer.
_SPREAD_MAX_S = 60.0
# A wall clock that moves this much more (or less) than the monotonic clock has jumped.
_CLOCK_JUMP_S = 5.0


class Clock(Protocol):
    def wall(self) -> float: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Routing(Protocol):
    """Which alert providers hear one flip: ``AlertRouter.providers_for``'s signature.

    The old and new states are passed so a recovery reaches only the entries that want one.
    """

    def __call__(
        self, subject_kind: str, subject_name: str, tags: Sequence[str], old_state: str, new_state: str
    ) -> Sequence[str]: ...


@dataclass
class _Pending:
    results: list[ResultRecord] = field(default_factory=list)
    dirty: dict[str, CheckState] = field(default_factory=dict)
    flips: list[FlipRecord] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.results or self.dirty or self.flips)


def check_specs(checks: Sequence[MonitorCheck]) -> list[CheckSpec]:
    return [CheckSpec(c.name, c.kind, c.target, c.interval, c.tags, c.paused) for c in checks]


def heartbeat_specs(config: MonitorConfig) -> list[HeartbeatSpec]:
    return [
        HeartbeatSpec(h.name, h.period, h.grace, h.cron, h.tz if h.cron else None, h.uuid) for h in config.heartbeats
    ]


def detection_bound_s(check: MonitorCheck, flush_interval: float = 0.5) -> float:
    """The longest time from a target dying to its down flip being in the store (outbox included).

    The target dies just after a passing run started; the next ``failures_before_down`` runs
    fail, the last one starting at most ``failures_before_down * interval`` plus one run's
    jitter later and failing within its timeout (plus the runner's one-second margin); the
    flip is then written at the next flush. With the defaults (60 s, 2 failures, 10 s timeout)
    that is 132.5 s, leaving the alert worker 47.5 s of a 3-minute promise.
    """
    jitter = min(_JITTER_MAX_S, check.interval * _JITTER_SHARE)
    return check.failures_before_down * check.interval + jitter + check.run_timeout + 1.0 + flush_interval


def spread_offset(name: str, interval: float) -> float:
    """A stable offset in [0, interval) per check name: checks spread over their interval."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return interval * (int.from_bytes(digest[:4], "big") / 2**32)


class Scheduler:
    """Build with the effective config (checks from the file or derived), then ``await run()``.

    ``engine`` is the store (None: state in memory only); ``routing`` picks alert providers per
    flip; ``clock`` is injectable for tests. ``stop()`` ends ``run()`` after a last flush.
    """

    def __init__(
        self,
        config: MonitorConfig,
        engine: Engine | None,
        net: NetSettings,
        routing: Routing,
        clock: Clock | None = None,
        *,
        smoke_plans: Mapping[str, SmokePlan] | None = None,
        concurrency: int = 200,
        flush_interval: float = 0.5,
        heartbeat_interval: float = 5.0,
        prune_interval: float = 3600.0,
        on_result: Callable[[ResultRecord], None] | None = None,
        on_flip: Callable[[FlipRecord], None] | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.routing = routing
        self.concurrency = concurrency
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        self.prune_interval = prune_interval
        self.on_result = on_result
        self.on_flip = on_flip
        self.probes = ProbeSet(net, monotonic=self.clock.monotonic)
        self.runners: dict[str, CheckRunner] = {
            c.name: CheckRunner(c, self.probes, smoke_plan=(smoke_plans or {}).get(c.name)) for c in config.checks
        }
        self.checks: dict[str, MonitorCheck] = {c.name: c for c in config.checks}
        # In-memory state is the truth while running; the store is written from it.
        self.states: dict[str, CheckState] = {}
        self.runs: dict[str, int] = {name: 0 for name in self.checks}
        self.store_error: str | None = None
        self._pending = _Pending()
        self._stopping = asyncio.Event()
        self._limit = asyncio.Semaphore(concurrency)
        self._lateness = LatenessTracker()
        self._random = random.Random()
        self._flush_lock = asyncio.Lock()
        self._last_clock: tuple[float, float] | None = None
        self._synced = False

    # -- lifecycle ------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        await self._load_state()
        loops = [asyncio.create_task(self._check_loop(name), name=f"check:{name}") for name in self._active()]
        services = [
            asyncio.create_task(self._every(self.flush_interval, self.flush), name="monitor:flush"),
            asyncio.create_task(self._every(self.heartbeat_interval, self.watch_heartbeats), name="monitor:heartbeats"),
            # Pruning starts at once: a monitor restarted every day would otherwise never prune.
            asyncio.create_task(self._every(self.prune_interval, self.prune, first=0.0), name="monitor:prune"),
        ]
        try:
            await self._stopping.wait()
        finally:
            for task in (*loops, *services):
                task.cancel()
            await asyncio.gather(*loops, *services, return_exceptions=True)
            await self.flush()
            await self.probes.close()

    def _active(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.paused]

    async def _every(
        self, interval: float, action: Callable[[], Awaitable[None]], *, first: float | None = None
    ) -> None:
        await self.clock.sleep(interval if first is None else first)
        while True:
            try:
                await action()
            except Exception:  # noqa: BLE001 - a failed round is logged; the next one runs on time
                log.exception("monitor task %s failed", getattr(action, "__name__", action))
            await self.clock.sleep(interval)

    # -- the store, from a worker thread --------------------------------------------------------

    async def _store(self, doing: str, work: Callable[[Engine], _T]) -> _T:
        """Run ``work`` in a thread; a driver error becomes MonitorStoreError naming ``doing``."""
        engine = self.engine
        if engine is None:
            raise MonitorStoreError("no store")

        def call() -> _T:
            try:
                return work(engine)
            except MonitorStoreError:
                raise
            except Exception as exc:  # noqa: BLE001 - any driver failure is "the store refused"
                raise store_error(exc, doing) from exc

        return await asyncio.to_thread(call)

    async def _write_through_stop(
        self, doing: str, work: Callable[[Engine], _T]
    ) -> tuple[_T | MonitorStoreError, bool]:
        """Run a store write to its end even when the task is cancelled meanwhile: (its result or
        its store error, whether a cancellation arrived). The caller settles the batch, then
        re-raises the cancellation: a write that failed while stopping must neither lose the batch
        nor swallow the stop (the task would go on flushing and never let the monitor exit)."""
        write = asyncio.ensure_future(self._store(doing, work))
        cancelled = False
        while True:
            try:
                # The write runs in a thread that a cancel cannot interrupt; wait for it.
                return await asyncio.shield(write), cancelled
            except asyncio.CancelledError:
                if write.cancelled():
                    raise
                cancelled = True
            except MonitorStoreError as exc:
                return exc, cancelled

    def _store_failed(self, exc: MonitorStoreError) -> None:
        message = str(exc)
        if self.store_error is None:
            log.error("%s; checks go on and their state is kept in memory until the store takes writes", message)
        self.store_error = message

    def _store_recovered(self) -> None:
        if self.store_error is not None:
            log.warning("the store takes writes again; what was kept in memory is written")
        self.store_error = None

    async def _load_state(self) -> None:
        now = self.clock.wall()
        if self.engine is None:  # in memory by choice (benchmarks, a dry run): nothing to say
            self.states = {
                name: CheckState(name, "paused" if check.paused else "new", now) for name, check in self.checks.items()
            }
            return
        specs = check_specs(list(self.checks.values()))
        heartbeats = heartbeat_specs(self.config)

        def work(engine: Engine) -> dict[str, CheckState]:
            with engine.begin() as conn:
                states = sync_checks(conn, specs, now)
                sync_heartbeats(conn, heartbeats, now)
            return states

        try:
            self.states = dict(await self._store("load the checks' state", work))
            self._synced = True
            self._store_recovered()
        except MonitorStoreError as exc:
            self._store_failed(exc)
            self.states = {
                name: CheckState(name, "paused" if check.paused else "new", now) for name, check in self.checks.items()
            }

    # -- checks ---------------------------------------------------------------------------------

    async def _check_loop(self, name: str) -> None:
        check = self.checks[name]
        interval = check.interval
        # Spread over the interval, but over at most a minute: an hourly TLS check still gives
        # its first verdict soon after start.
        start = self.clock.monotonic() + spread_offset(name, min(interval, _SPREAD_MAX_S))
        k = 0
        while True:
            due = start + k * interval + self._random.uniform(0, min(_JITTER_MAX_S, interval * _JITTER_SHARE))
            delay = due - self.clock.monotonic()
            if delay > 0:
                await self.clock.sleep(delay)
            async with self._limit:
                outcome = await self.runners[name].run(self.clock.wall)
            try:
                self.record(name, outcome)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop this check's loop
                log.exception("check %s: recording a result failed", name)
            # Skip the slots a slow run (or a suspended process) missed instead of bursting.
            now = self.clock.monotonic()
            k += 1
            if start + k * interval < now:
                k = int((now - start) // interval) + 1

    def record(self, name: str, outcome: CheckOutcome) -> None:
        """Apply one result: in-memory state now, the store at the next flush."""
        check = self.checks[name]
        at = self.clock.wall()
        self.runs[name] = self.runs.get(name, 0) + 1
        record = ResultRecord(
            check_name=name,
            at=at,
            ok=outcome.ok,
            latency_ms=outcome.latency_ms,
            status_code=outcome.status_code,
            reason=outcome.reason,
            evidence=outcome.evidence,
        )
        state, transition = advance(
            self.states.get(name) or CheckState(name, "new", at),
            ok=outcome.ok,
            at=at,
            reason=outcome.reason,
            failures_before_down=check.failures_before_down,
            successes_before_up=check.successes_before_up,
        )
        self.states[name] = state
        pending = self._pending
        if self.engine is not None:  # without a store nothing is queued for it
            if len(pending.results) >= _BACKLOG_LIMIT:
                del pending.results[: len(pending.results) // 10]
            pending.results.append(record)
            pending.dirty[name] = state
        if transition is not None:
            providers = (
                tuple(self.routing("check", name, check.tags, transition.old_state, transition.new_state))
                if transition.alerts
                else ()
            )
            flip = FlipRecord(
                "check", name, transition.old_state, transition.new_state, at, transition.reason, providers
            )
            if self.engine is not None:
                pending.flips.append(flip)
            log.warning(
                "check %s: %s -> %s%s", name, flip.old_state, flip.new_state, f" ({flip.reason})" if flip.reason else ""
            )
            self._tell_flip(flip)
        if self.on_result is not None:
            self.on_result(record)

    def _tell_flip(self, flip: FlipRecord) -> None:
        if self.on_flip is None:
            return
        try:
            self.on_flip(flip)
        except Exception:  # noqa: BLE001 - a listener's bug must not stop the checks
            log.exception("on_flip listener failed")

    async def flush(self) -> None:
        """Write pending results, states and flips in one transaction (kept on failure)."""
        async with self._flush_lock:
            if self._pending.empty() or self.engine is None:
                return
            batch, self._pending = self._pending, _Pending()

            synced = self._synced
            specs = check_specs(list(self.checks.values()))
            heartbeats = heartbeat_specs(self.config)
            now = self.clock.wall()

            def work(engine: Engine) -> None:
                with engine.begin() as conn:
                    if not synced:
                        # The store was down at start: create the rows the states below update.
                        sync_checks(conn, specs, now)
                        sync_heartbeats(conn, heartbeats, now)
                    write_results(conn, batch.results)
                    save_check_states(conn, batch.dirty.values())
                    for flip in batch.flips:
                        write_flip(conn, flip)

            written, cancelled = await self._write_through_stop("write results", work)
            if isinstance(written, MonitorStoreError):
                self._store_failed(written)
                # Put the batch back in front of what arrived meanwhile; newer states win.
                self._pending.results[:0] = batch.results
                del self._pending.results[:-_BACKLOG_LIMIT]
                self._pending.dirty = {**batch.dirty, **self._pending.dirty}
                self._pending.flips[:0] = batch.flips
            else:
                self._synced = True
                self._store_recovered()
            if cancelled:
                raise asyncio.CancelledError

    # -- heartbeats -----------------------------------------------------------------------------

    def _clock_jumped(self) -> float | None:
        wall, mono = self.clock.wall(), self.clock.monotonic()
        previous, self._last_clock = self._last_clock, (wall, mono)
        if previous is None:
            return None
        drift = (wall - previous[0]) - (mono - previous[1])
        return drift if abs(drift) > _CLOCK_JUMP_S else None

    async def watch_heartbeats(self) -> None:
        """Flip heartbeats past period (or cron) + grace to down, each in its own transaction."""
        jump = self._clock_jumped()
        if jump is not None:
            log.warning("the wall clock jumped by %+.0fs; heartbeat lateness is measured in elapsed time", jump)
        if not self.config.heartbeats or self.engine is None:
            return
        tags = {h.name: h.tags for h in self.config.heartbeats}

        def read(engine: Engine) -> list[HeartbeatRow]:
            with engine.connect() as conn:
                return load_heartbeats(conn, names=list(tags))

        try:
            rows = await self._store("read heartbeats", read)
        except MonitorStoreError as exc:
            self._store_failed(exc)
            return
        late = self._lateness.late(rows, wall=self.clock.wall(), monotonic=self.clock.monotonic())
        for item in late:
            at = self.clock.wall()
            providers = tuple(
                self.routing("heartbeat", item.row.name, tags.get(item.row.name, ()), item.row.state, "down")
            )
            flip = FlipRecord("heartbeat", item.row.name, item.row.state, "down", at, item.reason, providers)

            def write(engine: Engine, row: HeartbeatRow = item.row, flip: FlipRecord = flip) -> bool:
                with engine.begin() as conn:
                    return flip_heartbeat(conn, row, flip)

            try:
                written = await self._store("flip a late heartbeat", write)
            except MonitorStoreError as exc:
                self._store_failed(exc)
                continue
            if written:
                log.warning("heartbeat %s: %s -> down (%s)", flip.subject_name, flip.old_state, flip.reason)
                self._tell_flip(flip)

    # -- pruning --------------------------------------------------------------------------------

    async def prune(self) -> None:
        now = self.clock.wall()

        def work(engine: Engine) -> PruneCounts:
            with engine.begin() as conn:
                return prune(conn, now)

        if self.engine is None:
            return
        try:
            counts = await self._store("prune old results", work)
        except MonitorStoreError as exc:
            self._store_failed(exc)
            return
        if counts.results or counts.rollups_1m or counts.rollups_1h:
            log.info(
                "pruned %d results, %d 1-minute and %d 1-hour rollups past retention",
                counts.results,
                counts.rollups_1m,
                counts.rollups_1h,
            )
