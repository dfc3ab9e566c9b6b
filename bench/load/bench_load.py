"""Load generators compared like with like: what the server served, and what the client spent.

    .venv/bin/python bench/load/bench_load.py [--repeats 3] [--window 5] [--warmup 2]
        [--rates 20000,25000,30000,35000,40000] [--locust /tmp/venv/bin/locust]
        [--workers 2 --workers-rates 30000,40000,50000] [--no-stall]

Needs (by hand, not project dependencies): nginx with stub_status and wrk (Debian packages
nginx-light and wrk); Locust optionally, from PyPI into a separate venv (pass its `locust`).

Every tool is measured the same way:
- the server is nginx (`return 200`, one worker pinned to CPU 1); the client is pinned to CPU 0;
- throughput is what the **server** counted (stub_status) over a fixed window that starts a
  warm-up after the server saw the client's first requests, so start-up costs nobody anything;
- client CPU is read from /proc for the **whole client process tree** (every thread and worker
  process, user + system) over the same window;
- launchready runs through its CLI (`launchready load --format json`), as a user would;
- each tool's **maximum sustainable rate**: closed-loop tools (wrk, Locust) run flat out, and
  launchready (open model) climbs the --rates ladder; a rate counts as sustained when the server
  served at least 97 % of it, nothing failed, and launchready's own report called the run healthy;
- tools and repeats are interleaved (A B C A B C ...) so a noisy neighbour hits all of them,
  and every figure is the median with its range over the repeats.

Then the stall test: a server that pauses 1 s every 10 s, loaded at 200 req/s for 20 s.
Expected for a coordinated-omission-correct tool (wrk2's model): 10 % of requests wait uniformly
0..1 s, so p95 ~ 500 ms, p99 ~ 900 ms, max ~ 1000 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
LAUNCHREADY = [PY, "-m", "launchready"]
CLIENT_CPU, SERVER_CPU = "0", "1"
CONNECTIONS = 50
SUSTAINED_SHARE = 0.97
STALL_RATE = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


# -- the server and its count ------------------------------------------------------------------


def start_nginx(workdir: Path, port: int, status_port: int) -> subprocess.Popen[bytes]:
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1; daemon off; pid {workdir}/nginx.pid; error_log {workdir}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 10000000; keepalive_timeout 60;
  client_body_temp_path {workdir}; proxy_temp_path {workdir}; fastcgi_temp_path {workdir};
  uwsgi_temp_path {workdir}; scgi_temp_path {workdir};
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }}
  server {{ listen 127.0.0.1:{status_port}; location / {{ stub_status; }} }} }}
"""
    )
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-c", str(conf), "-p", str(workdir)])
    wait_port(port)
    wait_port(status_port)
    return proc


def served(status_port: int) -> int:
    """Requests nginx has handled so far (stub_status counts its own status requests too: one each)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{status_port}/", timeout=5) as response:
        text = response.read().decode()
    return int(text.splitlines()[2].split()[2])


# -- the client's CPU, whole process tree --------------------------------------------------------


def _tree(pid: int) -> list[int]:
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            out += _tree(int(child))
    return out


def tree_cpu(pid: int) -> float:
    """User + system seconds of ``pid`` and every live descendant (threads included: /proc/PID/stat sums them)."""
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


@dataclass(frozen=True)
class Window:
    rate: float  # requests per second the server served in the window
    cpu: float  # client CPU seconds per wall second in the window (1.0 = one full core)
    output: str

    @property
    def per_cpu_second(self) -> float:
        return self.rate / self.cpu if self.cpu else 0.0


def measure(argv: list[str], status_port: int, warmup: float, window: float, timeout: float) -> Window:
    """Start the client, wait for its traffic, skip the warm-up, then count server requests and client CPU."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = served(status_port)
        deadline = time.monotonic() + 60
        polls = 0
        while True:
            polls += 1
            # Each status request counts itself: more than those means the client has started.
            if served(status_port) - base - polls > 10:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{argv[0]} sent nothing: {proc.communicate()[0][-500:]}")
            time.sleep(0.05)
        time.sleep(warmup)
        count0, cpu0, t0 = served(status_port), tree_cpu(proc.pid), time.monotonic()
        time.sleep(window)
        count1, cpu1, t1 = served(status_port), tree_cpu(proc.pid), time.monotonic()
        output, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Window((count1 - count0 - 1) / (t1 - t0), (cpu1 - cpu0) / (t1 - t0), output)


# -- the clients ----------------------------------------------------------------------------------


