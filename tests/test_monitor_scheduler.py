"""The scheduler end to end on loopback: flips written with their outbox rows, late heartbeats,
a wall clock that jumps, a store that fills up (and comes back), a store that is dead from the start.

No timed assertions: each test waits (bounded) for a condition, then checks what was written.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from monitor_servers import serve_http
from monitorutil import store_engine
from netutil import closed_port
from sqlalchemy import Engine, Table, event, select
from sqlalchemy.exc import OperationalError

from launchready.config.sections.monitor import MonitorCheck, MonitorConfig, MonitorHeartbeat
from launchready.core.net import NetSettings
from launchready.monitor.scheduler import Scheduler, SystemClock
from launchready.monitor.scheduler.scheduler import detection_bound_s, spread_offset
from launchready.monitor.store.engine import create_store_engine, open_store
from launchready.monitor.store.repository import FlipRecord
from launchready.monitor.store.schema import (
    checks,
    heartbeats,
    outbox,
    results,
    rollups_1h,
    rollups_1m,
    service_meta,
    transitions,
)

NET = NetSettings(timeout=2.0)


def route_all(
    subject_kind: str, subject_name: str, tags: Sequence[str], old_state: str, new_state: str
) -> Sequence[str]:
    return ["hook"]


class JumpingClock(SystemClock):
    """The system clocks, with a wall clock the test can move (as NTP or an operator would)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def wall(self) -> float:
        return time.time() + self.offset


async def wait_for(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


def _check(name: str, url: str, **kwargs: object) -> MonitorCheck:
    return MonitorCheck(name=name, url=url, interval=1, timeout=1, **kwargs)  # type: ignore[arg-type]


def _rows(engine: Engine, query: object) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]  # type: ignore[call-overload]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as opened:
        yield opened


def test_a_dead_target_flips_down_then_up_with_outbox_rows(engine: Engine) -> None:
    heard: list[FlipRecord] = []

    async def go() -> Scheduler:
        async with serve_http() as port:
            url = f"http://127.0.0.1:{port}/health"
            config = MonitorConfig(checks=(_check("web", url, tags=("web",)), _check("paused", url, paused=True)))
            scheduler = Scheduler(config, engine, NET, route_all, flush_interval=0.1, on_flip=heard.append)
            task = asyncio.create_task(scheduler.run())
            await wait_for(
                lambda: scheduler.states.get("web") is not None and scheduler.states["web"].state == "up", "up"
            )
        # The server is gone: two failed runs (failures_before_down = 2) take the check down.
        await wait_for(lambda: scheduler.states["web"].state == "down", "down")
        async with serve_http() as port:
            scheduler.runners["web"].check = scheduler.checks["web"]  # same check, the server is back elsewhere
            scheduler.checks["web"] = _check("web", f"http://127.0.0.1:{port}/health", tags=("web",))
            scheduler.runners["web"] = type(scheduler.runners["web"])(scheduler.checks["web"], scheduler.probes)
            await wait_for(lambda: scheduler.states["web"].state == "up" and len(heard) >= 3, "up again")
        scheduler.stop()
        await task
        return scheduler

    scheduler = asyncio.run(go())
    assert [(f.old_state, f.new_state, f.providers) for f in heard] == [
        ("new", "up", ()),  # a new check coming up is recorded, never alerted
        ("up", "down", ("hook",)),
        ("down", "up", ("hook",)),
    ]
    assert heard[1].reason is not None and "connection refused" in heard[1].reason
    flips = _rows(engine, select(transitions).order_by(transitions.c.id))
    assert [(f["old_state"], f["new_state"]) for f in flips] == [("new", "up"), ("up", "down"), ("down", "up")]
    queued = _rows(engine, select(outbox).order_by(outbox.c.id))
    assert [(q["transition_id"], q["provider"], q["status"]) for q in queued] == [
        (flips[1]["id"], "hook", "pending"),
        (flips[2]["id"], "hook", "pending"),
    ]
    stored = {r["name"]: r for r in _rows(engine, select(checks))}
    assert stored["web"]["state"] == "up" and stored["paused"]["state"] == "paused"
    assert scheduler.runs["paused"] == 0
    written = _rows(engine, select(results.c.ok).where(results.c.check_name == "web"))
    assert len(written) == scheduler.runs["web"]
    assert any(not r["ok"] for r in written) and any(r["ok"] for r in written)


