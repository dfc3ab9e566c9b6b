"""The official sentry-sdk, with its real HTTP transport, against the intake on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sentry_sdk
from sentry_sdk.crons import capture_checkin
from sentry_sdk.crons.consts import MonitorStatus
from sqlalchemy import Engine, insert, select

from launchready.intake.ingest import GroupChange
from launchready.intake.projects import add_project
from launchready.intake.routes import intake_routes
from launchready.intake.settings import IntakeSettings
from launchready.monitor.store.errors_schema import (
    error_attachments,
    error_events,
    error_groups,
    error_transactions,
)
from launchready.monitor.store.schema import deploys, heartbeats, outbox, pings, transitions
from tests.intakeutil import serve, store_engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as e:
        yield e


def _client(dsn: str) -> sentry_sdk.Client:
    return sentry_sdk.Client(
        dsn=dsn, default_integrations=False, release="shop@1.0.0", environment="production", traces_sample_rate=1.0
    )


def _failing_checkout(order_id: int) -> None:
    raise ValueError(f"order {order_id} has no items")


def test_official_sdk_events_are_grouped_scrubbed_and_alerted(engine: Engine) -> None:
    with engine.begin() as conn:
        project = add_project(conn, "shop", now=time.time())
        conn.execute(insert(deploys).values(at=time.time() - 60, environment="production", version="v42", source="api"))
        conn.execute(insert(heartbeats).values(name="nightly-report", uuid="0" * 36, period_s=86400.0, grace_s=600.0))
    db_password = "-".join(["hunter2", "very", "secret"])  # built here so no source line shows it whole
    seen: list[GroupChange] = []
    settings = IntakeSettings(alert_providers=lambda kind, name: ["ops-webhook"])
    with serve(intake_routes(engine, settings, seen.extend)) as base:
        dsn = project.dsn(base)
        client = _client(dsn)
        with sentry_sdk.new_scope() as scope:
            scope.set_client(client)
            scope.set_user({"id": "user-1"})
            scope.set_extra("db_password", db_password)
            for order in (17, 4711):  # two occurrences of one bug, different line data
                try:
                    _failing_checkout(order)
                except ValueError as exc:
                    sentry_sdk.capture_exception(exc)
            sentry_sdk.capture_message("payment provider slow for card 4242 4242 4242 4242")
            with sentry_sdk.new_scope() as inner:
                inner.fingerprint = ["payments-timeout"]
                sentry_sdk.capture_message("timeout talking to the payment provider after 30s")
                sentry_sdk.capture_message("timeout talking to the payment provider after 31s")
            capture_checkin(monitor_slug="nightly-report", status=MonitorStatus.OK, duration=12.5)
            with sentry_sdk.start_transaction(name="GET /checkout", op="http.server"):
                time.sleep(0.01)
            with sentry_sdk.new_scope() as with_file:
                with_file.add_attachment(bytes=f"config dump: db_password={db_password}\n".encode(), filename="cfg.txt")
                with_file.add_attachment(bytes=b"\x00" * (2 * 1024 * 1024), filename="core.bin")  # above the cap
                sentry_sdk.capture_message("with attachments")
        client.close(timeout=10)  # flushes: every envelope has had its response

    with engine.connect() as conn:
        groups = {g.title: g for g in conn.execute(select(error_groups))}
        events = conn.execute(select(error_events)).all()
        flips = conn.execute(select(transitions).where(transitions.c.subject_kind == "error")).all()
        outbox_rows = conn.execute(select(outbox)).all()
        beat = conn.execute(select(heartbeats)).one()
        beat_pings = conn.execute(select(pings)).all()
        samples = conn.execute(select(error_transactions)).all()
        files = conn.execute(select(error_attachments)).all()
    assert [(t.name, t.duration_ms >= 10) for t in samples] == [("GET /checkout", True)]
    assert [(f.filename, f.size) for f in files] == [("cfg.txt", len(f"config dump: db_password={db_password}\n"))]
    assert db_password not in (files[0].data or "") and "[Filtered]" in (files[0].data or "")
    assert len(events) == 6
    exception_group = next(g for t, g in groups.items() if t.startswith("ValueError: order"))
    assert exception_group._mapping["count"] == 2
    assert exception_group.grouping_basis == "stack"
    assert "_failing_checkout" in (exception_group.culprit or "") or "_failing_checkout" in (
        exception_group.stack_top or ""
    )
    assert exception_group.first_release == "shop@1.0.0"
    assert exception_group.environments == ["production"]
    assert exception_group.users_count == 1
    assert exception_group.first_deploy_id is not None
    fingerprinted = [g for g in groups.values() if g.grouping_basis == "fingerprint"]
    assert len(fingerprinted) == 1 and fingerprinted[0]._mapping["count"] == 2
    card_group = next(g for t, g in groups.items() if "payment provider slow" in t)
    assert "4242 4242 4242 4242" not in card_group.title
    stored = " ".join(str(e.payload) for e in events)
    assert db_password not in stored and "4242 4242 4242 4242" not in stored
    # One "new" alert per group, each queued for the routed provider.
    assert sorted(f.new_state for f in flips) == ["new"] * len(groups)
    assert len(outbox_rows) == len(groups)
    assert {c.alert for c in seen if c.alert} == {"new"}
    # The cron check-in reached the heartbeat of the same name as a successful ping.
    assert beat.state == "up" and beat.last_duration_s == 12.5
    assert [p.kind for p in beat_pings] == ["success"]
