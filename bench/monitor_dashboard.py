"""Benchmark: dashboard pages with a year of rollups for 100 checks, on SQLite and PostgreSQL.

Run by hand:  .venv/bin/python bench/monitor_dashboard.py [--requests 200] [--stores sqlite,postgresql]
              [--minute-days 2] [--result-days 2]

Seeds, per store: 100 checks with a year of 1-hour rollups (876,000 rows), the last
``--minute-days`` of 1-minute rollups and ``--result-days`` of raw results (60 s interval, 1 %
failing), 40 incidents and a deploy twice a day for the year. The monitor keeps 1-minute rollups
90 days and raw results 14 days; the pages only ever read the current hour / last 24 h of those
by index range, so the default keeps seeding short; pass ``--minute-days 90 --result-days 14``
for the full retention (minutes of seeding, several GB on disk).

The app runs under uvicorn in a separate process (so the client does not share its GIL) and is
requested sequentially over real HTTP with a session cookie (API token for /metrics). Baseline,
measured in the same run: ``/healthz``, one trivial store round-trip through the same stack; each
page's p95 is printed with its ratio to that baseline. PostgreSQL is 127.0.0.1:5432 database
``test``, in a schema created for the run and dropped after.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text

from launchready.monitor.store.engine import open_store
from launchready.monitor.store.schema import (
    checks,
    deploys,
    heartbeats,
    metadata,
    pings,
    results,
    rollups_1h,
    rollups_1m,
    transitions,
    web_sessions,
)
from launchready.monitor.web.auth import add_api_token, add_user, sha256_hex

CHECKS = 100
HEARTBEATS = 20
BOUNDS_MS = (5, 10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000)
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHUNK = 20_000


def _hist(rng: random.Random, samples: int, typical_ms: float) -> tuple[dict[str, int], float, float]:
    counts: dict[str, int] = {}
    total = 0.0
    peak = 0.0
    for _ in range(min(samples, 12)):
        value = rng.lognormvariate(0, 0.5) * typical_ms
        bound = next((b for b in BOUNDS_MS if value <= b), BOUNDS_MS[-1])
        share = samples // 12 if samples >= 12 else 1
        counts[str(bound)] = counts.get(str(bound), 0) + share
        total += value * share
        peak = max(peak, value)
    return counts, total, peak


def _bulk(engine: Engine, table: object, rows: Iterator[dict[str, object]]) -> int:
    written = 0
    batch: list[dict[str, object]] = []
    with engine.begin() as conn:
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                conn.execute(insert(table), batch)  # type: ignore[arg-type]
                written += len(batch)
                batch = []
        if batch:
            conn.execute(insert(table), batch)  # type: ignore[arg-type]
            written += len(batch)
    return written


def seed(engine: Engine, now: float, minute_days: int, result_days: int) -> dict[str, int]:
    rng = random.Random(7)
    names = [f"check-{i:03d}" for i in range(CHECKS)]
    typical = {name: rng.uniform(20, 400) for name in names}
    counts: dict[str, int] = {}
    counts["checks"] = _bulk(
        engine,
        checks,
        (
            {
                "name": name,
                "kind": "http",
                "target": f"https://svc{i}.example.test/health",
                "interval_s": 60.0,
                "tags": ["bench"],
                "state": "down" if i % 17 == 0 else "up",
                "state_since": now - 3600,
                "consecutive_failures": 0,
                "consecutive_successes": 0,
                "last_result_at": now - 10,
                "last_reason": "[STATUS] == 200 failed: got 503" if i % 17 == 0 else None,
                "configured": True,
            }
            for i, name in enumerate(names)
        ),
    )
    hour_now = int(now // 3600) * 3600

    def hourly() -> Iterator[dict[str, object]]:
        for name in names:
            for hour in range(1, 365 * 24 + 1):
                hist, total, peak = _hist(rng, 60, typical[name])
                yield {
                    "check_name": name,
                    "bucket_start": hour_now - hour * 3600,
                    "count": 60,
                    "failures": 1 if rng.random() < 0.05 else 0,
                    "latency_sum_ms": total,
                    "latency_max_ms": peak,
                    "latency_hist": hist,
                }

    def minutely() -> Iterator[dict[str, object]]:
        minute_now = int(now // 60) * 60
        for name in names:
            for minute in range(0, minute_days * 1440):
                hist, total, peak = _hist(rng, 1, typical[name])
                yield {
                    "check_name": name,
                    "bucket_start": minute_now - minute * 60,
                    "count": 1,
                    "failures": 1 if rng.random() < 0.01 else 0,
                    "latency_sum_ms": total,
                    "latency_max_ms": peak,
                    "latency_hist": hist,
                }

    def raw_results() -> Iterator[dict[str, object]]:
        for name in names:
            for minute in range(0, result_days * 1440):
                failed = rng.random() < 0.01
                yield {
                    "check_name": name,
                    "region": "local",
                    "at": now - minute * 60,
                    "ok": not failed,
                    "latency_ms": typical[name],
                    "status_code": 503 if failed else 200,
                    "reason": "[STATUS] == 200 failed: got 503" if failed else None,
                    "evidence": "HTTP/1.1 503 Service Unavailable\n\nupstream timed out" if failed else None,
                }

    def flips() -> Iterator[dict[str, object]]:
        for name in names:
            for incident in range(40):
                start = now - (incident + 1) * 9 * 86400 + rng.uniform(0, 86400)
                for at, old, new in ((start, "up", "down"), (start + rng.uniform(60, 3600), "down", "up")):
                    yield {
                        "subject_kind": "check",
                        "subject_name": name,
                        "old_state": old,
                        "new_state": new,
                        "at": at,
                        "reason": "timeout" if new == "down" else None,
                        "idempotency_key": f"check:{uuid.uuid4().hex}",
                    }

    counts["rollups_1h"] = _bulk(engine, rollups_1h, hourly())
    counts["rollups_1m"] = _bulk(engine, rollups_1m, minutely())
    counts["results"] = _bulk(engine, results, raw_results())
    counts["transitions"] = _bulk(engine, transitions, flips())
    counts["deploys"] = _bulk(
        engine,
        deploys,
        (
            {
                "at": now - k * 43200 - 600,
                "environment": "production",
                "version": f"v{k}",
                "who": "ci",
                "source": "api",
                "note": None,
            }
            for k in range(730)
        ),
    )
    counts["heartbeats"] = _bulk(
        engine,
        heartbeats,
        (
            {
                "name": f"job-{i:02d}",
                "uuid": str(uuid.UUID(int=i + 1)),
                "period_s": 3600.0,
                "grace_s": 600.0,
                "state": "up",
                "state_since": now - 86400,
                "last_ping_at": now - 100,
                "last_start_at": now - 160,
                "last_duration_s": 60.0,
                "configured": True,
            }
            for i in range(HEARTBEATS)
        ),
    )
    counts["pings"] = _bulk(
        engine,
        pings,
        (
            {
                "heartbeat_name": f"job-{i:02d}",
                "at": now - k * 3600,
                "kind": "success",
                "exit_status": None,
                "rid": None,
                "method": "GET",
                "remote_addr": "127.0.0.1",
                "body": None,
                "duration_s": 55.0 + k % 10,
            }
            for i in range(HEARTBEATS)
            for k in range(24 * 14)
        ),
    )
    return counts


@contextmanager
def store(kind: str, workdir: Path) -> Iterator[tuple[str, Engine, dict[str, str]]]:
    """(url for the server process, engine, extra env) for a fresh store of ``kind``."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir}/bench-monitor.sqlite"
        engine = open_store(url)
        try:
            yield url, engine, {}
        finally:
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        metadata.create_all(engine)
        yield PG_URL, engine, {"BENCH_PG_SCHEMA": schema}
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def serve_forever(url: str, port: int) -> None:
    """The server process: the app on ``url`` under uvicorn."""
    import uvicorn

    from launchready.monitor.web import WebSettings, create_app

    schema = os.environ.get("BENCH_PG_SCHEMA")
    if schema:
        engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"}, pool_size=10)
    else:
        engine = open_store(url)
    uvicorn.run(create_app(engine, WebSettings()), host="127.0.0.1", port=port, log_level="warning")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, "--port", str(port)], env={**os.environ, **env}
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                probe.close()
                return server, port
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise SystemExit("the bench server did not start") from None
            time.sleep(0.2)


