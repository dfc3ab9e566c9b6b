"""The alert worker on SQLite and PostgreSQL, delivering to real loopback receivers: leases,
retries with back-off, dead rows, ordering per subject, maintenance windows, reminders, routing,
a dead provider that delays only itself, and two workers sharing one store."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alertutil import Receiver, flip, store_engine
from netutil import closed_port
from sqlalchemy import Engine, create_engine, insert, select

from launchready.config.sections.monitor_alerts import AlertConfig, MaintenanceWindow
from launchready.core.net import NetSettings
from launchready.monitor.alerts.providers import ProviderTable, build_providers
from launchready.monitor.alerts.routing import AlertRouter
from launchready.monitor.alerts.worker import AlertWorker, RetryPolicy
from launchready.monitor.store.schema import checks, outbox, transitions

T0 = 1_800_000_000.0
SECRET = "hook-secret-0123456789"
ENV = {"HOOK_SECRET": SECRET}
FAST = RetryPolicy(base_seconds=0.05, cap_seconds=0.2, max_attempts=30, jitter=0.5)


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


def hook(url: str, **extra: object) -> AlertConfig:
    return AlertConfig.model_validate(
        {"name": "hook", "kind": "webhook", "url": url, "secret": "${env:HOOK_SECRET}", **extra}
    )


def providers(*alerts: AlertConfig, timeout: float = 5) -> ProviderTable:
    return build_providers(alerts, ENV, NetSettings(timeout=timeout))


def rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        result = conn.execute(
            select(outbox, transitions.c.idempotency_key, transitions.c.subject_name, transitions.c.new_state)
            .select_from(outbox.join(transitions, outbox.c.transition_id == transitions.c.id))
            .order_by(outbox.c.id)
        )
        return [dict(r._mapping) for r in result]


async def _drain(worker: AlertWorker, table: ProviderTable, rounds: int = 1) -> int:
    try:
        total = 0
        for _ in range(rounds):
            total += await worker.run_once()
        return total
    finally:
        await table.close()


def run_rounds(worker: AlertWorker, table: ProviderTable, rounds: int = 1) -> int:
    return asyncio.run(_drain(worker, table, rounds))


def test_a_flip_is_delivered_once_signed_with_its_key(store: Engine, receiver: Receiver) -> None:
    clock = FakeClock()
    flip(store, "api", "up", "down", T0, ["hook"])
    table = providers(hook(receiver.url()))
    worker = AlertWorker(store, table, clock=clock, policy=FAST)
    assert run_rounds(worker, table, rounds=2) == 1
    [got] = receiver.bodies()
    [row] = rows(store)
    assert row["status"] == "delivered" and row["attempts"] == 1 and row["delivered_at"] == T0
    assert row["claimed_until"] is None
    assert got.headers["Idempotency-Key"] == row["idempotency_key"] == got.json["idempotency_key"]
    assert (
        got.headers["X-Launchready-Signature"]
        == "sha256=" + hmac.new(SECRET.encode(), got.body, hashlib.sha256).hexdigest()
    )
    assert (got.json["kind"], got.json["name"], got.json["status"], got.json["reason"]) == (
        "check",
        "api",
        "down",
        "connection refused",
    )
    assert got.json["at"] == datetime.fromtimestamp(T0, UTC).isoformat().replace("+00:00", "Z")


def test_failures_back_off_then_deliver(store: Engine, receiver: Receiver) -> None:
    clock = FakeClock()
    receiver.fail_next = 2
    flip(store, "api", "up", "down", T0, ["hook"])
    policy = RetryPolicy(base_seconds=10, cap_seconds=100, max_attempts=5, jitter=0.0)
    table = providers(hook(receiver.url()))
    worker = AlertWorker(store, table, clock=clock, policy=policy)

    async def scenario() -> list[tuple[object, ...]]:
        seen = []
        try:
            for advance in (0, 0, 10, 5, 15):
                clock.now += advance
                await worker.run_once()
                [row] = rows(store)
                seen.append((row["status"], row["attempts"], row["next_attempt_at"], row["last_error"]))
        finally:
            await table.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen == [
        ("pending", 1, T0 + 10, "answered 500"),  # first failure: back off base_seconds
        ("pending", 1, T0 + 10, "answered 500"),  # not due yet: nothing sent
        ("pending", 2, T0 + 30, "answered 500"),  # second failure at T0+10: 20 s (doubled)
        ("pending", 2, T0 + 30, "answered 500"),
        ("delivered", 3, T0 + 30, None),
    ]
    assert len(receiver.bodies()) == 1


def test_a_receiver_asking_to_retry_later_is_obeyed(store: Engine, receiver: Receiver) -> None:
    receiver.fail_next, receiver.fail_status, receiver.fail_headers = 1, 429, {"Retry-After": "120"}
    flip(store, "api", "up", "down", T0, ["hook"])
    table = providers(hook(receiver.url()))
    clock = FakeClock()
    worker = AlertWorker(store, table, clock=clock, policy=RetryPolicy(base_seconds=10, jitter=0))
    run_rounds(worker, table)
    [row] = rows(store)
    assert (row["status"], row["next_attempt_at"], row["last_error"]) == ("pending", T0 + 120, "answered 429")


def test_backoff_doubles_up_to_the_cap_with_jitter_below_it() -> None:
    policy = RetryPolicy(base_seconds=10, cap_seconds=300, max_attempts=10, jitter=0.5)
    rng = random.Random(7)
    for attempt in range(1, 12):
        raw = min(300, 10 * 2 ** (attempt - 1))
        for _ in range(50):
            assert raw / 2 <= policy.delay(attempt, rng) <= raw


def test_gives_up_after_max_attempts_and_keeps_the_row(store: Engine) -> None:
    clock = FakeClock()
    dead = Receiver(fail_next=10**6)
    with dead.running():
        flip(store, "api", "up", "down", T0, ["hook"])
        table = providers(hook(dead.url()))
        worker = AlertWorker(store, table, clock=clock, policy=RetryPolicy(base_seconds=1, max_attempts=3, jitter=0))

        async def scenario() -> None:
            try:
                for _ in range(5):
                    await worker.run_once()
                    clock.now += 100
            finally:
                await table.close()

        asyncio.run(scenario())
    [row] = rows(store)
    assert (row["status"], row["attempts"], row["last_error"]) == ("dead", 3, "answered 500")
    assert worker.stats.dead == 1


def test_a_configuration_problem_is_dead_at_once(store: Engine) -> None:
    flip(store, "api", "up", "down", T0, ["hook"])
    table = build_providers([hook("${env:UNSET_HOOK_URL}")], {}, NetSettings(timeout=2))
    assert table.problems() == [
        "[[monitor.alerts]] hook: url: ${env:UNSET_HOOK_URL} is not set in the environment",
        "[[monitor.alerts]] hook: secret: ${env:HOOK_SECRET} is not set in the environment",
    ]
    run_rounds(AlertWorker(store, table, clock=FakeClock()), table)
    [row] = rows(store)
    assert row["status"] == "dead" and row["attempts"] == 1
    assert row["last_error"] == "url: ${env:UNSET_HOOK_URL} is not set in the environment"


def test_recovery_waits_for_the_down_alert_of_the_same_subject(store: Engine, receiver: Receiver) -> None:
    clock = FakeClock()
    flip(store, "api", "up", "down", T0, ["hook"])
    flip(store, "api", "down", "up", T0 + 90, ["hook"], reason=None)
    flip(store, "db", "up", "down", T0, ["hook"])
    receiver.fail_next = 1  # the first delivery (api down) fails
    table = providers(hook(receiver.url()))
    worker = AlertWorker(store, table, clock=FakeClock(T0 + 100), policy=RetryPolicy(base_seconds=5, jitter=0))
    clock = worker.clock  # type: ignore[assignment]

    async def scenario() -> None:
        try:
            await worker.run_once()  # api down fails; db down is delivered; api up waits for api down
            assert [(b.json["name"], b.json["status"]) for b in receiver.bodies()] == [("db", "down")]
            await worker.run_once()  # api down not due yet, so api up still waits
            assert len(receiver.bodies()) == 1
            clock.now += 5  # type: ignore[attr-defined]
            await worker.run_once()  # api down goes out ...
            await worker.run_once()  # ... then api up
        finally:
            await table.close()

    asyncio.run(scenario())
    sent = [(b.json["name"], b.json["status"]) for b in receiver.bodies()]
    assert sent == [("db", "down"), ("api", "down"), ("api", "up")]
    recovery = receiver.bodies()[-1].json
    assert recovery["recovery"] is True and recovery["down_since"] == datetime.fromtimestamp(
        T0, UTC
    ).isoformat().replace("+00:00", "Z")


def test_maintenance_window_silences_matching_subjects(store: Engine, receiver: Receiver) -> None:
    window = MaintenanceWindow.model_validate(
        {
            "name": "db upgrade",
            "start": datetime.fromtimestamp(T0 - 60, UTC),
            "end": datetime.fromtimestamp(T0 + 60, UTC),
            "tags": ["db"],
        }
    )
    with store.begin() as conn:
        conn.execute(insert(checks).values(name="postgres", kind="tcp", target="db:5432", interval_s=60, tags=["db"]))
    flip(store, "postgres", "up", "down", T0, ["hook"])
    flip(store, "api", "up", "down", T0, ["hook"])
    flip(store, "postgres", "down", "up", T0 + 120, ["hook"], reason=None)  # after the window: sent
    table = providers(hook(receiver.url()))
    worker = AlertWorker(store, table, clock=FakeClock(T0 + 130), router=AlertRouter([hook(receiver.url())], [window]))
    run_rounds(worker, table, rounds=3)
    by_name = {(r["subject_name"], r["new_state"]): (r["status"], r["last_error"]) for r in rows(store)}
    assert by_name[("postgres", "down")] == ("silenced", "silenced by maintenance window db upgrade")
    assert by_name[("api", "down")] == ("delivered", None)
    assert by_name[("postgres", "up")] == ("delivered", None)
    assert sorted((b.json["name"], b.json["status"]) for b in receiver.bodies()) == [
        ("api", "down"),
        ("postgres", "up"),
    ]


def test_reminders_repeat_while_down_once_per_interval(store: Engine, receiver: Receiver) -> None:
    alert = hook(receiver.url(), reminder_every=60)
    router = AlertRouter([alert])
    flip(store, "api", "up", "down", T0, router.providers_for("check", "api", [], "up", "down"))
    clock = FakeClock(T0 + 30)
    table = providers(alert)
    worker = AlertWorker(store, table, clock=clock, router=router)

    async def scenario() -> None:
        try:
            await worker.run_once()  # the down alert; no reminder yet
            clock.now = T0 + 130
            await worker.run_once()  # reminder 2 (the first one missed is not sent late)
            await worker.run_once()  # nothing new in the same interval
            clock.now = T0 + 185
            await worker.run_once()  # reminder 3
        finally:
            await table.close()

    asyncio.run(scenario())
    sent = [b.json for b in receiver.bodies()]
    assert [(s["status"], s["reminder"]) for s in sent] == [("down", False), ("down", True), ("down", True)]
    assert str(sent[1]["reason"]).endswith("(reminder 2)") and str(sent[2]["reason"]).endswith("(reminder 3)")
    assert len({s["idempotency_key"] for s in sent}) == 3
    # A second pass at the same instant (another worker) writes nothing twice.
    assert worker.reminders is not None and worker.reminders.run_once() == 0
    # Once the subject is up again, no more reminders.
    flip(store, "api", "down", "up", T0 + 200, ["hook"], reason=None)
    clock.now = T0 + 400
    assert worker.reminders.run_once() == 0


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("dead_kind", ["slack", "email"])
def test_a_hanging_provider_delays_only_its_own_rows(store: Engine, receiver: Receiver, dead_kind: str) -> None:
    hanging = Receiver(hang=True)
    with hanging.running(), silent_server() as smtp_port:
        dead = AlertConfig.model_validate(
            {"name": "dead", "kind": "slack", "url": "${env:SLACK_URL}"}
            if dead_kind == "slack"
            else {
                "name": "dead",
                "kind": "email",
                "host": "127.0.0.1",
                "port": smtp_port,
                "from": "m@example.com",
                "to": ["o@example.com"],
            }
        )
        table = build_providers(
            [hook(receiver.url()), dead], {**ENV, "SLACK_URL": hanging.url("/services/x")}, NetSettings(timeout=60)
        )
        for i in range(12):
            flip(store, f"check-{i}", "up", "down", time.time(), ["hook", "dead"])
        receiver.seen_at_least = 12
        worker = AlertWorker(store, table, poll_interval=0.05, stop_grace=0.5)

        async def scenario() -> None:
            task = asyncio.create_task(worker.run())
            try:
                # Every webhook row arrives while every send to the dead provider still hangs.
                await asyncio.to_thread(receiver.seen.wait, 60)
                while worker.stats.delivered < 12:
                    await asyncio.sleep(0.02)
            finally:
                worker.stop()
                await task
                await table.close()

        asyncio.run(asyncio.wait_for(scenario(), 120))
    outcome = [(r["provider"], r["status"]) for r in rows(store)]
    assert outcome.count(("hook", "delivered")) == 12
    assert outcome.count(("dead", "pending")) == 12
    # Stopping handed the rows still being sent back to the outbox instead of holding their leases.
    assert all(r["claimed_until"] is None for r in rows(store))
    assert len(receiver.keys()) == 12


def test_down_receiver_then_back_delivers_everything_once(store: Engine) -> None:
    late = Receiver(port=closed_port())
    for i in range(5):
        flip(store, f"c{i}", "up", "down", time.time(), ["hook"])
    table = providers(hook(late.url()))
    worker = AlertWorker(store, table, poll_interval=0.02, policy=FAST)

    async def scenario() -> None:
        task = asyncio.create_task(worker.run())
        try:
            while worker.stats.retried < 5:  # every row has failed at least once against the closed port
                await asyncio.sleep(0.02)
            with late.running():
                while sum(1 for r in rows(store) if r["status"] == "delivered") < 5:
                    await asyncio.sleep(0.05)
        finally:
            worker.stop()
            await task
            await table.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    assert all(r["status"] == "delivered" and int(str(r["attempts"])) >= 2 for r in rows(store))
    assert sorted(late.keys().values()) == [1] * 5


def test_two_workers_on_one_store_never_send_a_row_twice(store: Engine, receiver: Receiver, tmp_path: Path) -> None:
    count = 60
    for i in range(count):
        flip(store, f"check-{i}", "up", "down", time.time(), ["hook"])
    receiver.seen_at_least = count
    receiver.delay = 0.005
    # A second engine: its own connections, as a second node would have.
    second = store.engine.url.render_as_string(hide_password=False)
    other = create_engine(second, connect_args={"timeout": 30} if store.dialect.name == "sqlite" else {})
    if store.dialect.name == "postgresql":
        other = other.execution_options(**store.get_execution_options())
    tables = [providers(hook(receiver.url())), providers(hook(receiver.url()))]
    workers = [
        AlertWorker(store, tables[0], poll_interval=0.01, batch_size=3),
        AlertWorker(other, tables[1], poll_interval=0.01, batch_size=3),
    ]

    async def scenario() -> None:
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            await asyncio.to_thread(receiver.seen.wait, 120)
            while sum(1 for r in rows(store) if r["status"] == "delivered") < count:
                await asyncio.sleep(0.05)
        finally:
            for w in workers:
                w.stop()
            await asyncio.gather(*tasks)
            for t in tables:
                await t.close()

    try:
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        other.dispose()
    keys = receiver.keys()
    assert len(keys) == count and set(keys.values()) == {1}
    assert workers[0].stats.delivered + workers[1].stats.delivered == count
    assert workers[0].stats.lost_leases == workers[1].stats.lost_leases == 0


def test_wake_delivers_a_new_flip_without_waiting_for_the_poll(store: Engine, receiver: Receiver) -> None:
    table = providers(hook(receiver.url()))
    worker = AlertWorker(store, table, poll_interval=3600)  # it would never poll again in this test

    async def scenario() -> None:
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.sleep(0)  # the lane's first (empty) round starts
            await asyncio.to_thread(flip, store, "api", "up", "down", time.time(), ["hook"])
            worker.wake()
            await asyncio.to_thread(receiver.seen.wait, 60)
        finally:
            worker.stop()
            await task
            await table.close()

    asyncio.run(asyncio.wait_for(scenario(), 90))
    assert [(b.json["name"], b.json["status"]) for b in receiver.bodies()] == [("api", "down")]


def test_stop_before_run_returns_at_once(store: Engine) -> None:
    table = providers(hook("http://127.0.0.1:9/unused"))
    worker = AlertWorker(store, table)
    worker.stop()

    async def scenario() -> None:
        try:
            await worker.run()
        finally:
            await table.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert worker.stats.delivered == 0 and worker.stats.store_errors == 0


def test_a_worker_that_lost_its_lease_cannot_overwrite_the_newer_outcome(store: Engine, receiver: Receiver) -> None:
    flip(store, "api", "up", "down", T0, ["hook"])
    clock = FakeClock()
    table = providers(hook(receiver.url()))
    stalled = AlertWorker(store, table, clock=clock, lease_seconds=10)
    [held] = stalled._claim("hook", clock())
    assert stalled._claim("hook", clock()) == []  # leased: nobody else gets it
    clock.now += 11  # the stalled worker overran its lease; another one takes the row over
    other = AlertWorker(store, table, clock=clock, lease_seconds=10)
    assert run_rounds(other, table) == 1
    assert not stalled._finish(held, {"status": "dead", "last_error": "late"})
    [row] = rows(store)
    assert (row["status"], row["last_error"]) == ("delivered", None)


def test_a_clock_set_back_delays_no_alert(store: Engine, receiver: Receiver) -> None:
    flip(store, "api", "up", "down", T0, ["hook"])  # recorded before the clock went back
    flip(store, "db", "up", "down", T0, ["hook"])
    receiver.fail_next = 1  # the first send fails and is scheduled for a retry in 10 s
    clock = FakeClock(T0)
    table = providers(hook(receiver.url()))
    worker = AlertWorker(store, table, clock=clock, policy=RetryPolicy(base_seconds=10, jitter=0), batch_size=1)

    async def scenario() -> None:
        try:
            await worker.run_once()  # api: fails, retry at T0 + 10
            clock.now = T0 - 7200  # the clock is set back two hours
            await worker.run_once()  # db: never tried, so due although recorded "in the future"
            await worker.run_once()  # api: its retry time is further ahead than any back-off: due
        finally:
            await table.close()

    asyncio.run(scenario())
    assert sorted(b.json["name"] for b in receiver.bodies()) == ["api", "db"]
    assert {r["status"] for r in rows(store)} == {"delivered"}


def test_a_dead_store_is_reported_not_raised(tmp_path: Path, receiver: Receiver) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'monitor.sqlite'}")
    table = providers(hook(receiver.url()))
    worker = AlertWorker(engine, table, clock=FakeClock())
    assert run_rounds(worker, table) == 0
    assert worker.stats.store_errors == 1 and "unable to open database file" in (worker.stats.last_store_error or "")
