"""The open-model, constant-arrival-rate load generator.

Request ``i`` is scheduled at ``start + i / rate`` whatever happened to the ones before it, and its
latency is measured from that scheduled time, not from when a connection got round to sending
it. A server that stalls for a second therefore shows a second of latency on every request that
should have gone out during the stall (as wrk2 and k6's arrival-rate executors report), instead
of the one slow request a closed-loop tool such as Locust sees: coordinated omission corrected
by construction.

The generator watches itself. Every request's life is split in two: the time it waited inside
the generator (scheduled -> written to the socket: a late timer, a busy event loop, or no free
connection in the pool) and its time on the wire (written -> response complete). When the wait
is more than a few milliseconds the latency measures the generator or its pool, not the server,
and ``health`` says which and what to change; its own thread's CPU share and its timer's lateness
are watched too. With the generator healthy, the server's latency is the wire time; the
open-model latency (from the scheduled time) stays the headline.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from launchready.perf.histogram import Histogram
from launchready.perf.http1 import AUTH_LOST, DoneCallback, Endpoint, Pending, Pool

# The timer wakes at least this often; requests due meanwhile are sent in one batch.
_TICK_S = 0.002
_CPU_SAMPLE_S = 0.5
# The generator's own thread using this share of a core means its numbers cannot be trusted.
CPU_BOUND_SHARE = 0.9
# The timer's own lateness (p99) that means the generator fell behind its schedule.
TIMER_LAG_BOUND_MS = 20.0
# A request waiting inside the generator longer than this (p99) means the run measured the
# generator: the larger of a fixed bound and a share of the tightest latency budget.
WAIT_BOUND_MS = 5.0
WAIT_BOUND_SHARE = 0.05
# Served below this share of the asked rate is called out.
SERVED_SHORT_SHARE = 0.9
# A full pool is the server's doing only below this CPU share of the generator ...
POOL_CPU_SHARE = 0.8
# ... and when connections are held on the wire this many times longer than the loop runs late.
POOL_WIRE_OVER_LAG = 2.0
# ... or, for a stall that held every connection, its slowest answers (p99) this many times longer.
STALL_WIRE_OVER_LAG = 5.0
# Waiting for a CPU this share of the time is worth naming as the cause.
STARVED_SHARE = 0.1


def wait_bound_ms(budget_ms: float | None) -> float:
    """The in-generator wait (p99) above which the run is generator- or pool-bound."""
    return max(WAIT_BOUND_MS, WAIT_BOUND_SHARE * budget_ms) if budget_ms else WAIT_BOUND_MS


@dataclass(frozen=True)
class LoadSettings:
    rate: float  # requests per second, all endpoints together
    duration_s: float  # measured part
    warmup_s: float = 0.0  # sent, not recorded
    connections: int = 64  # per pool, all worker processes together
    timeout_s: float = 10.0  # a request not done this long after its scheduled time is an error
    # Drained after the schedule ends: requests still in flight get this long before they count as errors.
    drain_s: float | None = None
    workers: int = 1  # processes, each sending its share of the schedule (perf/workers.py)


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
    # Written -> response complete, for every response (ok or not): the server's side of the latency.
    wire: Histogram = field(default_factory=Histogram)
    # Requests that found every connection of the pool busy, and how long they waited for one.
    pool_waited: int = 0
    pool_wait: Histogram = field(default_factory=Histogram)
    pool: str = ""  # the pool (dial address and host) its requests share

    def merge(self, other: EndpointStats) -> None:
        """Add another process's share of the same endpoint (histograms merged bucket by bucket)."""
        self.latency.merge(other.latency)
        self.wire.merge(other.wire)
        self.pool_wait.merge(other.pool_wait)
        self.ok += other.ok
        self.errors += other.errors
        self.bytes += other.bytes
        for key, count in other.statuses.items():
            self.statuses[key] = self.statuses.get(key, 0) + count
        for sample in other.error_samples:
            if len(self.error_samples) < 5 and sample not in self.error_samples:
                self.error_samples.append(sample)
        self.auth_lost += other.auth_lost
        self.login_wall += other.login_wall
        self.pool_waited += other.pool_waited

    @property
    def total(self) -> int:
        return self.ok + self.errors

    def error_statuses(self) -> dict[str, int]:
        """How the failed requests failed, most frequent first: each HTTP status of 400 and above,
        "no response" for connection errors and timeouts, "other" for the rest (e.g. a redirect
        to a login page counted as a lost session)."""
        out: dict[str, int] = {}
        for key, count in sorted(self.statuses.items(), key=lambda item: (-item[1], item[0])):
            if key == "error":
                out["no response"] = out.get("no response", 0) + count
            elif key.isdigit() and int(key) >= 400:
                out[key] = count
        rest = self.errors - sum(out.values())
        if rest > 0:
            out["other"] = rest
        return out

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
    # Share of each sample window the thread was runnable but waited for a CPU (Linux schedstat):
    # the machine, not the generator's own work, holding it back.
    starved_samples: list[float] = field(default_factory=list)
    timer_lag: Histogram = field(default_factory=Histogram)
    queued_max: int = 0
    connect_errors: int = 0
    # scheduled -> written to the socket (or -> given up, for requests never written), per request.
    wait: Histogram = field(default_factory=Histogram)
    unsolicited: int = 0  # responses that arrived with no request pending (connection killed)

    def merge(self, other: SelfWatch) -> None:
        # CPU samples stay shares of one core each: every process runs on its own core.
        self.cpu_samples.extend(other.cpu_samples)
        self.starved_samples.extend(other.starved_samples)
        self.timer_lag.merge(other.timer_lag)
        self.queued_max = max(self.queued_max, other.queued_max)
        self.connect_errors += other.connect_errors
        self.wait.merge(other.wait)
        self.unsolicited += other.unsolicited

    @property
    def cpu_max(self) -> float:
        return max(self.cpu_samples, default=0.0)

    @property
    def starved_mean(self) -> float:
        return sum(self.starved_samples) / len(self.starved_samples) if self.starved_samples else 0.0

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


