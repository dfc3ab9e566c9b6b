"""The monitor's store on SQLite and PostgreSQL: migrations, results and rollups, state, flips, pruning."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from monitorutil import store_engine
from sqlalchemy import Engine, event, func, inspect, select

from launchready.monitor.errors import MonitorStoreError
from launchready.monitor.store.engine import create_store_engine, migrate, open_store, store_url
from launchready.monitor.store.repository import (
    DAY,
    CheckSpec,
    CheckState,
    FlipRecord,
    HeartbeatSpec,
    ResultRecord,
    bucket_key,
    flip_heartbeat,
    load_heartbeats,
    prune,
    record_deploy,
    save_check_states,
    sync_checks,
    sync_heartbeats,
    write_flip,
    write_results,
)
from launchready.monitor.store.schema import (
    checks,
    deploys,
    heartbeats,
    outbox,
    results,
    rollups_1h,
    rollups_1m,
    transitions,
)
from launchready.monitor.store.schema import metadata as schema_metadata

T0 = 1_800_000_000.0  # a minute- and hour-aligned instant (2027-01-15T08:00:00Z)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as opened:
        yield opened


def test_migration_creates_every_table_of_the_schema(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert set(schema_metadata.tables) <= names
    assert "alembic_version" in names
    migrate(engine)  # a second start finds nothing to do
    assert set(inspect(engine).get_table_names()) == names


def test_migrations_build_exactly_the_schema_module(engine: Engine) -> None:
    # Every change to schema.py needs its revision: a column, table or index added to the module
    # without one would exist in tests (create_all) but never in a user's migrated store.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), schema_metadata)
    assert differences == []


def test_sqlite_store_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'm.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_results_update_minute_and_hour_rollups_incrementally(engine: Engine) -> None:
    first = [
        ResultRecord("home", T0 + 1, True, 12.0, 200),
        ResultRecord("home", T0 + 30, False, 480.0, 503, reason="[STATUS] == 200: got 503"),
        ResultRecord("api", T0 + 5, True, 3.0, 200),
    ]
    second = [ResultRecord("home", T0 + 59, True, 40000.0, 200), ResultRecord("home", T0 + 61, True, 20.0, 200)]
    with engine.begin() as conn:
        write_results(conn, first)
    with engine.begin() as conn:
        write_results(conn, second)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(results)).scalar() == 5
        minute = (
            conn.execute(
                select(rollups_1m).where(rollups_1m.c.check_name == "home", rollups_1m.c.bucket_start == int(T0))
            )
            .mappings()
            .one()
        )
        assert (minute["count"], minute["failures"]) == (3, 1)
        assert minute["latency_sum_ms"] == pytest.approx(12.0 + 480.0 + 40000.0)
        assert minute["latency_max_ms"] == 40000.0
        assert minute["latency_hist"] == {bucket_key(12.0): 1, bucket_key(480.0): 1, "inf": 1}
        next_minute = conn.execute(
            select(rollups_1m.c.count).where(
                rollups_1m.c.check_name == "home", rollups_1m.c.bucket_start == int(T0) + 60
            )
        ).scalar()
        assert next_minute == 1
        hour = conn.execute(select(rollups_1h).where(rollups_1h.c.check_name == "home")).mappings().one()
        assert (hour["bucket_start"], hour["count"], hour["failures"]) == (int(T0), 4, 1)
        assert sum(hour["latency_hist"].values()) == 4


def test_prune_keeps_each_table_for_its_retention(engine: Engine) -> None:
    now = T0 + 800 * DAY
    with engine.begin() as conn:
        write_results(
            conn,
            [
                ResultRecord("home", now - 15 * DAY, True, 1.0),  # raw gone, its 1m and 1h kept
                ResultRecord("home", now - 91 * DAY, True, 1.0),  # raw and 1m gone, 1h kept
                ResultRecord("home", now - 731 * DAY, True, 1.0),  # everything gone
                ResultRecord("home", now - 60, True, 1.0),  # everything kept
            ],
        )
        counts = prune(conn, now)
    assert (counts.results, counts.rollups_1m, counts.rollups_1h) == (3, 2, 1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(results)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(rollups_1m)).scalar() == 2
        assert conn.execute(select(func.count()).select_from(rollups_1h)).scalar() == 3


def test_check_state_survives_a_restart_and_removed_checks_are_kept_unconfigured(engine: Engine) -> None:
    specs = [
        CheckSpec("home", "http", "https://example.test/", 60.0, ("web",)),
        CheckSpec("old", "tcp", "tcp://a:1", 5),
    ]
    with engine.begin() as conn:
        states = sync_checks(conn, specs, T0)
        assert {s.state for s in states.values()} == {"new"}
        save_check_states(conn, [CheckState("home", "down", T0 + 5, 3, 0, T0 + 5, "connection refused")])
        write_flip(conn, FlipRecord("check", "home", "new", "down", T0 + 5, "connection refused", ("slack", "mail")))
    with engine.begin() as conn:
        again = sync_checks(conn, specs[:1], T0 + 100)
    assert again["home"] == CheckState("home", "down", T0 + 5, 3, 0, T0 + 5, "connection refused")
    with engine.connect() as conn:
        configured = dict(conn.execute(select(checks.c.name, checks.c.configured)).all())
        assert configured == {"home": True, "old": False}
        flip = conn.execute(select(transitions)).mappings().one()
        assert (flip["old_state"], flip["new_state"], flip["reason"]) == ("new", "down", "connection refused")
        rows = conn.execute(select(outbox.c.provider, outbox.c.status).order_by(outbox.c.provider)).all()
        assert [tuple(r) for r in rows] == [("mail", "pending"), ("slack", "pending")]


def test_paused_checks_are_stored_paused_and_resume_new(engine: Engine) -> None:
    with engine.begin() as conn:
        sync_checks(conn, [CheckSpec("home", "http", "https://e.test/", 60.0)], T0)
        save_check_states(conn, [CheckState("home", "up", T0, 0, 4, T0)])
        assert sync_checks(conn, [CheckSpec("home", "http", "https://e.test/", 60.0, paused=True)], T0)[
            "home"
        ].state == ("paused")
        assert sync_checks(conn, [CheckSpec("home", "http", "https://e.test/", 60.0)], T0)["home"].state == "new"


def test_heartbeats_keep_their_uuid_and_a_late_flip_is_conditional(engine: Engine) -> None:
    spec = HeartbeatSpec("nightly", None, 300.0, "0 3 * * *", "Europe/Paris")
    fixed = HeartbeatSpec("worker", 60.0, 30.0, None, None, uuid="0f8fad5b-d9cb-469f-a165-70867728950e")
    with engine.begin() as conn:
        first = sync_heartbeats(conn, [spec, fixed], T0)
    with engine.begin() as conn:
        second = sync_heartbeats(conn, [spec, fixed], T0 + 10)
    assert [h.uuid for h in first] == [h.uuid for h in second]
    assert second[1].uuid == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert {h.state for h in second} == {"new"}

    with engine.begin() as conn:
        conn.execute(heartbeats.update().where(heartbeats.c.name == "worker").values(state="up", last_ping_at=T0))
    with engine.connect() as conn:
        row = load_heartbeats(conn, names=["worker"])[0]
    flip = FlipRecord("heartbeat", "worker", "up", "down", T0 + 200, "no ping for 3m20s", ("slack",))
    # A ping arrived after the row was read: the flip must not be written.
    with engine.begin() as conn:
        conn.execute(heartbeats.update().where(heartbeats.c.name == "worker").values(last_ping_at=T0 + 150))
        assert flip_heartbeat(conn, row, flip) is False
    with engine.connect() as conn:
        row = load_heartbeats(conn, names=["worker"])[0]
    with engine.begin() as conn:
        assert flip_heartbeat(conn, row, flip) is True
    with engine.connect() as conn:
        assert conn.execute(select(heartbeats.c.state).where(heartbeats.c.name == "worker")).scalar() == "down"
        assert conn.execute(select(func.count()).select_from(transitions)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(outbox)).scalar() == 1


def test_record_deploy(engine: Engine) -> None:
    with engine.begin() as conn:
        first = record_deploy(
            conn, at=T0, environment="production", version="v1.2.3", source="deploy-command", who="ci"
        )
        second = record_deploy(conn, at=T0 + 1, environment="production", version="v1.2.4", source="api")
    assert second > first
    with engine.connect() as conn:
        versions = conn.execute(select(deploys.c.version).order_by(deploys.c.at)).scalars().all()
    assert versions == ["v1.2.3", "v1.2.4"]


def test_full_disk_is_a_store_error_and_nothing_half_written(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'full.sqlite'}")
    # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk: cap the file size.
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    engine.dispose()
    event.listen(engine, "connect", cap)
    big = [ResultRecord("home", T0 + i, False, 1.0, evidence="x" * 400) for i in range(2000)]
    with pytest.raises(Exception) as caught:
        with engine.begin() as conn:
            write_results(conn, big)
    assert "full" in str(caught.value)
    from launchready.monitor.store.engine import store_error

    error = store_error(caught.value, "write results")
    assert isinstance(error, MonitorStoreError)
    assert str(error).startswith("store refused to write results: database or disk is full")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(results)).scalar() == 0
    engine.dispose()


def test_unreachable_postgresql_is_one_line_store_error() -> None:
    from tests.netutil import closed_port

    with pytest.raises(MonitorStoreError) as caught:
        open_store(f"postgresql://postgres:hunter2secret@127.0.0.1:{closed_port()}/test")
    message = str(caught.value)
    assert "\n" not in message and "cannot connect" in message
    assert "hunter2secret" not in message


def test_store_url_resolution(tmp_path: Path) -> None:
    assert store_url(None, None, tmp_path) == f"sqlite:///{(tmp_path / '.launchready' / 'monitor.sqlite').resolve()}"
    assert store_url(None, "sqlite:///data/m.sqlite", tmp_path) == f"sqlite:///{(tmp_path / 'data/m.sqlite').resolve()}"
    assert store_url("postgresql://db/x", "sqlite:///a", tmp_path) == "postgresql://db/x"
    with pytest.raises(MonitorStoreError):
        create_store_engine("mysql://db/x")
