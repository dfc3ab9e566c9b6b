"""`launchready deploy` records a deploy marker in the monitor store when [monitor] is configured,
and never fails the deploy when that store is unavailable."""

from __future__ import annotations

import io
import sqlite3
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from launchready.config.model import Config
from launchready.core.net import NetSettings
from launchready.deploy.gate import DeployGate

ENVIRON = {"LAUNCHREADY_DEPLOYER": "ana@example.com"}


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def health_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def config(port: int, monitor: dict[str, object] | None) -> Config:
    data: dict[str, object] = {
        "environments": {"production": {"base_url": f"http://127.0.0.1:{port}"}},
        "smoke": {"deploy": {"production": {"health_timeout": 5.0}}},
    }
    if monitor is not None:
        data["monitor"] = monitor
    return Config.model_validate(data)


def deploy(cfg: Config, base_dir: Path, *, record: bool = True) -> tuple[bool, str]:
    out = io.StringIO()
    gate = DeployGate(
        cfg, "production", NetSettings(timeout=3), base_dir=base_dir, out=out, environ=ENVIRON, record=record
    )
    result = gate.deploy([sys.executable, "-c", "print(1)"])
    return result.ok, out.getvalue()


def markers(store: Path) -> list[tuple[str, str, str, str | None, str | None]]:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT environment, version, source, who, note FROM deploys ORDER BY id").fetchall()


def test_deploy_records_a_marker_in_the_monitor_store(health_port: int, tmp_path: Path) -> None:
    ok, out = deploy(config(health_port, {}), tmp_path)
    assert ok, out
    store = tmp_path / ".launchready" / "monitor.sqlite"
    assert f"deploy marker #1 recorded in the monitor store sqlite:///{store.resolve()}" in out
    [(environment, version, source, who, note)] = markers(store)
    assert (environment, source, who) == ("production", "deploy-command", "ana@example.com")
    assert version  # the checkout's version (a commit or "unknown"): what the history records too
    assert note is not None and note.endswith("-c 'print(1)'")


def test_no_marker_without_a_monitor_table_or_with_no_record(health_port: int, tmp_path: Path) -> None:
    ok, out = deploy(config(health_port, None), tmp_path)
    assert ok and "deploy marker" not in out
    ok, out = deploy(config(health_port, {}), tmp_path, record=False)
    assert ok and "deploy marker" not in out
    assert not (tmp_path / ".launchready" / "monitor.sqlite").exists()


def test_an_unavailable_monitor_store_is_a_warning_and_the_deploy_succeeds(health_port: int, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be\n")
    ok, out = deploy(config(health_port, {"store": f"sqlite:///{blocker}/monitor.sqlite"}), tmp_path)
    assert ok, out
    [warning] = [line for line in out.splitlines() if "deploy marker" in line]
    assert warning.startswith("launchready: warning: deploy marker not recorded in the monitor store: store sqlite:///")
    assert "cannot create its directory" in warning
