"""Load generator throughput and stall accuracy, against named baselines in the same run.

    .venv/bin/python bench/load/bench_load.py

Needs (by hand, not project dependencies): nginx and wrk (Debian packages), locust (pip, into the
venv). Every client runs pinned to CPU 0 with `taskset`, the server to CPU 1, so "requests/s"
is per core. Prints launchready's rate against Locust FastHttpUser's (target >= 3x) and wrk's.

Stall test: a server that pauses 1 s every 10 s, loaded at 200 req/s for 20 s. Expected for a
coordinated-omission-correct tool (wrk2's model): 10 % of requests wait uniformly 0..1 s, so
p95 is about 500 ms, p99 about 900 ms, max about 1000 ms (plus the time the backlog takes to
drain). wrk (closed loop) is shown for contrast: it records one slow request per connection per
stall, so its tail depends on how many requests it managed to send meanwhile.
"""

from __future__ import annotations

import asyncio
import csv
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
CLIENT_CPU, SERVER_CPU = "0", "1"
SECONDS = 8
CONNECTIONS = 50
RATE = 4000
# Low enough that the backlog of a 1 s stall drains in well under a second after it.
STALL_RATE = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def start_nginx(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1; daemon off; pid {workdir}/nginx.pid; error_log {workdir}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 10000000; keepalive_timeout 60;
  client_body_temp_path {workdir}; proxy_temp_path {workdir}; fastcgi_temp_path {workdir};
  uwsgi_temp_path {workdir}; scgi_temp_path {workdir};
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "ok\\n"; }} }} }}
"""
    )
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-c", str(conf), "-p", str(workdir)])
    wait_port(port)
    return proc


LAUNCHREADY_SNIPPET = """
import asyncio, sys, time
from launchready.perf.generator import LoadSettings, run_load
from launchready.perf.http1 import Endpoint, build_request
port, rate, seconds, conns = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
ep = Endpoint("bench", f"http://127.0.0.1:{port}/", "127.0.0.1", port, False, "GET",
              build_request("GET", "127.0.0.1", port, False, "/", "bench"), ("127.0.0.1", port))
async def main():
    t, cpu = time.perf_counter(), time.process_time()
    r = await run_load([ep], LoadSettings(rate=rate, duration_s=seconds, warmup_s=0.0, connections=conns, timeout_s=30, drain_s=30))
    wall = time.perf_counter() - t
    used = time.process_time() - cpu
    h = r.overall
    print(r.ok, r.errors, wall, used, h.percentile(50), h.percentile(95), h.percentile(99), h.max_us, r.watch.cpu_mean)
asyncio.run(main())
"""


def launchready(port: int, rate: float, seconds: float) -> tuple[float, float, list[float]]:
    """(requests per CPU-second of the generator process, its CPU share, [p50, p95, p99, max] ms).

    An open-model generator is run below its limit (pushing it past would only queue and time
    out requests), so its capacity per core is measured as completed requests per CPU-second it
    used: the rate one fully busy core sustains. Below saturation batching helps less, so this
    is a conservative figure.
    """
    out = subprocess.run(
        [
            "taskset",
            "-c",
            CLIENT_CPU,
            PY,
            "-c",
            LAUNCHREADY_SNIPPET,
            str(port),
            str(rate),
            str(seconds),
            str(CONNECTIONS),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ok, errors, wall, used = int(out[0]), int(out[1]), float(out[2]), float(out[3])
    if errors:
        print(f"  (launchready: {errors} errors)")
    return ok / used, used / wall, [float(v) / 1000 for v in out[4:8]]


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locust(port: int, workdir: Path) -> tuple[float, float]:
    """(requests/s over the run, requests per CPU-second the locust process used)."""
    prefix = workdir / "locust"
    before = child_cpu()
    subprocess.run(
        [
            "taskset",
            "-c",
            CLIENT_CPU,
            str(Path(PY).parent / "locust"),
            "-f",
            str(HERE / "locustfile.py"),
            "--headless",
            "-u",
            str(CONNECTIONS),
            "-r",
            str(CONNECTIONS),
            "-t",
            f"{SECONDS}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        capture_output=True,
        check=False,
    )
    used = child_cpu() - before
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                return float(row["Requests/s"]), int(row["Request Count"]) / used
    raise SystemExit("locust wrote no Aggregated row")


def wrk(port: int, seconds: int = SECONDS) -> tuple[float, float, str]:
    """(requests/s, requests per CPU-second wrk used, its p99 as printed)."""
    before = child_cpu()
    out = subprocess.run(
        [
            "taskset",
            "-c",
            CLIENT_CPU,
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    used = child_cpu() - before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out)
    return rps, total / used, p99.group(1) if p99 else "?"


def main() -> None:
    for tool in ("nginx", "wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install nginx wrk util-linux)")
    if not (Path(PY).parent / "locust").exists():
        raise SystemExit("locust is not installed in this venv (pip install locust; not a project dependency)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        nginx = start_nginx(workdir, port)
        try:
            ours, share, _ = launchready(port, rate=RATE, seconds=SECONDS)
            locust_rps, theirs = locust(port, workdir)
            wrk_rps, fastest, _ = wrk(port)
        finally:
            nginx.terminate()
            nginx.wait()
    print(f"throughput against nginx on loopback, one client core, {CONNECTIONS} connections, {SECONDS} s:")
    print(f"  launchready  {ours:9.0f} req/s per CPU-second (run at {RATE} req/s open model, {share:.0%} of its core)")
    print(
        f"  locust Fast  {theirs:9.0f} req/s per CPU-second ({locust_rps:.0f} req/s wall)   launchready / locust = {ours / theirs:.2f}x (target >= 3x)"
    )
    print(
        f"  wrk          {fastest:9.0f} req/s per CPU-second ({wrk_rps:.0f} req/s wall)   launchready / wrk    = {ours / fastest:.2f}x"
    )

    port = free_port()
    server = subprocess.Popen(["taskset", "-c", SERVER_CPU, PY, str(HERE / "stall_server.py"), str(port)])
    try:
        wait_port(port)
        _, _, (p50, p95, p99, top) = launchready(port, rate=STALL_RATE, seconds=20)
        wrk_rps, _, wrk_p99 = wrk(port, seconds=20)
    finally:
        server.terminate()
        server.wait()
    print(f"stall test (1 s pause every 10 s, {STALL_RATE} req/s for 20 s):")
    print("  expected (wrk2 model): p50 ~ base, p95 ~ 500 ms, p99 ~ 900 ms, max ~ 1000 ms")
    print(f"  launchready measured:  p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {top:.1f} ms")
    print(f"  wrk (closed loop) p99: {wrk_p99} at {wrk_rps:.0f} req/s  (closed loop: compare with the expected values)")


if __name__ == "__main__":
    asyncio.run(asyncio.sleep(0))
    main()
