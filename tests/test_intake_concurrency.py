"""Two intake servers writing the same group at once (two `monitor serve` processes, or serve and
`logs tail`, share one store): every user and every environment of the group survives, on SQLite
and on PostgreSQL. Each server has its own engine (its own connections, as a second process has)
and gets its events from the official sentry-sdk over real HTTP on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sentry_sdk
from sqlalchemy import Engine, select

from launchready.intake.projects import add_project
from launchready.intake.routes import intake_routes
from launchready.intake.settings import IntakeSettings
from launchready.monitor.store.engine import open_store
from launchready.monitor.store.errors_schema import error_groups
from tests.intakeutil import serve, store_engine

EVENTS_PER_WRITER = 40
ENVIRONMENTS_PER_WRITER = 20  # two writers: 40 names, within the 50 a group keeps


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as e:
        yield e


def _send(dsn: str, writer: str, start: threading.Barrier) -> None:
    client = sentry_sdk.Client(dsn=dsn, default_integrations=False, release="shop@1.0.0")
    start.wait(timeout=30)
    for i in range(EVENTS_PER_WRITER):
        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            scope.fingerprint = ["checkout-crash"]  # one group for both writers
            scope.set_user({"id": f"{writer}-user-{i}"})
            client.options["environment"] = f"{writer}-env-{i % ENVIRONMENTS_PER_WRITER}"
            scope.capture_message("checkout crashed")
    client.close(timeout=30)  # flushes: every envelope has had its answer


def test_two_writers_lose_no_user_and_no_environment_of_a_group(engine: Engine) -> None:
    with engine.begin() as conn:
        project = add_project(conn, "shop", now=time.time())
    # The second server's own engine: separate connections, as another process would hold.
    second = open_store(str(engine.url.render_as_string(hide_password=False)))
    settings = IntakeSettings()
    try:
        with serve(intake_routes(engine, settings)) as base_a, serve(intake_routes(second, settings)) as base_b:
            start = threading.Barrier(2)
            writers = [
                threading.Thread(target=_send, args=(project.dsn(base), name, start))
                for name, base in (("a", base_a), ("b", base_b))
            ]
            for thread in writers:
                thread.start()
            for thread in writers:
                thread.join(timeout=120)
    finally:
        second.dispose()
    with engine.connect() as conn:
        [group] = conn.execute(select(error_groups)).all()
    assert group._mapping["count"] == 2 * EVENTS_PER_WRITER  # every event arrived
    assert group.users_count == 2 * EVENTS_PER_WRITER
    assert len(group.users) == len(set(group.users)) == 2 * EVENTS_PER_WRITER
    expected_envs = {f"{w}-env-{i}" for w in "ab" for i in range(ENVIRONMENTS_PER_WRITER)}
    assert sorted(group.environments) == sorted(expected_envs)
