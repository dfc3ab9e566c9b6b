"""History store: real SQLite files in a temporary directory."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from report_samples import (
    CAA,
    CERT_EXPIRED,
    DMARC,
    HSTS,
    OLD_HEALTH,
    PRIVATE_CACHE,
    T0,
    results_for,
    run_with_history,
    sample_run,
)
from rich.console import Console

from launchready.core.finding import CheckResult, Status
from launchready.core.run import Verdict
from launchready.history import HistoryError, HistoryStore, RunSummary, render_history
from launchready.history.delta import compute_delta


@pytest.fixture
def store(tmp_path: Path):
    s = HistoryStore(tmp_path)
    yield s
    s.close()


def test_reading_an_empty_store_creates_nothing(tmp_path: Path) -> None:
    with HistoryStore(tmp_path) as store:
        assert store.previous("example.com") is None
        assert store.list_runs() == []
        assert store.get(1) is None
        delta = store.delta(sample_run())
    assert delta.previous_run_id is None and delta.new == () and delta.fixed == ()
    assert not (tmp_path / ".launchready").exists()


def test_save_creates_file_and_sets_run_id(tmp_path: Path, store: HistoryStore) -> None:
    saved = store.save(sample_run())
    assert saved.run_id == 1
    assert (tmp_path / ".launchready" / "history.sqlite").is_file()
    assert (tmp_path / ".launchready" / ".gitignore").read_text().strip().endswith("*")
    assert store.save(sample_run(started=T0 + timedelta(hours=1))).run_id == 2


def test_get_round_trips(store: HistoryStore) -> None:
    original = run_with_history()
    saved = store.save(original)
    loaded = store.get(saved.run_id)
    assert loaded == saved
    assert loaded.model_copy(update={"run_id": original.run_id}) == original
    assert loaded.findings[0].evidence == CERT_EXPIRED.evidence


def test_delta_new_still_open_fixed(store: HistoryStore) -> None:
    first = sample_run(findings=(PRIVATE_CACHE, DMARC, OLD_HEALTH, HSTS))
    store.save(first)
    second = sample_run(findings=(CERT_EXPIRED, PRIVATE_CACHE, DMARC), started=T0 + timedelta(days=1))
    # The health and HSTS checks ran again and passed: their findings are fixed.
    second = second.model_copy(
        update={
            "results": results_for(second.findings)
            + (
                CheckResult(check_id=OLD_HEALTH.check_id, target=OLD_HEALTH.target, status=Status.PASSED),
                CheckResult(check_id=HSTS.check_id, target=HSTS.target, status=Status.PASSED),
            )
        }
    )
    delta = store.delta(second)
    assert delta.previous_run_id == 1
    assert delta.previous_started == T0
    assert delta.new == (CERT_EXPIRED.fingerprint,)
    assert delta.still_open == (PRIVATE_CACHE.fingerprint, DMARC.fingerprint)
    assert [f.fingerprint for f in delta.fixed] == [OLD_HEALTH.fingerprint, HSTS.fingerprint]

    saved = store.save(second.model_copy(update={"delta": delta}))
    assert store.get(saved.run_id).delta == delta
    # A stored run compares with the run before it, not with itself.
    assert store.delta(saved).previous_run_id == 1


def test_finding_whose_check_could_not_run_is_not_fixed(store: HistoryStore) -> None:
    store.save(sample_run(findings=(DMARC, HSTS)))
    later = sample_run(
        findings=(),
        results=(
            CheckResult(check_id=DMARC.check_id, target=DMARC.target, status=Status.ERROR, reason="timeout"),
            CheckResult(check_id=HSTS.check_id, target=HSTS.target, status=Status.PASSED),
        ),
        started=T0 + timedelta(days=1),
    )
    delta = store.delta(later)
    assert [f.fingerprint for f in delta.fixed] == [HSTS.fingerprint]
    assert delta.new == () and delta.still_open == ()


def test_previous_is_latest_for_that_target(store: HistoryStore) -> None:
    store.save(sample_run(started=T0))
    store.save(sample_run(findings=(CAA,), started=T0 + timedelta(days=2)))
    store.save(sample_run(findings=(HSTS,), started=T0 + timedelta(days=1)))
    other = sample_run().model_copy(update={"target": "other.org", "started": T0 + timedelta(days=5)})
    store.save(other)
    latest = store.previous("Example.COM.")
    assert latest is not None and latest.run_id == 2 and latest.findings == (CAA,)
    assert store.previous("nothing.test") is None


def test_list_runs(store: HistoryStore) -> None:
    for day in range(3):
        store.save(sample_run(started=T0 + timedelta(days=day)))
    store.save(sample_run().model_copy(update={"target": "other.org", "started": T0 + timedelta(days=9)}))
    runs = store.list_runs()
    assert [r.id for r in runs] == [4, 3, 2, 1]
    assert all(isinstance(r, RunSummary) for r in runs)
    assert [r.id for r in store.list_runs("example.com")] == [3, 2, 1]
    assert [r.id for r in store.list_runs(limit=2)] == [4, 3]
    summary = runs[1]
    assert summary.target == "example.com"
    assert summary.verdict is Verdict.PAUSE
    assert summary.started == T0 + timedelta(days=2)
    assert summary.counts == {"blocker": 2, "high": 2, "medium": 1, "low": 1, "info": 1}
    assert summary.total == 7 and summary.not_verified == 1


def test_findings_and_results_are_stored_as_rows(tmp_path: Path, store: HistoryStore) -> None:
    store.save(sample_run())
    store.close()
    with sqlite3.connect(tmp_path / ".launchready" / "history.sqlite") as db:
        rows = db.execute("SELECT fingerprint, severity FROM findings ORDER BY rank").fetchall()
        statuses = {r[0] for r in db.execute("SELECT status FROM results")}
    db.close()
    assert rows[0] == (CERT_EXPIRED.fingerprint, "blocker")
    assert statuses == {"passed", "failed", "error", "skipped"}


def test_corrupt_file_gives_history_error(tmp_path: Path) -> None:
    db = tmp_path / ".launchready" / "history.sqlite"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database at all, just some junk bytes" * 100)
    with HistoryStore(tmp_path) as store:
        for action in (
            lambda: store.previous("example.com"),
            lambda: store.save(sample_run()),
            store.list_runs,
        ):
            with pytest.raises(HistoryError) as caught:
                action()
            message = str(caught.value)
            assert str(db) in message and "\n" not in message
            assert "corrupt" in message


def test_locked_file_gives_history_error(tmp_path: Path) -> None:
    with HistoryStore(tmp_path) as store:
        store.save(sample_run())
    holder = sqlite3.connect(tmp_path / ".launchready" / "history.sqlite", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with HistoryStore(tmp_path, lock_timeout=0.05) as store, pytest.raises(HistoryError, match="locked"):
            store.save(sample_run())
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_other_format_version_is_refused(tmp_path: Path) -> None:
    with HistoryStore(tmp_path) as store:
        store.save(sample_run())
    with sqlite3.connect(tmp_path / ".launchready" / "history.sqlite") as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with HistoryStore(tmp_path) as store, pytest.raises(HistoryError, match="format version 99"):
        store.list_runs()


def test_unreadable_stored_run_gives_history_error(tmp_path: Path) -> None:
    with HistoryStore(tmp_path) as store:
        store.save(sample_run())
    with sqlite3.connect(tmp_path / ".launchready" / "history.sqlite") as db:
        db.execute("UPDATE runs SET run_json = '{\"tool_version\": 1}'")
    db.close()
    with HistoryStore(tmp_path) as store, pytest.raises(HistoryError, match="audit #1 cannot be read"):
        store.get(1)


def test_unwritable_location_gives_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with HistoryStore(blocker) as store, pytest.raises(HistoryError) as caught:
        store.save(sample_run())
    assert str(blocker) in str(caught.value)


def test_compute_delta_without_previous() -> None:
    delta = compute_delta(None, sample_run())
    assert delta.previous_run_id is None and delta.new == () and delta.still_open == ()


def test_render_history(store: HistoryStore) -> None:
    store.save(sample_run())
    store.save(sample_run(findings=(), results=()).model_copy(update={"started": T0 + timedelta(days=1)}))
    console = Console(record=True, width=80, force_terminal=False, color_system=None)
    render_history(store.list_runs(), console)
    out = console.export_text()
    assert "2024-05-01 14:03" in out and "example.com" in out and "PAUSE" in out
    assert "2 blocker" in out and "none" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    empty = Console(record=True, width=80, force_terminal=False)
    render_history([], empty)
    assert "No audits stored yet" in empty.export_text()
