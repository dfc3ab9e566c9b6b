"""kill -9 of an alert worker process in the middle of delivering, then a restart: every flip is
delivered, none the store had recorded as delivered is sent again, and the store is intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alertutil import PG_URL, Receiver, flip, postgres_engine, postgres_schema, skip_without_postgres, sqlite_engine
from sqlalchemy import Engine, select, text

from launchready.monitor.store.schema import outbox, transitions

CHILD = Path(__file__).with_name("alert_worker_child.py")
FLIPS = 150
BATCH = 4  # the child's batch size: at most this many rows are in flight when it dies


def _start(store_args: list[str], hook_url: str) -> subprocess.Popen[bytes]:
    args = [store_args[0], hook_url, *store_args[1:]]
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_deliveries(receiver: Receiver, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not receiver.seen.wait(0.05):
        assert child.poll() is None, (child.stderr.read() if child.stderr else b"").decode()
        assert time.monotonic() < deadline, "the worker delivered nothing"


def _delivered_keys(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                select(transitions.c.idempotency_key)
                .select_from(outbox.join(transitions, outbox.c.transition_id == transitions.c.id))
                .where(outbox.c.status == "delivered")
            ).scalars()
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, list[str]]]:
    if request.param == "sqlite":
        path = tmp_path / "monitor.sqlite"
        engine = sqlite_engine(path)
        yield engine, [f"sqlite:///{path}"]
        engine.dispose()
        return
    skip_without_postgres()
    with postgres_schema() as schema:
        engine = postgres_engine(schema, create=True)
        yield engine, [PG_URL, schema]
        engine.dispose()


def test_kill_9_during_delivery_loses_nothing_and_repeats_nothing_acknowledged(
    store: tuple[Engine, list[str]],
) -> None:
    engine, store_args = store
    now = time.time()
    for i in range(FLIPS):
        flip(engine, f"check-{i}", "up", "down", now, ["hook"])
    receiver = Receiver(delay=0.03, seen_at_least=20)
    with receiver.running():
        child = _start(store_args, receiver.url())
        try:
            _wait_for_deliveries(receiver, child)
        finally:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
            child.wait()
        acknowledged = _delivered_keys(engine)
        received_at_kill = receiver.keys()
        assert 0 < len(acknowledged) < FLIPS, "the kill should land in the middle of the delivery"

        restarted = _start(store_args, receiver.url())
        try:
            deadline = time.monotonic() + 180
            while len(_delivered_keys(engine)) < FLIPS:
                assert restarted.poll() is None, (restarted.stderr.read() if restarted.stderr else b"").decode()
                assert time.monotonic() < deadline, "the restarted worker did not finish"
                time.sleep(0.1)
        finally:
            if restarted.poll() is None:
                os.kill(restarted.pid, signal.SIGKILL)
            restarted.wait()
        final = receiver.keys()

    with engine.connect() as conn:
        statuses = set(conn.execute(select(outbox.c.status)).scalars())
        all_keys = set(conn.execute(select(transitions.c.idempotency_key)).scalars())
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert statuses == {"delivered"}
    assert set(final) == all_keys  # every flip reached the receiver
    for key in acknowledged:  # what the store had recorded as delivered was never sent again
        assert final[key] == received_at_kill[key] == 1
    repeats = sum(count - 1 for count in final.values())
    assert repeats <= BATCH  # only rows in flight at the kill may arrive twice (same key: receivers drop them)
