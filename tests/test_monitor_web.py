"""The monitor's web app served by uvicorn on loopback, on SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, insert, select

from launchready.lab.ca import LabCA
from launchready.monitor.store.flips import record_flip
from launchready.monitor.store.pings import BODY_KEEP_BYTES
from launchready.monitor.store.schema import (
    checks,
    deploys,
    heartbeats,
    login_failures,
    outbox,
    pings,
    results,
    rollups_1h,
    rollups_1m,
    transitions,
    web_sessions,
)
from launchready.monitor.web import WebSettings, create_app
from launchready.monitor.web.auth import add_api_token, add_user, sha256_hex
from tests.monitor_web_support import Browser, ServedApp, serve, store_engine

NOW = 1_790_000_000.0  # a fixed clock, aligned to nothing in particular
PASSWORD = "correct horse battery"
HB_UUID = "0f8b3c52-7d7e-4c43-9a57-1f6b0f3e2a11"
PING_KEY = "pk_abcdefghijklmnopqrstuv"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with store_engine(request.param, tmp_path) as engine:
        yield engine


def seed(engine: Engine) -> None:
    """Two checks (one down after a deploy), one heartbeat, a user and rollups."""
    with engine.begin() as conn:
        conn.execute(
            insert(checks),
            [
                {
                    "name": "api-health",
                    "kind": "http",
                    "target": "https://api.example.test/health",
                    "interval_s": 60,
                    "tags": ["api"],
                    "state": "down",
                    "state_since": NOW - 1800,
                    "last_result_at": NOW - 30,
                    "last_reason": "[STATUS] == 200 failed: got 502",
                    "consecutive_failures": 30,
                    "consecutive_successes": 0,
                    "configured": True,
                },
                {
                    "name": "www",
                    "kind": "http",
                    "target": "https://www.example.test/",
                    "interval_s": 60,
                    "tags": [],
                    "state": "up",
                    "state_since": NOW - 86400,
                    "last_result_at": NOW - 20,
                    "last_reason": None,
                    "consecutive_failures": 0,
                    "consecutive_successes": 100,
                    "configured": True,
                },
            ],
        )
        split = int(NOW // 3600) * 3600
        hourly = []
        for hour in range(1, 24 * 31):
            start = split - hour * 3600
            hourly.append(
                {
                    "check_name": "www",
                    "bucket_start": start,
                    "count": 60,
                    "failures": 0,
                    "latency_sum_ms": 60 * 40.0,
                    "latency_max_ms": 90.0,
                    "latency_hist": {"50": 55, "100": 5},
                }
            )
            failures = 6 if hour <= 24 else 0
            hourly.append(
                {
                    "check_name": "api-health",
                    "bucket_start": start,
                    "count": 60,
                    "failures": failures,
                    "latency_sum_ms": 54 * 200.0,
                    "latency_max_ms": 900.0,
                    "latency_hist": {"100": 10, "250": 40, "1000": 10 - failures},
                }
            )
        conn.execute(insert(rollups_1h), hourly)
        minutes = []
        # The day before the current hour, minute by minute, for the 24 h chart (the overview
        # reads only the current hour's minutes, so these leave its figures as computed below).
        for minute in range(1, 24 * 60):
            start = split - minute * 60
            wave = 20 * (1 + (minute % 180) / 180)
            minutes.append(
                {
                    "check_name": "www",
                    "bucket_start": start,
                    "count": 1,
                    "failures": 0,
                    "latency_sum_ms": 30.0 + wave,
                    "latency_max_ms": 30.0 + wave,
                    "latency_hist": {"50": 1} if wave < 20 else {"100": 1},
                }
            )
            failed = minute % 10 == 0
            minutes.append(
                {
                    "check_name": "api-health",
                    "bucket_start": start,
                    "count": 1,
                    "failures": int(failed),
                    "latency_sum_ms": 0.0 if failed else 120.0 + 4 * wave,
                    "latency_max_ms": 0.0 if failed else 120.0 + 4 * wave,
                    "latency_hist": {} if failed else ({"250": 1} if minute % 7 else {"1000": 1}),
                }
            )
        for minute in range(int((NOW - split) // 60) + 1):
            start = split + minute * 60
            minutes.append(
                {
                    "check_name": "www",
                    "bucket_start": start,
                    "count": 1,
                    "failures": 0,
                    "latency_sum_ms": 40.0,
                    "latency_max_ms": 40.0,
                    "latency_hist": {"50": 1},
                }
            )
            minutes.append(
                {
                    "check_name": "api-health",
                    "bucket_start": start,
                    "count": 1,
                    "failures": 1,
                    "latency_sum_ms": 0.0,
                    "latency_max_ms": 0.0,
                    "latency_hist": {},
                }
            )
        conn.execute(insert(rollups_1m), minutes)
        conn.execute(
            insert(deploys),
            [
                {
                    "at": NOW - 3 * 86400,
                    "environment": "production",
                    "version": "v1.4.0",
                    "who": "ci",
                    "source": "api",
                    "note": None,
                },
                {
                    "at": NOW - 2400,
                    "environment": "production",
                    "version": "v1.5.0-bad",
                    "who": "ci",
                    "source": "api",
                    "note": "new cache",
                },
            ],
        )
        record_flip(
            conn,
            subject_kind="check",
            subject_name="api-health",
            old_state="up",
            new_state="down",
            at=NOW - 2 * 86400,
            reason="timeout",
            providers=[],
        )
        record_flip(
            conn,
            subject_kind="check",
            subject_name="api-health",
            old_state="down",
            new_state="up",
            at=NOW - 2 * 86400 + 600,
            reason=None,
            providers=[],
        )
        record_flip(
            conn,
            subject_kind="check",
            subject_name="api-health",
            old_state="up",
            new_state="down",
            at=NOW - 1800,
            reason="[STATUS] == 200 failed: got 502",
            providers=[],
        )
        conn.execute(
            insert(results),
            [
                {
                    "check_name": "api-health",
                    "region": "local",
                    "at": NOW - 60 * i,
                    "ok": False,
                    "latency_ms": 12.0,
                    "status_code": 502,
                    "reason": "[STATUS] == 200 failed: got 502",
                    "evidence": "<script>alert(1)</script> upstream connect error",
                }
                for i in range(1, 4)
            ],
        )
        conn.execute(
            insert(heartbeats).values(
                name="nightly-backup", uuid=HB_UUID, period_s=86400, grace_s=3600, state="new", configured=True
            )
        )
    add_user(engine, "ada", PASSWORD, NOW)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def routed(kind: str, name: str, tags: Sequence[str], old_state: str, new_state: str) -> list[str]:
    # Routes everything it is asked about, so the tests see which flips the ping handler routes.
    assert (kind, name, tuple(tags)) == ("heartbeat", "nightly-backup", ())
    return ["ops-slack", "pager-webhook"]


@pytest.fixture
def served(engine: Engine, clock: Clock) -> Iterator[ServedApp]:
    seed(engine)
    settings = WebSettings(ping_key=PING_KEY, status_page=True)
    with serve(create_app(engine, settings, routing=routed, clock=clock)) as app:
        yield app


def login(browser: Browser, user: str = "ada", password: str = PASSWORD, next_path: str = "/") -> Any:
    page = browser.get(f"/login?next={next_path}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return browser.post(
        "/login", form={"csrf_token": csrf.group(1), "username": user, "password": password, "next": next_path}
    )


def test_login_flow_session_cookie_and_logout(served: ServedApp, engine: Engine) -> None:
    browser = Browser(served)
    first = browser.get("/")
    assert first.status == 303 and first.headers["location"] == "/login?next=%2F"
    reply = login(browser, next_path="/heartbeats")
    assert reply.status == 303 and reply.headers["location"] == "/heartbeats"
    session_header = next(h for h in browser.set_cookie_headers if h.startswith("lr_session="))
    assert "HttpOnly" in session_header and "SameSite=lax" in session_header and "Secure" not in session_header
    cookie = browser.cookies["lr_session"]
    with engine.connect() as conn:
        stored = conn.execute(select(web_sessions.c.id_hash, web_sessions.c.user_name)).all()
    assert [(row.id_hash, row.user_name) for row in stored] == [(sha256_hex(cookie), "ada")]

    overview = browser.get("/")
    assert overview.status == 200
    assert "api-health" in overview.text and "www" in overview.text and "Sign out ada" in overview.text
    assert "default-src 'none'" in overview.headers["content-security-policy"]

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', overview.text)
    assert csrf is not None
    assert browser.post("/logout", form={"csrf_token": "forged"}).status == 403
    assert browser.get("/").status == 200  # still signed in after the forged request
    out = browser.post("/logout", form={"csrf_token": csrf.group(1)})
    assert out.status == 303
    with engine.connect() as conn:
        assert conn.execute(select(web_sessions)).all() == []
    browser.cookies["lr_session"] = cookie  # the old cookie is dead server-side
    assert browser.get("/").status == 303


def test_session_cookie_is_secure_over_tls(engine: Engine, clock: Clock, tmp_path: Path) -> None:
    seed(engine)
    ca = LabCA.create()
    cert, key = ca.issue(["127.0.0.1"]).write(tmp_path, "monitor")
    bundle = ca.write_bundle(tmp_path / "ca.pem")
    with serve(create_app(engine, WebSettings(), clock=clock), tls=(cert, key, bundle)) as served:
        browser = Browser(served)
        assert login(browser).status == 303
        session_header = next(h for h in browser.set_cookie_headers if h.startswith("lr_session="))
        assert "Secure" in session_header and "HttpOnly" in session_header and "SameSite=lax" in session_header
        assert browser.get("/").status == 200


def test_login_without_matching_csrf_token_is_refused(served: ServedApp) -> None:
    browser = Browser(served)
    no_cookie = browser.post("/login", form={"csrf_token": "x", "username": "ada", "password": PASSWORD})
    assert no_cookie.status == 403 and "lr_session" not in browser.cookies
    browser.get("/login")
    mismatched = browser.post("/login", form={"csrf_token": "not-the-cookie", "username": "ada", "password": PASSWORD})
    assert mismatched.status == 403 and "lr_session" not in browser.cookies
    open_redirect = login(browser, next_path="//evil.example/")
    assert open_redirect.status == 303 and open_redirect.headers["location"] == "/"


def test_failed_logins_are_rate_limited(served: ServedApp, engine: Engine, clock: Clock) -> None:
    browser = Browser(served)
    for _ in range(5):
        assert login(browser, password="wrong password").status == 401
    blocked = login(browser)  # the right password, but too late
    assert blocked.status == 429 and "Too many failed sign-ins" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    with engine.connect() as conn:
        keys = {row.key for row in conn.execute(select(login_failures.c.key))}
    assert keys == {"addr:127.0.0.1", "user:ada"}
    clock.now += 16 * 60
    assert login(browser).status == 303
    assert browser.get("/").status == 200


def www_latency(families: dict[str, Any]) -> dict[str, float]:
    samples = families["launchready_check_latency_seconds"].samples
    found = {s.labels["le"]: s.value for s in samples if s.name.endswith("_bucket") and s.labels["check"] == "www"}
    found["count"] = next(s.value for s in samples if s.name.endswith("_count") and s.labels["check"] == "www")
    return found


def test_api_and_metrics_need_a_token(served: ServedApp, engine: Engine, clock: Clock) -> None:
    token = add_api_token(engine, "prometheus", NOW)
    browser = Browser(served)
    for path in ("/api/v1/checks", "/api/v1/heartbeats", "/metrics"):
        assert browser.get(path).status == 401
        assert browser.get(path, headers={"Authorization": "Bearer lrm_wrong"}).status == 401
    bearer = {"Authorization": f"Bearer {token}"}
    listing = browser.get("/api/v1/checks", headers=bearer)
    assert listing.status == 200
    by_name = {check["name"]: check for check in listing.json()["checks"]}
    assert by_name["api-health"]["state"] == "down" and by_name["www"]["state"] == "up"
    assert by_name["www"]["uptime"]["30d"] == 1.0
    assert by_name["www"]["latency_p50_ms"] == 50.0 and by_name["www"]["latency_p95_ms"] == 100.0

    metrics = browser.get("/metrics", headers=bearer)
    assert metrics.status == 200 and metrics.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(metrics.text)}
    up = {s.labels["check"]: s.value for s in families["launchready_check_up"].samples}
    assert up == {"api-health": 0.0, "www": 1.0}
    latency = families["launchready_check_latency_seconds"]
    assert latency.type == "histogram"
    # The first scrape counts the settled minutes (older than 2 min) of the hour before it: 60
    # one-minute buckets, the 11 since the hour began at 50 ms, the 49 before at 100 ms.
    assert www_latency(families) == {"0.05": 11.0, "0.1": 60.0, "+Inf": 60.0, "count": 60.0}
    clock.now += 300  # the three minutes that settle meanwhile are added; nothing is counted twice
    later = {f.name: f for f in text_string_to_metric_families(browser.get("/metrics", headers=bearer).text)}
    assert www_latency(later) == {"0.05": 14.0, "0.1": 63.0, "+Inf": 63.0, "count": 63.0}
    assert "launchready_heartbeat_last_ping_timestamp_seconds" in families
    with engine.connect() as conn:
        from launchready.monitor.store.schema import api_tokens

        assert conn.execute(select(api_tokens.c.token_hash)).scalar_one() == sha256_hex(token)


def test_metrics_public_and_heartbeat_timestamps(engine: Engine, clock: Clock) -> None:
    seed(engine)
    with serve(create_app(engine, WebSettings(metrics_public=True), clock=clock)) as app:
        browser = Browser(app)
        assert browser.get(f"/ping/{HB_UUID}").status == 200
        families = {f.name: f for f in text_string_to_metric_families(browser.get("/metrics").text)}
    pings_seen = {
        s.labels["heartbeat"]: s.value for s in families["launchready_heartbeat_last_ping_timestamp_seconds"].samples
    }
    assert pings_seen == {"nightly-backup": NOW}


def heartbeat_row(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(heartbeats)).one()


def flips(engine: Engine) -> list[tuple[str, str, list[str]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(transitions.c.id, transitions.c.old_state, transitions.c.new_state)
            .where(transitions.c.subject_kind == "heartbeat")
            .order_by(transitions.c.id)
        ).all()
        return [
            (
                row.old_state,
                row.new_state,
                sorted(conn.execute(select(outbox.c.provider).where(outbox.c.transition_id == row.id)).scalars()),
            )
            for row in rows
        ]


def test_ping_shapes_states_and_durations(served: ServedApp, engine: Engine, clock: Clock) -> None:
    browser = Browser(served)
    assert browser.request("HEAD", f"/ping/{HB_UUID}").status == 200
    hb = heartbeat_row(engine)
    assert hb.state == "up" and hb.last_ping_at == NOW
    assert flips(engine) == [("new", "up", [])]  # the first ping of a new heartbeat alerts nobody

    clock.now += 10
    assert browser.get(f"/ping/{HB_UUID}/start?rid=run-1").status == 200
    clock.now += 5
    assert browser.get(f"/ping/{HB_UUID}/start?rid=run-2").status == 200
    clock.now += 40
    assert browser.post(f"/ping/{HB_UUID}/0?rid=run-1").status == 200
    hb = heartbeat_row(engine)
    assert hb.last_duration_s == 45.0 and hb.last_start_at == NOW + 15 and hb.state == "up"

    clock.now += 100
    assert browser.get(f"/ping/{HB_UUID}/start").status == 200
    clock.now += 7
    assert browser.get(f"/ping/{HB_UUID}").status == 200
    assert heartbeat_row(engine).last_duration_s == 7.0

    clock.now += 60
    assert browser.get(f"/ping/{HB_UUID}/log").status == 200
    assert heartbeat_row(engine).state == "up"
    assert browser.get(f"/ping/{HB_UUID}/fail").status == 200
    assert heartbeat_row(engine).state == "down"
    clock.now += 60
    assert browser.post(f"/ping/{PING_KEY}/nightly-backup").status == 200
    assert heartbeat_row(engine).state == "up"
    assert browser.get(f"/ping/{PING_KEY}/nightly-backup/3").status == 200
    assert heartbeat_row(engine).state == "down"
    assert flips(engine) == [
        ("new", "up", []),
        ("up", "down", ["ops-slack", "pager-webhook"]),
        ("down", "up", ["ops-slack", "pager-webhook"]),
        ("up", "down", ["ops-slack", "pager-webhook"]),
    ]
    with engine.connect() as conn:
        kinds = [(r.kind, r.exit_status, r.method) for r in conn.execute(select(pings).order_by(pings.c.id))]
    assert kinds[-3:] == [("fail", None, "GET"), ("success", None, "POST"), ("fail", 3, "GET")]

    heartbeats_page = Browser(served)
    login(heartbeats_page)
    page = heartbeats_page.get("/heartbeats")
    assert page.status == 200 and "nightly-backup" in page.text and f"/ping/{HB_UUID}" in page.text
    assert "45 s" in page.text and "7.0 s" in page.text
    detail = heartbeats_page.get("/heartbeats/nightly-backup")
    assert detail.status == 200
    assert "exit 3" in detail.text and "ran 45 s" in detail.text and "rid run-1" in detail.text
    assert "still down" in detail.text and "ping with exit status 3" in detail.text
    assert heartbeats_page.get("/heartbeats/no-such-job").status == 404


@pytest.mark.parametrize(
    "path",
    [
        "/ping/3d1c5a2e-9b7f-4c6d-8e1a-5f2b7c9d0e13",  # a well-formed uuid no heartbeat has
        f"/ping/{HB_UUID}/256",
        f"/ping/{HB_UUID}/restart",
        f"/ping/{HB_UUID}/0/extra",
        "/ping/not-the-key/nightly-backup",
        f"/ping/{PING_KEY}/no-such-job",
        "/ping/",
    ],
)
def test_pings_to_unknown_heartbeats_are_404(served: ServedApp, engine: Engine, path: str) -> None:
    assert Browser(served).get(path).status == 404
    assert heartbeat_row(engine).state == "new"


def test_ping_body_is_capped_and_masked(served: ServedApp, engine: Engine) -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    body = f"backup done password={secret}\n".encode() + b"x" * (BODY_KEEP_BYTES * 3)
    assert Browser(served).post(f"/ping/{HB_UUID}", body=body).status == 200
    with engine.connect() as conn:
        kept = conn.execute(select(pings.c.body)).scalar_one()
    assert secret not in kept and "password=s3cr…(" in kept
    browser = Browser(served)
    login(browser)
    shown = browser.get("/heartbeats/nightly-backup").text
    assert "password=s3cr…(" in shown and secret not in shown
    assert kept.startswith("backup done") and kept.endswith("x") and len(kept.encode()) <= BODY_KEEP_BYTES


def test_deploy_api_records_markers_shown_on_the_check_page(served: ServedApp, engine: Engine) -> None:
    token = add_api_token(engine, "ci", NOW)
    browser = Browser(served)
    payload = {"environment": "production", "version": "v1.6.0", "who": "release-bot", "note": "roll forward"}
    assert browser.post("/api/v1/deploys", body=json.dumps(payload).encode()).status == 401
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bad = browser.post("/api/v1/deploys", body=b"{not json", headers=bearer)
    assert bad.status == 400 and "not JSON" in bad.json()["error"]
    missing = browser.post("/api/v1/deploys", body=b'{"environment": "production"}', headers=bearer)
    assert missing.status == 400 and "'version'" in missing.json()["error"]
    unknown = browser.post(
        "/api/v1/deploys", body=b'{"environment": "p", "version": "1", "colour": "red"}', headers=bearer
    )
    assert unknown.status == 400 and "'colour'" in unknown.json()["error"]
    created = browser.post("/api/v1/deploys", body=json.dumps(payload).encode(), headers=bearer)
    assert created.status == 201 and created.json()["at"] == NOW
    anonymous = browser.post("/api/v1/deploys", body=b'{"environment": "staging", "version": "v2"}', headers=bearer)
    assert anonymous.status == 201
    with engine.connect() as conn:
        rows = conn.execute(select(deploys.c.version, deploys.c.who, deploys.c.source).where(deploys.c.at == NOW)).all()
    assert sorted(tuple(r) for r in rows) == [("v1.6.0", "release-bot", "api"), ("v2", "token ci", "api")]

    login(browser)
    page = browser.get("/checks/api-health")
    assert page.status == 200
    # The 24 h chart marks the three deploys inside it (v1.5.0-bad, v1.6.0, v2), not v1.4.0 from 3 days ago.
    assert page.text.count('<g class="deploy">') == 3
    assert "v1.6.0" in page.text and "v1.5.0-bad" in page.text


def test_check_page_incidents_failures_and_escaping(served: ServedApp) -> None:
    browser = Browser(served)
    login(browser)
    page = browser.get("/checks/api-health?range=7d")
    assert page.status == 200
    text = page.text
    assert "Down since" in text and "got 502" in text
    # Each incident names the last deploy before it.
    assert "<strong>v1.5.0-bad</strong> to production, 10 min before" in text
    assert "<strong>v1.4.0</strong> to production, 1 d before" in text
    assert "still down" in text
    # Evidence copied from the watched site is text, never markup.
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert '<svg class="chart"' in text and 'class="fail"' in text
    assert browser.get("/checks/no-such-check").status == 404


def test_overview_figures(served: ServedApp, engine: Engine) -> None:
    browser = Browser(served)
    login(browser)
    text = browser.get("/").text
    row = text[text.index('href="/checks/api-health"') : text.index('href="/checks/www"')]
    # api-health: 6 of 60 failed in each of the last 24 complete hours, and all 14 minutes of the
    # current hour so far. 24 h: 158 of 1454 failed; 7 d: 158 of 10094; 30 d: 158 of 43214, of
    # which 0.5 % (216.07) may fail: 26.8 % of the budget left.
    assert "state-down" in row and "89.13 %" in row and "98.43 %" in row and "99.63 %" in row
    assert "26.8 %" in row and "250 ms" in row and "1.00 s" in row
    token = add_api_token(engine, "reader", NOW)
    api = browser.get("/api/v1/checks", headers={"Authorization": f"Bearer {token}"}).json()
    health = next(c for c in api["checks"] if c["name"] == "api-health")
    assert health["uptime"]["24h"] == pytest.approx(1296 / 1454)
    assert health["error_budget_left"] == pytest.approx(1 - 158 / (0.005 * 43214))


def test_status_page_shows_only_names_and_states(served: ServedApp, engine: Engine, clock: Clock) -> None:
    public = Browser(served).get("/status")
    assert public.status == 200
    assert "api-health" in public.text and "www" in public.text and "1 of 2 services down" in public.text
    assert "example.test" not in public.text and "got 502" not in public.text and "Sign out" not in public.text
    with serve(create_app(engine, WebSettings(), clock=clock)) as hidden:
        assert Browser(hidden).get("/status").status == 404


def test_healthz_reports_the_store(served: ServedApp, tmp_path: Path, clock: Clock) -> None:
    assert Browser(served).get("/healthz").json() == {"status": "ok"}
    from sqlalchemy import create_engine

    dead = create_engine(f"sqlite:///{tmp_path}/missing-dir/monitor.sqlite")
    with serve(create_app(dead, WebSettings(), clock=clock)) as app:
        reply = Browser(app).get("/healthz")
        ping = Browser(app).get(f"/ping/{HB_UUID}")
        api = Browser(app).get("/api/v1/checks", headers={"Authorization": "Bearer lrm_x"})
    assert reply.status == 503 and reply.json()["status"] == "store unreachable"
    # A dead store is a 503 that pingers retry, never a 500 with a traceback.
    assert (ping.status, api.status) == (503, 503) and "store is unavailable" in ping.text
