"""The dashboard's read queries against a brute-force reference, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from launchready.monitor.store.schema import checks, rollups_1h, rollups_1m
from launchready.monitor.web import queries
from launchready.monitor.web.queries import SettledHoursCache, check_summaries, quantile_ms
from tests.monitor_web_support import store_engine

NOW = 1_790_001_234.0
NAMES = ("alpha", "beta", "gamma")
BOUNDS = (10, 25, 50, 100, 250, 500, 1000)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as engine:
        yield engine


def seed_random(engine: Engine, last_now: float) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(11)
    hourly: list[dict[str, object]] = []
    minutely: list[dict[str, object]] = []
    split = int(last_now // 3600) * 3600
    for name in NAMES:
        for hour in range(0, 40 * 24):
            start = split - hour * 3600
            if rng.random() < 0.05:
                continue  # the monitor was not running that hour
            hist = {str(b): rng.randint(0, 9) for b in rng.sample(BOUNDS, 3)}
            count = sum(hist.values()) + 2
            hourly.append(
                {
                    "check_name": name,
                    "bucket_start": start,
                    "count": count,
                    "failures": rng.randint(0, 2),
                    "latency_sum_ms": 1.0,
                    "latency_max_ms": 1.0,
                    "latency_hist": hist,
                }
            )
        for minute in range(0, 4 * 60):
            start = split + 3600 - minute * 60
            hist = {str(rng.choice(BOUNDS)): 1}
            minutely.append(
                {
                    "check_name": name,
                    "bucket_start": start,
                    "count": 1,
                    "failures": int(rng.random() < 0.2),
                    "latency_sum_ms": 1.0,
                    "latency_max_ms": 1.0,
                    "latency_hist": hist,
                }
            )
    with engine.begin() as conn:
        conn.execute(
            insert(checks),
            [
                {
                    "name": n,
                    "kind": "http",
                    "target": n,
                    "interval_s": 60,
                    "tags": [],
                    "state": "up",
                    "consecutive_failures": 0,
                    "consecutive_successes": 0,
                    "configured": True,
                }
                for n in NAMES
            ],
        )
        conn.execute(insert(rollups_1h), hourly)
        conn.execute(insert(rollups_1m), minutely)
    return hourly, minutely


def reference(
    hourly: list[dict[str, object]], minutely: list[dict[str, object]], name: str, now: float
) -> dict[str, object]:
    """What the queries promise, computed row by row: complete hours from the 1 h table, the
    current hour from the 1 min table."""
    split = int(now // 3600) * 3600
    result: dict[str, object] = {}
    current = [r for r in minutely if r["check_name"] == name and split <= r["bucket_start"] <= now]  # type: ignore[operator]
    for label, seconds in queries.UPTIME_WINDOWS:
        rows = [r for r in hourly if r["check_name"] == name and split - seconds <= r["bucket_start"] < split] + current  # type: ignore[operator]
        result[label] = (sum(r["count"] for r in rows), sum(r["failures"] for r in rows))  # type: ignore[misc]
    hist: dict[float, int] = {}
    for r in [r for r in hourly if r["check_name"] == name and split - 86400 <= r["bucket_start"] < split] + current:  # type: ignore[operator]
        for bound, count in r["latency_hist"].items():  # type: ignore[attr-defined]
            if count:
                hist[float(bound)] = hist.get(float(bound), 0) + count
    result["p50"], result["p95"] = quantile_ms(hist, 0.5), quantile_ms(hist, 0.95)
    return result


def test_summaries_match_a_row_by_row_reference_with_and_without_the_cache(engine: Engine) -> None:
    hourly, minutely = seed_random(engine, NOW)
    # Future minutes exist in the seed (up to an hour ahead); the reference and queries both
    # read minutes from the current hour on, so only instants at the seed's end are compared.
    cache = SettledHoursCache()
    for now in (NOW, NOW + 1800):
        with engine.connect() as conn:
            plain = check_summaries(conn, now, 0.995)
            cached_cold = check_summaries(conn, now, 0.995, cache=cache)
            cached_warm = check_summaries(conn, now, 0.995, cache=cache)
        assert plain == cached_cold == cached_warm
        for summary in plain:
            expected = reference(hourly, [m for m in minutely if m["bucket_start"] <= now], summary.name, now)  # type: ignore[operator]
            for window in summary.windows:
                assert (window.count, window.failures) == expected[window.label]
            assert (summary.p50_ms, summary.p95_ms) == (expected["p50"], expected["p95"])


def test_cache_sees_a_late_hourly_bucket_within_the_fresh_hours(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(checks).values(
                name="late",
                kind="http",
                target="x",
                interval_s=60,
                tags=[],
                state="up",
                consecutive_failures=0,
                consecutive_successes=0,
                configured=True,
            )
        )
    cache = SettledHoursCache()
    with engine.connect() as conn:
        before = check_summaries(conn, NOW, 0.995, cache=cache)[0]
    assert before.window("24h").count == 0
    split = int(NOW // 3600) * 3600
    with engine.begin() as conn:
        conn.execute(
            insert(rollups_1h).values(
                check_name="late",
                bucket_start=split - 3600,
                count=60,
                failures=3,
                latency_sum_ms=1.0,
                latency_max_ms=1.0,
                latency_hist={"100": 60},
            )
        )
    with engine.connect() as conn:
        after = check_summaries(conn, NOW, 0.995, cache=cache)[0]
    assert (after.window("24h").count, after.window("24h").failures, after.p95_ms) == (60, 3, 100.0)


def test_histogram_merge_in_the_database_equals_merging_in_python(engine: Engine) -> None:
    seed_random(engine, NOW)
    with engine.connect() as conn:
        conditions = (rollups_1h.c.check_name.in_(NAMES), rollups_1h.c.bucket_start >= NOW - 10 * 86400)
        in_db = queries._hist_sums(conn, rollups_1h, *conditions)
        in_python = queries._hist_sums(conn, rollups_1h, *conditions, in_database=False)
    assert in_db == in_python and set(in_db) == set(NAMES)


@pytest.mark.parametrize(
    ("hist", "q", "expected"),
    [
        ({}, 0.5, None),
        ({10.0: 1}, 0.95, 10.0),
        ({10.0: 50, 100.0: 50}, 0.5, 10.0),
        ({10.0: 50, 100.0: 50}, 0.51, 100.0),
        ({10.0: 94, 1000.0: 6}, 0.95, 1000.0),
        ({float("inf"): 2, 5.0: 2}, 0.5, 5.0),
    ],
)
def test_quantile_is_the_bucket_bound_holding_the_rank(
    hist: dict[float, int], q: float, expected: float | None
) -> None:
    assert quantile_ms(hist, q) == expected


def test_error_budget() -> None:
    assert queries.error_budget_left(0, 0, 0.995) is None
    assert queries.error_budget_left(1000, 0, 0.995) == 1.0
    assert queries.error_budget_left(1000, 5, 0.995) == pytest.approx(0.0)
    assert queries.error_budget_left(1000, 10, 0.995) == pytest.approx(-1.0)