def launchready_config(workdir: Path, port: int) -> Path:
    path = workdir / "launchready.toml"
    path.write_text(
        f"""[environments.bench]
base_url = "http://127.0.0.1:{port}"

[perf]
max_rate = 1000000.0
max_duration_s = 600.0
connections = {CONNECTIONS}
endpoints = [{{ name = "root", path = "/" }}]
""",
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class LaunchreadyRun:
    window: Window
    asked: float
    verdict: str
    errors: int
    report: dict[str, object]

    @property
    def sustained(self) -> bool:
        return self.verdict == "healthy" and self.errors == 0 and self.window.rate >= SUSTAINED_SHARE * self.asked


def launchready(
    config: Path, status_port: int, rate: float, warmup: float, window: float, workers: int = 1, cpus: str = CLIENT_CPU
) -> LaunchreadyRun:
    duration = window + 2.0  # the window sits inside the measured part, with a margin at its end
    argv = [
        "taskset",
        "-c",
        cpus,
        *LAUNCHREADY,
        "load",
        "-c",
        str(config),
        "--rate",
        f"{rate:g}",
        "--warmup",
        f"{warmup:g}",
        "--duration",
        f"{duration:g}",
        "--workers",
        str(workers),
        "--format",
        "json",
        "-o",
        str(config.with_name("report.json")),
        "-q",
    ]
    w = measure(argv, status_port, warmup, window, timeout=duration + warmup + 60)
    try:
        report = json.loads(config.with_name("report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SystemExit(f"launchready wrote no report: {w.output[-500:]}") from None
    config.with_name("report.json").unlink()
    return LaunchreadyRun(w, rate, report["health"]["verdict"], report["overall"]["errors"], report)


def wrk(url: str, status_port: int, warmup: float, window: float) -> Window:
    seconds = int(warmup + window + 3)
    argv = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url]
    return measure(argv, status_port, warmup, window, timeout=seconds + 30)


def locust(binary: str, url: str, status_port: int, warmup: float, window: float) -> Window:
    seconds = int(warmup + window + 4)
    argv = [
        "taskset",
        "-c",
        CLIENT_CPU,
        binary,
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "-u",
        str(CONNECTIONS),
        "-r",
        str(CONNECTIONS),
        "-t",
        f"{seconds}s",
        "--host",
        url.rstrip("/"),  # Locust sends nothing to a host with a trailing slash
        "--only-summary",
        "--loglevel",
        "ERROR",
    ]
    return measure(argv, status_port, warmup, window, timeout=seconds + 30)


# -- reporting ------------------------------------------------------------------------------------


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    if not values:
        return "-"
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}..{fmt.format(max(values))})"


def max_sustainable(
    config: Path, status_port: int, rates: list[float], warmup: float, window: float, workers: int, cpus: str
) -> tuple[float, Window | None, list[str]]:
    """The highest rate of the ladder launchready sustained (climbing until one fails), and its window."""
    best, best_window, notes = 0.0, None, []
    for rate in rates:
        run = launchready(config, status_port, rate, warmup, window, workers, cpus)
        notes.append(
            f"{rate:,.0f} asked: served {run.window.rate:,.0f}, client CPU {run.window.cpu:.0%} "
            f"({run.window.per_cpu_second:,.0f} per CPU-second), {run.verdict}, {run.errors} errors"
        )
        if not run.sustained:
            break
        best, best_window = rate, run.window
    return best, best_window, notes


