"""A log-linear latency histogram in the spirit of HdrHistogram, small enough to own.

Values are integer microseconds. Below 2**SUB_BITS each value has its own bucket; above, every
power-of-two range is split into 2**(SUB_BITS-1) equal buckets, so any recorded value is known to
within 1/2**(SUB_BITS-1) (about 0.8 % with SUB_BITS = 8) at any magnitude, from 1 us to hours, in
a few hundred buckets. Recording is O(1) and merging adds counts, so per-endpoint and per-second
histograms cost little, and nothing is sampled away: the maximum and the tail are exact up to
that precision ("lossless" in the HDR sense, unlike reservoir sampling).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

SUB_BITS = 8
_SUB_COUNT = 1 << SUB_BITS
_HALF = _SUB_COUNT >> 1
RELATIVE_PRECISION = 1 / _HALF


def bucket_of(value: int) -> int:
    """The bucket index of a non-negative integer value."""
    if value < _SUB_COUNT:
        return value
    shift = value.bit_length() - SUB_BITS
    return _SUB_COUNT + (shift - 1) * _HALF + ((value >> shift) - _HALF)


def bucket_bounds(index: int) -> tuple[int, int]:
    """The smallest and largest value that fall in bucket ``index``."""
    if index < _SUB_COUNT:
        return index, index
    shift = (index - _SUB_COUNT) // _HALF + 1
    mantissa = (index - _SUB_COUNT) % _HALF + _HALF
    low = mantissa << shift
    return low, low + (1 << shift) - 1


@dataclass
class Histogram:
    """Counts per bucket plus the exact min, max and sum of what was recorded (microseconds)."""

    counts: dict[int, int] = field(default_factory=dict)
    total: int = 0
    min_us: int = 0
    max_us: int = 0
    sum_us: int = 0

    def record(self, value_us: int, count: int = 1) -> None:
        # On every response of the load generator: bucket_of inlined, attributes touched once.
        value_us = int(value_us)
        if value_us < _SUB_COUNT:
            if value_us < 0:
                value_us = 0
            index = value_us
        else:
            shift = value_us.bit_length() - SUB_BITS
            index = _SUB_COUNT + (shift - 1) * _HALF + ((value_us >> shift) - _HALF)
        counts = self.counts
        counts[index] = counts.get(index, 0) + count
        if value_us > self.max_us:
            self.max_us = value_us
        if value_us < self.min_us or not self.total:
            self.min_us = value_us
        self.total += count
        self.sum_us += value_us * count

    def merge(self, other: Histogram) -> None:
        if other.total == 0:
            return
        for index, count in other.counts.items():
            self.counts[index] = self.counts.get(index, 0) + count
        self.min_us = other.min_us if self.total == 0 else min(self.min_us, other.min_us)
        self.max_us = max(self.max_us, other.max_us)
        self.total += other.total
        self.sum_us += other.sum_us

    @classmethod
    def merged(cls, parts: Iterable[Histogram]) -> Histogram:
        out = cls()
        for part in parts:
            out.merge(part)
        return out

    @property
    def mean_us(self) -> float:
        return self.sum_us / self.total if self.total else 0.0

    def percentile(self, p: float) -> int:
        """The value at percentile ``p`` (0..100): the highest value of the bucket that reaches it.

        Reporting the bucket's upper bound (capped at the exact maximum) errs on the slow side, as
        HdrHistogram does: a budget is never passed because of rounding.
        """
        if self.total == 0:
            return 0
        if p >= 100:
            return self.max_us
        # The rank of the p-th percentile sample, 1-based; p = 0 is the minimum.
        rank = max(1, -(-self.total * p // 100)) if p > 0 else 1
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return max(self.min_us, min(bucket_bounds(index)[1], self.max_us))
        return self.max_us

    def distribution(self) -> Iterator[tuple[float, int]]:
        """(percentile reached, value) after each bucket, ascending: the percentile plot's points."""
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            yield 100.0 * seen / self.total, min(bucket_bounds(index)[1], self.max_us)