def test_late_heartbeat_flips_down_and_a_new_one_never_alerts(engine: Engine) -> None:
    clock = JumpingClock()

    async def go() -> Scheduler:
        config = MonitorConfig(
            heartbeats=(
                MonitorHeartbeat(name="worker", period=1, grace=0.5),
                MonitorHeartbeat(name="never", period=1, grace=0),
            )
        )
        scheduler = Scheduler(config, engine, NET, route_all, clock, heartbeat_interval=0.1)
        task = asyncio.create_task(scheduler.run())
        await wait_for(lambda: len(_rows(engine, select(heartbeats))) == 2, "heartbeats synced")
        # What the ping endpoint writes on a ping (the web side owns it).
        with engine.begin() as conn:
            conn.execute(
                heartbeats.update().where(heartbeats.c.name == "worker").values(state="up", last_ping_at=clock.wall())
            )
        await wait_for(lambda: bool(_rows(engine, select(transitions))), "a flip")
        scheduler.stop()
        await task
        return scheduler

    asyncio.run(go())
    flips = _rows(engine, select(transitions))
    assert [(f["subject_kind"], f["subject_name"], f["old_state"], f["new_state"]) for f in flips] == [
        ("heartbeat", "worker", "up", "down")
    ]
    assert str(flips[0]["reason"]).startswith("no ping for ")
    states = {r["name"]: r["state"] for r in _rows(engine, select(heartbeats))}
    assert states == {"worker": "down", "never": "new"}
    assert [q["provider"] for q in _rows(engine, select(outbox))] == ["hook"]


def test_wall_clock_jumps_cause_no_flip_and_no_stall(engine: Engine) -> None:
    clock = JumpingClock()

    async def go() -> Scheduler:
        async with serve_http() as port:
            config = MonitorConfig(
                checks=(_check("web", f"http://127.0.0.1:{port}/health"),),
                heartbeats=(MonitorHeartbeat(name="hourly", period=3600, grace=60),),
            )
            scheduler = Scheduler(config, engine, NET, route_all, clock, heartbeat_interval=0.1, flush_interval=0.1)
            task = asyncio.create_task(scheduler.run())
            await wait_for(lambda: len(_rows(engine, select(heartbeats))) == 1, "heartbeats synced")
            with engine.begin() as conn:
                conn.execute(heartbeats.update().values(state="up", last_ping_at=clock.wall()))
            await wait_for(lambda: scheduler.runs["web"] >= 2, "two runs")
            for jump in (86400.0, -2 * 86400.0, 3 * 3600.0):
                before = scheduler.runs["web"]
                clock.offset += jump
                await wait_for(lambda before=before: scheduler.runs["web"] >= before + 2, f"runs after {jump:+.0f}s")
            await scheduler.watch_heartbeats()
            scheduler.stop()
            await task
            return scheduler

    scheduler = asyncio.run(go())
    assert scheduler.states["web"].state == "up"
    flips = _rows(engine, select(transitions))
    assert [(f["subject_name"], f["old_state"], f["new_state"]) for f in flips] == [("web", "new", "up")]
    assert _rows(engine, select(heartbeats.c.state)) == [{"state": "up"}]


def test_a_full_store_keeps_checks_running_and_flips_are_written_when_it_recovers(tmp_path: Path) -> None:
    path = tmp_path / "full.sqlite"
    open_store(f"sqlite:///{path}").dispose()
    engine = create_store_engine(f"sqlite:///{path}")
    cap = {"pages": 1_000_000}

    def limit(dbapi_connection: sqlite3.Connection, _record: object, _proxy: object) -> None:
        # At every checkout, so connections already pooled see the disk fill up too.
        dbapi_connection.execute(f"PRAGMA max_page_count={cap['pages']}")

    event.listen(engine.pool, "checkout", limit)
    heard: list[FlipRecord] = []

    async def go() -> tuple[Scheduler, str]:
        async with serve_http() as port:
            config = MonitorConfig(checks=(_check("web", f"http://127.0.0.1:{port}/broken"),))
            scheduler = Scheduler(config, engine, NET, route_all, flush_interval=0.1, on_flip=heard.append)
            task = asyncio.create_task(scheduler.run())
            await wait_for(lambda: scheduler.runs["web"] >= 1, "a first run")
            # The disk is full: SQLite refuses to grow the file (SQLITE_FULL).
            with engine.connect() as conn:
                cap["pages"] = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 1)
            engine.dispose()
            _fill(engine)
            await wait_for(lambda: scheduler.store_error is not None, "the store error")
            error = scheduler.store_error or ""
            await wait_for(lambda: scheduler.states["web"].state == "down", "down while the store is full")
            runs_while_full = scheduler.runs["web"]
            await wait_for(lambda: scheduler.runs["web"] >= runs_while_full + 2, "checks go on")
            cap["pages"] = 1_000_000
            await wait_for(lambda: scheduler.store_error is None and not scheduler._pending.flips, "recovered")
            scheduler.stop()
            await task
            return scheduler, error

    scheduler, error = asyncio.run(go())
    assert error.startswith("store refused to write results: database or disk is full"), error
    assert [(f.old_state, f.new_state) for f in heard] == [("new", "down")]
    flips = _rows(engine, select(transitions).where(transitions.c.subject_name == "web"))
    assert [(f["old_state"], f["new_state"]) for f in flips] == [("new", "down")]
    assert [q["provider"] for q in _rows(engine, select(outbox))] == ["hook"]
    assert _rows(engine, select(checks.c.state)) == [{"state": "down"}]
    # Results kept in memory meanwhile were written too.
    assert len(_rows(engine, select(results.c.id).where(results.c.check_name == "web"))) == scheduler.runs["web"]


