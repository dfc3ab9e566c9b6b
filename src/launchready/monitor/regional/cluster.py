"""Several monitor nodes on one store, and checks judged across regions.

:class:`SharedScheduler` is the scheduler `monitor serve` runs when the store is PostgreSQL (any
number of nodes may share it) or when a check lists ``regions``:

- Slots are aligned to the wall clock (``slot_at = k * interval + offset``, the offset stable per
  check), so every node computes the same slots; before running one, a node inserts its key
  (check, region, slot time) into ``slot_claims``: the unique key is the lease and exactly one
  node's insert wins. A node that dies loses at most the slots it was running; the next slot is
  claimed by a survivor, within one interval. A node whose clock is off by more than the spread
  only moves which node wins a slot, never how often it runs.
- State lives in the store, not in a node's memory: results go through
  :func:`launchready.monitor.store.regions.ingest_results`, which moves each region's state
  machine and the quorum under a row lock, so the verdict is the same whichever node (or probe
  batch) wrote the result.

:class:`ProbeWatcher` flips regions whose probe went silent (``probe`` alerts) on every node; the
conditional update makes one of them record it. :class:`AdvisoryLocked` runs the alert worker on
one node at a time (a PostgreSQL session advisory lock, released by the server when the node's
connection dies). :func:`single_node_lock` makes a second `monitor serve` on one SQLite file say
so and stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import math
import os
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from launchready.config.sections.monitor import MonitorConfig
from launchready.core.net import NetSettings
from launchready.monitor.checks.runner import CheckOutcome
from launchready.monitor.errors import MonitorSetupError, MonitorStoreError
from launchready.monitor.scheduler.scheduler import (
    Clock,
    Routing,
    Scheduler,
    check_specs,
    heartbeat_specs,
    spread_offset,
)
from launchready.monitor.store.regions import (
    RegionalCheck,
    claim_slot,
    ingest_results,
    probe_regions,
    prune_slot_claims,
    regional_checks,
    silent_probes,
    sync_probes,
)
from launchready.monitor.store.repository import FlipRecord, ResultRecord, sync_checks, sync_heartbeats
from launchready.smoke.plan import SmokePlan

log = logging.getLogger("launchready.monitor")

_SPREAD_MAX_S = 60.0
_BACKLOG_LIMIT = 100_000
# Slot claims are kept a day (enough to count and debug a run), then pruned with the results.
_CLAIM_RETENTION_S = 86400.0
# The key of the session advisory lock the alert worker runs under ("lr-alert" in ASCII).
ALERT_WORKER_LOCK = 0x6C722D616C657274
# Per-session TCP keepalive and user timeout on the lock's connection (PostgreSQL settings any
# user may set; ignored on a Unix socket).
_KEEPALIVE = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 2",
    "SET tcp_keepalives_count = 3",
    "SET tcp_user_timeout = 11000",
)
# The SLO evaluator's ("lr-slo").
SLO_LOCK = 0x6C722D736C6F


def needs_shared_scheduler(config: MonitorConfig, engine: Engine) -> bool:
    """PostgreSQL (several nodes may share it) or a check judged across regions."""
    return engine.dialect.name == "postgresql" or any(c.regions for c in config.checks)


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def slot_after(wall: float, interval: float, offset: float) -> float:
    """The first slot time strictly after ``wall`` for a check with ``interval`` and ``offset``."""
    k = math.floor((wall - offset) / interval) + 1
    return round(k * interval + offset, 3)


class SharedScheduler(Scheduler):
    """The scheduler for shared stores and regional checks (see the module's doc)."""

    def __init__(
        self,
        config: MonitorConfig,
        engine: Engine,
        net: NetSettings,
        routing: Routing,
        clock: Clock | None = None,
        *,
        node: str | None = None,
        claim_slots: bool | None = None,
        smoke_plans: Mapping[str, SmokePlan] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(config, engine, net, routing, clock, smoke_plans=smoke_plans, **options)
        self.node = node or node_name()
        # One node on SQLite needs no claims; PostgreSQL may have company.
        self.claim_slots = engine.dialect.name == "postgresql" if claim_slots is None else claim_slots
        self.specs: dict[str, RegionalCheck] = regional_checks(config)
        self.claimed: dict[str, int] = {name: 0 for name in self.checks}
        self._results: list[ResultRecord] = []

    def _active(self) -> list[str]:
        here = self.config.region
        return [
            name
            for name, check in self.checks.items()
            if not check.paused and (not check.regions or here in check.regions)
        ]

    async def _load_state(self) -> None:
        await super()._load_state()
        regions = probe_regions(self.config)
        if not regions or self.engine is None:
            return
        now = self.clock.wall()

        def work(engine: Engine) -> None:
            with engine.begin() as conn:
                sync_probes(conn, regions, now)

        try:
            await self._store("record the expected probes", work)
        except MonitorStoreError as exc:
            self._store_failed(exc)

    async def _claim(self, name: str, slot_at: float) -> bool:
        if not self.claim_slots:
            return True
        region, node, now = self.config.region, self.node, self.clock.wall()

        def work(engine: Engine) -> bool:
            with engine.begin() as conn:
                return claim_slot(conn, check_name=name, region=region, slot_at=slot_at, node=node, now=now)

        try:
            return await self._store("claim a slot", work)
        except MonitorStoreError as exc:
            # Without the store nodes cannot agree: run the slot (a duplicate result is harmless,
            # a gap in the checks is not) and keep the result for when the store is back.
            self._store_failed(exc)
            return True

    async def _check_loop(self, name: str) -> None:
        check = self.checks[name]
        interval = check.interval
        offset = spread_offset(name, min(interval, _SPREAD_MAX_S))
        while True:
            slot_at = slot_after(self.clock.wall(), interval, offset)
            delay = slot_at - self.clock.wall()
            if delay > 0:
                await self.clock.sleep(delay)
            if not await self._claim(name, slot_at):
                continue
            self.claimed[name] = self.claimed.get(name, 0) + 1
            async with self._limit:
                outcome = await self.runners[name].run(self.clock.wall)
            try:
                self.record(name, outcome)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop this check's loop
                log.exception("check %s: recording a result failed", name)

    def record(self, name: str, outcome: CheckOutcome) -> None:
        """Queue one result for the next flush: the store judges it (no state in this node's memory)."""
        record = ResultRecord(
            check_name=name,
            at=self.clock.wall(),
            ok=outcome.ok,
            latency_ms=outcome.latency_ms,
            status_code=outcome.status_code,
            reason=outcome.reason,
            evidence=outcome.evidence,
            region=self.config.region,
        )
        self.runs[name] = self.runs.get(name, 0) + 1
        if len(self._results) >= _BACKLOG_LIMIT:
            del self._results[: len(self._results) // 10]
        self._results.append(record)
        if self.on_result is not None:
            self.on_result(record)

    async def flush(self) -> None:
        async with self._flush_lock:
            if not self._results or self.engine is None:
                return
            batch, self._results = self._results, []
            specs, routing, notice = self.specs, self.routing, self.config.regional_notice
            synced = self._synced
            check_rows = check_specs(list(self.checks.values()))
            heartbeats = heartbeat_specs(self.config)
            regions = probe_regions(self.config)
            now = self.clock.wall()

            def work(engine: Engine) -> list[FlipRecord]:
                with engine.begin() as conn:
                    if not synced:
                        # The store was down at start (or another node raced this one creating
                        # the rows): create them now, or the verdicts below have nowhere to go.
                        sync_checks(conn, check_rows, now)
                        sync_heartbeats(conn, heartbeats, now)
                        sync_probes(conn, regions, now)
                    flips, _ = ingest_results(conn, batch, specs, routing, regional_notice=notice)
                return flips

            written, cancelled = await self._write_through_stop("write results", work)
            if isinstance(written, MonitorStoreError):
                self._store_failed(written)
                self._results[:0] = batch
                del self._results[:-_BACKLOG_LIMIT]
                if cancelled:
                    raise asyncio.CancelledError
                return
            self._synced = True
            self._store_recovered()
            for flip in written:
                log.warning(
                    "check %s: %s -> %s%s",
                    flip.subject_name,
                    flip.old_state,
                    flip.new_state,
                    f" ({flip.reason})" if flip.reason else "",
                )
                self._tell_flip(flip)
            if cancelled:
                raise asyncio.CancelledError

    async def prune(self) -> None:
        await super().prune()
        if self.engine is None:
            return
        before = self.clock.wall() - _CLAIM_RETENTION_S

        def work(engine: Engine) -> int:
            with engine.begin() as conn:
                return prune_slot_claims(conn, before)

        with contextlib.suppress(MonitorStoreError):
            await self._store("prune slot claims", work)


class ProbeWatcher:
    """Every ``interval`` seconds, flips regions whose probe is silent past ``[monitor].probe_silence``."""

    def __init__(
        self,
        config: MonitorConfig,
        engine: Engine,
        routing: Routing,
        *,
        interval: float = 5.0,
        clock: Clock | None = None,
        on_flip: Any = None,
    ) -> None:
        from launchready.monitor.scheduler.scheduler import SystemClock

        self.config = config
        self.engine = engine
        self.routing = routing
        self.interval = interval
        self.clock: Clock = clock or SystemClock()
        self.on_flip = on_flip
        self.regions = probe_regions(config)
        self._stopping = asyncio.Event()

    def watch_once(self) -> list[FlipRecord]:
        if not self.regions:
            return []
        with self.engine.begin() as conn:
            return silent_probes(
                conn, self.regions, now=self.clock.wall(), silence_s=self.config.probe_silence, routing=self.routing
            )

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                flips = await asyncio.to_thread(self.watch_once)
            except SQLAlchemyError as exc:
                log.warning("probe watch skipped: %s", str(exc).splitlines()[0][:200])
                flips = []
            for flip in flips:
                log.warning("probe %s: %s -> down (%s)", flip.subject_name, flip.old_state, flip.reason)
                if self.on_flip is not None:
                    self.on_flip(flip)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    def stop(self) -> None:
        self._stopping.set()


class AdvisoryLocked:
    """Runs ``inner`` only while this node holds a PostgreSQL session advisory lock (else at once).

    The lock is held by one connection kept open for the purpose; when the node dies the server
    drops the connection and the lock with it, and another node's next try (every ``retry_s``)
    takes over. A lost connection stops ``inner`` here first, so two nodes never run it together
    for longer than one check of the connection.
    """

    def __init__(
        self,
        inner: Any,
        engine: Engine,
        key: int = ALERT_WORKER_LOCK,
        *,
        what: str = "alert worker",
        retry_s: float = 1.0,
    ) -> None:
        self.inner = inner
        self.what = what
        self.engine = engine
        self.key = key
        self.retry_s = retry_s
        self.holding = False
        self._stopping = asyncio.Event()

    def _try_lock(self) -> Connection | None:
        conn = self.engine.connect()
        try:
            # A machine that vanishes without closing its socket would keep the lock until the
            # server's TCP keepalive gives up (two hours by default): ask for about 11 s here.
            for setting in _KEEPALIVE:
                conn.execute(text(setting))
            got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            conn.commit()
        except SQLAlchemyError:
            conn.close()
            raise
        if got:
            return conn
        conn.close()
        return None

    def _release(self, conn: Connection) -> None:
        # Unlock before the connection goes back to the pool, where it would keep the lock.
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            conn.commit()
        finally:
            conn.close()

    @staticmethod
    def _alive(conn: Connection) -> bool:
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except SQLAlchemyError:
            return False

    async def run(self) -> None:
        if self.engine.dialect.name != "postgresql":
            self.holding = True
            await self.inner.run()
            return
        while not self._stopping.is_set():
            try:
                conn = await asyncio.to_thread(self._try_lock)
            except SQLAlchemyError as exc:
                log.warning("alert worker lock: store unreachable (%s)", str(exc).splitlines()[0][:200])
                conn = None
            if conn is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.retry_s)
                continue
            self.holding = True
            log.info("this node runs the %s (it holds its lock)", self.what)
            task = asyncio.create_task(self.inner.run())
            try:
                while not self._stopping.is_set() and not task.done():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.retry_s)
                    if not await asyncio.to_thread(self._alive, conn):
                        log.warning("lost the %s lock's connection: another node takes over", self.what)
                        break
            finally:
                self.inner.stop()
                await asyncio.gather(task, return_exceptions=True)
                self.holding = False
                with contextlib.suppress(SQLAlchemyError):
                    await asyncio.to_thread(self._release, conn)

    def stop(self) -> None:
        self._stopping.set()
        self.inner.stop()


def single_node_lock(store_url: str) -> IO[str] | None:
    """On SQLite, an exclusive lock next to the store file; a second node gets MonitorSetupError.

    Returns the open lock file (keep it open while serving), or None for a store that needs none.
    """
    url = make_url(
        store_url.replace("sqlite://", "sqlite+pysqlite://", 1) if store_url.startswith("sqlite://") else store_url
    )
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database + ".node-lock")
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise MonitorSetupError(
            f"store {url.database}: another `monitor serve` ({holder}) runs on this SQLite store; SQLite is "
            "single-node: point every node at one postgresql:// store to run several"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
    handle.flush()
    return handle