@dataclass(frozen=True)
class PoolUse:
    """One connection pool's load: Little's law says how many connections the rate needed."""

    name: str
    connections: int
    requests: int
    waited: int
    wait_p99_ms: float
    wire_mean_ms: float
    wire_p99_ms: float
    needed: int  # rate through the pool x mean time on the wire, rounded up

    @property
    def too_small(self) -> bool:
        return self.needed > self.connections


@dataclass(frozen=True)
class Health:
    """Whether the latency measured the server: "healthy", "generator-bound" or "pool-bound"."""

    verdict: str
    bound_ms: float
    wait_p99_ms: float
    reason: str | None = None
    fix: str | None = None
    pools: tuple[PoolUse, ...] = ()
    note: str | None = None  # healthy, but worth knowing (connections all held by a stalling server)

    @property
    def healthy(self) -> bool:
        return self.verdict == "healthy"


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
    # Responses completed inside the measured window (whenever they were scheduled).
    served: int = 0
    # When request 0 was due (the warm-up's start): the date the reports show.
    started: datetime | None = None

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
    def asked_rate(self) -> float:
        return self.settings.rate

    @property
    def throughput(self) -> float:
        """Served: responses completed inside the measured window per second (not the rate asked)."""
        return self.served / self.settings.duration_s if self.settings.duration_s else 0.0

    @property
    def served_short(self) -> str | None:
        """The gap between the rate asked and the rate served, when it is worth saying."""
        asked = self.settings.rate
        if self.throughput >= SERVED_SHORT_SHARE * asked:
            return None
        return (
            f"served {self.throughput:,.0f} req/s of the {asked:,.0f} asked ({1 - self.throughput / asked:.0%} short)"
        )

    @property
    def wire(self) -> Histogram:
        """Time on the wire over every endpoint: the server's latency when the generator is healthy."""
        return Histogram.merged(e.wire for e in self.endpoints.values())

    def pools(self) -> list[PoolUse]:
        by_pool: dict[str, list[EndpointStats]] = {}
        for e in self.endpoints.values():
            by_pool.setdefault(e.pool, []).append(e)
        seconds = self.settings.duration_s or 1.0
        out = []
        for name, members in by_pool.items():
            wire = Histogram.merged(e.wire for e in members)
            requests = sum(e.total for e in members)
            # Little's law: connections busy on average = arrival rate x time each one is held.
            needed = math.ceil(requests / seconds * wire.mean_us / 1_000_000)
            out.append(
                PoolUse(
                    name,
                    self.settings.connections,
                    requests,
                    sum(e.pool_waited for e in members),
                    Histogram.merged(e.pool_wait for e in members).percentile(99) / 1000,
                    wire.mean_us / 1000,
                    wire.percentile(99) / 1000,
                    needed,
                )
            )
        return out

    def health(self, budget_ms: float | None = None) -> Health:
        """Generator-bound, pool-bound or healthy, from how long requests waited inside the generator."""
        bound = wait_bound_ms(budget_ms)
        w = self.watch
        wait_p99 = w.wait.percentile(99) / 1000
        pools = tuple(self.pools())
        waited = sum(p.waited for p in pools)
        wait_text = f"requests waited inside the generator up to {wait_p99:,.1f} ms (p99) before being written"
        more_processes = (
            "lower --rate, or spread the schedule over more processes with --workers N (one per free core), "
            "or run from a machine with free cores"
        )
        if w.bottleneck is not None:
            reason = w.bottleneck if wait_p99 <= bound else f"{w.bottleneck}; {wait_text}"
            return Health("generator-bound", bound, wait_p99, reason, more_processes, pools)
        if wait_p99 <= bound:
            return Health("healthy", bound, wait_p99, None, None, pools)
        loop_lag_ms = w.timer_lag.percentile(99) / 1000
        # Waits are the server's doing only when the server, not the generator's own loop, held the
        # connections: a busy or starved loop leaves answers unread, which looks like slow responses.
        punctual = loop_lag_ms <= bound and w.cpu_mean < POOL_CPU_SHARE
        waiting = [p for p in pools if p.waited]
        small = [p for p in waiting if p.too_small]
        # Too few connections: on average (Little's law) the server held each far longer than the loop ran late.
        if small and punctual and all(p.wire_mean_ms > POOL_WIRE_OVER_LAG * loop_lag_ms for p in small):
            p = max(small, key=lambda p: p.needed - p.connections)
            reason = (
                f"{wait_text}: the connection pool was full ({waited:,} requests waited for a connection, "
                f"p99 {p.wait_p99_ms:,.1f} ms); {p.needed} connections were needed by Little's law "
                f"({p.requests / (self.settings.duration_s or 1):,.0f} req/s x {p.wire_mean_ms:,.1f} ms on the wire) "
                f"and {p.connections} were allowed"
            )
            fix = (
                f"raise perf.connections to at least {math.ceil(p.needed * 1.25)} (Little's law plus a quarter "
                "for bursts), or lower --rate"
            )
            return Health("pool-bound", bound, wait_p99, reason, fix, pools)
        # Enough connections on average, all held at times by a server that stalled (its slowest answers
        # dwarf the loop's lateness): the requests would have waited at the server instead, and latency
        # counts from the scheduled time anyway.
        stalled = all(p.wire_p99_ms > STALL_WIRE_OVER_LAG * loop_lag_ms for p in waiting)
        if waiting and not small and punctual and stalled:
            note = (
                f"{waited:,} requests waited up to {wait_p99:,.1f} ms (p99) for a connection while the server held "
                "every one (answers up to "
                f"{max(p.wire_p99_ms for p in waiting):,.1f} ms on the wire, p99): the server's stall, counted in "
                "its latency"
            )
            return Health("healthy", bound, wait_p99, None, None, pools, note)
        queued = (
            f"; {waited:,} requests queued for a connection, held {max((p.wire_mean_ms for p in small), default=0):,.1f} ms "
            f"on average while the event loop ran {loop_lag_ms:,.1f} ms late (p99): the generator, not the server, held them"
            if small
            else ""
        )
        starved = (
            f", and waited for a CPU {w.starved_mean:.0%} of the time: other processes on this machine held it back"
            if w.starved_mean >= STARVED_SHARE
            else ""
        )
        why = (
            f"{wait_text} (bound {bound:g} ms); the generator could not keep to its schedule "
            f"(it ran {w.cpu_mean:.0%} of a core{starved}{queued})"
        )
        return Health("generator-bound", bound, wait_p99, why, more_processes, pools)

    def merge(self, other: LoadResult) -> None:
        """Add another process's share of the same run: histograms merge exactly, counts add."""
        for name, stats in other.endpoints.items():
            self.endpoints[name].merge(stats)
        self.overall.merge(other.overall)
        for mine, theirs in zip(self.per_second, other.per_second, strict=True):
            mine.merge(theirs)
        self.errors_per_second = [a + b for a, b in zip(self.errors_per_second, other.errors_per_second, strict=True)]
        self.elapsed_s = max(self.elapsed_s, other.elapsed_s)
        self.watch.merge(other.watch)
        self.scheduled += other.scheduled
        self.served += other.served
        if other.started is not None and (self.started is None or other.started < self.started):
            self.started = other.started


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
    share: tuple[int, int] = (0, 1),
    start_wall: float | None = None,
) -> LoadResult:
    """Run the schedule, or with ``share=(k, n)`` its k-th of n interleaved parts (requests k, k+n, ...).

    ``start_wall`` (a ``time.time()`` value) is when request 0 is due, so processes started apart
    keep one schedule; by default it is now. ``settings.connections`` is the pool size of this process.
    """
    if not endpoints:
        raise ValueError("no endpoints to load")
    if not (settings.rate > 0 and settings.duration_s > 0):
        raise ValueError("rate and duration must be positive")
    index, stride = share
    loop = asyncio.get_running_loop()
    cycle = _interleave(endpoints, weights or [1] * len(endpoints))
    cycle_len = len(cycle)
    stats = {e.name: EndpointStats(e.name, e.url, auth=e.auth, pool=_pool_name(e)) for e in endpoints}
    seconds = max(1, math.ceil(settings.duration_s))
    per_second = [Histogram() for _ in range(seconds)]
    errors_per_second = [0] * seconds
    overall = Histogram()
    watch = SelfWatch()
    wait = watch.wait
    interval = 1.0 / settings.rate
    warmup_n = round(settings.warmup_s * settings.rate)
    total_n = warmup_n + max(1, round(settings.duration_s * settings.rate))
    if start_wall is None:
        start = loop.time() + 0.05
        start_wall = time.time() + 0.05
    else:
        start = loop.time() + (start_wall - time.time())
    measure_start = start + warmup_n * interval
    measure_end = measure_start + settings.duration_s
    outstanding = 0
    served = 0

    def done(pending: Pending, status: int | None, size: int, error: str | None, now: float) -> None:
        nonlocal outstanding, served
        outstanding -= 1
        if status is not None and measure_start <= now < measure_end:
            served += 1
        scheduled = pending.scheduled
        if scheduled < measure_start:
            return
        entry = stats[pending.endpoint.name]
        sent = pending.sent
        # Never written (timed out waiting for a connection): it waited until it was given up.
        wait.record(int(((sent or now) - scheduled) * 1_000_000))
        if pending.queued:
            entry.pool_waited += 1
            entry.pool_wait.record(int(((sent or now) - pending.queued) * 1_000_000))
        if sent and status is not None:
            entry.wire.record(int((now - sent) * 1_000_000))
        second = min(seconds - 1, int(scheduled - measure_start))
        if error is None and status is not None and status < 400:
            entry.ok += 1
            entry.bytes += size
            latency_us = int((now - scheduled) * 1_000_000)
            entry.latency.record(latency_us)
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
    pools: dict[str, Pool] = {}
    for e in endpoints:
        name = _pool_name(e)
        if name not in pools:
            key = (e.dial[0], e.dial[1], e.host, e.tls)
            pools[name] = Pool(key, settings.connections, callback, ssl_context, min(settings.timeout_s, 10.0))
    pool_of = {e.name: pools[_pool_name(e)] for e in endpoints}
    cycle_pools = [(ep, pool_of[ep.name]) for ep in cycle]

    result = LoadResult(settings, stats, overall, per_second, errors_per_second, 0.0, watch, 0)
    result.started = datetime.fromtimestamp(start_wall, UTC)
    # This process's requests are the global ones numbered index, index + stride, ...
    sent_n = index
    mine = 0
    cpu_mark, wall_mark = time.thread_time(), loop.time()
    starved_mark = _run_queue_wait()
    next_expire = loop.time() + 0.05
    try:
        while sent_n < total_n:
            now = loop.time()
            due = start + sent_n * interval
            if now >= due:
                watch.timer_lag.record(int((now - due) * 1_000_000))
            while sent_n < total_n and due <= now:
                endpoint, pool = cycle_pools[sent_n % cycle_len]
                outstanding += 1
                pool.submit(Pending(endpoint, due), now)
                if sent_n >= warmup_n:
                    mine += 1
                sent_n += stride
                due = start + sent_n * interval
            if now >= next_expire:
                for pool in pools.values():
                    pool.expire(now, settings.timeout_s)
                next_expire = now + 0.05
            if now - wall_mark >= _CPU_SAMPLE_S:
                cpu = time.thread_time()
                if now > measure_start:
                    watch.cpu_samples.append((cpu - cpu_mark) / (now - wall_mark))
                starved = _run_queue_wait()
                if now > measure_start and starved is not None and starved_mark is not None:
                    watch.starved_samples.append(min(1.0, (starved - starved_mark) / (now - wall_mark)))
                starved_mark = starved
                if progress is not None and now > measure_start:
                    result.elapsed_s = now - measure_start
                    result.served = served
                    result.overall = Histogram.merged(e.latency for e in stats.values())
                    progress(min(1.0, (now - measure_start) / settings.duration_s), result)
                cpu_mark, wall_mark = cpu, now
            if sent_n < total_n:
                await asyncio.sleep(min(_TICK_S, max(0.0, due - loop.time())))
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
            watch.unsolicited += pool.stats.unsolicited
            pool.close()
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)
    # The overall histogram is the endpoints' merged (exact: the same buckets), not recorded twice.
    result.overall = Histogram.merged(e.latency for e in stats.values())
    result.elapsed_s = min(settings.duration_s, max(0.0, loop.time() - measure_start))
    result.scheduled = mine
    result.served = served
    return result


def _run_queue_wait() -> float | None:
    """Seconds this thread has waited for a CPU while runnable (Linux), None where unknown."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as fh:
            return int(fh.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _pool_name(endpoint: Endpoint) -> str:
    scheme = "https" if endpoint.tls else "http"
    address, port = endpoint.dial
    where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    return f"{scheme}://{endpoint.host} via {where}"
