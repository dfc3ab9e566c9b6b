"""Group lifecycle in the store: counts, regression, resolve-in-next-release, ignore, spikes, alert windows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from launchready.intake.ingest import GroupChange, Work, prepare_event, set_group_status, write_work_retrying
from launchready.intake.projects import add_project
from launchready.intake.scrub import Scrubber
from launchready.intake.settings import IntakeSettings
from launchready.monitor.store.errors_schema import error_events, error_groups
from launchready.monitor.store.schema import deploys, outbox, transitions
from tests.intakeutil import store_engine

T0 = 1_800_000_000.0  # a fixed minute boundary keeps the per-minute counts predictable
SETTINGS = IntakeSettings(
    alert_providers=lambda kind, name: ["slack"], spike_factor=5.0, spike_min_events=10, events_kept_per_group=30
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as e:
        yield e


def _event(
    release: str = "1.0",
    user: str = "u1",
    value: str = "boom 1",
    function: str = "run",
    environment: str = "production",
) -> dict[str, Any]:
    frames = [{"module": "shop.jobs", "function": function, "lineno": 3, "in_app": True}]
    return {
        "exception": {"values": [{"type": "RuntimeError", "value": value, "stacktrace": {"frames": frames}}]},
        "release": release,
        "environment": environment,
        "user": {"id": user},
    }


class Feed:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.begin() as conn:
            self.project = add_project(conn, "app", T0)
        self.scrubber = Scrubber()

    def send(self, at: float, n: int = 1, **kwargs: Any) -> list[GroupChange]:
        events = [prepare_event(_event(**kwargs), self.project.id, at, self.scrubber) for _ in range(n)]
        return write_work_retrying(self.engine, [Work(events=events)], SETTINGS)

    def group(self) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(select(error_groups)).one()

    def flips(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(transitions).order_by(transitions.c.id)))


def test_counts_users_releases_and_the_deploy_before(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(deploys).values(at=T0 - 100, environment="production", version="v7", source="api"))
        conn.execute(insert(deploys).values(at=T0 + 500, environment="production", version="v8", source="api"))
    feed = Feed(engine)
    feed.send(T0, value="boom 1", user="ann")
    feed.send(T0 + 10, value="boom 2", user="bob", release="1.1")
    feed.send(T0 + 20, value="boom 3", user="ann", release="1.1")
    group = feed.group()
    assert group._mapping["count"] == 3 and group.users_count == 2
    assert group.first_release == "1.0" and group.last_release == "1.1"
    assert group.first_seen == T0 and group.last_seen == T0 + 20
    with engine.connect() as conn:
        deploy = conn.execute(select(deploys).where(deploys.c.id == group.first_deploy_id)).one()
    assert deploy.version == "v7"
    reason = json.loads(feed.flips()[0].reason)
    assert reason["project"] == "app"
    assert reason["deploy"]["version"] == "v7" and reason["link"].endswith(f"/errors/{group.id}")
    assert reason["stack_top"] == "shop.jobs:3 in run" and reason["title"] == group.title


def test_a_resolved_group_that_comes_back_is_a_regression_alerted_once_per_window(engine: Engine) -> None:
    feed = Feed(engine)
    feed.send(T0)
    with engine.begin() as conn:
        assert set_group_status(conn, feed.group().id, "resolve", T0 + 60)
    changes = feed.send(T0 + 120)
    assert [c.alert for c in changes] == ["regression"]
    assert feed.group().status == "unresolved"
    with engine.begin() as conn:
        set_group_status(conn, feed.group().id, "resolve", T0 + 180)
    assert [c.alert for c in feed.send(T0 + 240)] == [None]  # second regression inside the window: no alert
    assert feed.group().status == "unresolved"
    assert [f.new_state for f in feed.flips()] == ["new", "regression"]
    with engine.connect() as conn:
        assert len(conn.execute(select(outbox)).all()) == 2


def test_resolve_in_next_release(engine: Engine) -> None:
    feed = Feed(engine)
    feed.send(T0, release="1.0")
    with engine.begin() as conn:
        set_group_status(conn, feed.group().id, "resolve_next_release", T0 + 60)
    assert [c.alert for c in feed.send(T0 + 120, release="1.0")] == [None]  # the fix has not shipped yet
    assert feed.group().status == "resolved_next_release"
    assert [c.alert for c in feed.send(T0 + 180, release="1.1")] == ["regression"]


def test_ignored_groups_count_but_never_alert(engine: Engine) -> None:
    feed = Feed(engine)
    feed.send(T0)
    with engine.begin() as conn:
        set_group_status(conn, feed.group().id, "ignore", T0 + 1)
    for minute in range(1, 12):
        feed.send(T0 + 60 * minute, n=1)
    feed.send(T0 + 60 * 12, n=50)
    assert feed.group()._mapping["count"] == 62
    assert [f.new_state for f in feed.flips()] == ["new"]


def test_a_spike_above_the_usual_rate_alerts_once(engine: Engine) -> None:
    feed = Feed(engine)
    for minute in range(0, 30):  # a steady 2 events per minute for half an hour
        feed.send(T0 + 60 * minute, n=2)
    assert [f.new_state for f in feed.flips()] == ["new"]
    changes = feed.send(T0 + 60 * 30, n=9)  # 9 < the 10-event floor
    assert all(c.alert is None for c in changes)
    changes = feed.send(T0 + 60 * 30 + 5, n=20)  # 29 in the minute, usual rate 2/min
    assert [c.alert for c in changes if c.alert] == ["spike"]
    reason = json.loads(feed.flips()[-1].reason)
    assert reason["rate_per_min"] == 29 and reason["usual_per_min"] == pytest.approx(2.0)
    assert all(c.alert is None for c in feed.send(T0 + 60 * 31, n=60))  # once per window
    # Only the most recent events are kept; the group's count is the total.
    with engine.connect() as conn:
        kept = len(conn.execute(select(error_events)).all())
    assert kept <= SETTINGS.events_kept_per_group + 20 and feed.group()._mapping["count"] == 149


def test_users_and_environments_survive_batches_that_do_not_change_them(engine: Engine) -> None:
    # A batch writes the group's JSON lists only when it changes them: the batches in between
    # (same user, same environment) must leave the stored lists as they were.
    feed = Feed(engine)
    feed.send(T0, user="ann", environment="production")
    feed.send(T0 + 10, n=3, user="ann", environment="production")
    feed.send(T0 + 20, user="bob", environment="staging")
    feed.send(T0 + 30, n=2, user="bob", environment="staging")
    feed.send(T0 + 40, user="ann", environment="production", release="1.1")
    group = feed.group()
    assert group._mapping["count"] == 8 and group.users_count == 2 and len(group.users) == 2
    assert group.environments == ["production", "staging"]
    assert group.last_release == "1.1" and group.last_seen == T0 + 40


def test_spikes_of_several_groups_are_judged_in_one_batch(engine: Engine) -> None:
    feed = Feed(engine)
    for minute in range(0, 30):  # three groups at a steady 2 events per minute
        events = [
            prepare_event(_event(function=name), feed.project.id, T0 + 60 * minute, feed.scrubber)
            for name in ("calm", "busy", "muted")
            for _ in range(2)
        ]
        write_work_retrying(engine, [Work(events=events)], SETTINGS)
    with engine.connect() as conn:  # the three share a title: their stack tops tell them apart
        by_function = {r.stack_top.rsplit(" ", 1)[-1]: r.id for r in conn.execute(select(error_groups))}
    assert sorted(by_function) == ["busy", "calm", "muted"]
    with engine.begin() as conn:
        set_group_status(conn, by_function["muted"], "ignore", T0 + 60 * 30)
    at = T0 + 60 * 30 + 5
    events = [
        *(prepare_event(_event(function="calm"), feed.project.id, at, feed.scrubber) for _ in range(3)),
        *(prepare_event(_event(function="busy"), feed.project.id, at, feed.scrubber) for _ in range(25)),
        *(prepare_event(_event(function="muted"), feed.project.id, at, feed.scrubber) for _ in range(25)),
    ]
    changes = write_work_retrying(engine, [Work(events=events)], SETTINGS)
    assert [(c.group_id, c.alert) for c in changes if c.alert] == [(by_function["busy"], "spike")]
    reason = json.loads(feed.flips()[-1].reason)
    assert reason["group_id"] == by_function["busy"] and reason["rate_per_min"] == 25
    assert reason["usual_per_min"] == pytest.approx(2.0)


def test_cron_check_ins_move_the_heartbeat_like_pings(engine: Engine) -> None:
    from launchready.intake.checkins import CheckIn
    from launchready.monitor.store.schema import heartbeats, outbox, pings

    with engine.begin() as conn:
        conn.execute(insert(heartbeats).values(name="backup", uuid="1" * 36, period_s=3600.0, grace_s=60.0))

    def checkin(status: str, at: float, duration: float | None = None) -> None:
        work = Work(checkins=[CheckIn("backup", status, duration, "run-1", at, "127.0.0.1")])
        write_work_retrying(engine, [work], SETTINGS)

    checkin("in_progress", T0)
    checkin("ok", T0 + 42)  # duration from the start check-in
    checkin("error", T0 + 3600)
    checkin("ok", T0 + 7200, duration=5.0)
    with engine.connect() as conn:
        beat = conn.execute(select(heartbeats)).one()
        kinds = [p.kind for p in conn.execute(select(pings).order_by(pings.c.id))]
        flips = [(f.old_state, f.new_state) for f in conn.execute(select(transitions).order_by(transitions.c.id))]
        alerted = [
            (f.old_state, f.new_state)
            for f in conn.execute(
                select(transitions)
                .where(transitions.c.id.in_(select(outbox.c.transition_id)))
                .order_by(transitions.c.id)
            )
        ]
    assert kinds == ["start", "success", "fail", "success"]
    assert beat.state == "up" and beat.last_duration_s == 5.0 and beat.last_ping_at == T0 + 7200
    # Written by the same ping writer as /ping: every flip is recorded, but new -> up (a
    # heartbeat's first ping) alerts nobody; up -> down -> up do.
    assert flips == [("new", "up"), ("up", "down"), ("down", "up")]
    assert alerted == [("up", "down"), ("down", "up")]


def test_pruning_keeps_groups_and_their_sample_event(engine: Engine) -> None:
    from launchready.intake.ingest import SessionCount, Transaction
    from launchready.intake.retention import DAY, prune_intake
    from launchready.monitor.store.errors_schema import error_group_minutes, error_sessions, error_transactions

    feed = Feed(engine)
    feed.send(T0, n=3)  # the first is the group's sample event
    feed.send(T0 + 20 * DAY, n=2)
    old = Work(
        transactions=[Transaction(feed.project.id, T0, "GET /", 12.0, "ok", None, None)],
        sessions=[SessionCount(feed.project.id, int(T0 // 60), "1.0", "production", "ok", 4)],
    )
    write_work_retrying(engine, [old], SETTINGS)
    with engine.begin() as conn:
        pruned = prune_intake(conn, T0 + 21 * DAY)
    assert (pruned.events, pruned.transactions, pruned.minutes, pruned.sessions) == (2, 1, 0, 0)
    with engine.connect() as conn:
        kept = {e.event_id for e in conn.execute(select(error_events))}
    assert feed.group().sample_event_id in kept and len(kept) == 3  # the sample and the two recent ones
    with engine.begin() as conn:
        later = prune_intake(conn, T0 + 100 * DAY)
    assert (later.events, later.minutes, later.sessions) == (2, 1, 1)
    with engine.connect() as conn:
        kept = {e.event_id for e in conn.execute(select(error_events))}
        assert kept == {feed.group().sample_event_id}
        assert conn.execute(select(error_transactions)).all() == []
        assert conn.execute(select(error_sessions)).all() == []
        assert len(conn.execute(select(error_group_minutes)).all()) == 1
    assert feed.group()._mapping["count"] == 5


def test_session_counts_add_up_and_tag_values_are_capped(engine: Engine) -> None:
    from launchready.intake.ingest import TAG_VALUES_KEPT, SessionCount
    from launchready.monitor.store.errors_schema import error_group_tags, error_sessions

    feed = Feed(engine)
    minute = int(T0 // 60)
    for n in (3, 4):
        session = SessionCount(feed.project.id, minute, "1.0", "production", "crashed", n)
        write_work_retrying(engine, [Work(sessions=[session])], SETTINGS)
    scrubber = Scrubber()
    for batch in range(3):  # 75 distinct request ids in three batches
        events = []
        for i in range(25):
            raw = {**_event(), "tags": {"request_id": f"r{batch * 25 + i}", "tenant": "acme"}}
            events.append(prepare_event(raw, feed.project.id, T0 + batch, scrubber))
        write_work_retrying(engine, [Work(events=events)], SETTINGS)
    with engine.connect() as conn:
        sessions = conn.execute(select(error_sessions)).one()
        tags = conn.execute(select(error_group_tags)).all()
    assert sessions._mapping["count"] == 7
    request_ids = [t for t in tags if t.key == "request_id"]
    assert len(request_ids) <= TAG_VALUES_KEPT
    assert [t._mapping["count"] for t in tags if t.key == "tenant"] == [75]
    assert [t._mapping["count"] for t in tags if t.key == "release"] == [75]
