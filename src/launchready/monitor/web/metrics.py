"""``GET /metrics``: a Prometheus collector that reads the store on every scrape.

``launchready_check_latency_seconds`` is a true counter-backed histogram: the collector keeps
running totals and on each scrape adds only the 1-minute rollups closed since the previous one
(a bucket counts once it is ``SETTLE_S`` old, so a late result still lands in it first). Totals
start with the hour before the first scrape and restart with the process, which Prometheus reads
as an ordinary counter reset.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from launchready.monitor.web.queries import LatencyTotals, add_minute_rollups, metrics_snapshot

SETTLE_S = 120
FIRST_LOOKBACK_S = 3600


def _le(bound_ms: float) -> str:
    return "+Inf" if math.isinf(bound_ms) else repr(bound_ms / 1000.0)


class StoreCollector(Collector):
    def __init__(self, engine: Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock
        self._lock = threading.Lock()
        self._totals: dict[str, LatencyTotals] = {}
        self._counted_until: int | None = None

    def collect(self) -> Iterable[Metric]:
        now = self._clock()
        with self._lock, self._engine.connect() as conn:
            snapshot = metrics_snapshot(conn)
            names = [name for name, _ in snapshot.check_states]
            settled = int((now - SETTLE_S) // 60) * 60
            start = self._counted_until if self._counted_until is not None else settled - FIRST_LOOKBACK_S
            if settled > start and names:
                add_minute_rollups(conn, self._totals, start, settled, names)
            self._counted_until = max(start, settled)
            totals = {name: self._totals.get(name, LatencyTotals()) for name in names}

        up = GaugeMetricFamily(
            "launchready_check_up",
            "1 when the check is up, 0 when down (absent while new or paused).",
            labels=["check"],
        )
        for name, state in snapshot.check_states:
            if state in ("up", "down"):
                up.add_metric([name], 1.0 if state == "up" else 0.0)
        yield up

        latency = HistogramMetricFamily(
            "launchready_check_latency_seconds", "Latency of each check's probes.", labels=["check"]
        )
        for name, total in totals.items():
            cumulative = 0
            buckets: list[tuple[str, float]] = []
            for bound in sorted(b for b in total.hist if not math.isinf(b)):
                cumulative += total.hist[bound]
                buckets.append((_le(bound), float(cumulative)))
            buckets.append(("+Inf", float(sum(total.hist.values()))))
            latency.add_metric([name], buckets, total.sum_ms / 1000.0)
        yield latency

        last_ping = GaugeMetricFamily(
            "launchready_heartbeat_last_ping_timestamp_seconds",
            "When each heartbeat last reported a finished run (Unix time).",
            labels=["heartbeat"],
        )
        for name, at in snapshot.heartbeat_last_pings:
            last_ping.add_metric([name], at)
        yield last_ping
