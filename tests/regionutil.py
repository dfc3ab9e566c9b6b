"""Helpers for the regional and multi-node monitor tests: a switchable target, real `launchready` processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from netutil import closed_port

SRC = Path(__file__).resolve().parents[1] / "src"


class Target:
    """An HTTP target on 127.0.0.1 (or ``host``) answering /health with 200, or 503 once ``failing``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.failing = False
        self.hits = 0
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                target.hits += 1
                status = 503 if target.failing else 200
                body = b"upstream failed\n" if target.failing else b'{"status": "ok"}\n'
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the checker gave up on this answer (a stopped probe)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://{host}:{self.port}/health"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Target:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def launchready(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "launchready", *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def run_launchready(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "launchready", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def add_token(cwd: Path, name: str, store: str | None = None) -> str:
    out = run_launchready("monitor", "token", "add", name, *(["--store", store] if store else []), cwd=cwd)
    match = re.search(r"(lrm_\S+)\s*$", out)
    assert match, out
    return match.group(1)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90.0, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        time.sleep(every)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serving(cwd: Path, *extra: str, port: int | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`launchready monitor serve` on 127.0.0.1:PORT until the block ends (SIGTERM, then waited)."""
    port = port or closed_port()
    process = launchready("monitor", "serve", "--listen", f"127.0.0.1:{port}", *extra, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: healthy(base) or process.poll() is not None, "monitor serve to answer")
        assert process.poll() is None, stop(process)
        yield process, base
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> str:
    """Stop ``process`` (if it runs) and return its stderr."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stderr.read().decode(errors="replace") if process.stderr else ""