def _fill(engine: Engine) -> None:
    """Use up the space left in the capped file, as a disk filled by something else would: every
    table the scheduler writes gets rows until SQLite says the disk is full (each table has its
    own pages, partly used ones take small rows)."""
    rows: dict[Table, Callable[[int], dict[str, object]]] = {
        results: lambda i: {"check_name": "filler", "at": float(i), "ok": True},
        rollups_1m: lambda i: {
            "check_name": "filler",
            "bucket_start": i,
            "count": 1,
            "failures": 0,
            "latency_sum_ms": 0.0,
            "latency_max_ms": 0.0,
            "latency_hist": {},
        },
        rollups_1h: lambda i: {
            "check_name": "filler",
            "bucket_start": i,
            "count": 1,
            "failures": 0,
            "latency_sum_ms": 0.0,
            "latency_max_ms": 0.0,
            "latency_hist": {},
        },
        transitions: lambda i: {
            "subject_kind": "check",
            "subject_name": "filler",
            "old_state": "up",
            "new_state": "down",
            "at": float(i),
            "idempotency_key": f"filler:{i}",
        },
        service_meta: lambda i: {"key": f"filler-{i}", "value": "x"},
    }
    for table, row in rows.items():
        for index in range(1_000_000):
            try:
                with engine.begin() as conn:
                    conn.execute(table.insert().values(row(index)))
            except OperationalError as exc:
                assert "full" in str(exc)
                break


def test_a_dead_store_at_start_keeps_state_in_memory() -> None:
    engine = create_store_engine(f"postgresql://postgres@127.0.0.1:{closed_port()}/test")
    heard: list[FlipRecord] = []

    async def go() -> Scheduler:
        config = MonitorConfig(checks=(_check("dead", f"http://127.0.0.1:{closed_port()}/"),))
        scheduler = Scheduler(config, engine, NET, route_all, flush_interval=0.1, on_flip=heard.append)
        task = asyncio.create_task(scheduler.run())
        await wait_for(
            lambda: scheduler.states.get("dead") is not None and scheduler.states["dead"].state == "down", "down"
        )
        scheduler.stop()
        await task
        return scheduler

    scheduler = asyncio.run(go())
    assert scheduler.store_error is not None and scheduler.store_error.startswith("store refused to")
    assert [(f.old_state, f.new_state, f.providers) for f in heard] == [("new", "down", ("hook",))]
    assert scheduler._pending.flips, "the flip waits for the store"


def test_checks_are_spread_over_their_interval() -> None:
    offsets = [spread_offset(f"check-{i}", 60.0) for i in range(200)]
    assert all(0 <= o < 60 for o in offsets)
    assert offsets == [spread_offset(f"check-{i}", 60.0) for i in range(200)]
    # Every 10-second slice of the minute gets some checks.
    assert {int(o // 10) for o in offsets} == set(range(6))


def test_detection_bound_with_the_defaults_leaves_room_for_delivery_within_three_minutes() -> None:
    default = MonitorCheck(name="home", url="https://example.test/health")
    assert detection_bound_s(default) == pytest.approx(2 * 60 + 1.0 + 10 + 1.0 + 0.5)
    assert detection_bound_s(default) < 180
    fast = MonitorCheck(name="fast", url="https://example.test/health", interval=1, timeout=1, failures_before_down=3)
    assert detection_bound_s(fast, flush_interval=0.1) == pytest.approx(3 * 1 + 0.02 + 1 + 1.0 + 0.1)


def test_a_stop_during_a_failing_write_ends_the_run_and_keeps_the_batch(tmp_path: Path) -> None:
    """Stopping while a flush's write is in its thread and then fails: the run still ends (the store
    error must not swallow the cancellation and leave the flush loop running) and the flip the
    failed write held is kept in memory, not dropped."""
    path = tmp_path / "slow.sqlite"
    open_store(f"sqlite:///{path}").dispose()
    engine = create_store_engine(f"sqlite:///{path}")
    failing = threading.Event()
    writing = threading.Event()

    def slow_then_refuse(_dbapi_connection: object, _record: object, _proxy: object) -> None:
        if failing.is_set():
            writing.set()
            time.sleep(0.5)  # the stop arrives while the write is still in its thread
            raise sqlite3.OperationalError("disk I/O error")

    event.listen(engine.pool, "checkout", slow_then_refuse)

    async def go() -> Scheduler:
        config = MonitorConfig(checks=(_check("dead", f"http://127.0.0.1:{closed_port()}/"),))
        scheduler = Scheduler(config, engine, NET, route_all, flush_interval=0.1)
        task = asyncio.create_task(scheduler.run())
        await wait_for(lambda: scheduler.runs["dead"] >= 1, "a first run")
        failing.set()
        await wait_for(lambda: scheduler.states["dead"].state == "down", "down")
        await wait_for(writing.is_set, "a write in its thread")
        scheduler.stop()
        await asyncio.wait_for(task, 30)
        return scheduler

    scheduler = asyncio.run(go())
    assert scheduler.store_error is not None and "disk I/O error" in scheduler.store_error
    assert [(f.old_state, f.new_state) for f in scheduler._pending.flips] == [("new", "down")]
