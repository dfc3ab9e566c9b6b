"""`launchready monitor serve` end to end: a real process, a target the test kills and revives, a
real webhook receiver, heartbeats pinged over HTTP, `kill -9` during delivery, SIGTERM, dead
SMTP and Slack endpoints, and bad configuration. Loopback only; short intervals; no timing asserted.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from monitorutil import one_serve_on_pg_at_a_time, pg_schema_url
from netutil import closed_port
from serveutil import LoopThread, Receiver, Serve, Target, integrity, signature, store_rows, wait_until
from sqlalchemy import text

from launchready.monitor.store.engine import create_store_engine

SECRET = "hook-secret-for-the-e2e-test-0123"
HEARTBEAT_UUID = "6f1c2b9e-6a4d-4c1e-9a52-2f6f0c1d7e11"


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture
def receiver(loop: LoopThread) -> Iterator[Receiver]:
    hook = Receiver(loop).start()
    try:
        yield hook
    finally:
        if hook.hold is not None:
            hook.hold.set()
        hook.stop()


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "launchready.toml"
    path.write_text("[monitor]\n" + body, encoding="utf-8")
    return path


def check_toml(url: str, name: str = "web") -> str:
    return f'[[monitor.checks]]\nname = "{name}"\nurl = "{url}"\ninterval = 1\ntimeout = 1\n'


def webhook_toml(url: str) -> str:
    return f'[[monitor.alerts]]\nname = "hook"\nkind = "webhook"\nurl = "{url}"\nsecret = "${{env:HOOK_SECRET}}"\n'


def store_of(tmp_path: Path) -> Path:
    return tmp_path / ".launchready" / "monitor.sqlite"


def test_down_then_recovery_reach_the_webhook_signed_and_sigterm_stops_cleanly(
    tmp_path: Path, loop: LoopThread, receiver: Receiver
) -> None:
    target = Target(loop)
    config = write_config(tmp_path, check_toml(target.url) + webhook_toml(receiver.url()))
    serve = Serve(config, env={"HOOK_SECRET": SECRET}).start()
    try:
        serve.wait_for_line("check web: new -> up")
        assert receiver.received() == []  # a new check coming up alerts nobody

        target.down()
        [down] = receiver.wait_for("check", "down")
        payload = down.payload
        assert payload["name"] == "web"
        assert payload["previous_status"] == "up"
        assert "refused" in payload["reason"]
        assert datetime.fromisoformat(payload["at"].replace("Z", "+00:00")).tzinfo is not None
        assert payload["idempotency_key"].startswith("check:")
        assert down.headers["Idempotency-Key"] == payload["idempotency_key"]
        assert down.headers["X-Launchready-Signature"] == signature(SECRET, down.body)

        target.up()
        [recovered] = receiver.wait_for("check", "up")
        assert recovered.payload["recovery"] is True
        assert recovered.payload["previous_status"] == "down"
        assert recovered.payload["down_since"] == payload["at"]
        assert recovered.key != down.key
        assert recovered.headers["X-Launchready-Signature"] == signature(SECRET, recovered.body)

        code = serve.stop(signal.SIGTERM)
    finally:
        serve.ensure_stopped()
        target.down()
    assert code == 0, "\n".join(serve.lines)
    assert serve.lines[-1] == "monitor stopped"
    assert not any("Traceback" in line for line in serve.lines)
    store = store_of(tmp_path)
    assert store_rows(store, "SELECT count(*) FROM outbox WHERE claimed_until IS NOT NULL") == [(0,)]
    assert store_rows(store, "SELECT status, count(*) FROM outbox GROUP BY status") == [("delivered", 2)]
    assert integrity(store) == "ok"


def test_heartbeat_pinged_over_http_then_silent_pages(tmp_path: Path, receiver: Receiver) -> None:
    heartbeat = f'[[monitor.heartbeats]]\nname = "nightly"\nperiod = "2s"\ngrace = "1s"\nuuid = "{HEARTBEAT_UUID}"\n'
    config = write_config(tmp_path, 'ping_key = "lab-ping-key-0123"\n' + heartbeat + webhook_toml(receiver.url()))
    serve = Serve(config, env={"HOOK_SECRET": SECRET}).start()
    try:
        assert serve.url is not None
        with urllib.request.urlopen(f"{serve.url}/ping/{HEARTBEAT_UUID}", timeout=10) as response:
            assert response.status == 200
        # By name too, as a crontab line would: the same heartbeat.
        with urllib.request.urlopen(f"{serve.url}/ping/lab-ping-key-0123/nightly", timeout=10) as response:
            assert response.status == 200
        # Then silence: past period + grace it is down, and that pages.
        [down] = receiver.wait_for("heartbeat", "down")
        assert down.payload["name"] == "nightly"
        assert down.payload["previous_status"] == "up"
        assert down.headers["X-Launchready-Signature"] == signature(SECRET, down.body)
        # A ping brings it back: a recovery notice.
        with urllib.request.urlopen(f"{serve.url}/ping/{HEARTBEAT_UUID}", timeout=10) as response:
            assert response.status == 200
        [up] = receiver.wait_for("heartbeat", "up")
        assert up.payload["recovery"] is True
        assert serve.stop(signal.SIGINT) == 0  # Ctrl-C stops it as cleanly as SIGTERM
        assert serve.lines[-1] == "monitor stopped"
    finally:
        serve.ensure_stopped()


@contextmanager
def store_for(kind: str, tmp_path: Path) -> Iterator[str]:
    """The store URL `monitor serve` gets with --store: SQLite next to the config, or a fresh
    PostgreSQL schema on 127.0.0.1:5432 (while no other test serves on PostgreSQL)."""
    if kind == "sqlite":
        yield f"sqlite:///{store_of(tmp_path)}"
        return
    with pg_schema_url() as url, one_serve_on_pg_at_a_time():
        yield url


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_during_delivery_then_restart_delivers_every_flip_once(
    kind: str, tmp_path: Path, loop: LoopThread, receiver: Receiver
) -> None:
    import threading

    target = Target(loop)
    config = write_config(tmp_path, check_toml(target.url) + webhook_toml(receiver.url()))
    with store_for(kind, tmp_path) as url:
        args = ["--store", url]
        receiver.hold = threading.Event()  # the receiver is slow: nothing is answered yet
        serve = Serve(config, env={"HOOK_SECRET": SECRET}, args=args).start()
        try:
            serve.wait_for_line("check web: new -> up")
            target.down()
            receiver.wait_for("check", "down")  # the down alert is being delivered, unanswered...
            assert serve.stop(signal.SIGKILL) == -signal.SIGKILL  # ...when the monitor dies
            if kind == "sqlite":
                assert integrity(store_of(tmp_path)) == "ok"
            assert rows(url, "SELECT status FROM outbox") == [("pending",)]

            target.up()
            receiver.hold.set()  # from now on the receiver answers at once
            serve = Serve(config, env={"HOOK_SECRET": SECRET}, args=args).start()
            receiver.wait_for("check", "up")
            wait_until(
                lambda: rows(url, "SELECT count(*) FROM outbox WHERE status != 'delivered'") == [(0,)],
                "every outbox row delivered",
            )
            assert serve.stop() == 0
        finally:
            serve.ensure_stopped()
            target.down()
        if kind == "sqlite":
            assert integrity(store_of(tmp_path)) == "ok"
        flips = rows(
            url,
            "SELECT t.idempotency_key, t.subject_kind, t.old_state, t.new_state FROM transitions t "
            "JOIN outbox o ON o.transition_id = t.id ORDER BY t.id",
        )
    # The outage also burns the SLO's error budget (a burn-rate alert of its own, kind "slo").
    assert [(old, new) for _, kind_, old, new in flips if kind_ == "check"] == [("up", "down"), ("down", "up")]
    acknowledged = [d.key for d in receiver.received() if d.acknowledged]
    # Every flip acknowledged exactly once; the one cut off by kill -9 was sent again, same key.
    assert sorted(acknowledged) == sorted(key for key, *_ in flips)
    abandoned = [d.key for d in receiver.received() if not d.acknowledged]
    assert abandoned == [flips[0][0]]


def test_dead_smtp_and_slack_back_off_without_blocking_checks_or_the_webhook(
    tmp_path: Path, receiver: Receiver
) -> None:
    dead = closed_port()
    email = (
        '[[monitor.alerts]]\nname = "mail"\nkind = "email"\nhost = "127.0.0.1"\n'
        f'port = {closed_port()}\nstarttls = false\nfrom = "monitor@example.com"\nto = ["ops@example.com"]\n'
    )
    slack = '[[monitor.alerts]]\nname = "chat"\nkind = "slack"\nurl = "${env:SLACK_URL}"\n'
    config = write_config(
        tmp_path, check_toml(f"tcp://127.0.0.1:{dead}") + webhook_toml(receiver.url()) + email + slack
    )
    store = store_of(tmp_path)
    slack_url = f"http://127.0.0.1:{closed_port()}/services/T000/B000/XXXX"
    serve = Serve(config, env={"HOOK_SECRET": SECRET, "SLACK_URL": slack_url}).start()
    try:
        [down] = receiver.wait_for("check", "down")  # the working provider is not held up
        query = "SELECT provider, status, attempts, next_attempt_at, last_error FROM outbox ORDER BY provider"

        def retried_twice() -> bool:
            rows = {row[0]: row for row in store_rows(store, query)}
            return all(rows.get(name, ("", "", 0))[2] >= 2 for name in ("mail", "chat"))

        wait_until(retried_twice, "two failed attempts to each dead provider")
        results_then = store_rows(store, "SELECT count(*) FROM results")[0][0]
        wait_until(
            lambda: store_rows(store, "SELECT count(*) FROM results")[0][0] > results_then + 2,
            "more check results while the dead providers back off",
        )
        flip_at = store_rows(store, "SELECT at FROM transitions WHERE subject_kind = 'check'")[0][0]
        rows = {row[0]: row for row in store_rows(store, query)}
        assert rows["hook"][1] == "delivered"
        for name in ("mail", "chat"):
            _, status, attempts, next_attempt_at, last_error = rows[name]
            assert status == "pending"
            # Exponential back-off (10 s, then 20 s, each less up to half of it by jitter).
            assert next_attempt_at > flip_at + 5 + 10
            assert last_error
        assert "XXXX" not in rows["chat"][4]  # the Slack URL is a secret: never in the store
        assert serve.stop() == 0
    finally:
        serve.ensure_stopped()
    assert down.payload["name"] == "web"


def test_a_provider_config_problem_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, check_toml("tcp://127.0.0.1:9") + webhook_toml("http://127.0.0.1:9/hook"))
    env = {k: v for k, v in __import__("os").environ.items() if k != "HOOK_SECRET"}
    done = subprocess.run(
        [sys.executable, "-m", "launchready", "monitor", "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"launchready: error: {config}: [[monitor.alerts]] hook: secret: ")
    assert "HOOK_SECRET" in line
    assert not store_of(tmp_path).exists()  # nothing ran


def test_a_port_in_use_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    import socket

    config = write_config(tmp_path, check_toml("tcp://127.0.0.1:9"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "launchready", "monitor", "serve", "--config", str(config)]
            + ["--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"launchready: error: --listen 127.0.0.1:{port}: cannot listen: Address already in use"
    ]


def test_a_config_typo_is_one_line_with_file_and_line_and_exit_code_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[[monitor.checks]]\nname = "web"\nurl = "http://127.0.0.1:9/"\ninterval = 0\n')
    done = subprocess.run(
        [sys.executable, "-m", "launchready", "monitor", "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"launchready: error: {config}:5: monitor.checks[0].interval: ")


def test_the_error_intake_served_by_serve_alerts_through_the_outbox(tmp_path: Path, receiver: Receiver) -> None:
    config = write_config(tmp_path, webhook_toml(receiver.url()))
    serve = Serve(config, env={"HOOK_SECRET": SECRET}).start()
    launchready = [sys.executable, "-m", "launchready"]
    try:
        assert serve.url is not None
        store = f"sqlite:///{store_of(tmp_path)}"
        added = subprocess.run(
            [*launchready, "monitor", "project", "add", "shop", "--url", serve.url, "--store", store],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        dsn = added.stdout.split()[-1]
        sent = subprocess.run(
            [*launchready, "errors", "test", "--dsn", dsn], capture_output=True, text=True, timeout=60
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
        wait_until(lambda: any(d.payload.get("kind") == "error" for d in receiver.received()), "an error alert")
        [alert] = [d for d in receiver.received() if d.payload.get("kind") == "error"]
        assert alert.headers["X-Launchready-Signature"] == signature(SECRET, alert.body)
        assert f"{serve.url}/errors/" in alert.body.decode()  # links point at the monitor serving it
        assert serve.stop() == 0
    finally:
        serve.ensure_stopped()


def test_sigterm_during_a_delivery_leaves_the_row_pending_unclaimed_and_the_next_start_sends_it(
    tmp_path: Path, loop: LoopThread, receiver: Receiver
) -> None:
    import threading

    target = Target(loop)
    config = write_config(tmp_path, check_toml(target.url) + webhook_toml(receiver.url()))
    store = store_of(tmp_path)
    receiver.hold = threading.Event()
    serve = Serve(config, env={"HOOK_SECRET": SECRET}).start()
    try:
        serve.wait_for_line("check web: new -> up")
        target.down()
        receiver.wait_for("check", "down")  # in flight, unanswered
        assert serve.stop(signal.SIGTERM) == 0
        assert serve.lines[-1] == "monitor stopped"
        # Not delivered, not held: the next start may claim it at once.
        assert store_rows(store, "SELECT status, claimed_until FROM outbox") == [("pending", None)]
        receiver.hold.set()
        serve = Serve(config, env={"HOOK_SECRET": SECRET}).start()
        wait_until(lambda: any(d.acknowledged for d in receiver.alerts("check", "down")), "the down alert acknowledged")
        assert serve.stop() == 0
    finally:
        serve.ensure_stopped()
        target.down()
    downs = receiver.alerts("check", "down")
    assert len({d.key for d in downs}) == 1  # one flip, sent again with the same key
    assert [d.acknowledged for d in downs].count(True) == 1
    assert integrity(store) == "ok"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--listen", "nonsense"], "launchready: error: --listen nonsense: expected HOST:PORT such as 127.0.0.1:8787"),
        (["--store", "postgresql://nobody@127.0.0.1:{port}/x"], "launchready: error: store postgresql://nobody@"),
    ],
)
def test_a_bad_listen_or_a_dead_store_is_one_line_and_exit_code_2(
    args: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cliutil import run_cli

    config = write_config(tmp_path, check_toml("tcp://127.0.0.1:9"))
    port = closed_port()
    argv = ["monitor", "serve", "--config", str(config), *(a.format(port=port) for a in args)]
    if "--listen" not in args:
        argv += ["--listen", "127.0.0.1:0"]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    [line] = err.splitlines()
    assert line.startswith(expected)
