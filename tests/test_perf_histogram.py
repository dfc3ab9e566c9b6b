"""The log-linear histogram: bucket precision, percentiles, merging."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from launchready.perf.histogram import RELATIVE_PRECISION, Histogram, bucket_bounds, bucket_of


@given(st.integers(min_value=0, max_value=10**12))
def test_every_value_falls_inside_its_bucket_within_precision(value: int) -> None:
    low, high = bucket_bounds(bucket_of(value))
    assert low <= value <= high
    assert high - low <= max(0, value * RELATIVE_PRECISION)


def test_buckets_are_contiguous() -> None:
    previous_high = -1
    for index in range(2000):
        low, high = bucket_bounds(index)
        assert low == previous_high + 1
        previous_high = high


def test_percentiles_of_a_known_distribution() -> None:
    h = Histogram()
    for value in range(1, 10001):  # 1..10000 us
        h.record(value)
    assert h.total == 10000 and h.min_us == 1 and h.max_us == 10000
    for p, exact in ((50, 5000), (90, 9000), (99, 9900)):
        assert exact <= h.percentile(p) <= exact * (1 + RELATIVE_PRECISION)
    assert h.percentile(100) == 10000
    assert h.percentile(0) == 1
    assert abs(h.mean_us - 5000.5) < 1e-9


def test_merge_equals_recording_everything() -> None:
    rng = random.Random(7)
    values = [rng.randint(0, 5_000_000) for _ in range(5000)]
    whole, a, b = Histogram(), Histogram(), Histogram()
    for i, v in enumerate(values):
        whole.record(v)
        (a if i % 2 else b).record(v)
    merged = Histogram.merged([a, b])
    assert merged.counts == whole.counts and merged.total == whole.total
    assert (merged.min_us, merged.max_us, merged.sum_us) == (whole.min_us, whole.max_us, whole.sum_us)


def test_distribution_ends_at_the_maximum() -> None:
    h = Histogram()
    for v in (100, 200, 300_000):
        h.record(v)
    points = list(h.distribution())
    assert points[-1] == (100.0, 300_000)
    assert Histogram().percentile(99) == 0
