"""Quorum across regions: the pure judge, the config keys, and the judging in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from launchready.config.sections.monitor import MonitorConfig
from launchready.monitor.quorum import QuorumPolicy, RegionView, default_quorum, judge, transition
from launchready.monitor.store.regions import (
    ingest_results,
    probe_seen,
    region_rows,
    regional_checks,
    silent_probes,
    sync_probes,
)
from launchready.monitor.store.repository import CheckSpec, ResultRecord, sync_checks
from launchready.monitor.store.schema import outbox, transitions
from tests.monitorutil import store_engine


def test_default_quorum_is_a_majority_and_at_least_two_from_two_regions() -> None:
    assert [default_quorum(n) for n in range(1, 8)] == [1, 2, 2, 3, 3, 4, 4]


def _view(region: str, state: str, at: float | None = 100.0, reason: str | None = None) -> RegionView:
    return RegionView(region, state, at, reason, f"evidence from {region}" if reason else None)


def test_one_region_failing_alone_is_regional_and_quorum_failing_is_down_naming_each_region() -> None:
    policy = QuorumPolicy(("eu", "us"), 2, 130.0)
    regional = judge(policy, {"eu": _view("eu", "down", reason="refused"), "us": _view("us", "up")}, 100.0)
    assert regional.state == "regional"
    down = judge(
        policy, {"eu": _view("eu", "down", reason="refused"), "us": _view("us", "down", reason="timeout")}, 100.0
    )
    assert down.state == "down"
    reason = down.reason()
    assert reason is not None
    assert "eu: refused [evidence from eu]" in reason and "us: timeout [evidence from us]" in reason
    assert "2 of 2 regions, quorum 2" in reason


def test_a_silent_region_counts_neither_as_failing_nor_as_passing() -> None:
    policy = QuorumPolicy(("eu", "us"), 2, 130.0)
    # us last reported 500 s ago: only eu is fresh, and it fails: regional, never down.
    verdict = judge(
        policy, {"eu": _view("eu", "down", 1000.0, "refused"), "us": _view("us", "down", 500.0, "x")}, 1000.0
    )
    assert verdict.state == "regional" and verdict.stale == ("us",)
    assert judge(policy, {"eu": _view("eu", "up", 10.0)}, 1000.0).state is None


def test_transitions_follow_the_verdict_and_paused_never_moves() -> None:
    policy = QuorumPolicy(("eu", "us", "ap"), 2, 130.0)
    views = {"eu": _view("eu", "down", reason="r"), "us": _view("us", "up"), "ap": _view("ap", "up")}
    flip = transition("up", judge(policy, views, 100.0))
    assert flip is not None and (flip.old_state, flip.new_state) == ("up", "regional")
    assert transition("paused", judge(policy, views, 100.0)) is None
    assert transition("regional", judge(policy, views, 100.0)) is None


_states = st.sampled_from(["new", "up", "down"])


@given(
    st.lists(st.tuples(_states, st.floats(min_value=0, max_value=1000)), min_size=1, max_size=7),
    st.data(),
)
def test_down_exactly_when_quorum_fresh_regions_fail(regions: list[tuple[str, float]], data: st.DataObject) -> None:
    names = tuple(f"r{i}" for i in range(len(regions)))
    quorum = data.draw(st.integers(min_value=1, max_value=len(names)))
    policy = QuorumPolicy(names, quorum, 130.0)
    now = 1000.0
    views = {name: RegionView(name, state, at) for name, (state, at) in zip(names, regions, strict=True)}
    verdict = judge(policy, views, now)
    fresh_down = sum(1 for state, at in regions if state == "down" and now - at <= 130.0)
    fresh_up = sum(1 for state, at in regions if state == "up" and now - at <= 130.0)
    assert (verdict.state == "down") == (fresh_down >= quorum)
    assert (verdict.state == "regional") == (0 < fresh_down < quorum)
    if fresh_down == 0:
        assert verdict.state == ("up" if fresh_up else None)
    # Fewer failing regions than the quorum can never page, whatever the others do.
    if quorum >= 2 and fresh_down == 1:
        assert verdict.state != "down"


def _config(**extra: object) -> MonitorConfig:
    check = {
        "name": "api",
        "url": "https://example.test/health",
        "interval": 60,
        "regions": ["eu", "us"],
        "failures_before_down": 2,
    }
    check.update(extra)
    return MonitorConfig.model_validate({"checks": [check]})


def test_config_defaults_the_quorum_and_rejects_one_out_of_reach() -> None:
    assert _config().checks[0].effective_quorum == 2
    assert _config(regions=["eu", "us", "ap"]).checks[0].effective_quorum == 2
    with pytest.raises(ValueError, match="quorum 3 needs between 1 and 2"):
        _config(quorum=3)
    with pytest.raises(ValueError, match="quorum goes with regions"):
        _config(regions=[], quorum=1)
    with pytest.raises(ValueError, match="region name"):
        _config(regions=["eu west"])


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as engine:
        yield engine


def _routing(kind: str, name: str, tags: object, old: str, new: str) -> list[str]:
    return ["pager"] if new in ("down", "up") or old == "down" else []


def _result(region: str, at: float, ok: bool, reason: str | None = None) -> ResultRecord:
    return ResultRecord(
        "api",
        at,
        ok,
        20.0 if region == "eu" else 120.0,
        reason=reason,
        evidence=f"{region} saw {reason}" if reason else None,
        region=region,
    )


def test_store_judges_a_regional_outage_then_a_real_one_with_one_page_naming_both(engine: Engine) -> None:
    config = _config()
    specs = regional_checks(config)
    with engine.begin() as conn:
        sync_checks(conn, [CheckSpec("api", "http", "https://example.test/health", 60.0)], 0.0)
    batches = [
        [_result("eu", 0, True), _result("us", 1, True)],
        # eu alone fails twice: regional (notices turned off here), no page.
        [_result("eu", 60, False, "refused"), _result("us", 61, True)],
        [_result("eu", 120, False, "refused"), _result("us", 121, True)],
        # us fails too: down, one page naming both regions.
        [_result("eu", 180, False, "refused"), _result("us", 181, False, "timeout")],
        [_result("eu", 240, False, "refused"), _result("us", 241, False, "timeout")],
        [_result("eu", 300, False, "refused"), _result("us", 301, False, "timeout")],
    ]
    all_flips = []
    for batch in batches:
        with engine.begin() as conn:
            flips, ignored = ingest_results(conn, batch, specs, _routing, regional_notice=False)
        assert ignored == 0
        all_flips.extend(flips)
    assert [(f.old_state, f.new_state) for f in all_flips] == [("new", "up"), ("up", "regional"), ("regional", "down")]
    page = all_flips[-1]
    assert page.providers == ("pager",)
    assert page.reason is not None and "eu: refused [eu saw refused]" in page.reason and "us: timeout" in page.reason
    with engine.connect() as conn:
        assert conn.execute(select(outbox.c.provider)).scalars().all() == ["pager"]
        rows = {r.region: r for r in region_rows(conn, "api")}
        assert rows["eu"].last_latency_ms == 20.0 and rows["us"].last_latency_ms == 120.0
        assert {r.state for r in rows.values()} == {"down"}


def test_results_for_unknown_regions_are_ignored_and_late_replays_move_no_state(engine: Engine) -> None:
    specs = regional_checks(_config())
    with engine.begin() as conn:
        sync_checks(conn, [CheckSpec("api", "http", "https://example.test/health", 60.0)], 0.0)
        flips, ignored = ingest_results(
            conn, [_result("eu", 100, True), _result("mars", 100, False, "x")], specs, _routing
        )
        assert ignored == 1
        flips, _ = ingest_results(
            conn, [_result("eu", 50, False, "old"), _result("eu", 40, False, "older")], specs, _routing
        )
        assert flips == []
        eu = next(r for r in region_rows(conn, "api") if r.region == "eu")
        assert eu.state == "up" and eu.last_result_at == 100


def test_a_silent_probe_flips_down_once_and_recovers_when_it_reports(engine: Engine) -> None:
    routing = _routing
    with engine.begin() as conn:
        sync_probes(conn, ["eu", "us"], 0.0)
        probe_seen(
            conn, "eu", now=10.0, token_name="probe-eu", clock_offset_s=0.2, received=3, dropped=0, routing=routing
        )
    with engine.begin() as conn:
        assert silent_probes(conn, ["eu", "us"], now=100.0, silence_s=180.0, routing=routing) == []
        flips = silent_probes(conn, ["eu", "us"], now=200.0, silence_s=180.0, routing=routing)
    assert [(f.subject_name, f.new_state) for f in flips] == [("eu", "down"), ("us", "down")]
    assert flips[0].reason is not None and "region eu stopped reporting" in flips[0].reason
    with engine.begin() as conn:
        assert silent_probes(conn, ["eu", "us"], now=300.0, silence_s=180.0, routing=routing) == []
        back = probe_seen(
            conn, "eu", now=310.0, token_name="probe-eu", clock_offset_s=None, received=1, dropped=2, routing=routing
        )
    assert back is not None and (back.old_state, back.new_state) == ("down", "up") and back.providers == ("pager",)
    with engine.connect() as conn:
        kinds = conn.execute(select(transitions.c.subject_kind).distinct()).scalars().all()
    assert kinds == ["probe"]


def test_the_regional_notice_is_routed_when_enabled_and_labelled_regional(engine: Engine) -> None:
    specs = regional_checks(_config())
    with engine.begin() as conn:
        sync_checks(conn, [CheckSpec("api", "http", "https://example.test/health", 60.0)], 0.0)
        batch = [
            _result("eu", 0, True),
            _result("us", 1, True),
            _result("eu", 60, False, "r"),
            _result("eu", 61, False, "r"),
        ]
        flips, _ = ingest_results(conn, batch, specs, _routing)
    assert [(f.new_state, f.providers) for f in flips] == [("up", ()), ("regional", ("pager",))]


def test_a_slot_is_claimed_by_one_node_only(engine: Engine) -> None:
    from launchready.monitor.store.regions import claim_slot, prune_slot_claims

    with engine.begin() as conn:
        assert claim_slot(conn, check_name="api", region="local", slot_at=60.5, node="a", now=61.0)
        assert not claim_slot(conn, check_name="api", region="local", slot_at=60.5, node="b", now=61.0)
        assert claim_slot(conn, check_name="api", region="eu", slot_at=60.5, node="b", now=61.0)
        assert prune_slot_claims(conn, before=100.0) == 2


def test_the_check_page_shows_each_region_with_its_state_and_latency(tmp_path: Path) -> None:
    import time

    from launchready.monitor.web import create_app
    from launchready.monitor.web.auth import add_user
    from tests.monitor_web_support import Browser, serve
    from tests.test_monitor_web import login

    now = time.time()
    with store_engine("sqlite", tmp_path) as engine:
        with engine.begin() as conn:
            sync_checks(conn, [CheckSpec("api", "http", "https://example.test/health", 60.0)], now - 300)
            batch = [
                ResultRecord("api", now - 120, True, 21.0, region="eu"),
                ResultRecord("api", now - 119, True, 130.0, region="us"),
                ResultRecord("api", now - 60, False, 22.0, reason="refused", region="eu"),
                ResultRecord("api", now - 1, False, 23.0, reason="refused", region="eu"),
            ]
            ingest_results(conn, batch, regional_checks(_config()), _routing, regional_notice=False)
        add_user(engine, "ada", "correct horse battery", now)
        with serve(create_app(engine)) as served:
            browser = Browser(served)
            assert login(browser, "ada", "correct horse battery").status == 303
            page = browser.get("/checks/api").text
            overview = browser.get("/").text
    assert "<h2>Regions</h2>" in page and "Failing in fewer regions than its quorum" in page
    assert ">eu<" in page and ">us<" in page and "130 ms" in page and "refused" in page
    assert "regional" in overview
