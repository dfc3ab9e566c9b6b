"""The open-model, constant-arrival-rate load generator.

Request ``i`` is scheduled at ``start + i / rate`` whatever happened to the ones before it, and its
latency is measured from that scheduled time, not from when a connection got round to sending
it. A server that stalls for a second therefore shows a second of latency on every request that
should have gone out during the stall (as wrk2 and k6's arrival-rate executors report), instead
of the one slow request a closed-loop tool such as Locust sees: coordinated omission corrected
by construction.

The generator watches itself: its own thread's CPU time per wall second, and how late its timer
dispatches requests. When it is the bottleneck it says so, because its latency would then
measure the generator, not the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from launchready.perf.histogram import Histogram
from launchready.perf.http1 import AUTH_LOST, DoneCallback, Endpoint, Pending, Pool

# The timer wakes at least this often; requests due meanwhile are sent in one batch.
_TICK_S = 0.002
_CPU_SAMPLE_S = 0.5
# The generator's own thread using this share of a core means its numbers cannot be trusted.
CPU_BOUND_SHARE = 0.9
# The timer's own lateness (p99) that means the generator fell behind its schedule.
TIMER_LAG_BOUND_MS = 20.0


@dataclass(frozen=True)
class LoadSettings:
    rate: float  # requests per second, all endpoints together
    duration_s: float  # measured part
    warmup_s: float = 0.0  # sent, not recorded
    connections: int = 64  # per pool
    timeout_s: float = 10.0  # a request not done this long after its scheduled time is an error
    # Drained after the schedule ends: requests still in flight get this long before they count as errors.
    drain_s: float | None = None


@dataclass
class EndpointStats:
    name: str
    url: str
    latency: Histogram = field(default_factory=Histogram)
    ok: int = 0
    errors: int = 0
    bytes: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    auth: str | None = None  # how the requests were authenticated (masked), None = anonymous
    auth_lost: int = 0  # errors that were 401/403 or a redirect to a login page
    login_wall: int = 0  # anonymous requests answered 401/403 or sent to a login page

    @property
    def total(self) -> int:
        return self.ok + self.errors

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else 0.0

    @property
    def mean_bytes(self) -> float:
        return self.bytes / self.ok if self.ok else 0.0


@dataclass
class SelfWatch:
    """The generator's health: CPU share of one core per sample window, and timer lateness."""

    cpu_samples: list[float] = field(default_factory=list)
    timer_lag: Histogram = field(default_factory=Histogram)
    queued_max: int = 0
    connect_errors: int = 0

    @property
    def cpu_max(self) -> float:
        return max(self.cpu_samples, default=0.0)

    @property
    def cpu_mean(self) -> float:
        return sum(self.cpu_samples) / len(self.cpu_samples) if self.cpu_samples else 0.0

    @property
    def bottleneck(self) -> str | None:
        """Why the generator, not the server, limited the run; None when it kept up."""
        lag_ms = self.timer_lag.percentile(99) / 1000
        if self.cpu_mean >= CPU_BOUND_SHARE:
            return (
                f"the generator used {self.cpu_mean:.0%} of a CPU core on average: its latency figures "
                "include its own queueing; lower the rate or run it on a machine with a free core"
            )
        if lag_ms > TIMER_LAG_BOUND_MS:
            return (
                f"the generator's timer ran {lag_ms:.0f} ms late (p99): it could not keep to the schedule; "
                "lower the rate or free the machine's CPU"
            )
        return None


@dataclass
class LoadResult:
    settings: LoadSettings
    endpoints: dict[str, EndpointStats]
    overall: Histogram
    # One histogram per measured second (index 0 = the first second after the warm-up).
    per_second: list[Histogram]
    errors_per_second: list[int]
    elapsed_s: float
    watch: SelfWatch
    scheduled: int

    @property
    def ok(self) -> int:
        return sum(e.ok for e in self.endpoints.values())

    @property
    def errors(self) -> int:
        return sum(e.errors for e in self.endpoints.values())

    @property
    def total(self) -> int:
        return self.ok + self.errors

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else 0.0

    @property
    def throughput(self) -> float:
        return self.total / self.settings.duration_s if self.settings.duration_s else 0.0


Progress = Callable[[float, LoadResult], None]


def _interleave(endpoints: Sequence[Endpoint], weights: Sequence[int]) -> list[Endpoint]:
    """A smooth weighted round-robin cycle (weights 3:1 -> a a b a, not a a a b)."""
    cycle: list[Endpoint] = []
    current = [0] * len(endpoints)
    total = sum(weights)
    for _ in range(total):
        for i, w in enumerate(weights):
            current[i] += w
        best = max(range(len(endpoints)), key=lambda i: current[i])
        current[best] -= total
        cycle.append(endpoints[best])
    return cycle