def measure(
    port: int, pages: list[tuple[str, str, dict[str, str]]], requests: int, warmup: int = 5
) -> dict[str, list[float]]:
    """Request every page in turn (round-robin, one kept-alive connection each), so load from
    elsewhere on the machine falls on all pages alike; the first 5 rounds warm up."""
    connections = {label: http.client.HTTPConnection("127.0.0.1", port, timeout=60) for label, _, _ in pages}
    timings: dict[str, list[float]] = {label: [] for label, _, _ in pages}
    try:
        for index in range(requests + warmup):
            for label, path, headers in pages:
                conn = connections[label]
                started = time.perf_counter()
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    raise SystemExit(f"GET {path}: HTTP {response.status}")
                if index >= warmup:
                    timings[label].append(elapsed * 1000)
    finally:
        for conn in connections.values():
            conn.close()
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def run_store(kind: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, store(kind, Path(tmp)) as (url, engine, env):
        now = time.time()
        started = time.perf_counter()
        counts = seed(engine, now, args.minute_days, args.result_days)
        # What autovacuum would have done to a year of rows: statistics, and for PostgreSQL the
        # visibility map that lets the covering index answer without visiting the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
        seeded_s = time.perf_counter() - started
        add_user(engine, "bench", "bench-password", now)
        cookie = "bench-session-" + uuid.uuid4().hex
        with engine.begin() as conn:
            conn.execute(
                insert(web_sessions).values(
                    id_hash=sha256_hex(cookie),
                    user_name="bench",
                    csrf_token="x",
                    created_at=now,
                    expires_at=now + 86400,
                )
            )
        token = add_api_token(engine, "bench", now)
        print(f"\n{kind}: seeded in {seeded_s:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        session = {"Cookie": f"lr_session={cookie}"}
        # Cold: the first overview after a start computes every check's settled hours (what
        # the first request of each hour pays); measured over a few fresh server processes.
        cold: list[float] = []
        for _ in range(args.cold_starts):
            server, port = start_server(url, env)
            try:
                cold.extend(measure(port, [("cold", "/", session)], 1, warmup=0)["cold"])
            finally:
                server.terminate()
                server.wait(timeout=30)
        server, port = start_server(url, env)
        try:
            bearer = {"Authorization": f"Bearer {token}"}
            pages = [
                ("baseline /healthz", "/healthz", {}),
                ("overview /", "/", session),
                ("check page 24h", "/checks/check-017", session),
                ("check page 7d", "/checks/check-042?range=7d", session),
                ("check page 30d", "/checks/check-042?range=30d", session),
                ("heartbeats", "/heartbeats", session),
                ("GET /api/v1/checks", "/api/v1/checks", bearer),
                ("GET /metrics", "/metrics", bearer),
            ]
            load = os.getloadavg()
            print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs")
            print(
                f"{'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'p95 / baseline':>15}   ({args.requests} requests each, round-robin)"
            )
            timings = measure(port, pages, args.requests)
            base = p95(timings[pages[0][0]])
            for label, _, _ in pages:
                high = p95(timings[label])
                print(f"{label:<22} {statistics.median(timings[label]):8.1f} {high:8.1f} {high / base:14.1f}x")
            print(
                f"overview, first request after start (settled-hours cache cold), {len(cold)} starts: "
                f"median {statistics.median(cold):.1f} ms, max {max(cold):.1f} ms"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--minute-days", type=int, default=2)
    parser.add_argument("--result-days", type=int, default=2)
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forever(args.serve, args.port)
        return
    print(
        f"monitor dashboard benchmark: {CHECKS} checks, a year of 1 h rollups, "
        f"{args.minute_days} d of 1 min rollups, {args.result_days} d of raw results"
    )
    for kind in args.stores.split(","):
        run_store(kind.strip(), args)


if __name__ == "__main__":
    main()
