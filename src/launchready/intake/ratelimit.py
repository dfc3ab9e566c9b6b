"""Per-key token buckets: a flood from one key is answered 429 and never slows the others."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class KeyRateLimiter:
    """``rate`` requests per second per key with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def acquire(self, key: str, now: float) -> float:
        """0 when the request may go on, else the seconds to wait before the next one is allowed."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max_keys:
                    # Keys are checked against the store before they get here, so this only bounds
                    # memory: forgetting the fullest buckets forgives no one who is being limited.
                    for stale in [k for k, b in self._buckets.items() if b.tokens >= self._burst - 1][:1000]:
                        del self._buckets[stale]
                bucket = self._buckets[key] = _Bucket(self._burst, now)
            bucket.tokens = min(self._burst, bucket.tokens + max(0.0, now - bucket.updated) * self._rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return max(1.0, math.ceil((1.0 - bucket.tokens) / self._rate))