def stall(args: argparse.Namespace, workdir: Path) -> None:
    port = free_port()
    server = subprocess.Popen(["taskset", "-c", SERVER_CPU, PY, str(HERE / "stall_server.py"), str(port)])
    try:
        wait_port(port)
        config = launchready_config(workdir, port)
        out = subprocess.run(
            [
                "taskset",
                "-c",
                CLIENT_CPU,
                *LAUNCHREADY,
                "load",
                "-c",
                str(config),
                "--rate",
                str(STALL_RATE),
                "--duration",
                "20",
                "--warmup",
                "0",
                "--format",
                "json",
                "-q",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        report = json.loads(out)
        latency = report["overall"]["latency_ms"]
        wrk_out = subprocess.run(
            [
                "taskset",
                "-c",
                CLIENT_CPU,
                "wrk",
                "-t1",
                f"-c{CONNECTIONS}",
                "-d20s",
                "--latency",
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.terminate()
        server.wait()
    p99 = re.search(r"99%\s+(\S+)", wrk_out)
    print(f"stall test (1 s pause every 10 s, {STALL_RATE} req/s for 20 s, launchready through its CLI):")
    print("  expected (wrk2 model): p50 ~ base, p95 ~ 500 ms, p99 ~ 900 ms, max ~ 1000 ms")
    print(
        f"  launchready: p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms, p99 {latency['p99']:.1f} ms, "
        f"max {latency['max']:.1f} ms; health {report['health']['verdict']}"
    )
    print(
        f"  wrk (closed loop) p99: {p99.group(1) if p99 else '?'} (it sends less during a stall, so its tail is short)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds after the first request, not measured")
    parser.add_argument("--rates", default="20000,25000,30000,35000,40000", help="launchready's ladder, req/s")
    parser.add_argument("--locust", default=None, help="a locust executable (from a venv outside the project)")
    parser.add_argument("--workers", type=int, default=0, help="also measure launchready --workers N on both cores")
    parser.add_argument("--workers-rates", default="30000,40000,50000,60000", help="the --workers ladder, req/s")
    parser.add_argument("--no-stall", action="store_true")
    args = parser.parse_args()
    for tool in ("nginx", "wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install nginx-light wrk util-linux)")
    rates = [float(r) for r in args.rates.split(",")]
    worker_rates = [float(r) for r in args.workers_rates.split(",")]
    load_average = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port, status_port = free_port(), free_port()
        config = launchready_config(workdir, port)
        url = f"http://127.0.0.1:{port}/"
        nginx = start_nginx(workdir, port, status_port)
        results: dict[str, list[Window]] = {}
        ladders: list[list[str]] = []
        best_rates: list[float] = []
        scaled: list[float] = []
        tools: list[tuple[str, Callable[[], Window | None]]] = []

        def ours() -> Window | None:
            best, window, notes = max_sustainable(config, status_port, rates, args.warmup, args.window, 1, CLIENT_CPU)
            best_rates.append(best)
            ladders.append(notes)
            return window

        tools.append(("launchready", ours))
        tools.append(("wrk -t1", lambda: wrk(url, status_port, args.warmup, args.window)))
        if args.locust:
            binary = args.locust
            tools.append(("locust FastHttpUser", lambda: locust(binary, url, status_port, args.warmup, args.window)))
        if args.workers > 1:
            workers = args.workers

            def parallel() -> Window | None:
                # Both cores for the client (nginx shares CPU 1): how far the processes scale here.
                best, window, notes = max_sustainable(
                    config, status_port, worker_rates, args.warmup, args.window, workers, "0-1"
                )
                scaled.append(best)
                ladders.append([f"--workers {workers}: {n}" for n in notes])
                return window

            tools.append((f"launchready --workers {args.workers}", parallel))
        try:
            for _ in range(args.repeats):
                for name, run in tools:
                    window = run()
                    if window is not None:
                        results.setdefault(name, []).append(window)
        finally:
            nginx.terminate()
            nginx.wait()
        print(
            f"nginx `return 200` on loopback, {CONNECTIONS} connections, client on CPU {CLIENT_CPU}, server on CPU "
            f"{SERVER_CPU}; {args.repeats} interleaved repeats, {args.window:g} s windows after {args.warmup:g} s; "
            f"load average at start {load_average[0]:.2f} {load_average[1]:.2f} {load_average[2]:.2f}"
        )
        print("median (min..max) over repeats; served = counted by nginx; CPU = whole client process tree")
        for name, windows in results.items():
            print(
                f"  {name:28} served {spread([w.rate for w in windows]):>26} req/s   client CPU "
                f"{spread([w.cpu * 100 for w in windows], '{:.0f}'):>14} %   per CPU-second "
                f"{spread([w.per_cpu_second for w in windows]):>26}"
            )
        if best_rates:
            print(f"  launchready max sustainable rate (one core): {spread(best_rates)} req/s")
        if scaled:
            print(f"  launchready --workers {args.workers} max sustainable rate: {spread(scaled)} req/s")
        ours_pcs = [w.per_cpu_second for w in results.get("launchready", [])]
        for name, windows in results.items():
            if name != "launchready" and ours_pcs:
                theirs = statistics.median(w.per_cpu_second for w in windows)
                print(f"  launchready / {name}: {statistics.median(ours_pcs) / theirs:.2f}x per CPU-second")
        print("ladders:")
        for notes in ladders:
            for note in notes:
                print(f"  {note}")
        if not args.no_stall:
            stall(args, workdir)
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