async def run_load(
    endpoints: Sequence[Endpoint],
    settings: LoadSettings,
    *,
    weights: Sequence[int] | None = None,
    ssl_context: ssl.SSLContext | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    if not endpoints:
        raise ValueError("no endpoints to load")
    if not (settings.rate > 0 and settings.duration_s > 0):
        raise ValueError("rate and duration must be positive")
    loop = asyncio.get_running_loop()
    cycle = _interleave(endpoints, weights or [1] * len(endpoints))
    stats = {e.name: EndpointStats(e.name, e.url, auth=e.auth) for e in endpoints}
    seconds = max(1, math.ceil(settings.duration_s))
    per_second = [Histogram() for _ in range(seconds)]
    errors_per_second = [0] * seconds
    overall = Histogram()
    watch = SelfWatch()
    interval = 1.0 / settings.rate
    warmup_n = round(settings.warmup_s * settings.rate)
    total_n = warmup_n + max(1, round(settings.duration_s * settings.rate))
    start = loop.time() + 0.05
    measure_start = start + warmup_n * interval
    outstanding = 0

    def done(pending: Pending, status: int | None, size: int, error: str | None, now: float) -> None:
        nonlocal outstanding
        outstanding -= 1
        if pending.scheduled < measure_start:
            return
        entry = stats[pending.endpoint.name]
        second = min(seconds - 1, int(pending.scheduled - measure_start))
        if error is None and status is not None and status < 400:
            entry.ok += 1
            entry.bytes += size
            latency_us = int((now - pending.scheduled) * 1_000_000)
            entry.latency.record(latency_us)
            overall.record(latency_us)
            per_second[second].record(latency_us)
        else:
            entry.errors += 1
            errors_per_second[second] += 1
            if error is not None and error.startswith(AUTH_LOST):
                entry.auth_lost += 1
            why = error or f"HTTP {status}"
            if len(entry.error_samples) < 5 and why not in entry.error_samples:
                entry.error_samples.append(why)
        if pending.login_wall:
            entry.login_wall += 1
        key = str(status) if status is not None else "error"
        entry.statuses[key] = entry.statuses.get(key, 0) + 1

    callback: DoneCallback = done
    pools: dict[tuple[str, int, str, bool], Pool] = {}
    for e in endpoints:
        key = (e.dial[0], e.dial[1], e.host, e.tls)
        if key not in pools:
            pools[key] = Pool(key, settings.connections, callback, ssl_context, min(settings.timeout_s, 10.0))
    pool_of = {e.name: pools[(e.dial[0], e.dial[1], e.host, e.tls)] for e in endpoints}

    result = LoadResult(settings, stats, overall, per_second, errors_per_second, 0.0, watch, total_n - warmup_n)
    sent = 0
    cpu_mark, wall_mark = time.thread_time(), loop.time()
    next_expire = loop.time() + 0.05
    try:
        while sent < total_n:
            now = loop.time()
            if now >= start + sent * interval:
                watch.timer_lag.record(int((now - (start + sent * interval)) * 1_000_000))
            while sent < total_n and start + sent * interval <= now:
                endpoint = cycle[sent % len(cycle)]
                outstanding += 1
                pool_of[endpoint.name].submit(Pending(endpoint, start + sent * interval))
                sent += 1
            if now >= next_expire:
                for pool in pools.values():
                    pool.expire(now, settings.timeout_s)
                next_expire = now + 0.05
            if now - wall_mark >= _CPU_SAMPLE_S:
                cpu = time.thread_time()
                if now > measure_start:
                    watch.cpu_samples.append((cpu - cpu_mark) / (now - wall_mark))
                if progress is not None and now > measure_start:
                    result.elapsed_s = now - measure_start
                    progress(min(1.0, (now - measure_start) / settings.duration_s), result)
                cpu_mark, wall_mark = cpu, now
            if sent < total_n:
                await asyncio.sleep(min(_TICK_S, max(0.0, start + sent * interval - loop.time())))
        drain_s = settings.drain_s if settings.drain_s is not None else settings.timeout_s
        deadline = loop.time() + drain_s
        while outstanding > 0 and loop.time() < deadline:
            for pool in pools.values():
                pool.expire(loop.time(), settings.timeout_s)
            await asyncio.sleep(0.01)
        now = loop.time()
        for pool in pools.values():
            pool.expire(now, 0.0)  # anything left counts as an error, not as silence
    finally:
        for pool in pools.values():
            watch.queued_max = max(watch.queued_max, pool.stats.queued_max)
            watch.connect_errors += pool.stats.connect_errors
            pool.close()
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)
    result.elapsed_s = min(settings.duration_s, max(0.0, loop.time() - measure_start))
    return result
