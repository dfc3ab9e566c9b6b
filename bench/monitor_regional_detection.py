"""Time from a target going down to the page with two regional probes and quorum 2, against its bound.

Run by hand::

    .venv/bin/python bench/monitor_regional_detection.py [--interval 2] [--rounds 3]

Starts `monitor serve` (SQLite, in a temporary directory) and two `monitor probe` processes
("eu", "us") on loopback, a target and a webhook receiver in this process. Each round waits until
the check is up in both regions, lets the target fail at a random moment and measures until the
page (status ``down``) reaches the receiver; then the target recovers. The bound printed with it
is the one docs/monitor.md derives for two regions and quorum 2:
``failures_before_down * interval + timeout + 1 s`` (the later region's second failed run)
``+ push interval (2 s) + worker poll (1 s) + one send``; at ``interval = 60`` and the default
10 s timeout that is 144 s. Scaled down here (``--interval``, timeout 1 s), so the ratio
measured/bound is what carries over.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PUSH_INTERVAL_S = 2.0
WORKER_POLL_S = 1.0
FAILURES_BEFORE_DOWN = 2
TIMEOUT_S = 1.0


class State:
    failing = False
    pages: list[tuple[float, dict[str, object]]] = []


class Target(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        status = 503 if State.failing else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


class Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        State.pages.append((time.time(), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def _serve(handler: type[BaseHTTPRequestHandler]) -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return int(server.server_address[1])


def _launchready(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "launchready", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _wait(condition: object, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    target_port, hook_port = _serve(Target), _serve(Hook)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        listen_port = sock.getsockname()[1]
    work = Path(tempfile.mkdtemp(prefix="lr-regional-bench-"))
    (work / "launchready.toml").write_text(
        f"""\
[monitor]
listen = "127.0.0.1:{listen_port}"

[[monitor.checks]]
name = "api"
url = "http://127.0.0.1:{target_port}/health"
interval = {args.interval:g}
timeout = {TIMEOUT_S:g}
failures_before_down = {FAILURES_BEFORE_DOWN}
regions = ["eu", "us"]

[[monitor.alerts]]
name = "pager"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
""",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "launchready", "monitor", "token", "add", "probes"],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    token = re.search(r"(lrm_\S+)\s*$", out).group(1)  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{listen_port}"
    store = work / ".launchready" / "monitor.sqlite"
    processes = [_launchready("monitor", "serve", cwd=work)]

    def answering() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                return True
        except OSError:
            return False

    def regions_up() -> bool:
        with sqlite3.connect(store) as conn:
            rows = conn.execute("SELECT state FROM check_regions WHERE check_name = 'api'").fetchall()
            state = conn.execute("SELECT state FROM checks WHERE name = 'api'").fetchone()
        return len(rows) == 2 and all(r[0] == "up" for r in rows) and state == ("up",)

    try:
        _wait(answering, "monitor serve")
        for region in ("eu", "us"):
            processes.append(
                _launchready("monitor", "probe", "--server", base, "--region", region, "--token", token, cwd=work)
            )
        bound = FAILURES_BEFORE_DOWN * args.interval + TIMEOUT_S + 1.0 + PUSH_INTERVAL_S + WORKER_POLL_S + TIMEOUT_S
        measured: list[float] = []
        for round_number in range(args.rounds):
            _wait(regions_up, "both regions up")
            time.sleep(random.uniform(0, args.interval))
            seen = len(State.pages)
            State.failing = True
            died = time.time()
            _wait(
                lambda s=seen: any(b.get("status") == "down" for _, b in State.pages[s:]),  # type: ignore[misc]
                "the page",
            )
            paged = next(at for at, b in State.pages[seen:] if b.get("status") == "down")
            measured.append(paged - died)
            State.failing = False
            print(f"round {round_number + 1}: page after {paged - died:.2f}s (bound {bound:.1f}s)")
        worst = max(measured)
        print(
            f"interval {args.interval:g}s, two regions, quorum 2: worst {worst:.2f}s, "
            f"mean {sum(measured) / len(measured):.2f}s, bound {bound:.1f}s, worst/bound {worst / bound:.2f}"
        )
        print("at interval 60s with a 10s timeout the same bound is 144s")
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
