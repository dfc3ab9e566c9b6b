"""`launchready monitor heartbeats`: ping URLs and crontab lines, UUIDs kept in the store."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cliutil import run_cli
from netutil import closed_port

CONFIG = """\
[monitor]
listen = "0.0.0.0:9100"
ping_key = "k3y-for-pings"

[[monitor.heartbeats]]
name = "backup"
period = "1d"
grace = "1h"

[[monitor.heartbeats]]
name = "queue"
period = "5m"

[[monitor.heartbeats]]
name = "nightly"
cron = "30 2 * * *"
tz = "Europe/Paris"
"""

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_heartbeats_lists_ping_urls_and_crontab_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "launchready.toml").write_text(CONFIG, encoding="utf-8")
    code, out, err = run_cli(["monitor", "heartbeats"], capsys)
    assert code == 0, err
    uuids = re.findall(rf"ping URL:  http://127\.0\.0\.1:9100/ping/({UUID})", out)
    assert len(uuids) == 3 and len(set(uuids)) == 3
    assert "by name:   http://127.0.0.1:9100/ping/k3y-for-pings/backup" in out
    assert "crontab:   @daily /path/to/job && curl -fsS -m 10 --retry 5 -o /dev/null " in out
    assert "crontab:   */5 * * * * /path/to/job && curl" in out
    assert "crontab:   30 2 * * * /path/to/job && curl -fsS -m 10 --retry 5 -o /dev/null " in out
    assert "http://127.0.0.1:9100/ping/k3y-for-pings/nightly" in out
    assert "CRON_TZ=Europe/Paris" in out
    assert (tmp_path / ".launchready" / "monitor.sqlite").is_file()

    # Run again (or after `monitor serve` started): the same UUIDs, so crontabs keep working.
    code, again, _ = run_cli(["monitor", "heartbeats", "--base-url", "https://status.example.com/"], capsys)
    assert code == 0
    assert re.findall(rf"ping URL:  https://status\.example\.com/ping/({UUID})", again) == uuids


def test_env_ping_key_is_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PING_KEY", "the-real-ping-key-value")
    config = CONFIG.replace('"k3y-for-pings"', '"${env:PING_KEY}"')
    (tmp_path / "launchready.toml").write_text(config, encoding="utf-8")
    code, out, _ = run_cli(["monitor", "heartbeats"], capsys)
    assert code == 0
    assert "/ping/${PING_KEY}/backup" in out and "the-real-ping-key-value" not in out


def test_heartbeats_needs_a_monitor_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "launchready.toml").write_text('domain = "example.com"\n', encoding="utf-8")
    code, out, err = run_cli(["monitor", "heartbeats"], capsys)
    assert code == 2 and out == ""
    assert err.strip().endswith("no [monitor] table in " + str(tmp_path / "launchready.toml"))


def test_a_dead_store_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "launchready.toml").write_text(CONFIG, encoding="utf-8")
    url = f"postgresql://postgres:pw-not-shown-123@127.0.0.1:{closed_port()}/test"
    code, out, err = run_cli(["monitor", "heartbeats", "--store", url], capsys)
    # A store that cannot be used is reported like the history store's: one line, exit 2.
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot connect" in err and "pw-not-shown-123" not in err


def test_bad_monitor_config_exits_2_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "launchready.toml").write_text(CONFIG + '\n[[monitor.checks]]\nname = "x"\nurl = "gopher://x"\n')
    code, _, err = run_cli(["monitor", "heartbeats"], capsys)
    assert code == 2
    assert "launchready.toml:21: monitor.checks[0].url: unknown scheme 'gopher'" in err


def test_serve_runs_the_checks_and_stops_on_sigterm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import signal
    import sqlite3
    import threading
    import time

    port = closed_port()
    (tmp_path / "launchready.toml").write_text(
        f'[monitor]\n[[monitor.checks]]\nname = "dead"\nurl = "tcp://127.0.0.1:{port}"\ninterval = 1\n',
        encoding="utf-8",
    )
    store = tmp_path / ".launchready" / "monitor.sqlite"

    def flipped() -> bool:
        try:
            with sqlite3.connect(store) as conn:
                return bool(conn.execute("SELECT count(*) FROM transitions").fetchone()[0])
        except sqlite3.Error:
            return False  # not created yet

    def stop_when_flipped() -> None:
        deadline = time.monotonic() + 60
        while not flipped() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_when_flipped)
    stopper.start()
    code, out, err = run_cli(["monitor", "serve"], capsys)
    stopper.join()
    assert code == 0, err
    assert f"store: sqlite:///{store.resolve()}" in err
    assert f"  dead: tcp://127.0.0.1:{port} (every 1s)" in err
    assert err.rstrip().endswith("monitor stopped")
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT old_state, new_state FROM transitions").fetchall() == [("new", "down")]
        assert conn.execute("SELECT state FROM checks WHERE name = 'dead'").fetchone() == ("down",)
