"""Benchmark: the monitor's scheduler running HTTP checks against a loopback server.

Run by hand:  .venv/bin/python bench/monitor_scheduler.py [--checks 300] [--interval 1] [--seconds 20] [--store]
              (add --profile to print where the scheduler process spends its CPU)

The server runs in its own process (nginx when installed, else a small aiohttp server), so the
scheduler's process is the one core being measured. Two numbers, each against a baseline
measured in the same run:

- throughput: completed checks per minute over the measured window, against the 10,000/min
  target, with the CPU seconds the scheduler process spent per check;
- latency: the latency the checks record, against a reference of the same GET requests sent
  with a bare aiohttp client, one at a time (what wrk measures with one connection), in its own
  process during the same window, p50/p95.
  The difference is what the monitor adds (HttpProbe, condition evaluation, scheduling delay
  inside the request window).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from launchready.config.sections.monitor import MonitorCheck, MonitorConfig
from launchready.core.net import NetSettings
from launchready.monitor.scheduler import Scheduler
from launchready.monitor.store.engine import open_store
from launchready.monitor.store.repository import ResultRecord

BODY = b'{"status": "ok"}'


def _aiohttp_server(port_out: multiprocessing.connection.Connection) -> None:
    from aiohttp import web

    async def health(_: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/health", health)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        port_out.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


def start_server(workdir: Path) -> tuple[int, str, object]:
    """(port, what, handle to stop) — nginx when installed, else aiohttp in a child process."""
    nginx = shutil.which("nginx")
    if nginx:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        (workdir / "logs").mkdir(exist_ok=True)
        conf = workdir / "nginx.conf"
        body = BODY.decode()
        conf.write_text(
            "worker_processes 1; daemon off; pid nginx.pid; error_log stderr error;\n"
            "events { worker_connections 4096; }\n"
            f"http {{ access_log off; server {{ listen 127.0.0.1:{port};\n"
            f"  location /health {{ default_type application/json; return 200 '{body}'; }} }} }}\n",
            encoding="utf-8",
        )
        process = subprocess.Popen([nginx, "-p", str(workdir), "-c", str(conf)])
        time.sleep(0.5)
        return port, "nginx", process
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.Process(target=_aiohttp_server, args=(send,), daemon=True)
    child.start()
    return int(receive.recv()), "aiohttp (nginx is not installed)", child


def stop_server(handle: object) -> None:
    if isinstance(handle, subprocess.Popen):
        handle.terminate()
        handle.wait(timeout=10)
    elif isinstance(handle, multiprocessing.Process):
        handle.terminate()
        handle.join(timeout=10)


async def reference_latencies(url: str, seconds: float, pause: float) -> list[float]:
    """The same GET, sequential, on one kept-alive connection, with a bare aiohttp client."""
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(pause)
    return latencies


async def _burst(url: str, count: int) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        for _ in range(count):
            async with session.get(url) as response:
                await response.read()


def _reference_process(url: str, seconds: float, out: multiprocessing.connection.Connection) -> None:
    # CPU of a bare GET: a burst before the window (no pacing timers in the figure).
    cpu = time.process_time()
    asyncio.run(_burst(url, 1000))
    per_get = (time.process_time() - cpu) / 1000
    out.send((asyncio.run(reference_latencies(url, seconds, 0.01)), per_get))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run_scheduler(
    url: str, checks: int, interval: float, seconds: float, store: Path | None
) -> tuple[int, float, float, list[float]]:
    """(checks completed in the window, window seconds, CPU seconds, latencies ms)."""
    config = MonitorConfig(
        checks=tuple(
            MonitorCheck(
                name=f"c{i}", url=url, interval=interval, conditions=("[STATUS] == 200", "[BODY].status == ok")
            )
            for i in range(checks)
        )
    )
    engine = open_store(f"sqlite:///{store}") if store is not None else None
    latencies: list[float] = []
    window = {"open": False}

    def on_result(record: ResultRecord) -> None:
        if window["open"] and record.latency_ms is not None:
            latencies.append(record.latency_ms)
            if not record.ok:
                raise SystemExit(f"a check failed: {record.reason}")

    scheduler = Scheduler(config, engine, NetSettings(timeout=5.0), lambda *_: (), on_result=on_result)
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(interval + 1.0)  # every check has started (spread over one interval)
    window["open"] = True
    runs_before, cpu_before, started = sum(scheduler.runs.values()), time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    runs = sum(scheduler.runs.values()) - runs_before
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    window["open"] = False
    scheduler.stop()
    await task
    if engine is not None:
        engine.dispose()
    return runs, elapsed, cpu, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--store", action="store_true", help="write results to a SQLite store (as serve does)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    import logging

    logging.getLogger("launchready.monitor").setLevel(logging.ERROR)  # 300 "new -> up" lines are noise here
    if args.seconds > 120 or args.checks > 5000:
        sys.exit("bounded: at most 120 seconds and 5000 checks")

    with tempfile.TemporaryDirectory() as tmp:
        port, what, handle = start_server(Path(tmp))
        url = f"http://127.0.0.1:{port}/health"
        try:
            # The reference runs in its own process during the measured window, so both see the
            # same machine (other processes' load on shared cores shows in both).
            receive, send = multiprocessing.Pipe(duplex=False)
            reference_process = multiprocessing.Process(
                target=_reference_process, args=(url, args.seconds + args.interval + 1.0, send), daemon=True
            )
            reference_process.start()
            store = Path(tmp) / "monitor.sqlite" if args.store else None
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            runs, elapsed, cpu, latencies = asyncio.run(
                run_scheduler(url, args.checks, args.interval, args.seconds, store)
            )
            if profiler:
                profiler.disable()
            reference, reference_cpu_per_get = receive.recv()
            reference_process.join(timeout=10)
        finally:
            stop_server(handle)

    per_minute = runs / elapsed * 60
    scheduled = args.checks / args.interval * 60
    print(f"server: {what}; {args.checks} checks every {args.interval:g}s for {elapsed:.1f}s; store: {bool(store)}")
    print(
        f"throughput: {per_minute:,.0f} checks/min (scheduled {scheduled:,.0f}/min); vs target 10,000/min: "
        f"{per_minute / 10000:.2f}x"
    )
    print(
        f"CPU: {cpu:.2f}s in {elapsed:.1f}s ({cpu / elapsed:.0%} of one core), {cpu / max(runs, 1) * 1e6:.0f} µs per check"
        f" -> one core would run ~{max(runs, 1) / cpu * 60:,.0f} checks/min"
    )
    bare = reference_cpu_per_get * 1e6
    print(
        f"where the time goes: a bare aiohttp GET costs {bare:.0f} µs of CPU (reference process); the monitor "
        f"adds {cpu / max(runs, 1) * 1e6 - bare:.0f} µs per check (HttpProbe, conditions, state, scheduling"
        + (", store writes)" if store else ")")
    )
    ref50, ref95 = statistics.median(reference), percentile(reference, 0.95)
    mon50, mon95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(f"latency reference (bare aiohttp, 1 conn, same window, own process): p50 {ref50:.2f} ms, p95 {ref95:.2f} ms")
    print(f"latency recorded by checks:                                   p50 {mon50:.2f} ms, p95 {mon95:.2f} ms")
    print(
        f"ratio p50 {mon50 / ref50:.2f}x (+{mon50 - ref50:.2f} ms), p95 {mon95 / ref95:.2f}x (+{mon95 - ref95:.2f} ms)"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
