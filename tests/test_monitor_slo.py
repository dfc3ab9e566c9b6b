"""Multi-window burn-rate SLO alerts: the pure rule at its thresholds, and the evaluator reading
the results table and recording slo flips that the worker delivers (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alertutil import Receiver, store_engine
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select

from launchready.config.sections.monitor_alerts import AlertConfig
from launchready.core.net import NetSettings
from launchready.monitor.alerts.providers import build_providers
from launchready.monitor.alerts.routing import AlertRouter
from launchready.monitor.alerts.slo import SloEvaluator, WindowCounts, burn_rate, evaluate_burn
from launchready.monitor.alerts.worker import AlertWorker
from launchready.monitor.store.schema import checks, outbox, results, transitions

T0 = 1_800_000_000.0
H, M5, H6, M30 = 3600, 300, 21600, 1800


def counts(**by_window: tuple[int, int]) -> dict[int, WindowCounts]:
    names = {"h1": H, "m5": M5, "h6": H6, "m30": M30}
    return {names[k]: WindowCounts(*v) for k, v in by_window.items()}


def test_burn_rate_is_the_error_ratio_over_the_budget() -> None:
    assert burn_rate(WindowCounts(1000, 5), 0.995) == pytest.approx(1.0)
    assert burn_rate(WindowCounts(1000, 72), 0.995) == pytest.approx(14.4)
    assert burn_rate(WindowCounts(0, 0), 0.995) == 0.0


def test_fast_burn_pages_only_when_both_the_hour_and_five_minutes_burn() -> None:
    # 7.2 % errors = 14.4x the 0.5 % budget, exactly the threshold.
    assert evaluate_burn(counts(h1=(1000, 72), m5=(100, 8))).burning
    assert not evaluate_burn(counts(h1=(1000, 71), m5=(100, 100))).burning  # the hour is below 14.4x
    assert not evaluate_burn(counts(h1=(1000, 500), m5=(100, 0))).burning  # recovered: the short window resets it
    verdict = evaluate_burn(counts(h1=(60, 30), m5=(5, 5)))
    assert verdict.burning and "over 1h" in verdict.reason and "over 5m" in verdict.reason


def test_slow_burn_pages_at_six_times_over_six_hours_and_thirty_minutes() -> None:
    assert evaluate_burn(counts(h6=(1000, 30), m30=(100, 3), h1=(100, 3), m5=(10, 0))).burning
    assert not evaluate_burn(counts(h6=(1000, 29), m30=(100, 3))).burning
    assert not evaluate_burn(counts(h6=(1000, 30), m30=(100, 2))).burning
    assert not evaluate_burn({}).burning  # no data: no page


_window = st.integers(min_value=1, max_value=10_000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))


@given(_window, _window, st.integers(0, 10_000), st.integers(0, 10_000))
def test_more_failures_never_turn_a_page_off(
    long: tuple[int, int], short: tuple[int, int], more_long: int, more_short: int
) -> None:
    before = evaluate_burn(counts(h1=long, m5=short)).burning
    worse_long = (long[0], min(long[0], long[1] + more_long))
    worse_short = (short[0], min(short[0], short[1] + more_short))
    after = evaluate_burn(counts(h1=worse_long, m5=worse_short)).burning
    assert after or not before


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as engine:
        yield engine


def add_results(engine: Engine, check: str, start: float, end: float, every: float, ok: bool) -> None:
    at, batch = start, []
    while at < end:
        batch.append({"check_name": check, "region": "local", "at": at, "ok": ok, "latency_ms": 12.0})
        at += every
    with engine.begin() as conn:
        conn.execute(insert(results), batch)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_evaluator_records_burning_and_ok_flips_that_reach_the_webhook(store: Engine) -> None:
    with store.begin() as conn:
        conn.execute(insert(checks).values(name="api", kind="http", target="https://x/", interval_s=10, tags=["web"]))
        conn.execute(insert(checks).values(name="quiet", kind="http", target="https://y/", interval_s=10, tags=[]))
    # Six hours of good results, then 20 minutes of failures on api; quiet stays good.
    add_results(store, "api", T0 - H6, T0 - 1200, 10, ok=True)
    add_results(store, "api", T0 - 1200, T0, 10, ok=False)
    add_results(store, "quiet", T0 - H6, T0, 10, ok=True)
    with Receiver().running() as receiver:
        alert = AlertConfig.model_validate({"name": "hook", "kind": "webhook", "url": receiver.url(), "tags": ["web"]})
        router = AlertRouter([alert])
        clock = Clock(T0)
        evaluator = SloEvaluator(store, router, clock=clock)
        assert evaluator.run_once() == [("api", "ok", "burning")]
        assert evaluator.run_once() == []  # the state is kept: no second flip
        assert SloEvaluator(store, router, clock=clock).run_once() == []  # nor from a second evaluator
        # The errors stop. Ten minutes later the 5-minute window is clean, but the slow-burn pair
        # (6 h and 30 min) still pages; once 30 minutes are clean it is over.
        add_results(store, "api", T0, T0 + 1900, 10, ok=True)
        clock.now = T0 + 600
        assert evaluator.run_once() == []
        clock.now = T0 + 1900
        assert evaluator.run_once() == [("api", "burning", "ok")]

        table = build_providers([alert], {}, NetSettings(timeout=5))
        worker = AlertWorker(store, table, clock=clock, router=router)

        async def deliver() -> None:
            try:
                await worker.run_once()
                await worker.run_once()
            finally:
                await table.close()

        asyncio.run(deliver())
        sent = [b.json for b in receiver.bodies()]
    assert [(s["kind"], s["name"], s["status"]) for s in sent] == [("slo", "api", "burning"), ("slo", "api", "ok")]
    assert "burning" in str(sent[0]["reason"]) and sent[1]["recovery"] is True
    with store.connect() as conn:
        kinds = conn.execute(
            select(transitions.c.subject_kind, transitions.c.new_state).order_by(transitions.c.id)
        ).all()
        assert [tuple(k) for k in kinds] == [("slo", "burning"), ("slo", "ok")]
        assert set(conn.execute(select(outbox.c.status)).scalars()) == {"delivered"}
